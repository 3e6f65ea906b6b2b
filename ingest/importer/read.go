package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Format is the file format of an import.
type Format string

const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// DetectFormat decides by extension, and by content (an XLSX file is a zip
// archive) when the extension says nothing.
func DetectFormat(name string, head []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".xlsm":
		return FormatXLSX
	case ".csv", ".txt", ".tsv":
		return FormatCSV
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return FormatXLSX
	}
	return FormatCSV
}

// Records yields the rows of a file: first the header, then the data rows,
// each with its spreadsheet row number (the header is row 1).
type Records interface {
	// Next returns the next row; io.EOF after the last. A non-nil error
	// other than io.EOF concerns this row only (bad quoting): the caller may
	// report it and go on.
	Next() (row int, rec []string, err error)
	// Total is the number of rows when known in advance (XLSX), else -1.
	Total() int
	Close() error
}

// errFatal wraps read errors after which no further row can be read.
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

// OpenRecords reads CSV or XLSX from r. sheet picks an XLSX worksheet by
// name ("" = the first).
func OpenRecords(r io.Reader, format Format, sheet string) (Records, error) {
	if format == FormatXLSX {
		return openXLSX(r, sheet)
	}
	return openCSV(r)
}

// ---- CSV

type csvRecords struct {
	r    *csv.Reader
	row  int
	errs int // parse errors in a row, to stop on a binary file
}

// openCSV handles a UTF-8 BOM, UTF-16 with a BOM (Excel's "Unicode text"),
// and files in Windows-1252 (Excel's "CSV" on a Western Windows) cell by cell,
// and picks the delimiter among ; , and tab from the header line.
func openCSV(r io.Reader) (*csvRecords, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()
		in = bufio.NewReaderSize(transform.NewReader(br, dec), 64<<10)
	}
	bin := in.(*bufio.Reader)
	delim, err := sniffDelimiter(bin)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bin)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &csvRecords{r: cr}, nil
}

// sniffDelimiter counts the candidates outside quotes on the first line.
func sniffDelimiter(br *bufio.Reader) (rune, error) {
	var line []byte
	for n := 4096; ; n *= 2 {
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i]
			break
		}
		if err != nil { // short file: the whole of it is the first line
			if len(b) == 0 && errors.Is(err, io.EOF) {
				return 0, errors.New("the file is empty")
			}
			line = b
			break
		}
		if n >= 1<<20 {
			line = b
			break
		}
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ';' || c == ',' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{';', ',', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best), nil
}

func (c *csvRecords) Next() (int, []string, error) {
	for {
		rec, err := c.r.Read()
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		c.row++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				c.errs++
				if c.errs > 1000 {
					return c.row, nil, errFatal{fmt.Errorf("more than 1000 unreadable rows: is this a CSV file? %w", err)}
				}
				return c.row, nil, fmt.Errorf("unreadable CSV: %w", pe.Err)
			}
			if !errors.As(err, &pe) {
				return c.row, nil, errFatal{err}
			}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line: csv skips empty ones, not whitespace-only ones
		}
		out := make([]string, len(rec))
		for i, f := range rec {
			out[i] = fixEncoding(f)
		}
		return c.row, out, nil
	}
}

// fixEncoding reads a cell that is not valid UTF-8 as Windows-1252, the
// encoding Excel writes "CSV" in on Western Windows.
func fixEncoding(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

func (c *csvRecords) Total() int   { return -1 }
func (c *csvRecords) Close() error { return nil }

// ---- XLSX

type xlsxRecords struct {
	f     *excelize.File
	rows  *excelize.Rows
	row   int
	total int
}

func openXLSX(r io.Reader, sheet string) (*xlsxRecords, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("open XLSX: %w", err)
	}
	if sheet == "" {
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			f.Close()
			return nil, errors.New("the workbook has no sheet")
		}
		sheet = sheets[0]
	}
	total := -1
	if dim, err := f.GetSheetDimension(sheet); err == nil {
		if parts := strings.Split(dim, ":"); len(parts) == 2 {
			if _, last, err := excelize.CellNameToCoordinates(parts[1]); err == nil {
				total = last
			}
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open sheet %q: %w", sheet, err)
	}
	return &xlsxRecords{f: f, rows: rows, total: total}, nil
}

func (x *xlsxRecords) Next() (int, []string, error) {
	for x.rows.Next() {
		x.row++
		// raw values: dates stay Excel serial numbers and numbers keep their
		// digits, whatever the cell's display format
		rec, err := x.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return x.row, nil, fmt.Errorf("read XLSX row: %w", err)
		}
		blank := true
		for _, v := range rec {
			if strings.TrimSpace(v) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		return x.row, rec, nil
	}
	if err := x.rows.Error(); err != nil {
		return x.row, nil, errFatal{fmt.Errorf("read XLSX: %w", err)}
	}
	return 0, nil, io.EOF
}

func (x *xlsxRecords) Total() int { return x.total }

func (x *xlsxRecords) Close() error {
	err := x.rows.Close()
	return errors.Join(err, x.f.Close())
}
