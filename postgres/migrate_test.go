package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

func TestMigrateTwiceThenNothingToDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, pgtest.NewEmpty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	quiet := slog.New(slog.DiscardHandler)

	first, err := postgres.Migrate(ctx, pool, quiet)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if first.From != 0 || len(first.Applied) == 0 || first.To == 0 {
		t.Fatalf("first migrate applied nothing: %+v", first)
	}
	second, err := postgres.Migrate(ctx, pool, quiet)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(second.Applied) != 0 || second.To != first.To {
		t.Fatalf("second migrate changed something: %+v", second)
	}
	if got := second.String(); got != "postgres: nothing to do (schema 1)" && second.To == 1 {
		t.Errorf("second migrate says %q", got)
	}
	st, err := postgres.SchemaStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != st.Latest || st.Current != first.To {
		t.Errorf("status after migrate: %+v", st)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewOwner(t) // migrations run as the owner
	// a newer binary migrated this database
	if _, err := pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	if !errors.Is(err, calore.ErrConflict) {
		t.Fatalf("migrate on a newer schema: err = %v, want a conflict", err)
	}
}

// TestRoundTrip writes a row and reads it back through a second connection,
// and checks that a rolled-back write leaves nothing.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	id := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id, schema_version, payload)
		VALUES ($1, 'person.created', 'person', '42', 1, '{"name":"Ada"}')`, id); err != nil {
		t.Fatalf("insert: %v", err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id, schema_version, payload)
		VALUES ($1, 'person.created', 'person', '43', 1, '{}')`, uuid.New()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	var name string
	if err := pool.QueryRow(ctx, `SELECT count(*), max(payload->>'name') FROM outbox`).Scan(&n, &name); err != nil {
		t.Fatal(err)
	}
	if n != 1 || name != "Ada" {
		t.Fatalf("read back %d rows, name %q; want 1, Ada", n, name)
	}
}
