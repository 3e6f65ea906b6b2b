package warehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestPersonTimeline checks the workspace's timeline query on ClickHouse
// with a known answer: the latest version of each send (a deleted one left
// out), each tracked hit once (a redelivered event deduplicated), another
// person's events left out, newest first, the limit applied.
func TestPersonTimeline(t *testing.T) {
	ctx := context.Background()
	conn := warehousetest.New(t)
	day := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

	sends, err := conn.PrepareBatch(ctx, `INSERT INTO fact_sends (id, version, deleted, merged_into, change_id, changed_at, campaign_id, person_id, status, sent_at, opened_at, clicked_at, payload)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id, version int64
		deleted     uint8
		person      int64
		status      string
		at          time.Time
	}{
		{1, 1, 0, 42, "queued", day},
		{1, 2, 0, 42, "delivered", day}, // the later version wins
		{2, 1, 0, 42, "delivered", day.Add(24 * time.Hour)},
		{2, 2, 1, 42, "delivered", day.Add(24 * time.Hour)}, // deleted
		{3, 1, 0, 7, "delivered", day},                      // someone else
	} {
		if err := sends.Append(s.id, uint64(s.version), s.deleted, int64(0), uuid.New(), s.at, int64(5), s.person, s.status, s.at, time.Unix(0, 0), time.Unix(0, 0), "{}"); err != nil {
			t.Fatal(err)
		}
	}
	if err := sends.Send(); err != nil {
		t.Fatalf("insert sends: %v", err)
	}
	hits, err := conn.PrepareBatch(ctx, `INSERT INTO tracking_events (event_id, event_time, kind, contact_id, campaign_id, send_id, anonymous_id, url, user_agent, ip_prefix, is_machine)`)
	if err != nil {
		t.Fatal(err)
	}
	dup := uuid.New()
	for _, h := range []struct {
		id      uuid.UUID
		at      time.Time
		kind    string
		contact int64
		url     string
		machine uint8
	}{
		{uuid.New(), day.Add(time.Hour), "open", 42, "", 1},
		{dup, day.Add(2 * time.Hour), "click", 42, "https://example.edu/give", 0},
		{dup, day.Add(2 * time.Hour), "click", 42, "https://example.edu/give", 0}, // redelivered
		{uuid.New(), day.Add(3 * time.Hour), "pageview", 42, "https://example.edu/", 0},
		{uuid.New(), day.Add(4 * time.Hour), "open", 7, "", 0}, // someone else
	} {
		if err := hits.Append(h.id, h.at, h.kind, h.contact, int64(5), int64(0), "", h.url, "test", "192.0.2.0", h.machine); err != nil {
			t.Fatal(err)
		}
	}
	if err := hits.Send(); err != nil {
		t.Fatalf("insert hits: %v", err)
	}

	got, err := warehouse.PersonTimeline(ctx, conn, 42, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []warehouse.PersonEvent{
		{At: day.Add(3 * time.Hour), Kind: "pageview", CampaignID: 5, URL: "https://example.edu/"},
		{At: day.Add(2 * time.Hour), Kind: "click", CampaignID: 5, URL: "https://example.edu/give"},
		{At: day.Add(time.Hour), Kind: "open", CampaignID: 5, Machine: true},
		{At: day, Kind: "send", CampaignID: 5, Status: "delivered"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if two, err := warehouse.PersonTimeline(ctx, conn, 42, 2); err != nil || len(two) != 2 {
		t.Errorf("limit 2: %d events, %v", len(two), err)
	}
}
