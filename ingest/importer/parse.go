package importer

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/xuri/excelize/v2"
)

// RowError is one problem with one row: the row is not imported.
type RowError struct {
	Row    int    // spreadsheet row number; the header is row 1
	Column string // "C (Email)"; "" when the row as a whole is at fault
	Reason string
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
	}
	return fmt.Sprintf("row %d, column %s: %s", e.Row, e.Column, e.Reason)
}

// Row is one parsed row: the values of the staging columns, in
// Layout.StageColumns order, NULL (nil) where the file says nothing.
type Row struct {
	N      int
	Values []any
}

// StageColumns names the staging table's columns for the layout's spec:
// row_no, then one column per field, plus <name>_ascii after each name field.
func (l *Layout) StageColumns() []string {
	cols := []string{"row_no"}
	for _, f := range l.Spec.Fields {
		cols = append(cols, f.Name)
		if f.Type == TypeName {
			cols = append(cols, f.Name+"_ascii")
		}
	}
	return cols
}

// Parser turns records into rows of typed, normalised values.
type Parser struct {
	Layout    *Layout
	DefaultCC string         // country code for phone numbers written without one, "39"
	Location  *time.Location // of times written without a zone
	// Values are the mapping file's value mappings: field → folded value
	// as written → value to parse instead ("" leaves the cell empty).
	Values map[string]map[string]string

	unknown map[string]map[string]int // field → value not among the field's values → rows
}

// Unknown lists, per field, the distinct values that are none of the
// field's values (nor mapped), with how many rows have each, most frequent
// first: what a mapping file's "values" should map.
func (p *Parser) Unknown() []UnknownValues {
	var out []UnknownValues
	for _, f := range p.Layout.Spec.Fields {
		vals := p.unknown[f.Name]
		if len(vals) == 0 {
			continue
		}
		u := UnknownValues{Field: f.Name}
		for v, n := range vals {
			u.Values = append(u.Values, ValueCount{Value: v, Rows: n})
		}
		sort.Slice(u.Values, func(i, j int) bool {
			if u.Values[i].Rows != u.Values[j].Rows {
				return u.Values[i].Rows > u.Values[j].Rows
			}
			return u.Values[i].Value < u.Values[j].Value
		})
		out = append(out, u)
	}
	return out
}

// Parse parses one data record. It returns every problem of the row; the
// row is good only when none is returned.
func (p *Parser) Parse(n int, rec []string) (Row, []RowError) {
	l := p.Layout
	row := Row{N: n, Values: make([]any, 0, len(l.Spec.Fields)+4)}
	row.Values = append(row.Values, int32(n))
	var errs []RowError
	var errCols []int
	for fi, f := range l.Spec.Fields {
		ci := l.byField[fi]
		cell := ""
		if ci >= 0 && ci < len(rec) {
			cell = rec[ci]
		}
		v, err := p.value(f, cell)
		if err != nil {
			col := l.Columns[ci]
			errs = append(errs, RowError{Row: n, Column: fmt.Sprintf("%s (%s)", col.Letter(), col.Header), Reason: err.Error()})
			errCols = append(errCols, ci)
			v = nil
		}
		if f.Type == TypeName {
			if s, ok := v.(string); ok {
				row.Values = append(row.Values, s, ASCII(s))
			} else {
				row.Values = append(row.Values, nil, nil)
			}
			continue
		}
		row.Values = append(row.Values, v)
	}
	if len(errs) > 1 { // in the file's column order
		idx := make([]int, len(errs))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return errCols[idx[a]] < errCols[idx[b]] })
		sorted := make([]RowError, len(errs))
		for i, j := range idx {
			sorted[i] = errs[j]
		}
		errs = sorted
	}
	if len(errs) == 0 {
		if err := p.check(row); err != "" {
			errs = append(errs, RowError{Row: n, Reason: err})
		}
	}
	return row, errs
}

// check applies the rules a row must meet as a whole.
func (p *Parser) check(row Row) string {
	get := func(name string) any {
		i := 1
		for _, f := range p.Layout.Spec.Fields {
			if f.Name == name {
				return row.Values[i]
			}
			i++
			if f.Type == TypeName {
				i++
			}
		}
		return nil
	}
	switch p.Layout.Spec.Kind {
	case Contacts:
		if get("email") == nil && get("email_institutional") == nil && get("email_2") == nil &&
			(get("first_name") == nil || get("last_name") == nil) {
			return "neither an email nor both first and last name: nothing to match or create the contact by"
		}
		first, _ := get("first_name").(string)
		last, _ := get("last_name").(string)
		if (first != "" || last != "") && NameKey(first, last) == "" && get("email") == nil && get("email_institutional") == nil && get("email_2") == nil {
			return "the name has no letter or digit, even transliterated, and there is no email"
		}
		if r, ok := get("relevance").(int32); ok && (r < 1 || r > 5) {
			return fmt.Sprintf("relevance %d is not between 1 and 5", r)
		}
	case Organisations:
		if get("legal_name") == nil {
			return "no legal name"
		}
	case CampaignActivity:
		if get("campaign") == nil && get("campaign_source_id") == nil {
			return "no campaign: name it or give its code"
		}
		if get("person_source_id") == nil && get("email") == nil && (get("first_name") == nil || get("last_name") == nil) {
			return "no email, person code or first and last name: nothing to find the person by"
		}
		if a, _ := get("action").(string); (a == ActionOpen || a == ActionClick || a == ActionUnsubscribe) && get("at") == nil {
			return "an open, click or unsubscribe needs its time"
		}
		if a, _ := get("action").(string); a == ActionClick && get("url") == nil {
			return "a click needs its link"
		}
	default:
		if a, ok := activities[p.Layout.Spec.Kind]; ok {
			return checkActivity(a, get)
		}
	}
	return ""
}

// value parses one cell; nil means empty.
func (p *Parser) value(f Field, cell string) (any, error) {
	s := CleanText(cell)
	if s == "" {
		return nil, nil
	}
	if vm := p.Values[f.Name]; vm != nil {
		if to, ok := vm[Fold(s)]; ok {
			if s = to; s == "" {
				return nil, nil
			}
		}
	}
	v, err := p.parse(f, s)
	if errors.Is(err, errEnum) {
		if p.unknown == nil {
			p.unknown = map[string]map[string]int{}
		}
		if p.unknown[f.Name] == nil {
			p.unknown[f.Name] = map[string]int{}
		}
		p.unknown[f.Name][s]++
	}
	return v, err
}

// parse reads a non-empty cleaned cell as a value of f's type.
func (p *Parser) parse(f Field, s string) (any, error) {
	switch f.Type {
	case TypeText:
		return s, nil
	case TypeName:
		return s, nil
	case TypeEmail:
		e, err := NormEmail(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %q", err, s)
		}
		return e, nil
	case TypePhone:
		ph, err := NormPhone(s, p.DefaultCC)
		if err != nil {
			return nil, fmt.Errorf("%w: %q", err, s)
		}
		return ph, nil
	case TypeInt:
		n, err := parseInt(s)
		if err != nil {
			return nil, err
		}
		return n, nil
	case TypeYear:
		n, err := parseInt(s)
		if err != nil {
			return nil, err
		}
		if n < 1863 || n > 2200 { // the university's founding year to far future
			return nil, fmt.Errorf("year %d out of range", n)
		}
		return n, nil
	case TypeDate:
		t, err := parseTime(s, time.UTC)
		if err != nil {
			return nil, err
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case TypeTime:
		loc := p.Location
		if loc == nil {
			loc = time.UTC
		}
		return parseTime(s, loc)
	case TypeAmount:
		return parseAmount(s)
	case TypeBool:
		return parseBool(s)
	case TypeList:
		if l := parseList(s); l != nil {
			return l, nil
		}
		return nil, nil
	case TypeEnum:
		return parseEnum(f, s)
	case TypeCountry, TypeNationality:
		if code, ok := countryTable().code(s); ok {
			return code, nil
		}
		if f.Type == TypeNationality {
			return s, nil
		}
		return nil, fmt.Errorf("not a country: %q (write its name or an ISO code such as IT)", s)
	case TypeCode:
		return strings.ToUpper(strings.NewReplacer(" ", "", ".", "", "-", "", "/", "").Replace(ASCII(s))), nil
	}
	return nil, fmt.Errorf("field %s: unknown type %d", f.Name, f.Type)
}

func parseInt(s string) (int32, error) {
	s = strings.ReplaceAll(s, " ", "")
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return int32(n), nil
	}
	// XLSX raw numbers may read "2015.0"
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < math.MaxInt32 {
		return int32(f), nil
	}
	return 0, fmt.Errorf("not a whole number: %q", s)
}

var dateLayouts = []string{
	"2006-01-02", "02/01/2006", "2/1/2006", "02-01-2006", "2-1-2006", "02.01.2006", "2.1.2006", "2006/01/02", "20060102",
}

var timeLayouts = []string{
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04",
	"02/01/2006 15:04:05", "02/01/2006 15:04", "2/1/2006 15:04:05", "2/1/2006 15:04", "02.01.2006 15:04",
}

// parseTime reads the day-first dates of Italian files, ISO dates and times,
// and Excel serial numbers (what an XLSX date cell holds). Times without a
// zone are in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1 && f < 2958466 && !strings.ContainsAny(s, "eE") {
		t, err := excelize.ExcelDateToTime(f, false)
		if err == nil {
			// serial numbers carry wall-clock time: read it in loc
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q (write 2024-03-31 or 31/03/2024)", s)
}

// parseAmount reads "1.234,56", "1,234.56", "1234,5", "€ 1 234" and the like:
// when both separators appear the last one is the decimal mark; a lone comma
// is the decimal mark (Italian); repeated marks are thousands separators.
func parseAmount(s string) (pgtype.Numeric, error) {
	orig := s
	s = strings.NewReplacer("€", "", "EUR", "", "eur", "", "$", "", "£", "", " ", "", "\u00a0", "", "'", "").Replace(s)
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	switch {
	case dots > 0 && commas > 0:
		if strings.LastIndexByte(s, ',') > strings.LastIndexByte(s, '.') {
			s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
	case commas == 1:
		s = strings.ReplaceAll(s, ",", ".")
	case commas > 1:
		s = strings.ReplaceAll(s, ",", "")
	case dots > 1:
		s = strings.ReplaceAll(s, ".", "")
	}
	if neg {
		s = "-" + s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(s, "eEinfINFxXpP_") {
		return pgtype.Numeric{}, fmt.Errorf("not an amount: %q", orig)
	}
	if math.Abs(f) >= 1e16 {
		return pgtype.Numeric{}, fmt.Errorf("amount too large: %q", orig)
	}
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		return pgtype.Numeric{}, fmt.Errorf("not an amount: %q", orig)
	}
	return n, nil
}

func parseBool(s string) (bool, error) {
	switch Fold(s) {
	case "si", "s", "yes", "y", "true", "vero", "1", "x", "ja", "oui":
		return true, nil
	case "no", "n", "false", "falso", "0", "nein", "non":
		return false, nil
	}
	if strings.ContainsAny(s, "✓✔☑") {
		return true, nil
	}
	return false, fmt.Errorf("not yes or no: %q", s)
}

// parseList splits on ; or | (commas stay: "Milano, Italia" is one label),
// cleans each value and drops empty and repeated ones.
func parseList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' })
	out := make([]string, 0, len(parts))
	seen := map[string]bool{}
	for _, p := range parts {
		p = CleanText(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

var errEnum = errors.New("not one of")

func parseEnum(f Field, s string) (string, error) {
	k := Fold(s)
	for _, v := range f.Values {
		if Fold(v) == k {
			return v, nil
		}
	}
	if v, ok := f.Aliases[k]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%q is %w %s", s, errEnum, strings.Join(f.Values, ", "))
}
