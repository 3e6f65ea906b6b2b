package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Column is one column of the file and the field it feeds.
type Column struct {
	Index  int    // 0-based position in the row
	Header string // as written in the file
	Field  int    // index into Spec.Fields, -1 when the column is not imported
}

// Letter is the spreadsheet name of the column: A, B, …, Z, AA, …
func (c Column) Letter() string { return columnLetter(c.Index) }

func columnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// Layout is how a file's columns map onto a kind's fields.
type Layout struct {
	Spec    Spec
	Columns []Column
	byField []int // field index → column index, -1 when absent
}

// Has reports whether the file has a column for the field.
func (l *Layout) Has(field string) bool {
	for i, f := range l.Spec.Fields {
		if f.Name == field {
			return l.byField[i] >= 0
		}
	}
	return false
}

// Ignored lists the headers that feed no field, for the report.
func (l *Layout) Ignored() []string {
	var out []string
	for _, c := range l.Columns {
		if c.Field < 0 && strings.TrimSpace(c.Header) != "" {
			out = append(out, fmt.Sprintf("%s (%s)", c.Letter(), c.Header))
		}
	}
	return out
}

// LoadMapping reads a mapping file: a JSON object from header (as written in
// the file; case, accents and punctuation do not matter) to field name, where
// "" or "-" means "do not import this column", e.g.
//
//	{"E-mail aziendale": "email", "Cell. privato": "phone", "Note": "-"}
func LoadMapping(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping file: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("mapping file %s: want a JSON object from header to field: %w", path, err)
	}
	return m, nil
}

// MapHeader matches a header row against the fields of spec. A mapping entry
// wins over the built-in synonyms; headers that match nothing are ignored
// (Layout.Ignored lists them). It fails when two columns feed the same field,
// when the mapping names an unknown field, or when no column feeds a field
// the kind needs.
func MapHeader(spec Spec, header []string, mapping map[string]string) (*Layout, error) {
	folded := map[string]string{}
	var problems []error
	for h, f := range mapping {
		f = strings.TrimSpace(f)
		if f != "" && f != "-" {
			if _, ok := spec.Field(f); !ok {
				problems = append(problems, fmt.Errorf("mapping: %q → %q: %s has no field %q (fields: %s)", h, f, spec.Kind, f, strings.Join(spec.FieldNames(), ", ")))
				continue
			}
		}
		folded[Fold(h)] = f
	}
	syn := map[string]int{}
	for i, f := range spec.Fields {
		syn[Fold(f.Name)] = i
		for _, s := range f.Synonyms {
			if _, taken := syn[Fold(s)]; !taken {
				syn[Fold(s)] = i
			}
		}
	}
	l := &Layout{Spec: spec, byField: make([]int, len(spec.Fields))}
	for i := range l.byField {
		l.byField[i] = -1
	}
	for i, h := range header {
		c := Column{Index: i, Header: CleanText(h), Field: -1}
		key := Fold(h)
		if f, ok := folded[key]; ok {
			if f != "" && f != "-" {
				for fi, sf := range spec.Fields {
					if sf.Name == f {
						c.Field = fi
					}
				}
			}
		} else if fi, ok := syn[key]; ok && key != "" {
			c.Field = fi
		}
		if c.Field >= 0 {
			if prev := l.byField[c.Field]; prev >= 0 {
				problems = append(problems, fmt.Errorf("columns %s (%s) and %s (%s) both map to %s: map one of them elsewhere or to \"-\" in a mapping file",
					columnLetter(prev), l.Columns[prev].Header, c.Letter(), c.Header, spec.Fields[c.Field].Name))
				c.Field = -1
			} else {
				l.byField[c.Field] = i
			}
		}
		l.Columns = append(l.Columns, c)
	}
	switch spec.Kind {
	case Contacts:
		if !l.Has("email") && !l.Has("email_2") && !(l.Has("first_name") && l.Has("last_name")) {
			problems = append(problems, errors.New("contacts need an email column or both first and last name columns; none was recognised (use --mapping)"))
		}
	case Organisations:
		if !l.Has("legal_name") {
			problems = append(problems, errors.New("organisations need a legal name column (Ragione sociale, Denominazione, Company…); none was recognised (use --mapping)"))
		}
	default:
		if a, ok := activities[spec.Kind]; ok {
			var missing []string
			for _, f := range a.required {
				if !slices.ContainsFunc(strings.Split(f, "|"), l.Has) {
					missing = append(missing, strings.ReplaceAll(f, "|", " or "))
				}
			}
			if a.refs.personRequired && !l.Has("person_source_id") && !l.Has("email") && !(l.Has("first_name") && l.Has("last_name")) {
				missing = append(missing, "email (or a person code, or first and last name)")
			}
			if len(missing) > 0 {
				problems = append(problems, fmt.Errorf("%s need columns for %s; none was recognised (use --mapping)", spec.Kind, strings.Join(missing, ", ")))
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return l, nil
}
