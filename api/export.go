package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/calore-crm/calore/internal/spreadsheet"
)

// maxExport bounds the rows of one export.
const maxExport = 200_000

// columns lists the JSON names of T's fields in declaration order, embedded
// structs (calore.Meta) flattened.
func columns(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, columns(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// cells turns one record into the text of each column: strings as they are,
// lists of strings joined by "; ", numbers and booleans as JSON writes them,
// anything else (emails, phones, extra fields) as JSON.
func cells(rec any, cols []string) ([]string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	out := make([]string, len(cols))
	for i, c := range cols {
		raw, ok := m[c]
		if !ok || string(raw) == "null" {
			continue
		}
		var s string
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
			out[i] = s
		case json.Unmarshal(raw, &list) == nil:
			out[i] = strings.Join(list, "; ")
		default:
			out[i] = string(raw)
		}
	}
	return out, nil
}

// export writes every record matching the filters as CSV or XLSX
// (?format=csv|xlsx), in id order, at most maxExport rows.
func (res resource[T]) export(s *Server, w http.ResponseWriter, r *http.Request) {
	res = res.bind(r)
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		s.writeError(w, r, invalid("format", "%q is not csv or xlsx", format))
		return
	}
	q, err := res.query(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var zero T
	cols := columns(reflect.TypeOf(zero))
	rows := [][]string{}
	var ids []int64 // for the audit line
	q.Offset, q.Limit = 0, 1000
	for len(rows) < maxExport {
		items, _, err := res.search(r.Context(), q)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, it := range items {
			ids = append(ids, res.meta(it).ID)
			c, err := cells(it, cols)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			rows = append(rows, c)
		}
		if len(items) < q.Limit {
			break
		}
		q.AfterID = res.meta(items[len(items)-1]).ID
	}
	if err := auditRead(s.store, r, "export", res.noun, "", ids, map[string]string{"rows": strconv.Itoa(len(rows)), "format": format}); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := res.path + "." + format
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Cache-Control", "no-store")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = w.Write([]byte("\ufeff"))  // Excel reads UTF-8 with a BOM
		cw := spreadsheet.NewCSVWriter(w) // formula-safe cells (CSV injection)
		_ = cw.Write(cols)
		for _, row := range rows {
			if err := cw.Write(row); err != nil {
				return
			}
		}
		cw.Flush()
		return
	}
	f, err := xlsxOf(res.path, cols, rows)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	if err := f.Write(w); err != nil {
		s.log.Warn("export: write xlsx", "err", err)
	}
}

// xlsxOf builds a workbook of one sheet with a header row, streaming rows.
// Every cell is written as a string value (never excelize.Cell{Formula}),
// so a record's "=…" text is a text cell in Excel, not a formula.
func xlsxOf(sheet string, cols []string, rows [][]string) (*excelize.File, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("export xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("export xlsx: %w", err)
	}
	put := func(n int, vals []string) error {
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = v
		}
		return sw.SetRow(cell, row)
	}
	if err := put(1, cols); err != nil {
		return nil, fmt.Errorf("export xlsx: %w", err)
	}
	for i, r := range rows {
		if err := put(i+2, r); err != nil {
			return nil, fmt.Errorf("export xlsx row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("export xlsx: %w", err)
	}
	return f, nil
}
