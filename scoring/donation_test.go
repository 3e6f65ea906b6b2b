package scoring

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestDonorFeaturesOnFixture checks every donation feature and the label of
// a hand-made alumnus against values worked out by hand.
func TestDonorFeaturesOnFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC) }
	f := &fixture{t: t, conn: conn}
	f.person(1, calore.KindAlumnus, 1996, "economic") // 30 years since graduation → 3.0 decades
	f.person(2, calore.KindAlumnus, 2026, "")         // graduates in the year scored: not eligible
	f.person(3, calore.KindReferent, 0, "")           // not an alumnus
	f.person(4, calore.KindAlumnus, 1950, "")         // seniority capped at 4 decades
	gift := func(id int64, person int64, on time.Time, amount string) {
		f.change("donation", id, on, calore.Donation{Meta: calore.Meta{ID: id, Version: 1}, PersonID: &person, Amount: amount, Currency: "EUR", DonatedOn: on})
	}
	gift(1, 1, at(2025, 6, 1), "100.00")                                              // last 12 months
	gift(2, 1, at(2023, 6, 1), "50.00")                                               // 2-3 years before
	gift(3, 1, at(2023, 9, 1), "50.00")                                               // same yearly window: counts once
	gift(4, 1, at(2022, 3, 1), "200.00")                                              // 3-4 years before
	gift(5, 1, at(2026, 3, 1), "300.00")                                              // after asOf: the label
	gift(6, 1, at(2019, 3, 1), "1000.00")                                             // more than 5 years before: ignored
	for i, d := range []time.Time{at(2025, 2, 1), at(2025, 11, 1), at(2024, 11, 1)} { // the last one is too old
		f.change("registration", int64(i+1), d, calore.Registration{Meta: calore.Meta{ID: int64(i + 1), Version: 1}, EventID: int64(i + 1), PersonID: 1, Status: calore.RegAttended, RegisteredAt: &d, AttendedAt: &d})
	}
	for s := int64(1); s <= 4; s++ {
		sent := at(2025, int(s)*2, 1)
		f.change("campaign_send", s, sent, calore.CampaignSend{Meta: calore.Meta{ID: s, Version: 1}, CampaignID: s, PersonID: 1, Status: "delivered", SentAt: &sent})
	}
	f.hit(calore.EventEmailOpen, at(2025, 2, 2), calore.TrackingHit{ContactID: 1, CampaignID: 1, SendID: 1})
	f.hit(calore.EventEmailOpen, at(2025, 2, 3), calore.TrackingHit{ContactID: 1, CampaignID: 1, SendID: 1}) // a second open of the same send
	f.hit(calore.EventEmailOpen, at(2025, 4, 2), calore.TrackingHit{ContactID: 1, CampaignID: 2, SendID: 2})
	f.hit(calore.EventEmailOpen, at(2025, 6, 1), calore.TrackingHit{ContactID: 1, CampaignID: 3, SendID: 3, IsMachine: true})
	f.hit(calore.EventEmailClick, at(2025, 4, 2), calore.TrackingHit{ContactID: 1, CampaignID: 2, SendID: 2})
	f.change("collaboration", 1, at(2024, 1, 1), calore.Collaboration{Meta: calore.Meta{ID: 1, Version: 1}, PersonID: ptr(int64(1)), Kind: "mentoring", StartDate: ptr(at(2024, 1, 1))})
	f.load()

	ex, err := DonorExamples(ctx, &Env{Warehouse: conn}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[0].PersonID != 1 || ex[1].PersonID != 4 {
		t.Fatalf("eligible alumni %+v, want people 1 and 4", ex)
	}
	// gave_last, prior_years, attended, open_rate, clicks, seniority, top_economic, top_prestige, mentor
	want := []float64{1, 2, 2, 0.5, 1, 3, 1, 0, 1}
	for i, w := range want {
		if math.Abs(ex[0].X[i]-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", DonorFeatureNames[i], ex[0].X[i], w)
		}
	}
	if !ex[0].GaveNext || ex[0].LastAmount != 100 || ex[0].Gifts != 4 || ex[0].Total != 400 {
		t.Errorf("label and history: %+v", ex[0])
	}
	if ex[1].X[5] != 4 || ex[1].GaveNext {
		t.Errorf("person 4: %+v", ex[1])
	}
}

func TestRoundUpAndTiers(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 0}, {7, 10}, {100, 100}, {101, 200}, {260, 500}, {1250, 2000}} {
		if got := roundUp(tt.in); got != tt.want {
			t.Errorf("roundUp(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		p    float64
		tier string
	}{{0.5, "A"}, {0.3, "A"}, {0.1, "B"}, {0.05, "C"}, {0.001, "D"}} {
		if got, _ := tierOf(tt.p); got != tt.tier {
			t.Errorf("tierOf(%v) = %s, want %s", tt.p, got, tt.tier)
		}
	}
}
