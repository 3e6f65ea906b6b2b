package warehouse_test

import (
	"context"
	"strings"
	"testing"
	"time"

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

// TestWarehouseUsersLocked: the ClickHouse `default` user is gone (it was an
// administrator without a password, reachable over HTTP too), and the
// `powerbi` user cannot read the text of other users' running queries
// (system.processes, which would show the writer's queries and their
// literal values). ClickHouse 18.16 has no row policies and always lets
// every user read the system database, so scripts/stack detaches
// system.processes after each start; on current ClickHouse users.xml's row
// filter keeps powerbi to its own queries. Seen failing with the default user
// restored in users.xml.in, and with the DETACH in scripts/stack removed.
func TestWarehouseUsersLocked(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	writer := warehousetest.Config(t)

	t.Run("no default user", func(t *testing.T) {
		c := writer
		c.User, c.Password, c.Database = "default", "", "default"
		if conn, err := warehouse.Open(ctx, c); err == nil {
			conn.Close()
			t.Errorf("the ClickHouse user default, without a password, is let in")
		}
	})

	t.Run("powerbi cannot see other queries", func(t *testing.T) {
		w, err := warehouse.Open(ctx, writer)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		marker := itest.Name("processes_probe_")
		long, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			var n uint64
			done <- w.QueryRow(long, `SELECT count() FROM numbers(100000000000) WHERE toString(number) = '`+marker+`' SETTINGS max_execution_time = 30`).Scan(&n)
		}()
		defer func() { stop(); <-done }()
		time.Sleep(time.Second) // the writer's query is running (it scans for about a minute)

		c := writer
		c.User, c.Password, c.Database = "powerbi", itest.Env(t, "CALORE_POWERBI_PASSWORD"), "bi"
		bi, err := warehouse.Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		defer bi.Close()
		var seen uint64
		err = bi.QueryRow(ctx, `SELECT count() FROM system.processes WHERE user != 'powerbi' AND query LIKE '%`+marker+`%'`).Scan(&seen)
		switch {
		case err != nil && (strings.Contains(err.Error(), "doesn't exist") || strings.Contains(err.Error(), "ACCESS_DENIED") || strings.Contains(err.Error(), "Not enough privileges")):
			// the table is out of reach
		case err != nil:
			t.Fatalf("powerbi reading system.processes: %v", err)
		case seen > 0:
			t.Errorf("powerbi sees the writer's running query in system.processes")
		}
		select {
		case err := <-done:
			done <- err // for the deferred wait
			t.Fatalf("the writer's query ended before powerbi looked (%v): the test proved nothing", err)
		default:
		}
	})
}
