package scoring

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func TestForecastTurnout(t *testing.T) {
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := func(y, m int) time.Time { return time.Date(y, time.Month(m), 1, 17, 0, 0, 0, time.UTC) }
	events := []EventTurnout{
		{1, "webinar", d(2024, 3), 100, 40},
		{2, "webinar", d(2024, 6), 100, 40},
		{3, "webinar", d(2024, 9), 200, 80},
		{4, "gala", d(2024, 10), 100, 90},
		{5, "webinar", d(2025, 3), 100, 50}, // back-tested with the 3 webinars before: 40%
		{6, "gala", d(2025, 5), 10, 9},      // only one gala before: all kinds (300/600 = 50%)
		{7, "webinar", d(2026, 2), 50, 0},   // upcoming: webinars before asOf 210/500 = 42%
	}
	up, bt := ForecastTurnout(events, asOf)
	if len(up) != 1 || len(bt) != 2 {
		t.Fatalf("upcoming %d, back-test %d", len(up), len(bt))
	}
	checks := []struct {
		name           string
		f              Forecast
		rate, expected float64
		actual         int64
	}{
		{"webinar back-test", bt[0], 0.40, 40, 50},
		{"gala back-test falls back to all kinds", bt[1], 0.5, 5, 9},
		{"upcoming webinar", up[0], 0.42, 21, -1},
	}
	for _, c := range checks {
		if math.Abs(c.f.Rate-c.rate) > 1e-9 || math.Abs(c.f.Expected-c.expected) > 1e-9 || c.f.Actual != c.actual {
			t.Errorf("%s: %+v, want rate %v expected %v actual %d", c.name, c.f, c.rate, c.expected, c.actual)
		}
	}
	mae, mape, bias := ForecastError(bt)
	// errors: -10 and -4 → MAE 7, bias -7, MAPE (10/50 + 4/9)/2
	if mae != 7 || bias != -7 || math.Abs(mape-(0.2+4.0/9)/2) > 1e-9 {
		t.Errorf("MAE %v MAPE %v bias %v", mae, mape, bias)
	}
}

// TestTurnoutAndCompanyQueriesOnFixture checks the turnout and company
// feature queries against hand-made records.
func TestTurnoutAndCompanyQueriesOnFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	f := &fixture{t: t, conn: conn}
	at := func(m, d int) time.Time { return time.Date(2025, time.Month(m), d, 17, 0, 0, 0, time.UTC) }
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	f.change("event", 1, at(1, 1), calore.CalendarEvent{Meta: calore.Meta{ID: 1, Version: 1}, Name: "A", Kind: "webinar", StartsAt: at(3, 1)})
	f.change("event", 2, at(1, 1), calore.CalendarEvent{Meta: calore.Meta{ID: 2, Version: 1}, Name: "B", Kind: "gala", StartsAt: at(5, 1)})
	f.change("event", 3, at(1, 1), calore.CalendarEvent{Meta: calore.Meta{ID: 3, Version: 1}, Name: "no registrations", Kind: "gala", StartsAt: at(5, 1)})
	reg := func(id, event int64, status string) {
		r := calore.Registration{Meta: calore.Meta{ID: id, Version: 1}, EventID: event, PersonID: id, Status: status, RegisteredAt: ptr(at(2, 1))}
		if status == calore.RegAttended {
			r.AttendedAt = ptr(at(3, 1))
		}
		f.change("registration", id, at(2, 1), r)
	}
	reg(1, 1, calore.RegAttended)
	reg(2, 1, calore.RegNoShow)
	reg(3, 1, calore.RegRegistered)
	reg(4, 1, calore.RegInvited) // invited only: not registered
	reg(5, 2, calore.RegAttended)

	// companies: 1 large with activity, a contract and an active partnership; 2 small and quiet
	f.change("organisation", 1, at(1, 1), calore.Organisation{Meta: calore.Meta{ID: 1, Version: 1}, Kind: calore.OrgCompany, LegalName: "Big", SizeClass: "large",
		Revenue: "999999", ATECOCodes: []string{"C.28"}, Disciplines: []string{"machinery"}, Status: calore.StatusActive})
	f.change("organisation", 2, at(1, 1), calore.Organisation{Meta: calore.Meta{ID: 2, Version: 1}, Kind: calore.OrgCompany, LegalName: "Small", SizeClass: "small", Status: calore.StatusActive})
	org := int64(1)
	f.change("interaction", 1, at(4, 1), calore.Interaction{Meta: calore.Meta{ID: 1, Version: 1}, OrganisationID: &org, Channel: calore.ChannelMeeting, OccurredAt: at(4, 1), Office: "research"})
	f.change("interaction", 2, at(4, 2), calore.Interaction{Meta: calore.Meta{ID: 2, Version: 1}, OrganisationID: &org, Channel: calore.ChannelEvent, OccurredAt: at(4, 2), Office: "career"})
	f.change("interaction", 3, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), calore.Interaction{Meta: calore.Meta{ID: 3, Version: 1}, OrganisationID: &org, Channel: calore.ChannelMeeting, OccurredAt: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Office: "research"}) // too old
	f.change("collaboration", 1, at(6, 1), calore.Collaboration{Meta: calore.Meta{ID: 1, Version: 1}, OrganisationID: &org, Kind: "internship_host", StartDate: ptr(at(6, 1))})
	f.change("research_contract", 1, at(2, 1), calore.ResearchContract{Meta: calore.Meta{ID: 1, Version: 1}, ContractNumber: "RC-1", OrganisationID: &org, Status: "active", StartDate: ptr(at(2, 1)), Value: "99999"})
	f.change("partnership", 1, at(2, 1), calore.Partnership{Meta: calore.Meta{ID: 1, Version: 1}, OrganisationID: 1, Product: "x", Stage: "active"})
	f.load()

	env := &Env{Warehouse: conn}
	events, err := TurnoutEvents(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].ID != 1 || events[0].Registered != 3 || events[0].Attended != 1 || events[1].Registered != 1 || events[1].Attended != 1 {
		t.Errorf("turnout events %+v", events)
	}

	cs, err := CompanyFeatures(ctx, env, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("companies %+v", cs)
	}
	// size, log10(1+revenue), interactions, placements, log10(1+contract value), partnership level
	want := [][]float64{{3, 6, 1, 2, 5, 3}, {1, 0, 0, 0, 0, 0}}
	for i, w := range want {
		for j := range w {
			if math.Abs(cs[i].X[j]-w[j]) > 1e-9 {
				t.Errorf("organisation %d %s = %v, want %v", cs[i].ID, CompanyFeatureNames[j], cs[i].X[j], w[j])
			}
		}
	}
	if cs[0].Sector != "machinery" {
		t.Errorf("sector %q", cs[0].Sector)
	}
}

// TestNaiveTurnoutBaseline: last edition's rate, per kind, against the
// forecast, worked out by hand.
func TestNaiveTurnoutBaseline(t *testing.T) {
	d := func(m int) time.Time { return time.Date(2025, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }
	events := []EventTurnout{
		{ID: 1, Kind: "talk", StartsAt: d(1), Registered: 100, Attended: 50},
		{ID: 2, Kind: "talk", StartsAt: d(2), Registered: 100, Attended: 80},
		{ID: 3, Kind: "fair", StartsAt: d(3), Registered: 10, Attended: 10},
		{ID: 4, Kind: "talk", StartsAt: d(4), Registered: 200, Attended: 120},
	}
	bt := []Forecast{
		{Event: events[3], Rate: 0.65, Expected: 130, Actual: 120}, // the forecast: off by 10
	}
	naive := NaiveBacktest(events, bt)
	if naive[0].Rate != 0.8 || naive[0].Expected != 160 { // event 2's rate × 200
		t.Fatalf("naive forecast %+v, want rate 0.8, 160 expected", naive[0])
	}
	errs := TurnoutErrors(bt, naive)
	want := []TurnoutKindError{{Kind: "talk", Events: 1, MAE: 10, NaiveMAE: 40, Bias: 10}, {Kind: "all", Events: 1, MAE: 10, NaiveMAE: 40, Bias: 10}}
	if len(errs) != 2 || errs[0] != want[0] || errs[1] != want[1] {
		t.Errorf("errors %+v, want %+v", errs, want)
	}
}
