package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Changed names records that set-wise SQL outside this package's table
// functions created or changed (the importer's merge): Emit reads them back
// exactly as Get does and writes their outbox events, so a record's change
// event has one shape, the calore type's JSON, whichever path wrote it.
type Changed struct {
	Aggregate string  // "person", "organisation", "donation", ...
	Created   []int64 // ids written by an INSERT: "<aggregate>.created"
	Updated   []int64 // ids written by an UPDATE: "<aggregate>.updated"
}

// emitChunk bounds the records read back and held in memory at once.
const emitChunk = 5000

// emitters are the aggregates Emit can read back, by outbox aggregate name.
var emitters = map[string]func(ctx context.Context, tx pgx.Tx, verb string, ids []int64) ([][]any, error){
	people.aggregate:            people.outboxRows,
	organisations.aggregate:     organisations.outboxRows,
	affiliations.aggregate:      affiliations.outboxRows,
	interactions.aggregate:      interactions.outboxRows,
	eventSeries.aggregate:       eventSeries.outboxRows,
	events.aggregate:            events.outboxRows,
	registrations.aggregate:     registrations.outboxRows,
	campaigns.aggregate:         campaigns.outboxRows,
	campaignSends.aggregate:     campaignSends.outboxRows,
	donations.aggregate:         donations.outboxRows,
	collaborations.aggregate:    collaborations.outboxRows,
	partnerships.aggregate:      partnerships.outboxRows,
	researchContracts.aggregate: researchContracts.outboxRows,
	journeyStages.aggregate:     journeyStages.outboxRows,
	consents.aggregate:          consents.outboxRows,
}

var outboxColumns = []string{"event_id", "event_type", "aggregate_type", "aggregate_id", "schema_version", "payload", "occurred_at"}

// Emit writes one outbox event per record of c inside tx (the transaction
// that made the changes) and returns how many it wrote. A record that no
// longer exists is an error: the caller named it as changed in this
// transaction.
func Emit(ctx context.Context, tx pgx.Tx, c Changed) (int, error) {
	rowsOf, ok := emitters[c.Aggregate]
	if !ok {
		return 0, fmt.Errorf("emit changes: no record kind %q", c.Aggregate)
	}
	n := 0
	for _, part := range []struct {
		verb string
		ids  []int64
	}{{VerbCreated, c.Created}, {VerbUpdated, c.Updated}} {
		for start := 0; start < len(part.ids); start += emitChunk {
			ids := part.ids[start:min(start+emitChunk, len(part.ids))]
			rows, err := rowsOf(ctx, tx, part.verb, ids)
			if err != nil {
				return n, err
			}
			if len(rows) != len(ids) {
				return n, fmt.Errorf("emit %s.%s: %d of %d records found", c.Aggregate, part.verb, len(rows), len(ids))
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, outboxColumns, pgx.CopyFromRows(rows)); err != nil {
				return n, fmt.Errorf("emit %s.%s: write outbox: %w", c.Aggregate, part.verb, err)
			}
			n += len(rows)
		}
	}
	return n, nil
}

// outboxRows reads the records ids as get does (columns and child rows) and
// returns their outbox rows in id order.
func (t *table[T]) outboxRows(ctx context.Context, tx pgx.Tx, verb string, ids []int64) ([][]any, error) {
	q := fmt.Sprintf("SELECT %s FROM %s WHERE id = ANY($1) ORDER BY id", t.selectList(), t.name)
	rows, err := tx.Query(ctx, q, ids)
	if err != nil {
		return nil, fmt.Errorf("emit %s.%s: read back: %w", t.aggregate, verb, err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*T, error) {
		rec := new(T)
		return rec, r.Scan(t.dest(rec)...)
	})
	if err != nil {
		return nil, fmt.Errorf("emit %s.%s: read back: %w", t.aggregate, verb, err)
	}
	if t.loadChildren != nil && len(recs) > 0 {
		if err := t.loadChildren(ctx, tx, recs); err != nil {
			return nil, fmt.Errorf("emit %s.%s: read back children: %w", t.aggregate, verb, err)
		}
	}
	now := time.Now().UTC()
	out := make([][]any, 0, len(recs))
	for _, rec := range recs {
		id := t.meta(rec).ID
		ev, err := NewEvent(t.aggregate, verb, id, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, []any{uuid.MustParse(ev.ID), ev.Type, ev.Aggregate, ev.AggregateID, ev.SchemaVersion, []byte(ev.Payload), now})
	}
	return out, nil
}
