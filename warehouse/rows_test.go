package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func change(typ string, at time.Time, rec map[string]any) calore.Event {
	agg := typ[:len(typ)-len(".created")]
	for _, v := range []string{".created", ".updated", ".deleted", ".merged"} {
		if len(typ) > len(v) && typ[len(typ)-len(v):] == v {
			agg = typ[:len(typ)-len(v)]
		}
	}
	b, _ := json.Marshal(rec)
	return calore.Event{ID: uuid.NewString(), Type: typ, SchemaVersion: 1, Time: at, Aggregate: agg,
		AggregateID: fmt.Sprint(rec["id"]), Payload: b}
}

// TestRecordTablesCurrentState inserts versions of records (with a
// redelivered duplicate and out-of-order arrival) into every typed table and
// checks the current-state queries the product runs: argMax by version,
// deleted rows left out.
func TestRecordTablesCurrentState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

	var events []calore.Event
	// person 1: created, renamed, a duplicate of the rename, arriving before the creation
	created := change("person.created", t0, map[string]any{"id": 1, "first_name": "Ada", "last_name": "Byron", "email": "ada@example.edu"})
	renamed := change("person.updated", t0.Add(time.Millisecond), map[string]any{"id": 1, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.edu"})
	events = append(events, renamed, renamed, created)
	// person 2: created then merged into 1
	events = append(events,
		change("person.created", t0, map[string]any{"id": 2, "first_name": "A.", "last_name": "Lovelace"}),
		change("person.merged", t0.Add(time.Second), map[string]any{"id": 2, "merged_into": 1}))
	events = append(events,
		change("organisation.created", t0, map[string]any{"id": 10, "legal_name": "ACME", "sector": "engineering"}),
		change("campaign.created", t0, map[string]any{"id": 20, "name": "Spring appeal", "channel": "email", "scheduled_at": "2026-03-01"}),
		change("event.created", t0, map[string]any{"id": 30, "name": "Alumni night", "starts_at": "2026-04-02T18:00:00Z"}),
		change("interaction.created", t0, map[string]any{"id": 40, "person_id": 1, "channel": "meeting", "occurred_at": "2026-03-10T10:00:00Z"}),
		change("donation.created", t0, map[string]any{"id": 50, "person_id": 1, "campaign_id": 20, "amount": "125.50", "currency": "EUR", "donated_on": "2026-03-12T00:00:00Z"}),
		change("donation.updated", t0.Add(time.Second), map[string]any{"id": 50, "person_id": 1, "campaign_id": 20, "amount": 130, "currency": "EUR", "donated_on": "2026-03-12T00:00:00Z"}),
		change("registration.created", t0, map[string]any{"id": 60, "person_id": 1, "event_id": 30, "status": "registered"}),
		change("registration.updated", t0.Add(time.Second), map[string]any{"id": 60, "person_id": 1, "event_id": 30, "status": "attended", "attended_at": "2026-04-02T18:30:00Z"}),
		change("campaign_send.created", t0, map[string]any{"id": 70, "campaign_id": 20, "person_id": 1, "status": "sent", "sent_at": "2026-03-01T08:00:00Z"}),
		change("journey_stage.created", t0, map[string]any{"id": 80, "person_id": 1, "programme": "alumni", "stage": "engaged"}),
		change("consent.created", t0, map[string]any{"id": 90, "purpose": "newsletter"}),
	)
	var rows []warehouse.Row
	for _, ev := range events {
		r, err := warehouse.Rows(ev)
		if err != nil {
			t.Fatalf("rows of %s: %v", ev.Type, err)
		}
		rows = append(rows, r...)
	}
	if err := warehouse.Insert(ctx, conn, rows); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, query, want string
	}{
		{"change log counts each event once", `SELECT toString(uniqExact(event_id)) FROM change_log`, fmt.Sprint(len(events) - 1)},
		{"current people", `SELECT toString(count()) FROM (SELECT id, argMax(deleted, version) AS del FROM dim_people GROUP BY id) WHERE del = 0`, "1"},
		{"latest name wins", `SELECT argMax(last_name, version) FROM dim_people WHERE id = 1`, "Lovelace"},
		{"merged person points at survivor", `SELECT toString(argMax(merged_into, version)) FROM dim_people WHERE id = 2`, "1"},
		{"organisation", `SELECT argMax(sector, version) FROM dim_organisations WHERE id = 10`, "engineering"},
		{"campaign start", `SELECT toString(argMax(starts_at, version)) FROM dim_campaigns WHERE id = 20`, "2026-03-01 00:00:00"},
		{"event", `SELECT argMax(name, version) FROM dim_events WHERE id = 30`, "Alumni night"},
		{"interactions in March", `SELECT toString(count()) FROM (SELECT id FROM fact_interactions WHERE occurred_at >= toDateTime('2026-03-01 00:00:00') GROUP BY id)`, "1"},
		{"donation total uses latest amount", `SELECT toString(toFloat64(sum(a))) FROM (SELECT id, argMax(amount, version) AS a FROM fact_donations GROUP BY id)`, "130"},
		{"attendance", `SELECT toString(argMax(attended, version)) FROM fact_registrations WHERE event_id = 30`, "1"},
		{"sends", `SELECT toString(uniqExact(id)) FROM fact_sends WHERE campaign_id = 20`, "1"},
		{"journey stage defaults to event time", `SELECT toString(argMax(entered_at, version)) FROM fact_journey_stages WHERE id = 80`, "2026-03-14 09:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := conn.QueryRow(ctx, tt.query).Scan(&got); err != nil {
				t.Fatalf("query: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestInsertNamesTheRowItCannotEncode: a row whose values do not fit its
// columns fails with a RowError naming it, so the sink can set that one
// message aside instead of retrying the batch forever.
func TestInsertNamesTheRowItCannotEncode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	good, err := warehouse.Rows(change("person.created", time.Now(), map[string]any{"id": 1}))
	if err != nil {
		t.Fatal(err)
	}
	bad := warehouse.Row{Table: warehouse.ChangeLog, Values: []any{"not a uuid", "x", "y", "z", uint16(1), time.Now(), uint64(1), "{}"}}
	rows := append(append([]warehouse.Row{}, good...), bad)
	err = warehouse.Insert(ctx, conn, rows)
	var re *warehouse.RowError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RowError", err)
	}
	if re.Index != len(good) {
		t.Errorf("RowError names row %d, want %d", re.Index, len(good))
	}
}

func TestMoneyMustFitItsColumn(t *testing.T) {
	tests := []struct {
		amount any
		ok     bool
	}{
		{"125.50", true},
		{130, true},
		{"", true},
		{"9999999999999999.99", true},
		{"10000000000000000", false},
		{"1e30", false},
		{"ten", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.amount), func(t *testing.T) {
			_, err := warehouse.Rows(change("donation.created", time.Now(), map[string]any{"id": 5, "amount": tt.amount}))
			if (err == nil) != tt.ok {
				t.Errorf("amount %v: err = %v, want ok=%v", tt.amount, err, tt.ok)
			}
		})
	}
}
