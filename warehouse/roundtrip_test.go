package warehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestNativeBatchRoundTrip inserts a known set of tracking events with a
// native batch and checks exact answers from queries the product relies on:
// a Date filter bound as a 'YYYY-MM-DD' string through toDate(?), a DateTime
// range bound as time.Time, and exact counting of a duplicated event id.
func TestNativeBatchRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)

	day1 := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	dup := uuid.New()
	rows := []struct {
		id      uuid.UUID
		at      time.Time
		kind    string
		contact int64
		machine uint8
	}{
		{uuid.New(), day1, "open", 1, 0},
		{uuid.New(), day1.Add(time.Hour), "open", 2, 1},
		{uuid.New(), day1.Add(2 * time.Hour), "click", 1, 0},
		{dup, day2, "open", 3, 0},
		{dup, day2, "open", 3, 0}, // redelivered by Kafka: same event id
	}
	b, err := conn.PrepareBatch(ctx, `INSERT INTO tracking_events (event_id, event_time, kind, contact_id, campaign_id, send_id, anonymous_id, url, user_agent, ip_prefix, is_machine)`)
	if err != nil {
		t.Fatalf("prepare batch: %v", err)
	}
	for _, r := range rows {
		if err := b.Append(r.id, r.at, r.kind, r.contact, int64(7), int64(0), "", "", "test", "192.0.2.0", r.machine); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("send batch: %v", err)
	}

	tests := []struct {
		name  string
		query string
		args  []any
		want  uint64
	}{
		{"raw rows", `SELECT count() FROM tracking_events`, nil, 5},
		{"distinct events", `SELECT uniqExact(event_id) FROM tracking_events`, nil, 4},
		{"opens on a day, Date bound as string", `SELECT uniqExact(event_id) FROM tracking_events WHERE kind = 'open' AND event_date = toDate(?)`, []any{"2026-03-14"}, 2},
		{"human opens on a day", `SELECT uniqExact(event_id) FROM tracking_events WHERE kind = 'open' AND is_machine = 0 AND event_date = toDate(?)`, []any{"2026-03-14"}, 1},
		{"DateTime range bound as time.Time", `SELECT uniqExact(event_id) FROM tracking_events WHERE event_time >= ? AND event_time < ?`, []any{day2, day2.Add(time.Minute)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got uint64
			if err := conn.QueryRow(ctx, tt.query, tt.args...).Scan(&got); err != nil {
				t.Fatalf("query: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
