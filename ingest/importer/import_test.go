package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest/importer"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// run imports content as a file called name.
func run(t *testing.T, pool *pgxpool.Pool, name string, content []byte, opts importer.Options) (*importer.Report, error) {
	t.Helper()
	return importer.New(pool, nil).Import(context.Background(), bytes.NewReader(content), name, int64(len(content)), opts)
}

// mustRun imports and fails the test on an error.
func mustRun(t *testing.T, pool *pgxpool.Pool, name string, content []byte, opts importer.Options) *importer.Report {
	t.Helper()
	rep, err := run(t, pool, name, content, opts)
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return rep
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func text(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// csvToXLSX turns a ;-separated fixture into a workbook with the same cells.
func csvToXLSX(t *testing.T, csv []byte) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, line := range strings.Split(strings.TrimRight(string(csv), "\n"), "\n") {
		cells := strings.Split(line, ";")
		row := make([]any, len(cells))
		for j, c := range cells {
			row[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func errorLines(rs []importer.RowError) string {
	var b strings.Builder
	for _, e := range rs {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

// TestImportContacts imports the same contacts from CSV and from XLSX: bad
// rows are named and the good ones imported, names in five scripts are
// transliterated with the original kept, an outbox event is written per
// person, and a second run changes nothing.
func TestImportContacts(t *testing.T) {
	t.Parallel()
	csv := fixture(t, "contacts.csv")
	for _, tt := range []struct {
		name    string
		file    string
		content []byte
	}{
		{"csv", "contacts.csv", csv},
		{"xlsx", "contacts.xlsx", csvToXLSX(t, csv)},
		{"xlsx without extension", "contacts", csvToXLSX(t, csv)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.New(t)
			rep := mustRun(t, pool, tt.file, tt.content, importer.Options{Kind: importer.Contacts, Source: "open-day-2026"})

			wantBad := "row 4, column C (E-mail): not an email address: \"jose@\"\n" +
				"row 4, column H (Anno di laurea): not a whole number: \"abc\"\n" +
				"row 6: neither an email nor both first and last name: nothing to match or create the contact by\n"
			if got := errorLines(rep.Errors); got != wantBad {
				t.Errorf("bad rows:\n%s\nwant:\n%s", got, wantBad)
			}
			if rep.Rows != 9 || rep.Created != 7 || rep.Updated != 0 || len(rep.Conflicts) != 0 || !rep.Committed {
				t.Errorf("report %+v", rep)
			}
			if got := strings.Join(rep.Ignored, ","); got != "I (Note interne)" {
				t.Errorf("ignored columns %q", got)
			}
			if n := count(t, pool, `SELECT count(*) FROM people`); n != 7 {
				t.Errorf("%d people, want 7", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM outbox WHERE event_type = 'person.created' AND aggregate_type = 'person'`); n != 7 {
				t.Errorf("%d person.created events, want 7", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM person_sources WHERE source = 'open-day-2026'`); n != 7 {
				t.Errorf("%d people with the file's source, want 7", n)
			}

			// transliteration: original kept, ASCII twin, and the database's
			// name key equals the Go NameKey
			for _, tr := range []struct{ email, first, last, firstASCII, lastASCII string }{
				{"ivan.petrov@example.ru", "Иван", "Петров", "Ivan", "Petrov"},
				{"giorgos@example.gr", "Γιώργος", "Παπαδόπουλος", "Giorgos", "Papadopoulos"},
				{"mohammed@example.sa", "محمد", "عبد الله", "mHmd", "bd llh"},
				{"minh.nguyen@example.vn", "Nguyễn", "Thị Minh", "Nguyen", "Thi Minh"},
				{"sukru@example.com.tr", "Şükrü", "Işıkoğlu", "Sukru", "Isikoglu"},
			} {
				var first, last, fa, la, key string
				err := pool.QueryRow(context.Background(), `SELECT p.first_name, p.last_name, p.first_name_ascii, p.last_name_ascii, p.name_key
					FROM people p JOIN person_emails e ON e.person_id = p.id WHERE e.address_norm = $1`, tr.email).Scan(&first, &last, &fa, &la, &key)
				if err != nil {
					t.Fatalf("%s: %v", tr.email, err)
				}
				if first != tr.first || last != tr.last || fa != tr.firstASCII || la != tr.lastASCII {
					t.Errorf("%s: %q %q / %q %q, want %q %q / %q %q", tr.email, first, last, fa, la, tr.first, tr.last, tr.firstASCII, tr.lastASCII)
				}
				if want := importer.NameKey(tr.first, tr.last); key != want {
					t.Errorf("%s: database name key %q, Go NameKey %q", tr.email, key, want)
				}
			}
			if got := text(t, pool, `SELECT city FROM people WHERE first_name = 'Иван'`); got != "Москва" {
				t.Errorf("city %q", got)
			}
			if got := text(t, pool, `SELECT kind || ' ' || graduation_year FROM people WHERE last_name = 'Rossi'`); got != "alumnus 2010" {
				t.Errorf("Rossi: %q", got)
			}
			if got := text(t, pool, `SELECT string_agg(number || ' ' || type, ',' ORDER BY number) FROM person_phones`); got != "+390223991234 landline,+393331234567 mobile,+74951234567 mobile" {
				t.Errorf("phones %q", got)
			}

			// the outbox payload is the person with emails and sources
			var payload []byte
			if err := pool.QueryRow(context.Background(), `SELECT payload FROM outbox o JOIN people p ON o.aggregate_id = p.id::text WHERE p.last_name = 'Rossi'`).Scan(&payload); err != nil {
				t.Fatal(err)
			}
			var person calore.Person
			if err := json.Unmarshal(payload, &person); err != nil {
				t.Fatalf("payload does not decode into calore.Person: %v\n%s", err, payload)
			}
			if person.ID == 0 || person.FirstName != "Mario" || person.PreferredEmail != "mario.rossi@example.com" || len(person.Sources) != 1 ||
				len(person.Emails) != 1 || len(person.Phones) != 1 || person.Version != 1 || person.GraduationYear == nil || *person.GraduationYear != 2010 {
				t.Errorf("payload %s", payload)
			}

			// idempotent: the same file again creates and changes nothing
			again := mustRun(t, pool, tt.file, tt.content, importer.Options{Kind: importer.Contacts, Source: "open-day-2026"})
			if again.Created != 0 || again.Updated != 0 || again.Unchanged != 7 || again.Events != 0 {
				t.Errorf("second run: %+v", again)
			}
			if n := count(t, pool, `SELECT count(*) FROM outbox`); n != 7 {
				t.Errorf("%d outbox rows after the second run, want 7", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM people WHERE version <> 1`); n != 0 {
				t.Errorf("%d people got a new version from a no-op import", n)
			}
		})
	}
}

// TestMergeByEmail matches on any of a person's addresses, whatever their
// case, and applies the merge policy per field.
func TestMergeByEmail(t *testing.T) {
	t.Parallel()
	base := "Nome;Cognome;Email;Email istituzionale;Città;Corso di laurea\nMario;Rossi;mario@example.com;mario.rossi@polimi.it;Milano;\n"
	update := "Nome;Cognome;Email;Città;Corso di laurea;Telefono\nMARIO;ROSSI;  Mario.Rossi@PoliMi.it ;Torino;Ingegneria;333 1234567\n"
	tests := []struct {
		policy               string
		wantCity, wantCourse string
		wantFirst            string
	}{
		{"", "Milano", "Ingegneria", "Mario"},                                // fill-empty: only the empty course is filled
		{"city=overwrite", "Torino", "Ingegneria", "Mario"},                  // overwrite the chosen field only
		{"*=overwrite", "Torino", "Ingegneria", "MARIO"},                     // overwrite everything the file has
		{"*=keep", "Milano", "", "Mario"},                                    // change nothing
		{"*=keep,degree_course=fill-empty", "Milano", "Ingegneria", "Mario"}, // keep all but one
	}
	for _, tt := range tests {
		t.Run("policy "+tt.policy, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.New(t)
			mustRun(t, pool, "base.csv", []byte(base), importer.Options{Kind: importer.Contacts})
			pol, err := importer.ParsePolicies(mustSpec(t, importer.Contacts), tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			rep := mustRun(t, pool, "update.csv", []byte(update), importer.Options{Kind: importer.Contacts, Policies: pol, Match: []string{"email"}})
			if rep.Created != 0 || rep.Updated != 1 || len(rep.Conflicts) != 0 || rep.Bad() != 0 {
				t.Fatalf("report %+v\n%s", rep, errorLines(rep.Conflicts))
			}
			var city, course, first string
			var version int
			if err := pool.QueryRow(context.Background(), `SELECT city, degree_course, first_name, version FROM people`).Scan(&city, &course, &first, &version); err != nil {
				t.Fatal(err)
			}
			if city != tt.wantCity || course != tt.wantCourse || first != tt.wantFirst || version != 2 {
				t.Errorf("city %q course %q first %q version %d; want %q %q %q 2", city, course, first, version, tt.wantCity, tt.wantCourse, tt.wantFirst)
			}
			if n := count(t, pool, `SELECT count(*) FROM outbox WHERE event_type = 'person.updated'`); n != 1 {
				t.Errorf("%d person.updated events, want 1", n)
			}
			if n := count(t, pool, `SELECT count(*) FROM person_sources`); n != 2 {
				t.Errorf("%d sources, want one per file", n)
			}
		})
	}
}

func mustSpec(t *testing.T, k importer.Kind) importer.Spec {
	t.Helper()
	s, ok := importer.SpecOf(k)
	if !ok {
		t.Fatalf("no spec for %s", k)
	}
	return s
}

// TestMergeByName matches on the transliterated, accent-folded name when no
// email matches (only people the row's addresses cannot contradict), refuses
// ambiguous names, keeps namesakes with their own addresses apart, and can be
// switched off.
func TestMergeByName(t *testing.T) {
	t.Parallel()
	base := "Nome;Cognome;Email\nNiccolò;D'Àngelo;\nGiulia;Verdi;giulia@example.com\nLuca;Neri;luca1@example.com\n"
	// the two Luca Neri are told apart by email when they were imported: a third is ambiguous
	second := "First name;Last name;Email\nLuca;Neri;luca2@example.com\n"
	tests := []struct {
		name         string
		file         string
		match        []string
		wantCreated  int
		wantUpdated  int
		wantConflict string
	}{
		{"accents and case folded", "Nome;Cognome;Email\nNICCOLO;dangelo;niccolo@example.com\n", nil, 0, 1, ""},
		{"name with another's email", "Nome;Cognome;Email\nNiccolò;D'Angelo;giulia@example.com\n", []string{"name"}, 0, 0, "email giulia@example.com belongs to another person"},
		{"email wins over name", "Nome;Cognome;Email\nGiulia;Verdi-Bianchi;giulia@example.com\n", nil, 0, 0, ""},
		// namesakes: a third Luca Neri with his own address is a third person
		{"namesake with a new address", "Nome;Cognome;Email\nLuca;Neri;luca3@example.com\n", nil, 1, 0, ""},
		{"ambiguous name", "Nome;Cognome;Città\nLuca;Neri;Roma\n", nil, 0, 0, "2 people are named luca neri"},
		{"namesakes in the file with their own addresses", "Nome;Cognome;Email\nSara;Blu;sara@example.com\nSARA;BLU;blu@example.org\n", nil, 2, 0, ""},
		{"name matching off", "Nome;Cognome;Email\nNiccolò;D'Angelo;niccolo@example.com\n", []string{"email"}, 1, 0, ""},
		{"repeated in the file", "Nome;Cognome;Email\nSara;Blu;\nSARA;BLU;\n", nil, 1, 0, "same name (sara blu) as row 2"},
		{"an address alone updates, never creates", "Email;Città\ngiulia@example.com;Roma\nnobody@example.com;Roma\n", nil, 0, 1, "row 3: no person has this email, and a new person needs a first or a last name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.New(t)
			mustRun(t, pool, "base.csv", []byte(base), importer.Options{Kind: importer.Contacts, Source: "s"})
			mustRun(t, pool, "second.csv", []byte(second), importer.Options{Kind: importer.Contacts, Source: "s", Match: []string{"email"}})
			before := count(t, pool, `SELECT count(*) FROM people`)
			rep := mustRun(t, pool, "f.csv", []byte(tt.file), importer.Options{Kind: importer.Contacts, Source: "s", Match: tt.match})
			if rep.Created != tt.wantCreated || rep.Updated != tt.wantUpdated {
				t.Errorf("created %d updated %d, want %d %d (conflicts %s)", rep.Created, rep.Updated, tt.wantCreated, tt.wantUpdated, errorLines(rep.Conflicts))
			}
			got := errorLines(rep.Conflicts)
			if (tt.wantConflict == "") != (got == "") || !strings.Contains(got, tt.wantConflict) {
				t.Errorf("conflicts %q, want %q", got, tt.wantConflict)
			}
			if after := count(t, pool, `SELECT count(*) FROM people`); after != before+tt.wantCreated {
				t.Errorf("%d people, want %d", after, before+tt.wantCreated)
			}
		})
	}
	t.Run("email added to the person found by name", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		mustRun(t, pool, "base.csv", []byte(base), importer.Options{Kind: importer.Contacts})
		mustRun(t, pool, "f.csv", []byte("Nome;Cognome;Email\nNICCOLO;dangelo;niccolo@example.com\n"), importer.Options{Kind: importer.Contacts})
		if got := text(t, pool, `SELECT p.first_name FROM people p JOIN person_emails e ON e.person_id = p.id WHERE e.address = 'niccolo@example.com'`); got != "Niccolò" {
			t.Errorf("niccolo@ belongs to %q", got)
		}
	})
}

// TestAtomicAndDryRun: --atomic imports nothing when a row is bad; --dry-run
// reports and writes nothing, also when it would update.
func TestAtomicAndDryRun(t *testing.T) {
	t.Parallel()
	csv := fixture(t, "contacts.csv")
	tests := []struct {
		name        string
		opts        importer.Options
		seed        bool // import the file for real first
		wantErr     error
		wantCreated int
		wantUpdated int
	}{
		{"atomic with bad rows", importer.Options{Kind: importer.Contacts, Atomic: true}, false, importer.ErrRolledBack, 7, 0},
		{"dry run on an empty store", importer.Options{Kind: importer.Contacts, DryRun: true}, false, nil, 7, 0},
		{"dry run of updates", importer.Options{Kind: importer.Contacts, DryRun: true, Source: "another"}, true, nil, 0, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.New(t)
			if tt.seed {
				mustRun(t, pool, "contacts.csv", csv, importer.Options{Kind: importer.Contacts})
			}
			tables := []string{"people", "person_emails", "person_phones", "person_sources", "outbox"}
			before := map[string]int{}
			for _, tb := range tables {
				before[tb] = count(t, pool, `SELECT count(*) FROM `+tb)
			}
			rep, err := run(t, pool, "contacts.csv", csv, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if rep == nil || rep.Committed || rep.Created != tt.wantCreated || rep.Updated != tt.wantUpdated || len(rep.Errors) != 3 {
				t.Fatalf("report %+v", rep)
			}
			for _, tb := range tables {
				if n := count(t, pool, `SELECT count(*) FROM `+tb); n != before[tb] {
					t.Errorf("%s: %d rows, had %d: the import wrote", tb, n, before[tb])
				}
			}
		})
	}
	t.Run("atomic with good rows only", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		rep := mustRun(t, pool, "ok.csv", []byte("Email;Cognome\na@example.com;A\nb@example.com;B\n"), importer.Options{Kind: importer.Contacts, Atomic: true})
		if !rep.Committed || rep.Created != 2 || count(t, pool, `SELECT count(*) FROM people`) != 2 {
			t.Errorf("report %+v", rep)
		}
	})
}

// TestImportOrganisations matches by VAT number (with or without IT), tax
// code and name, and re-imports idempotently.
func TestImportOrganisations(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	csv := fixture(t, "organisations.csv")
	rep := mustRun(t, pool, "organisations.csv", csv, importer.Options{Kind: importer.Organisations})
	wantBad := "row 4, column F (Fatturato): not an amount: \"not a number\"\nrow 5: no legal name\n"
	if got := errorLines(rep.Errors); got != wantBad {
		t.Errorf("bad rows:\n%s\nwant:\n%s", got, wantBad)
	}
	if rep.Created != 2 || rep.Updated != 0 {
		t.Errorf("report %+v", rep)
	}
	var revenue, size, labels string
	if err := pool.QueryRow(context.Background(), `SELECT revenue::text, size_class, array_to_string(labels, '|') FROM organisations WHERE vat_norm = 'IT01234567890'`).Scan(&revenue, &size, &labels); err != nil {
		t.Fatal(err)
	}
	if revenue != "1234567.89" || size != "large" || labels != "strategic|PNRR partner" {
		t.Errorf("ACME: revenue %s size %s labels %s", revenue, size, labels)
	}
	if n := count(t, pool, `SELECT count(*) FROM outbox WHERE event_type = 'organisation.created'`); n != 2 {
		t.Errorf("%d organisation.created events", n)
	}
	var payload []byte
	if err := pool.QueryRow(context.Background(), `SELECT payload FROM outbox o JOIN organisations g ON o.aggregate_id = g.id::text WHERE g.vat_norm = 'IT01234567890'`).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var org calore.Organisation
	if err := json.Unmarshal(payload, &org); err != nil {
		t.Fatalf("payload does not decode into calore.Organisation: %v\n%s", err, payload)
	}
	if org.LegalName != "ACME S.p.A." || org.Revenue != "1234567.89" || org.Kind != "company" || len(org.Labels) != 2 {
		t.Errorf("payload %s", payload)
	}

	again := mustRun(t, pool, "organisations.csv", csv, importer.Options{Kind: importer.Organisations})
	if again.Created != 0 || again.Updated != 0 || again.Unchanged != 2 {
		t.Errorf("second run %+v", again)
	}

	// VAT without IT, tax code, and a name written differently
	upd := "Denominazione;P. IVA;CF;Città;Tipo\n" +
		"Acme SPA (nuova);01234567890;;Roma;\n" + // VAT without its prefix
		"Rossi Bottega;;rssmra80a01f205x;;\n" + // tax code, lower case
		"BOTTEGA ROSSI S.R.L.;;;Lecco;\n" + // name without the legal form: same as row 3
		"Startup Nuova;;;Milano;startup\n"
	pol, err := importer.ParsePolicies(mustSpec(t, importer.Organisations), "city=overwrite")
	if err != nil {
		t.Fatal(err)
	}
	rep = mustRun(t, pool, "upd.csv", []byte(upd), importer.Options{Kind: importer.Organisations, Policies: pol})
	if rep.Created != 1 || rep.Updated != 1 || rep.Unchanged != 1 || len(rep.Conflicts) != 1 || !strings.Contains(rep.Conflicts[0].Reason, "as row 3") {
		t.Errorf("report %+v\n%s", rep, errorLines(rep.Conflicts))
	}
	if got := text(t, pool, `SELECT legal_name || ' ' || city FROM organisations WHERE vat_norm = 'IT01234567890'`); got != "ACME S.p.A. Roma" {
		t.Errorf("ACME after update: %q", got)
	}
	if got := text(t, pool, `SELECT kind FROM organisations WHERE legal_name = 'Startup Nuova'`); got != "start_up" {
		t.Errorf("kind %q", got)
	}
}

// TestUnbuiltKind: a kind whose tables are missing is refused, not faked.
func TestUnbuiltKind(t *testing.T) {
	if _, ok := importer.SpecOf(importer.Kind("nonsense")); ok {
		t.Fatal("nonsense kind has a spec")
	}
	if _, err := importer.ParseKind("people"); err == nil {
		t.Error("ParseKind(people): no error")
	}
}
