package postgres

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/calore-crm/calore"
)

func TestSearchQueryToSQL(t *testing.T) {
	cols := map[string]bool{"country": true, "tags": true, "name_key": true, "graduation_year": true}
	cases := []struct {
		name  string
		q     SearchQuery
		where string
		args  []any
		bad   bool
	}{
		{"none", SearchQuery{}, "true", nil, false},
		{"eq and range", SearchQuery{Conds: []Cond{{"country", OpEq, "IT"}, {"graduation_year", OpGte, int64(1990)}, {"graduation_year", OpLte, int64(2000)}}},
			"true AND country = $1 AND graduation_year >= $2 AND graduation_year <= $3", []any{"IT", int64(1990), int64(2000)}, false},
		{"array contains", SearchQuery{Conds: []Cond{{"tags", OpContains, "vip"}}}, "true AND tags @> ARRAY[$1]", []any{"vip"}, false},
		{"like escapes wildcards", SearchQuery{Conds: []Cond{{"name_key", OpLike, `50%_a\b`}}},
			"true AND name_key ILIKE '%' || $1 || '%'", []any{`50\%\_a\\b`}, false},
		{"prefix", SearchQuery{Conds: []Cond{{"name_key", OpPrefix, "ros"}}}, "true AND name_key ILIKE $1 || '%'", []any{"ros"}, false},
		{"injection in a column name is refused", SearchQuery{Conds: []Cond{{"country; DROP TABLE people", OpEq, "x"}}}, "", nil, true},
		{"unknown operator", SearchQuery{Conds: []Cond{{"country", "~", "x"}}}, "", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			where, args, err := c.q.toSQL(cols)
			if c.bad {
				if !errors.Is(err, calore.ErrInvalid) {
					t.Fatalf("err %v, want invalid", err)
				}
				return
			}
			if err != nil || where != c.where || fmt.Sprint(args) != fmt.Sprint(c.args) {
				t.Errorf("got %q %v %v, want %q %v", where, args, err, c.where, c.args)
			}
		})
	}
}

func TestDonorQueryToSQL(t *testing.T) {
	base := "s.donor_tier IS NOT NULL AND p.status = 'active'"
	cases := []struct {
		name  string
		q     DonorQuery
		where string
		args  []any
	}{
		{"all", DonorQuery{}, base, nil},
		{"tiers and heat", DonorQuery{Tiers: []string{"A", "B"}, HeatLevels: []int{3, 4}}, base + " AND s.donor_tier = ANY($1) AND s.heat_level = ANY($2)", []any{[]string{"A", "B"}, []int{3, 4}}},
		{"cohort, course, country", DonorQuery{GraduationFrom: 1990, GraduationTo: 1999, Course: "Ingegneria", Country: "it", MinHeat: 2},
			base + " AND s.heat_level >= $1 AND p.graduation_year >= $2 AND p.graduation_year <= $3 AND lower(p.degree_course) = lower($4) AND upper(p.country) = upper($5)",
			[]any{2, 1990, 1999, "Ingegneria", "it"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			where, args := c.q.where()
			if where != c.where || fmt.Sprint(args) != fmt.Sprint(c.args) {
				t.Errorf("got %q %v, want %q %v", where, args, c.where, c.args)
			}
		})
	}
}

func TestAuditQueryToSQL(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sql, args := AuditQuery{UserID: 7, Action: "read", Entity: "person", EntityID: "42", From: from, BeforeID: 99, Limit: 5}.toSQL()
	want := "SELECT id, at, user_id, action, entity, entity_id, detail FROM audit_log WHERE user_id = $1 AND action = $2 AND entity = $3 AND entity_id = $4 AND at >= $5 AND id < $6 ORDER BY id DESC LIMIT 5"
	if sql != want || len(args) != 6 {
		t.Errorf("got %q %v", sql, args)
	}
	sql, args = AuditQuery{}.toSQL()
	if sql != "SELECT id, at, user_id, action, entity, entity_id, detail FROM audit_log WHERE true ORDER BY id DESC LIMIT 100" || len(args) != 0 {
		t.Errorf("empty: %q %v", sql, args)
	}
}
