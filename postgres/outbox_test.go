package postgres_test

import (
	"context"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestWriteOutbox writes an event in a committed and in a rolled-back
// transaction: only the committed one is in the outbox, with every field of
// the envelope.
func TestWriteOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	for _, commit := range []bool{true, false} {
		ev, err := postgres.NewEvent("person", postgres.VerbCreated, 42, map[string]string{"commit": map[bool]string{true: "yes", false: "no"}[commit]})
		if err != nil {
			t.Fatal(err)
		}
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := postgres.WriteOutbox(ctx, tx, ev); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rows := outboxRows(t, pool)
	if len(rows) != 1 {
		t.Fatalf("outbox holds %d rows, want 1: %+v", len(rows), rows)
	}
	ev := rows[0]
	if ev.Type != "person.created" || ev.Aggregate != "person" || ev.AggregateID != "42" || ev.SchemaVersion != 1 ||
		string(ev.Payload) != `{"commit": "yes"}` || ev.Time.IsZero() || len(ev.ID) != 36 {
		t.Errorf("outbox row = %+v", ev)
	}
	bad := calore.Event{ID: "not-a-uuid", Type: "person.created"}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := postgres.WriteOutbox(ctx, tx, bad); err == nil {
		t.Error("an event id that is no UUID was written")
	}
}
