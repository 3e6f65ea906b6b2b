package warehousetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// FindPerson searches every MergeTree table of dbs (the warehouse and its
// bi databases) for a person: ids in the person columns (person_id,
// contact_id, id of dim_people and src_people, aggregate_id of person
// changes, person_id and contact_id inside JSON payloads) and needles (their
// email and names) in every String column, case-insensitively. It returns
// "db.table.column: n rows" per hit. The table `erasures`, which keeps the
// erased ids on purpose, is left out.
func FindPerson(t testing.TB, conn driver.Conn, dbs []string, ids []int64, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	idList := make([]string, len(ids))
	for i, id := range ids {
		idList[i] = fmt.Sprint(id)
	}
	in := "(" + strings.Join(idList, ", ") + ")"
	var hits []string
	for _, db := range dbs {
		rows, err := conn.Query(ctx, `SELECT c.table, c.name, c.type FROM system.columns AS c
			WHERE c.database = ? AND c.table IN (SELECT name FROM system.tables WHERE database = ? AND engine LIKE '%MergeTree')
			ORDER BY c.table, c.name`, db, db)
		if err != nil {
			t.Fatalf("warehousetest: list columns of %s: %v", db, err)
		}
		type col struct{ table, name, typ string }
		var cols []col
		for rows.Next() {
			var c col
			if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
				t.Fatalf("warehousetest: %v", err)
			}
			cols = append(cols, c)
		}
		rows.Close()
		for _, c := range cols {
			if c.table == "erasures" {
				continue
			}
			var conds []string
			switch {
			case c.name == "person_id" || c.name == "contact_id" || (c.name == "id" && (c.table == "dim_people" || c.table == "src_people")):
				conds = append(conds, "`"+c.name+"` IN "+in)
			case c.name == "aggregate_id" && c.table == "change_log":
				conds = append(conds, "aggregate = 'person' AND toInt64OrZero(aggregate_id) IN "+in)
			}
			if c.name == "payload" {
				conds = append(conds, "visitParamExtractInt(payload, 'person_id') IN "+in, "visitParamExtractInt(payload, 'contact_id') IN "+in)
			}
			if c.typ == "String" {
				for _, n := range needles {
					conds = append(conds, "positionCaseInsensitiveUTF8(`"+c.name+"`, '"+strings.ReplaceAll(strings.ReplaceAll(n, `\`, `\\`), `'`, `\'`)+"') > 0")
				}
			}
			if len(conds) == 0 {
				continue
			}
			var n uint64
			q := "SELECT toUInt64(count()) FROM `" + db + "`.`" + c.table + "` WHERE (" + strings.Join(conds, ") OR (") + ")"
			if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatalf("warehousetest: %s: %v", q, err)
			}
			if n > 0 {
				hits = append(hits, fmt.Sprintf("%s.%s.%s: %d rows", db, c.table, c.name, n))
			}
		}
	}
	return hits
}
