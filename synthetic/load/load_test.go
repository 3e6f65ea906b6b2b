package load_test

import (
	"context"
	"testing"

	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/synthetic/load"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func tinyScale(t *testing.T) synthetic.Scale {
	s, err := synthetic.ScaleByName("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Alumni, s.NewsletterContacts, s.Journalists, s.Referents, s.ProspectsPerYear, s.Organisations = 1500, 800, 20, 200, 150, 30
	s.DonorsPerYear, s.EventsPerYear = 30, 10
	return s
}

// TestLoadMatchesStoreAndWarehouse loads a small synthetic university and
// checks that the operational store and the warehouse hold the same records,
// and that a second load of the same seed changes nothing.
func TestLoadMatchesStoreAndWarehouse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	ch := warehousetest.New(t)
	s := tinyScale(t)

	rep, err := load.Run(ctx, pool, ch, s, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.People != s.People() || rep.Sends == 0 || rep.Hits == 0 {
		t.Fatalf("report %+v", rep)
	}
	pgCount := func(q string) int64 {
		t.Helper()
		var n int64
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	chCount := func(q string) uint64 {
		t.Helper()
		var n uint64
		if err := ch.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	tests := []struct {
		name     string
		pg, ch   string
		expected int64
	}{
		{"people", "SELECT count(*) FROM people", "SELECT uniqExact(id) FROM dim_people", int64(rep.People)},
		{"organisations", "SELECT count(*) FROM organisations", "SELECT uniqExact(id) FROM dim_organisations", int64(rep.Organisations)},
		{"donations", "SELECT count(*) FROM donations", "SELECT uniqExact(id) FROM fact_donations", int64(rep.Donations)},
		{"registrations", "SELECT count(*) FROM registrations", "SELECT uniqExact(id) FROM fact_registrations", int64(rep.Registrations)},
		{"sends", "SELECT count(*) FROM campaign_sends", "SELECT uniqExact(aggregate_id) FROM change_log WHERE aggregate = 'campaign_send'", int64(rep.Sends)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pgCount(tt.pg); got != tt.expected {
				t.Errorf("postgres: %d, want %d", got, tt.expected)
			}
			if got := chCount(tt.ch); int64(got) != tt.expected {
				t.Errorf("clickhouse: %d, want %d", got, tt.expected)
			}
		})
	}
	if got := chCount("SELECT uniqExact(event_id) FROM tracking_events"); int(got) != rep.Hits {
		t.Errorf("tracking events %d, want %d", got, rep.Hits)
	}
	if got := chCount("SELECT count() FROM synthetic_propensity WHERE known = 1 AND gave = 1"); got == 0 {
		t.Error("no donors in the truth table")
	}

	again, err := load.Run(ctx, pool, ch, s, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !again.AlreadyLoaded {
		t.Error("second load of the same seed did not notice")
	}
	if _, err := load.Run(ctx, pool, ch, s, 8, nil); err == nil {
		t.Error("a different seed loaded into a non-empty store")
	}
}
