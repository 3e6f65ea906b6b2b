package pgtest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/postgres"
)

// FindText returns "table.column: n rows" for every text, varchar, jsonb or
// array column of every table of the public schema that holds one of needles
// (case-insensitively, as a substring): the search the GDPR erasure tests
// run for a person's email and names.
func FindText(t testing.TB, db postgres.DB, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatalf("pgtest: list text columns: %v", err)
	}
	type col struct{ table, column string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		err := r.Scan(&c.table, &c.column)
		return c, err
	})
	if err != nil {
		t.Fatalf("pgtest: list text columns: %v", err)
	}
	pats := make([]string, 0, len(needles))
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	for _, n := range needles {
		pats = append(pats, "%"+esc.Replace(n)+"%")
	}
	var hits []string
	for _, c := range cols {
		var n int64
		q := "SELECT count(*) FROM " + pgx.Identifier{c.table}.Sanitize() + " WHERE " + pgx.Identifier{c.column}.Sanitize() + "::text ILIKE ANY($1)"
		if err := db.QueryRow(ctx, q, pats).Scan(&n); err != nil {
			t.Fatalf("pgtest: search %s.%s: %v", c.table, c.column, err)
		}
		if n > 0 {
			hits = append(hits, c.table+"."+c.column+": "+strconv.FormatInt(n, 10)+" rows")
		}
	}
	return hits
}
