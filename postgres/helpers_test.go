package postgres_test

import (
	"context"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
)

// outboxRows returns every outbox row in id order, as events.
func outboxRows(t *testing.T, db postgres.DB) []calore.Event {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT event_id::text, event_type, aggregate_type, aggregate_id, schema_version, payload, occurred_at FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []calore.Event
	for rows.Next() {
		var ev calore.Event
		if err := rows.Scan(&ev.ID, &ev.Type, &ev.Aggregate, &ev.AggregateID, &ev.SchemaVersion, &ev.Payload, &ev.Time); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
