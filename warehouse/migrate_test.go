package warehouse_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func TestMigrateTwiceThenNothingToDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := warehouse.Open(ctx, warehousetest.NewEmpty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	quiet := slog.New(slog.DiscardHandler)
	first, err := warehouse.Migrate(ctx, conn, quiet)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if first.From != 0 || len(first.Applied) == 0 {
		t.Fatalf("first migrate applied nothing: %+v", first)
	}
	second, err := warehouse.Migrate(ctx, conn, quiet)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(second.Applied) != 0 || second.To != first.To {
		t.Fatalf("second migrate changed something: %+v", second)
	}
	var rows uint64
	if err := conn.QueryRow(ctx, `SELECT count() FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if int(rows) != len(first.Applied) {
		t.Errorf("schema_migrations has %d rows, want %d", rows, len(first.Applied))
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	b, err := conn.PrepareBatch(ctx, `INSERT INTO schema_migrations (version, name)`)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(int64(9999), "9999_from_the_future.sql"); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	_, err = warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler))
	if !errors.Is(err, calore.ErrConflict) {
		t.Fatalf("migrate on a newer schema: err = %v, want a conflict", err)
	}
}

// TestMigrateAppliesAGapBelowTheNewest: a database that has the newest
// migration but lacks an older one (written on a parallel branch) gets the
// older one on the next run.
func TestMigrateAppliesAGapBelowTheNewest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	// forget migration 1 as if it had not been applied
	if err := conn.Exec(ctx, `ALTER TABLE schema_migrations DELETE WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	// mutations are asynchronous on 18.16: wait until the row is gone
	for i := 0; ; i++ {
		var n uint64
		if err := conn.QueryRow(ctx, `SELECT count() FROM schema_migrations WHERE version = 1`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i > 100 {
			t.Fatal("delete mutation did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 1 || res.Applied[0] != "0001_tracking_events.sql" {
		t.Fatalf("applied %v, want only the missing 0001", res.Applied)
	}
}
