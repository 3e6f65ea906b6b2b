package importer

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// xlsxBytes builds an XLSX workbook holding rows in its first sheet.
func xlsxBytes(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t *testing.T, r Records) [][]string {
	t.Helper()
	var out [][]string
	for {
		_, rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		out = append(out, append([]string(nil), rec...))
	}
}

func TestReadCSV(t *testing.T) {
	want := [][]string{{"Nome", "Cognome", "Città"}, {"Mario", "Rossi", "Milano"}, {"Anna", "D'Arco; jr", "Città di Castello"}}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("Nome\tCognome\tCittà\nMario\tRossi\tMilano\nAnna\tD'Arco; jr\tCittà di Castello\n")
	if err != nil {
		t.Fatal(err)
	}
	cp1252, err := charmap.Windows1252.NewEncoder().String("Nome;Cognome;Città\r\nMario;Rossi;Milano\r\nAnna;\"D'Arco; jr\";Città di Castello\r\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
	}{
		{"semicolon", "Nome;Cognome;Città\nMario;Rossi;Milano\nAnna;\"D'Arco; jr\";Città di Castello\n"},
		{"comma with BOM and CRLF", "\xef\xbb\xbfNome,Cognome,Città\r\nMario,Rossi,Milano\r\nAnna,D'Arco; jr,Città di Castello\r\n"},
		{"tab, UTF-16 with BOM", utf16},
		{"windows-1252", cp1252},
		{"blank lines skipped, no final newline", "Nome;Cognome;Città\n\nMario;Rossi;Milano\n  \nAnna;\"D'Arco; jr\";Città di Castello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenRecords(strings.NewReader(tt.in), FormatCSV, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, r); !reflect.DeepEqual(got, want) {
				t.Errorf("got %q\nwant %q", got, want)
			}
		})
	}
}

func TestReadCSVRowNumbers(t *testing.T) {
	r, err := OpenRecords(strings.NewReader("a;b\n1;2\n\n3;4\n"), FormatCSV, "")
	if err != nil {
		t.Fatal(err)
	}
	var rows []int
	for {
		n, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		rows = append(rows, n)
	}
	// encoding/csv skips empty lines without counting them: rows are records
	if !reflect.DeepEqual(rows, []int{1, 2, 3}) {
		t.Errorf("row numbers %v", rows)
	}
}

func TestReadXLSX(t *testing.T) {
	b := xlsxBytes(t, [][]any{{"Nome", "Cognome", "Anno di laurea"}, {"Mario", "Rossi", 2010}, {}, {"Иван", "Петров", nil}})
	if DetectFormat("file.bin", b) != FormatXLSX || DetectFormat("a.XLSX", nil) != FormatXLSX || DetectFormat("a.csv", b) != FormatCSV {
		t.Error("DetectFormat")
	}
	r, err := OpenRecords(bytes.NewReader(b), FormatXLSX, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := r.Total(); n != 4 && n != -1 { // -1: the writer left out the dimension
		t.Errorf("Total = %d, want 4", n)
	}
	got := readAll(t, r)
	want := [][]string{{"Nome", "Cognome", "Anno di laurea"}, {"Mario", "Rossi", "2010"}, {"Иван", "Петров"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMapHeader(t *testing.T) {
	header := []string{"NOME", "Cognome ", "E-mail", "Cellulare", "Nazionalità", "Città", "Anno di Laurea", "Note interne"}
	l, err := MapHeader(contactSpec, header, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first_name", "last_name", "email", "phone", "nationality", "city", "graduation_year", ""}
	for i, c := range l.Columns {
		got := ""
		if c.Field >= 0 {
			got = contactSpec.Fields[c.Field].Name
		}
		if got != want[i] {
			t.Errorf("column %s %q → %q, want %q", c.Letter(), c.Header, got, want[i])
		}
	}
	if ig := l.Ignored(); !reflect.DeepEqual(ig, []string{"H (Note interne)"}) {
		t.Errorf("Ignored = %q", ig)
	}

	l, err = MapHeader(contactSpec, header, map[string]string{"note interne": "tags", "cellulare": "-"})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Has("tags") || l.Has("phone") {
		t.Errorf("mapping not applied: tags %v, phone %v", l.Has("tags"), l.Has("phone"))
	}

	for name, tt := range map[string]struct {
		header  []string
		mapping map[string]string
		want    string
	}{
		"two columns, one field": {[]string{"Email", "E-mail", "Nome"}, nil, "both map to email"},
		"unknown field":          {[]string{"Email"}, map[string]string{"Email": "mail"}, `no field "mail"`},
		"nothing to match by":    {[]string{"Nome", "Città"}, nil, "need an email column"},
	} {
		if _, err := MapHeader(contactSpec, tt.header, tt.mapping); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", name, err, tt.want)
		}
	}
	if _, err := MapHeader(organisationSpec, []string{"Ragione sociale", "P.IVA", "Codice Fiscale", "Fatturato"}, nil); err != nil {
		t.Errorf("organisations: %v", err)
	}
}

func TestColumnLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if got := columnLetter(i); got != want {
			t.Errorf("columnLetter(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestParseRow(t *testing.T) {
	header := []string{"Nome", "Cognome", "Email", "Telefono", "Anno di laurea", "Data di nascita", "Tipo", "Minorenne", "Tag"}
	l, err := MapHeader(contactSpec, header, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Parser{Layout: l, DefaultCC: "39"}
	cols := l.StageColumns()
	val := func(r Row, name string) any {
		for i, c := range cols {
			if c == name {
				return r.Values[i]
			}
		}
		t.Fatalf("no column %s", name)
		return nil
	}
	row, errs := p.Parse(2, []string{" Иван ", "Петров", "IVAN@x.ru", "333 1234567", "2015", "31/12/2000", "Laureato", "no", "vip; alumni ;vip"})
	if len(errs) > 0 {
		t.Fatalf("good row: %v", errs)
	}
	for name, want := range map[string]any{"first_name": "Иван", "first_name_ascii": "Ivan", "last_name_ascii": "Petrov", "email": "ivan@x.ru",
		"phone": "+393331234567", "graduation_year": int32(2015), "kind": "alumnus", "minor": false, "tags": []string{"vip", "alumni"}} {
		if got := val(row, name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}

	_, errs = p.Parse(7, []string{"Anna", "Bianchi", "anna@", "x", "1700", "31/02/2000", "marziano", "forse"})
	var got []string
	for _, e := range errs {
		got = append(got, e.String())
	}
	want := []string{
		`row 7, column C (Email): not an email address: "anna@"`,
		`row 7, column D (Telefono): not a phone number: "x"`,
		`row 7, column E (Anno di laurea): year 1700 out of range`,
		`row 7, column F (Data di nascita): not a date: "31/02/2000" (write 2024-03-31 or 31/03/2024)`,
		`row 7, column G (Tipo): "marziano" is not one of prospect, student, alumnus, faculty, staff, referent, journalist, vip, internal, other`,
		`row 7, column H (Minorenne): not yes or no: "forse"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	_, errs = p.Parse(9, []string{"Anna"})
	if len(errs) != 1 || errs[0].Column != "" || !strings.Contains(errs[0].Reason, "neither an email") {
		t.Errorf("short row: %v", errs)
	}
}

// TestXLSXDateCell: a date cell reads as its date whatever its display
// format, because cells are read raw (an Excel serial number).
func TestXLSXDateCell(t *testing.T) {
	b := xlsxBytes(t, [][]any{{"Nome", "Cognome", "Data di nascita", "Anno di laurea"}, {"Mario", "Rossi", time.Date(1990, 12, 31, 0, 0, 0, 0, time.UTC), 2015}})
	r, err := OpenRecords(bytes.NewReader(b), FormatXLSX, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, header, _ := r.Next()
	n, rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	l, err := MapHeader(contactSpec, header, nil)
	if err != nil {
		t.Fatal(err)
	}
	row, errs := (&Parser{Layout: l, DefaultCC: "39"}).Parse(n, rec)
	if len(errs) > 0 {
		t.Fatalf("cells %q: %v", rec, errs)
	}
	cols := l.StageColumns()
	for i, c := range cols {
		switch c {
		case "birth_date":
			if got, ok := row.Values[i].(time.Time); !ok || !got.Equal(time.Date(1990, 12, 31, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("birth_date = %v (cell %q)", row.Values[i], rec[2])
			}
		case "graduation_year":
			if row.Values[i] != int32(2015) {
				t.Errorf("graduation_year = %#v", row.Values[i])
			}
		}
	}
}

func TestParseCountry(t *testing.T) {
	l, err := MapHeader(contactSpec, []string{"Email", "Nazione", "Nazionalità"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Parser{Layout: l, DefaultCC: "39"}
	row, errs := p.Parse(2, []string{"a@example.com", "Germania", "italiana"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	values := func(r Row) map[string]any {
		m := map[string]any{}
		for i, c := range l.StageColumns() {
			m[c] = r.Values[i]
		}
		return m
	}
	if got := values(row); got["country"] != "DE" || got["nationality"] != "italiana" {
		t.Errorf("country %v nationality %v", got["country"], got["nationality"])
	}
	row, _ = p.Parse(3, []string{"a@example.com", "Italy", "Italia"})
	if got := values(row); got["country"] != "IT" || got["nationality"] != "IT" {
		t.Errorf("country %v nationality %v", got["country"], got["nationality"])
	}
	_, errs = p.Parse(4, []string{"a@example.com", "Atlantide", ""})
	if len(errs) != 1 || errs[0].String() != `row 4, column B (Nazione): not a country: "Atlantide" (write its name or an ISO code such as IT)` {
		t.Errorf("errors %v", errs)
	}
}
