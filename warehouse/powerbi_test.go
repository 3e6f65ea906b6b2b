package warehouse_test

import (
	"context"
	"testing"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestPowerBIUserIsReadOnlyOnBI checks the `powerbi` user that scripts/stack
// configures: it reads the bi database, cannot write there, and cannot open
// any other database.
func TestPowerBIUserIsReadOnlyOnBI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := warehousetest.Config(t)
	c.User = "powerbi"
	c.Password = itest.Env(t, "CALORE_POWERBI_PASSWORD")

	c.Database = "bi"
	conn, err := warehouse.Open(ctx, c)
	if err != nil {
		t.Fatalf("powerbi cannot open bi: %v", err)
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("powerbi SELECT 1 on bi: %v", err)
	}
	denied := []struct{ name, sql string }{
		{"create table", "CREATE TABLE bi.powerbi_probe (x UInt8) ENGINE = Memory"},
		{"read another database", "SELECT count() FROM calore.schema_migrations"},
		{"change a limit", "SET max_result_rows = 0"},
	}
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			if err := conn.Exec(ctx, d.sql); err == nil {
				t.Errorf("powerbi may %s: %s", d.name, d.sql)
			}
		})
	}

	c.Database = "calore"
	if other, err := warehouse.Open(ctx, c); err == nil {
		other.Close()
		t.Errorf("powerbi opened database calore")
	}
}

// TestPowerBIReadsEveryBIObject checks, as the `powerbi` user, every reporting
// object `calore migrate` creates in the stack's bi database: each one
// answers a SELECT, none accepts a write, and neither the warehouse nor any
// other database can be reached around it (table functions included). The
// objects' numbers are checked on a fixture of their own in
// TestBIObjectsOnFixture (the powerbi user can open only the database named
// bi, so that test reads its private bi database as the writer, read-only).
func TestPowerBIReadsEveryBIObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := warehousetest.Config(t)
	warehouseDB := c.Database
	c.User = "powerbi"
	c.Password = itest.Env(t, "CALORE_POWERBI_PASSWORD")
	c.Database = "bi"
	conn, err := warehouse.Open(ctx, c)
	if err != nil {
		t.Fatalf("powerbi cannot open bi: %v", err)
	}
	defer conn.Close()

	for _, o := range warehouse.BIObjects {
		t.Run("read "+o, func(t *testing.T) {
			rows, err := conn.Query(ctx, "SELECT * FROM bi."+o+" LIMIT 10")
			if err != nil {
				t.Fatalf("powerbi cannot read bi.%s (has `calore migrate` run?): %v", o, err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatalf("powerbi reading bi.%s: %v", o, err)
			}
			t.Logf("bi.%s: %d rows (of at most 10) from the stack's warehouse", o, n)
		})
		t.Run("write "+o, func(t *testing.T) {
			for _, sql := range []string{
				"INSERT INTO bi." + o + " SELECT * FROM bi." + o + " LIMIT 0",
				"DROP TABLE bi." + o,
				"RENAME TABLE bi." + o + " TO bi." + o + "_x",
				"CREATE VIEW bi." + o + "_copy AS SELECT * FROM bi." + o,
			} {
				if err := conn.Exec(ctx, sql); err == nil {
					t.Errorf("powerbi may run: %s", sql)
				}
			}
		})
	}
	denied := []struct{ name, sql string }{
		{"write a feed's table", "INSERT INTO bi.src_people SELECT * FROM bi.src_people LIMIT 0"},
		{"truncate a feed's table", "TRUNCATE TABLE bi.src_people"},
		{"alter a feed's table", "ALTER TABLE bi.src_people DELETE WHERE 1"},
		{"read the warehouse", "SELECT count() FROM " + warehouseDB + ".person_scores"},
		{"read the warehouse's people", "SELECT count() FROM " + warehouseDB + ".dim_people"},
		{"read through remote()", "SELECT count() FROM remote('127.0.0.1', " + warehouseDB + ".dim_people)"},
		{"read through merge()", "SELECT count() FROM merge('" + warehouseDB + "', '^dim_people$')"},
		{"create a database", "CREATE DATABASE powerbi_probe"},
	}
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			if err := conn.Exec(ctx, d.sql); err == nil {
				t.Errorf("powerbi may %s: %s", d.name, d.sql)
			}
		})
	}
	t.Run("batch insert", func(t *testing.T) {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO bi.src_people (id, version)")
		if err == nil {
			err = b.Append(int64(-1), uint64(1))
			if err == nil {
				err = b.Send()
			}
		}
		if err == nil {
			t.Error("powerbi inserted a row into bi.src_people")
		}
	})
}
