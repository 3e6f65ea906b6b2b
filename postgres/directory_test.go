package postgres

import (
	"reflect"
	"strings"
	"testing"
)

// TestDirectoryToSQL checks the directory's query table-style: user text
// only ever as bind parameters, person-only filters leaving organisations
// out, the keyset cursor per entity.
func TestDirectoryToSQL(t *testing.T) {
	tests := []struct {
		name      string
		q         DirectoryQuery
		args      []any
		has, lack []string
	}{
		{name: "name in Cyrillic, as a key", q: DirectoryQuery{Text: "Лавлейс'; DROP"},
			args: []any{"lavleis drop", "лавлейс'; drop", "lavleis drop"},
			has:  []string{"p.name_key LIKE", "o.name_key LIKE", "UNION ALL"}, lack: []string{"DROP", "лавлейс"}},
		{name: "phone digits", q: DirectoryQuery{Text: "+39 333 123 4567", Entity: EntityPerson},
			args: []any{"39 333 123 4567", "+39 333 123 4567", "+393331234567", "+393331234567"},
			has:  []string{"number_norm IN"}, lack: []string{"organisations o"}},
		{name: "vat", q: DirectoryQuery{Text: "IT 0123456789", Entity: EntityOrganisation},
			args: []any{"it 0123456789", "IT0123456789", "IT0123456789"},
			has:  []string{"o.vat_norm =", "upper(o.tax_code) ="}, lack: []string{"FROM people"}},
		{name: "person-only filters leave organisations out", q: DirectoryQuery{Heat: 3, Tier: "A", Cohort: 1994, PersonKind: "alumnus", Country: "it"},
			args: []any{"alumnus", 3, "A", 1990, 1999, "IT"},
			has:  []string{"s.heat_level =", "s.donor_tier =", "p.graduation_year BETWEEN"}, lack: []string{"organisations o"}},
		{name: "cursor in organisations", q: DirectoryQuery{After: DirectoryCursor{Entity: EntityOrganisation, ID: 7}},
			args: []any{int64(7)}, has: []string{"AND false", "o.id >"}},
		{name: "cursor in people", q: DirectoryQuery{After: DirectoryCursor{Entity: EntityPerson, ID: 9}},
			args: []any{int64(9)}, has: []string{"p.id >"}, lack: []string{"o.id >"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args := tt.q.toSQL()
			if !reflect.DeepEqual(args, tt.args) {
				t.Errorf("args %#v, want %#v", args, tt.args)
			}
			for _, s := range tt.has {
				if !strings.Contains(sql, s) {
					t.Errorf("SQL lacks %q:\n%s", s, sql)
				}
			}
			for _, s := range tt.lack {
				if strings.Contains(sql, s) {
					t.Errorf("SQL has %q:\n%s", s, sql)
				}
			}
		})
	}
}
