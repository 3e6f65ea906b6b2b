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
