package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// Outbox event verbs: the type of an outbox event is "<aggregate>.<verb>",
// e.g. "person.created".
const (
	VerbCreated = "created"
	VerbUpdated = "updated"
	VerbDeleted = "deleted"
	VerbMerged  = "merged"
)

// OutboxSchemaVersion is the schema version of every outbox payload this
// binary writes: the record as JSON, shaped by its calore type's json tags.
const OutboxSchemaVersion = 1

// NewEvent builds the outbox event for a change of one record: a fresh UUID,
// type "<aggregate>.<verb>", schema version 1, the record as JSON payload and
// the current time in UTC.
func NewEvent(aggregate, verb string, id int64, record any) (calore.Event, error) {
	payload, err := json.Marshal(record)
	if err != nil {
		return calore.Event{}, fmt.Errorf("encode %s %d for the outbox: %w", aggregate, id, err)
	}
	return calore.Event{
		ID:            uuid.NewString(),
		Type:          aggregate + "." + verb,
		SchemaVersion: OutboxSchemaVersion,
		Time:          time.Now().UTC(),
		Aggregate:     aggregate,
		AggregateID:   strconv.FormatInt(id, 10),
		Payload:       payload,
	}, nil
}

// WriteOutbox writes ev into the outbox inside tx, the transaction that makes
// the change it describes: the event is published if and only if the change
// commits. Importers writing their own SQL call it (or WriteOutboxBatch) for
// every record they create or change.
func WriteOutbox(ctx context.Context, tx pgx.Tx, ev calore.Event) error {
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		return fmt.Errorf("write outbox %s: event id %q: %w", ev.Type, ev.ID, err)
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id, schema_version, payload, occurred_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, ev.Type, ev.Aggregate, ev.AggregateID, ev.SchemaVersion, []byte(ev.Payload), ev.Time); err != nil {
		return fmt.Errorf("write outbox %s %s %s: %w", ev.Type, ev.Aggregate, ev.AggregateID, err)
	}
	return nil
}

// writeChange builds the event for a change of one record and writes it in tx.
func writeChange(ctx context.Context, tx pgx.Tx, aggregate, verb string, id int64, record any) error {
	ev, err := NewEvent(aggregate, verb, id, record)
	if err != nil {
		return err
	}
	return WriteOutbox(ctx, tx, ev)
}
