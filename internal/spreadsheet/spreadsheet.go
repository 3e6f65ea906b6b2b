// Package spreadsheet is what every CSV export of Calore goes through: a
// csv.Writer that defuses spreadsheet formulas in the cells it writes (CSV
// or formula injection, OWASP "CSV Injection"), so that a name such as
// =HYPERLINK(...) or -2+3+cmd|' /C calc'!A0 typed into a record is shown as
// text by Excel or LibreOffice, never run.
package spreadsheet

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// plainNumber is a number a spreadsheet reads as a number and nothing else:
// optional sign, digits with an optional decimal part, optional exponent.
// "-12.5" stays as it is; "-2+3" or "-1e3+cmd" do not match.
var plainNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// triggers start a formula (= + - @) or, as the first character, make some
// programs shift the cell so that the next character starts one (tab,
// carriage return; line feed too, for good measure).
const triggers = "=+-@\t\r\n"

// Cell returns s made safe for a spreadsheet cell, following OWASP: a cell
// whose first character, or first character after leading spaces, starts a
// formula gets a single quote in front, which spreadsheets take as "this is
// text" (the quote is visible in other programs: the accepted price). Plain
// numbers, negative ones included, are returned unchanged.
func Cell(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsRune(triggers, rune(s[0])) {
		if plainNumber.MatchString(s) {
			return s
		}
		return "'" + s
	}
	// Leading blanks (space, no-break space, full-width space) before a
	// trigger: some importers trim them and then see the formula.
	if t := strings.TrimLeft(s, " \u00a0\u3000"); t != s && t != "" {
		if strings.ContainsRune(triggers, rune(t[0])) && !plainNumber.MatchString(t) {
			return "'" + s
		}
	}
	// Full-width equals/plus/minus/at, which some spreadsheet programs
	// normalise to their ASCII forms.
	for _, r := range []string{"\uff1d", "\uff0b", "\uff0d", "\uff20"} {
		if strings.HasPrefix(strings.TrimLeft(s, " \u00a0\u3000"), r) {
			return "'" + s
		}
	}
	return s
}

// Writer is a csv.Writer whose every cell goes through Cell.
type Writer struct {
	w   *csv.Writer
	buf []string
}

// NewCSVWriter writes formula-safe CSV to w.
func NewCSVWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell made safe; record is not modified.
func (w *Writer) Write(record []string) error {
	w.buf = w.buf[:0]
	for _, c := range record {
		w.buf = append(w.buf, Cell(c))
	}
	return w.w.Write(w.buf)
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error of a previous Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }
