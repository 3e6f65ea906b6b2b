package scoring

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/models"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

const fixtureHeat = `
half_life_days = 100
thresholds = [1, 4, 10]
[signals.event_attended]
weight = 4
[signals.event_registered]
weight = 1
[signals.email_open]
weight = 0.5
half_life_days = 50
[signals.donation]
weight = 8
[signals.mentoring]
weight = 6
[signals.interaction]
weight = 1
`

// TestHeatOnFixture: hand-made people with known signals get the heat the
// configuration says, computed by the warehouse query.
func TestHeatOnFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	cfg, err := models.ParseHeatConfig(strings.NewReader(fixtureHeat))
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return asOf.AddDate(0, 0, -days) }
	f := &fixture{t: t, conn: conn}
	for id := int64(1); id <= 5; id++ {
		f.person(id, calore.KindAlumnus, 2000, "")
	}
	// person 1: attended an event 100 days ago (4 × ½ = 2), registered 100 days
	// ago for one but did not come (1 × ½ = 0.5)
	f.change("registration", 1, ago(100), calore.Registration{Meta: calore.Meta{ID: 1, Version: 1}, EventID: 9, PersonID: 1, Status: calore.RegAttended, RegisteredAt: ptr(ago(120)), AttendedAt: ptr(ago(100))})
	f.change("registration", 2, ago(100), calore.Registration{Meta: calore.Meta{ID: 2, Version: 1}, EventID: 10, PersonID: 1, Status: calore.RegNoShow, RegisteredAt: ptr(ago(100))})
	// person 2: two human opens 50 days ago (2 × 0.5 × ½ = 0.5), one machine open (ignored),
	// the same open delivered twice (counted once)
	f.hit(calore.EventEmailOpen, ago(50), calore.TrackingHit{ContactID: 2, CampaignID: 1, SendID: 1})
	f.hit(calore.EventEmailOpen, ago(50), calore.TrackingHit{ContactID: 2, CampaignID: 2, SendID: 2})
	f.hit(calore.EventEmailOpen, ago(50), calore.TrackingHit{ContactID: 2, CampaignID: 3, SendID: 3, IsMachine: true, MachineReason: "apple-mpp"})
	f.rows = append(f.rows, f.rows[len(f.rows)-2]) // redelivery of the second open
	// person 3: a donation 100 days ago (8 × ½ = 4) and a mentoring started
	// 100 days ago (6 × ½ = 3); a donation on asOf itself is after "as of" and ignored
	f.change("donation", 1, ago(100), calore.Donation{Meta: calore.Meta{ID: 1, Version: 1}, PersonID: ptr(int64(3)), Amount: "100.00", Currency: "EUR", DonatedOn: ago(100)})
	f.change("donation", 2, ago(0), calore.Donation{Meta: calore.Meta{ID: 2, Version: 1}, PersonID: ptr(int64(3)), Amount: "50.00", Currency: "EUR", DonatedOn: ago(0)})
	f.change("collaboration", 1, ago(100), calore.Collaboration{Meta: calore.Meta{ID: 1, Version: 1}, PersonID: ptr(int64(3)), Kind: "mentoring", StartDate: ptr(ago(100))})
	// person 4: an interaction in the future of asOf: ignored
	f.change("interaction", 1, asOf.AddDate(0, 0, 5), calore.Interaction{Meta: calore.Meta{ID: 1, Version: 1}, PersonID: ptr(int64(4)), Channel: calore.ChannelMeeting, OccurredAt: asOf.AddDate(0, 0, 5)})
	f.load()

	env := &Env{Warehouse: conn, Heat: cfg}
	got, err := HeatScores(ctx, env, asOf)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		person int64
		score  float64
		level  int
		first  string
	}{
		{1, 2.5, 2, "event_attended"},
		{2, 0.5, 1, "email_open"},
		{3, 7, 3, "donation"},
		{4, 0, 1, ""},
		{5, 0, 1, ""},
	}
	for _, tt := range tests {
		h, ok := got[tt.person]
		if !ok {
			h = models.Heat{Level: 1}
		}
		if math.Abs(h.Score-tt.score) > 1e-6 || h.Level != tt.level {
			t.Errorf("person %d: score %.4f level %d, want %.4f level %d (%+v)", tt.person, h.Score, h.Level, tt.score, tt.level, h.Contributions)
		}
		if tt.first != "" && (len(h.Contributions) == 0 || h.Contributions[0].Kind != tt.first) {
			t.Errorf("person %d: contributions %+v, want %s first", tt.person, h.Contributions, tt.first)
		}
	}

	// the job writes one row per person, readable back with the same numbers
	sum, err := heatJob{}.Run(ctx, env, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 5 {
		t.Errorf("job wrote %d rows, want 5", sum.Rows)
	}
	var level int32
	var score float64
	if err := conn.QueryRow(ctx, `SELECT argMax(level, computed_at), argMax(score, computed_at) FROM person_scores WHERE model = 'heat' AND as_of = toDate(?) AND person_id = 3`, "2026-01-01").Scan(&level, &score); err != nil {
		t.Fatal(err)
	}
	if level != 3 || math.Abs(score-7) > 1e-6 {
		t.Errorf("stored heat of person 3: level %d score %v", level, score)
	}
}
