package warehouse_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

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
