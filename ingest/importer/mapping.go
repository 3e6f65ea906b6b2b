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

// Mapping is a mapping file: headers to fields, and per field the old
// system's values to the field's values.
type Mapping struct {
	Columns map[string]string            `json:"columns"` // header → field; "" or "-": not imported
	Values  map[string]map[string]string `json:"values"`  // field → value as written → value ("": empty)
}

// UnknownValues are the distinct values of one field that are none of its
// values: a value mapping would fix them.
type UnknownValues struct {
	Field  string
	Values []ValueCount
}

// ValueCount is one distinct value and how many rows have it.
type ValueCount struct {
	Value string
	Rows  int
}

// LoadMapping reads a mapping file: either a JSON object from header (as
// written in the file; case, accents and punctuation do not matter) to field
// name, where "" or "-" means "do not import this column",
//
//	{"E-mail aziendale": "email", "Cell. privato": "phone", "Note": "-"}
//
// or an object with "columns" (that object) and "values", per field the old
// system's values (matched like headers) and what they mean:
//
//	{"columns": {"Causale": "purpose"},
//	 "values": {"purpose": {"quota socio": "membership_fee", "ricerca sul cancro": "research_project"}}}
func LoadMapping(path string) (Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Mapping{}, fmt.Errorf("read mapping file: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return Mapping{}, fmt.Errorf("mapping file %s: want a JSON object: %w", path, err)
	}
	_, hasCols := probe["columns"]
	_, hasVals := probe["values"]
	var m Mapping
	if hasCols || hasVals {
		for k := range probe {
			if k != "columns" && k != "values" {
				return Mapping{}, fmt.Errorf("mapping file %s: unknown key %q (want \"columns\" and \"values\")", path, k)
			}
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return Mapping{}, fmt.Errorf("mapping file %s: want {\"columns\": {header: field}, \"values\": {field: {value: value}}}: %w", path, err)
		}
	} else if err := json.Unmarshal(b, &m.Columns); err != nil {
		return Mapping{}, fmt.Errorf("mapping file %s: want a JSON object from header to field: %w", path, err)
	}
	return m, nil
}

// valueMaps checks the value mappings against spec (known fields; for a
// field with a list of values, targets among them) and folds their keys.
func valueMaps(spec Spec, values map[string]map[string]string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var problems []error
	for field, vm := range values {
		f, ok := spec.Field(field)
		if !ok {
			problems = append(problems, fmt.Errorf("mapping: values for %q: %s has no field %q (fields: %s)", field, spec.Kind, field, strings.Join(spec.FieldNames(), ", ")))
			continue
		}
		m := map[string]string{}
		for from, to := range vm {
			to = strings.TrimSpace(to)
			if to != "" && f.Type == TypeEnum {
				v, err := parseEnum(f, to)
				if err != nil {
					problems = append(problems, fmt.Errorf("mapping: values of %s: %q → %w", field, from, err))
					continue
				}
				to = v
			}
			m[Fold(from)] = to
		}
		out[field] = m
	}
	return out, errors.Join(problems...)
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
	case CampaignActivity:
		if !l.Has("campaign") && !l.Has("campaign_source_id") {
			problems = append(problems, errors.New("campaign activity needs a campaign column (Campaign, Campaign Title, Campagna, Messaggio…) or a campaign code; none was recognised (use --mapping)"))
		}
		if !l.Has("person_source_id") && !l.Has("email") && !(l.Has("first_name") && l.Has("last_name")) {
			problems = append(problems, errors.New("campaign activity needs an email column (or a person code, or first and last name); none was recognised (use --mapping)"))
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
