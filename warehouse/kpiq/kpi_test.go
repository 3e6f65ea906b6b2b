package kpiq

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// fixture writes hand-made records into a test warehouse as the sink would
// (warehouse.Rows of change events and tracking hits), and score rows as the
// scoring jobs would, so that the KPI queries run on real tables.
type fixture struct {
	t    *testing.T
	conn driver.Conn
	rows []warehouse.Row
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{t: t, conn: warehousetest.New(t)}
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// change records one change of a record (verb created, updated or deleted);
// the version is the time, so a later change wins.
func (f *fixture) change(aggregate, verb string, id int64, when time.Time, rec map[string]any) {
	f.t.Helper()
	rec["id"] = id
	payload, err := json.Marshal(rec)
	if err != nil {
		f.t.Fatal(err)
	}
	rows, err := warehouse.Rows(calore.Event{ID: uuid.NewString(), Type: aggregate + "." + verb, SchemaVersion: 1, Time: when,
		Aggregate: aggregate, AggregateID: strconv.FormatInt(id, 10), Payload: payload})
	if err != nil {
		f.t.Fatalf("rows of %s %d: %v", aggregate, id, err)
	}
	f.rows = append(f.rows, rows...)
}

// hit records a tracking hit; the same event id twice is one hit delivered twice.
func (f *fixture) hit(eventID, kind string, when time.Time, h calore.TrackingHit) {
	f.t.Helper()
	payload, _ := json.Marshal(h)
	rows, err := warehouse.Rows(calore.Event{ID: eventID, Type: kind, SchemaVersion: 1, Time: when,
		Aggregate: "tracking", AggregateID: fmt.Sprint("contact:", h.ContactID), Payload: payload})
	if err != nil {
		f.t.Fatalf("rows of hit: %v", err)
	}
	f.rows = append(f.rows, rows...)
}

// load writes the records and refreshes the rollups, as the sink would.
func (f *fixture) load() {
	f.t.Helper()
	f.insert()
	f.refresh()
}

// insert writes the records without refreshing the rollups.
func (f *fixture) insert() {
	f.t.Helper()
	if err := warehouse.Insert(context.Background(), f.conn, f.rows); err != nil {
		f.t.Fatal(err)
	}
	f.rows = nil
}

func (f *fixture) refresh() {
	f.t.Helper()
	if _, err := Refresh(context.Background(), f.conn, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		f.t.Fatal(err)
	}
}

// score writes person_scores rows of one run (computed at computed).
func (f *fixture) score(model, version, asOf string, computed time.Time, rows ...scoreFix) {
	f.t.Helper()
	ctx := context.Background()
	b, err := f.conn.PrepareBatch(ctx, `INSERT INTO person_scores (model, model_version, as_of, person_id, score, level, label, expected_amount, suggested_ask, reasons, computed_at)`)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range rows {
		if err := b.Append(model, version, at(asOf), r.person, r.score, r.level, r.label, r.expected, r.ask, r.reasons, computed); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		f.t.Fatal(err)
	}
	f.refresh()
}

type scoreFix struct {
	person   int64
	score    float64
	level    int32
	label    string
	expected float64
	ask      float64
	reasons  string
}

func person(kind, country, region string, grad int) map[string]any {
	p := map[string]any{"kind": kind, "first_name": "P", "last_name": "Q", "country": country, "region": region, "status": "active"}
	if grad > 0 {
		p["graduation_year"] = grad
		p["degree_course"] = "Ingegneria Civile"
	}
	return p
}

var year2025 = Filter{From: at("2025-01-01"), To: at("2026-01-01")}

func TestCampaigns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c0 := at("2024-12-01")
	f.change("campaign", "created", 1, c0, map[string]any{"name": "news", "channel": "email", "office": "engagement", "status": "sent"})
	f.change("campaign", "created", 2, c0, map[string]any{"name": "appeal", "channel": "email", "office": "fundraising", "status": "sent"})
	send := func(id, campaign int64, sent string) {
		f.change("campaign_send", "created", id, at(sent), map[string]any{"campaign_id": campaign, "person_id": id, "status": "delivered", "sent_at": at(sent)})
	}
	send(1, 1, "2025-03-05 10:00") // human open + human click
	send(2, 1, "2025-03-05 10:00") // machine open only (privacy proxy)
	send(3, 1, "2025-03-05 10:00") // machine open and human open, delivered twice
	send(4, 1, "2025-03-05 10:00") // nothing
	send(5, 2, "2025-04-10 09:00") // fundraising: human open
	send(6, 1, "2024-12-20 09:00") // before the period
	send(7, 1, "2025-05-01 09:00") // deleted later
	f.change("campaign_send", "deleted", 7, at("2025-05-02"), map[string]any{"campaign_id": 1, "person_id": 7, "status": "delivered", "sent_at": at("2025-05-01 09:00")})
	send(1, 1, "2025-03-05 10:00") // the same send delivered twice
	open := func(ev string, sendID, campaign int64, when string, machine bool, kind string) {
		f.hit(ev, kind, at(when), calore.TrackingHit{ContactID: sendID, CampaignID: campaign, SendID: sendID, IsMachine: machine})
	}
	open("00000000-0000-0000-0000-000000000001", 1, 1, "2025-03-05 11:00", false, "email.open")
	open("00000000-0000-0000-0000-000000000002", 1, 1, "2025-03-05 11:01", false, "email.click")
	open("00000000-0000-0000-0000-000000000003", 2, 1, "2025-03-05 10:01", true, "email.open")
	open("00000000-0000-0000-0000-000000000004", 3, 1, "2025-03-05 10:01", true, "email.open")
	open("00000000-0000-0000-0000-000000000005", 3, 1, "2025-03-06 08:00", false, "email.open")
	open("00000000-0000-0000-0000-000000000005", 3, 1, "2025-03-06 08:00", false, "email.open")
	open("00000000-0000-0000-0000-000000000006", 5, 2, "2025-04-11 08:00", false, "email.open")
	open("00000000-0000-0000-0000-000000000007", 6, 1, "2025-01-02 08:00", false, "email.open")
	f.load()

	tests := []struct {
		name   string
		office string
		want   []CampaignMonth
	}{
		{"all offices", "", []CampaignMonth{{Month: "2025-03", Sends: 4, HumanOpens: 2, RawOpens: 3, HumanClicks: 1}, {Month: "2025-04", Sends: 1, HumanOpens: 1, RawOpens: 1}}},
		{"fundraising", "fundraising", []CampaignMonth{{Month: "2025-04", Sends: 1, HumanOpens: 1, RawOpens: 1}}},
		{"an office without campaigns", "press", []CampaignMonth{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flt := year2025
			flt.Office = tt.office
			got, err := Campaigns(context.Background(), f.conn, flt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change("person", "created", 1, at("2020-01-01"), person("alumnus", "IT", "Lombardia", 2000))
	f.change("person", "created", 2, at("2020-01-01"), person("student", "IT", "Lazio", 0))
	f.change("event", "created", 10, at("2025-01-01"), map[string]any{"name": "gala", "kind": "gala", "office": "alumni", "starts_at": at("2025-06-10 18:00")})
	f.change("event", "created", 11, at("2025-01-01"), map[string]any{"name": "open day", "kind": "open_day", "office": "orientation", "starts_at": at("2025-06-20 09:00")})
	f.change("event", "created", 12, at("2024-01-01"), map[string]any{"name": "old", "kind": "gala", "office": "alumni", "starts_at": at("2024-06-20 09:00")})
	reg := func(id, event, personID int64, status string, attended bool) {
		r := map[string]any{"event_id": event, "person_id": personID, "status": status, "registered_at": at("2025-05-01")}
		if attended {
			r["attended_at"] = at("2025-06-10 18:30")
		}
		f.change("registration", "created", id, at("2025-05-01"), r)
	}
	reg(1, 10, 1, "attended", true)
	reg(2, 10, 2, "no_show", false)
	reg(3, 10, 3, "invited", false)
	reg(4, 11, 2, "registered", false)
	reg(5, 11, 1, "cancelled", false)
	reg(6, 12, 1, "attended", true)
	reg(4, 11, 2, "registered", false) // delivered twice
	// registration 2 later corrected to attended
	f.change("registration", "updated", 2, at("2025-06-11"), map[string]any{"event_id": 10, "person_id": 2, "status": "attended", "registered_at": at("2025-05-01"), "attended_at": at("2025-06-10 18:40")})
	f.load()
	tests := []struct {
		name            string
		office, segment string
		want            []EventMonth
	}{
		{"all", "", "", []EventMonth{{Month: "2025-06", Events: 2, Registered: 3, Attended: 2}}},
		{"alumni office", "alumni", "", []EventMonth{{Month: "2025-06", Events: 1, Registered: 2, Attended: 2}}},
		{"students", "", "student", []EventMonth{{Month: "2025-06", Events: 2, Registered: 2, Attended: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flt := year2025
			flt.Office, flt.Segment = tt.office, tt.segment
			got, err := Events(context.Background(), f.conn, flt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHeatAndCohorts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change("person", "created", 1, at("2020-01-01"), person("alumnus", "IT", "", 1995))
	f.change("person", "created", 2, at("2020-01-01"), person("alumnus", "IT", "", 1999))
	f.change("person", "created", 3, at("2020-01-01"), person("alumnus", "IT", "", 2012))
	f.change("person", "created", 4, at("2020-01-01"), person("prospect", "IT", "", 0))
	f.load()
	old := at("2025-07-01 03:00")
	f.score("heat", "heat-a", "2025-07-01", old, scoreFix{person: 1, level: 1}, scoreFix{person: 2, level: 1}, scoreFix{person: 3, level: 2}, scoreFix{person: 4, level: 1})
	// 2026-01-01 run twice: the second (later computed_at) wins.
	f.score("heat", "heat-a", "2026-01-01", at("2026-01-01 03:00"), scoreFix{person: 1, level: 1}, scoreFix{person: 2, level: 1}, scoreFix{person: 3, level: 1}, scoreFix{person: 4, level: 1})
	f.score("heat", "heat-b", "2026-01-01", at("2026-01-01 04:00"), scoreFix{person: 1, level: 4}, scoreFix{person: 2, level: 2}, scoreFix{person: 3, level: 3}, scoreFix{person: 4, level: 1})
	f.score("heat", "heat-b", "2026-02-01", at("2026-02-01 04:00"), scoreFix{person: 1, level: 1}) // after the period

	ctx := context.Background()
	h, err := Heat(ctx, f.conn, year2025)
	if err != nil {
		t.Fatal(err)
	}
	want := HeatResult{Scores: ScoreInfo{Model: "heat", Version: "heat-b", AsOf: "2026-01-01"},
		Latest: &HeatSnapshot{AsOf: "2026-01-01", Levels: [5]int64{0, 1, 1, 1, 1}},
		Trend:  []HeatSnapshot{{AsOf: "2025-07-01", Levels: [5]int64{0, 3, 1, 0, 0}}, {AsOf: "2026-01-01", Levels: [5]int64{0, 1, 1, 1, 1}}}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("heat %+v\nwant %+v", h, want)
	}
	seg := year2025
	seg.Segment = "prospect"
	h, err = Heat(ctx, f.conn, seg)
	if err != nil || h.Latest == nil || h.Latest.Levels != [5]int64{0, 1, 0, 0, 0} {
		t.Errorf("prospects' heat %+v %v", h.Latest, err)
	}
	c, err := HeatByCohort(ctx, f.conn, year2025)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []CohortHeat{
		{AsOf: "2025-07-01", Decade: 1990, People: 2, MeanLevel: 1, Warm: 0},
		{AsOf: "2025-07-01", Decade: 2010, People: 1, MeanLevel: 2, Warm: 0},
		{AsOf: "2026-01-01", Decade: 1990, People: 2, MeanLevel: 3, Warm: 1},
		{AsOf: "2026-01-01", Decade: 2010, People: 1, MeanLevel: 3, Warm: 1},
	}
	if !reflect.DeepEqual(c.Rows, wantRows) || c.Scores.Version != "heat-b" {
		t.Errorf("cohorts %+v\nwant %+v", c, wantRows)
	}
	none, err := Heat(ctx, f.conn, Filter{From: at("2020-01-01"), To: at("2021-01-01")})
	if err != nil || none.Latest != nil || none.Scores.AsOf != "" {
		t.Errorf("no scores: %+v %v", none, err)
	}
}

func TestFundraising(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gift := func(id int64, on, amount, currency string) {
		f.change("donation", "created", id, at(on), map[string]any{"person_id": 1, "amount": amount, "currency": currency, "donated_on": at(on)})
	}
	gift(1, "2025-01-15", "100.50", "")
	gift(2, "2025-01-20", "200.00", "EUR")
	gift(3, "2025-03-01", "1000.00", "")
	gift(3, "2025-03-01", "1000.00", "")  // delivered twice
	gift(4, "2025-03-02", "50.00", "USD") // not EUR: not counted
	gift(5, "2024-12-31", "999.00", "")   // last year
	gift(6, "2025-12-31", "10.00", "")    // the period's last day
	gift(7, "2026-01-01", "777.00", "")   // after the period
	gift(8, "2025-02-01", "300.00", "")
	f.change("donation", "deleted", 8, at("2025-02-02"), map[string]any{"person_id": 1, "amount": "300.00", "donated_on": at("2025-02-01")})
	f.load()
	tg := Targets{Threshold: 1000, Target: 1300, Excellence: 2000}
	got, err := Fundraising(context.Background(), f.conn, year2025, tg)
	if err != nil {
		t.Fatal(err)
	}
	want := FundraisingResult{Year: 2025, Through: "2025-12-31", Total: 1310.5, Gifts: 4, Level: "target", Targets: tg, Months: []MonthAmount{
		{Month: "2025-01", Amount: 300.5, Gifts: 2, Cumulative: 300.5},
		{Month: "2025-03", Amount: 1000, Gifts: 1, Cumulative: 1300.5},
		{Month: "2025-12", Amount: 10, Gifts: 1, Cumulative: 1310.5}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// Donations is the same figure, through the period's last day; one donor.
	d, err := Donations(context.Background(), f.conn, at("2025-12-31"))
	if err != nil || d.Total != want.Total || d.Gifts != want.Gifts || d.Donors != 1 || d.Through != "2025-12-31" || !reflect.DeepEqual(d.Months, want.Months) {
		t.Errorf("donations through 2025-12-31: %+v %v", d, err)
	}
	if d, err := Donations(context.Background(), f.conn, at("2023-06-30")); err != nil || d.Total != 0 || d.Gifts != 0 || d.Donors != 0 || len(d.Months) != 0 {
		t.Errorf("donations of a year without gifts: %+v %v", d, err)
	}
	// Year to date as of 2025-03-02: January and 1 March only.
	got, err = Fundraising(context.Background(), f.conn, Filter{From: at("2024-03-02"), To: at("2025-03-02")}, tg)
	if err != nil || got.Total != 1300.5 || got.Level != "target" || got.Through != "2025-03-01" {
		t.Errorf("to 2025-03-02: %+v %v", got, err)
	}
}

func TestCompaniesAndContracts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	org := func(id int64, kind string) {
		f.change("organisation", "created", id, at("2020-01-01"), map[string]any{"kind": kind, "legal_name": fmt.Sprint("Org ", id)})
	}
	org(1, "company")
	org(2, "company")
	org(3, "company")
	org(4, "public_body")
	org(5, "company")
	f.change("organisation", "deleted", 5, at("2021-01-01"), map[string]any{"kind": "company", "legal_name": "Org 5"})
	part := func(id, orgID int64, stage, when string) {
		f.change("partnership", "updated", id, at(when), map[string]any{"organisation_id": orgID, "product": "p", "stage": stage})
	}
	part(1, 1, "prospect", "2024-01-01")
	part(1, 1, "active", "2024-06-01")
	part(2, 2, "active", "2024-01-01")
	part(2, 2, "lapsed", "2025-06-01") // no longer active
	part(3, 3, "active", "2026-02-01") // after the day
	part(4, 4, "active", "2024-01-01") // not a company
	inter := func(id, orgID int64, office, when string) {
		f.change("interaction", "created", id, at(when), map[string]any{"organisation_id": orgID, "channel": "meeting", "office": office, "occurred_at": at(when)})
	}
	inter(1, 1, "career", "2025-02-01")
	inter(2, 1, "research", "2025-03-01")
	inter(3, 2, "career", "2024-02-01") // before the period
	inter(4, 3, "research", "2025-09-01")
	inter(5, 4, "career", "2025-09-01") // not a company
	contract := func(id int64, status, start, end string) {
		c := map[string]any{"contract_number": fmt.Sprint("RC-", id), "status": status, "organisation_id": 1}
		if start != "" {
			c["start_date"] = at(start)
		}
		if end != "" {
			c["end_date"] = at(end)
		}
		f.change("research_contract", "created", id, at("2020-01-01"), c)
	}
	contract(1, "active", "2024-01-01", "2027-01-01") // active
	contract(2, "active", "2022-01-01", "2025-06-30") // ended before the day: expired
	contract(3, "expired", "2021-01-01", "")          // expired, no end date
	contract(4, "active", "2026-03-01", "2028-01-01") // not started
	contract(5, "draft", "", "")                      // draft
	contract(6, "active", "2023-01-01", "")           // open-ended: active
	f.load()
	got, err := Companies(context.Background(), f.conn, year2025)
	if err != nil {
		t.Fatal(err)
	}
	want := CompaniesResult{AsOf: "2026-01-01", Companies: 3, ActivePartners: 1, Contacted: 2,
		Contracts: map[string]int64{"active": 2, "expired": 2, "not started": 1, "draft": 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	flt := year2025
	flt.Office = "career"
	got, err = Companies(context.Background(), f.conn, flt)
	if err != nil || got.Contacted != 1 {
		t.Errorf("career office: %+v %v", got, err)
	}
}

func TestGeography(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change("person", "created", 1, at("2020-01-01"), person("alumnus", "IT", "Lombardia", 2000))
	f.change("person", "created", 2, at("2020-01-01"), person("alumnus", "IT", "Lombardia", 2001))
	f.change("person", "created", 3, at("2020-01-01"), person("student", "IT", "Lazio", 0))
	f.change("person", "created", 4, at("2020-01-01"), person("alumnus", "FR", "", 1990))
	f.change("person", "created", 5, at("2020-01-01"), person("alumnus", "", "", 1990))
	f.change("person", "created", 6, at("2020-01-01"), person("alumnus", "DE", "", 1990))
	f.change("person", "deleted", 6, at("2021-01-01"), person("alumnus", "DE", "", 1990))
	f.change("person", "updated", 3, at("2021-01-01"), person("student", "IT", "Piemonte", 0)) // moved
	f.load()
	tests := []struct {
		segment string
		want    GeographyResult
	}{
		{"", GeographyResult{Countries: []Count{{"IT", 3}, {"", 1}, {"FR", 1}}, Regions: []Count{{"Lombardia", 2}, {"Piemonte", 1}}}},
		{"student", GeographyResult{Countries: []Count{{"IT", 1}}, Regions: []Count{{"Piemonte", 1}}}},
	}
	for _, tt := range tests {
		t.Run("segment="+tt.segment, func(t *testing.T) {
			flt := year2025
			flt.Segment = tt.segment
			got, err := Geography(context.Background(), f.conn, flt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestProspects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change("person", "created", 1, at("2020-01-01"), person("alumnus", "IT", "", 1995))
	f.change("person", "created", 2, at("2020-01-01"), person("alumnus", "FR", "", 2005))
	f.change("person", "created", 3, at("2020-01-01"), person("alumnus", "IT", "", 1998))
	f.change("donation", "created", 1, at("2024-05-01"), map[string]any{"person_id": 1, "amount": "100.00", "donated_on": at("2024-05-01")})
	f.change("donation", "created", 2, at("2025-05-01"), map[string]any{"person_id": 1, "amount": "250.00", "donated_on": at("2025-05-01")})
	f.change("donation", "created", 3, at("2026-01-05"), map[string]any{"person_id": 3, "amount": "80.00", "donated_on": at("2026-01-05")}) // after the scores' day
	f.load()
	reasons := `[{"text":"gave in the last 12 months","feature":"gave_last_year","log_odds":3.7}]`
	f.score("donation", "don-1", "2026-01-01", at("2026-01-01 05:00"),
		scoreFix{person: 1, score: 0.8, level: 1, label: "A", expected: 200, ask: 500, reasons: reasons},
		scoreFix{person: 2, score: 0.05, level: 3, label: "C", expected: 7.5, ask: 200, reasons: "[]"},
		scoreFix{person: 3, score: 0.2, level: 2, label: "B", expected: 30, ask: 200, reasons: "[]"})
	f.score("heat", "heat-1", "2026-01-01", at("2026-01-01 04:00"), scoreFix{person: 1, level: 4}, scoreFix{person: 3, level: 2})
	ctx := context.Background()
	got, err := Prospects(ctx, f.conn, year2025, ProspectFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Scores != (ScoreInfo{Model: "donation", Version: "don-1", AsOf: "2026-01-01"}) || got.Heat.Version != "heat-1" {
		t.Errorf("scores %+v %+v", got.Scores, got.Heat)
	}
	want0 := Prospect{PersonID: 1, Name: "P Q", GraduationYear: 1995, Course: "Ingegneria Civile", Country: "IT", Probability: 0.8, Tier: "A",
		ExpectedAmount: 200, SuggestedAsk: 500, Heat: 4, Reasons: []Reason{{Text: "gave in the last 12 months", Feature: "gave_last_year", LogOdds: 3.7}},
		LastGiftAt: "2025-05-01", LastGiftAmount: 250}
	if len(got.Prospects) != 3 || !reflect.DeepEqual(got.Prospects[0], want0) {
		t.Fatalf("prospects %+v", got.Prospects)
	}
	if p := got.Prospects[1]; p.PersonID != 3 || p.LastGiftAt != "" || p.Heat != 2 {
		t.Errorf("second %+v", p)
	}
	if p := got.Prospects[2]; p.PersonID != 2 || p.Heat != 0 {
		t.Errorf("third %+v", p)
	}
	tests := []struct {
		name string
		pf   ProspectFilter
		want []int64
	}{
		{"tier", ProspectFilter{Tier: "B"}, []int64{3}},
		{"heat", ProspectFilter{Heat: 4}, []int64{1}},
		{"cohort", ProspectFilter{Cohort: 1990}, []int64{1, 3}},
		{"country", ProspectFilter{Country: "FR"}, []int64{2}},
		{"course and cohort", ProspectFilter{Course: "Ingegneria Civile", Cohort: 2000}, []int64{2}},
		{"limit", ProspectFilter{Limit: 2}, []int64{1, 3}},
		{"nobody", ProspectFilter{Tier: "D"}, nil},
		{"quotes are data", ProspectFilter{Course: "x' OR 1 = 1 --"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prospects(ctx, f.conn, year2025, tt.pf)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, p := range got.Prospects {
				ids = append(ids, p.PersonID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestClusters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.change("organisation", "created", 1, at("2020-01-01"), map[string]any{"kind": "company", "legal_name": "Alpha"})
	f.change("organisation", "created", 2, at("2020-01-01"), map[string]any{"kind": "company", "legal_name": "Beta"})
	f.load()
	ctx := context.Background()
	b, err := f.conn.PrepareBatch(ctx, `INSERT INTO company_clusters (model_version, as_of, organisation_id, cluster, label, x, y, features, computed_at)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		v        string
		asOf     string
		org      int64
		cluster  int32
		label    string
		x, y     float64
		features string
		computed string
	}{
		{"k2", "2026-01-01", 1, 0, "low", 1, 2, `{"size":1,"log_revenue":6,"interactions":2,"placements":0,"log_contract_value":0,"partnership_level":1}`, "2026-01-01 01:00"},
		{"k2", "2026-01-01", 2, 0, "low", 3, 4, `{"size":3,"log_revenue":8,"interactions":4,"placements":2,"log_contract_value":5,"partnership_level":3}`, "2026-01-01 01:00"},
		{"k3", "2026-01-01", 2, 1, "high", 5, 6, `{"size":3,"log_revenue":8,"interactions":4,"placements":2,"log_contract_value":5,"partnership_level":3}`, "2026-01-01 02:00"},
		{"k3", "2026-01-01", 1, 0, "low", 1.5, 2.5, `{"size":1,"log_revenue":6,"interactions":2,"placements":0,"log_contract_value":0,"partnership_level":1}`, "2026-01-01 02:00"},
		{"k9", "2026-03-01", 1, 5, "later", 0, 0, `{}`, "2026-03-01 02:00"},
	} {
		if err := b.Append(r.v, at(r.asOf), r.org, r.cluster, r.label, r.x, r.y, r.features, at(r.computed)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	got, err := Clusters(ctx, f.conn, year2025)
	if err != nil {
		t.Fatal(err)
	}
	want := ClustersResult{Scores: ScoreInfo{Model: "clusters", Version: "k3", AsOf: "2026-01-01"},
		Points: []ClusterPoint{{OrganisationID: 1, Name: "Alpha", Cluster: 0, X: 1.5, Y: 2.5}, {OrganisationID: 2, Name: "Beta", Cluster: 1, X: 5, Y: 6}},
		Profiles: []ClusterProfile{{Cluster: 0, Label: "low", Organisations: 1, Size: 1, LogRevenue: 6, Interactions: 2, PartnershipLevel: 1},
			{Cluster: 1, Label: "high", Organisations: 1, Size: 3, LogRevenue: 8, Interactions: 4, Placements: 2, LogContractValue: 5, PartnershipLevel: 3}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	// ClusterMembers (the API's /api/clusters): the newest day by default,
	// the newest computation of the day asked for.
	low := map[string]float64{"size": 1, "log_revenue": 6, "interactions": 2, "placements": 0, "log_contract_value": 0, "partnership_level": 1}
	high := map[string]float64{"size": 3, "log_revenue": 8, "interactions": 4, "placements": 2, "log_contract_value": 5, "partnership_level": 3}
	for _, c := range []struct {
		asOf, wantDay, wantVersion string
		want                       []ClusterMember
	}{
		{"", "2026-03-01", "k9", []ClusterMember{{OrganisationID: 1, Cluster: 5, Label: "later", Features: map[string]float64{}}}},
		{"2026-01-01", "2026-01-01", "k3", []ClusterMember{{OrganisationID: 1, Cluster: 0, Label: "low", X: 1.5, Y: 2.5, Features: low},
			{OrganisationID: 2, Cluster: 1, Label: "high", X: 5, Y: 6, Features: high}}},
		{"2025-06-01", "", "", []ClusterMember{}},
	} {
		var asOf time.Time
		if c.asOf != "" {
			asOf = at(c.asOf)
		}
		d, v, ms, err := ClusterMembers(ctx, f.conn, asOf)
		if err != nil || d != c.wantDay || v != c.wantVersion || !reflect.DeepEqual(ms, c.want) {
			t.Errorf("members as of %q: %s %s %+v %v, want %s %s %+v", c.asOf, d, v, ms, err, c.wantDay, c.wantVersion, c.want)
		}
	}
}

func TestFunnel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stage := func(id, personID int64, st, when string) {
		f.change("journey_stage", "created", id, at(when), map[string]any{"person_id": personID, "programme": "MSc", "stage": st, "source": "portal", "reached_at": at(when)})
	}
	stage(1, 1, "first_contact", "2025-02-01")
	stage(2, 1, "application", "2025-03-01")
	stage(3, 2, "first_contact", "2025-02-10")
	stage(4, 3, "first_contact", "2024-02-10") // before the period
	stage(5, 2, "application", "2026-02-01")   // after the period: not counted in it
	f.change("partnership", "created", 1, at("2025-03-01"), map[string]any{"organisation_id": 7, "stage": "prospect"})
	f.change("partnership", "updated", 1, at("2025-06-01"), map[string]any{"organisation_id": 7, "stage": "negotiation"})
	f.change("partnership", "updated", 1, at("2026-03-01"), map[string]any{"organisation_id": 7, "stage": "active"})
	f.change("interaction", "created", 1, at("2025-04-01"), map[string]any{"organisation_id": 7, "channel": "meeting", "occurred_at": at("2025-04-01")})
	f.load()

	// The rollup's funnels equal the live queries' (scoring.RunFunnel) for
	// periods that end before, between and after the steps.
	periods := []Filter{year2025, {From: at("2025-01-01"), To: at("2025-02-15")}, {From: at("2025-01-01"), To: at("2027-01-01")}, {From: at("2024-01-01"), To: at("2025-05-01")}}
	for _, name := range []string{"student_journey", "company_lifecycle"} {
		def, err := scoring.FunnelByName(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range periods {
			got, err := Funnel(context.Background(), f.conn, name, p, def.Segments[0])
			if err != nil {
				t.Fatal(err)
			}
			live, err := scoring.RunFunnel(context.Background(), &scoring.Env{Warehouse: f.conn}, def, []string{"all", def.Segments[0]}, p.From, p.To)
			if err != nil {
				t.Fatal(err)
			}
			var liveAll []scoring.FunnelStep
			var liveBy []scoring.FunnelSegment
			for _, s := range live {
				if s.Kind == "all" {
					liveAll = s.Steps
				} else {
					liveBy = append(liveBy, s)
				}
			}
			if liveAll != nil && (!reflect.DeepEqual(got.Steps, liveAll) || !reflect.DeepEqual(got.By, liveBy)) {
				t.Errorf("%s %s–%s: rollup %+v %+v\nlive %+v %+v", name, day(p.From), day(p.To), got.Steps, got.By, liveAll, liveBy)
			}
		}
	}
	if got, _ := Funnel(context.Background(), f.conn, "company_lifecycle", year2025, ""); got.Steps[0].Entered != 1 || got.Steps[1].Entered != 1 || got.Steps[2].Entered != 1 || got.Steps[3].Entered != 0 {
		t.Errorf("company lifecycle in 2025: %+v", got.Steps)
	}

	got, err := Funnel(context.Background(), f.conn, "student_journey", year2025, "source")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Steps) != 4 || got.Steps[0].Entered != 2 || got.Steps[1].Entered != 1 || got.Steps[1].Conversion != 0.5 || got.Steps[2].Entered != 0 {
		t.Errorf("steps %+v", got.Steps)
	}
	if len(got.By) != 1 || got.By[0].Segment != "portal" {
		t.Errorf("by source %+v", got.By)
	}
	if _, err := Funnel(context.Background(), f.conn, "nope", year2025, ""); err == nil {
		t.Error("unknown funnel accepted")
	}
}

func TestProspectQuerySQL(t *testing.T) {
	run := time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)
	don := prospectQuery{donationAsOf: "2026-01-01", donationRun: run}
	heat := prospectQuery{donationAsOf: "2026-01-01", donationRun: run, heatAsOf: "2025-12-01", heatRun: run.Add(-time.Hour)}
	runSecs, heatSecs := uint32(run.Unix()), uint32(run.Add(-time.Hour).Unix())
	tests := []struct {
		name     string
		q        prospectQuery
		want     []string // conditions the SQL must hold
		wantArgs []any
	}{
		{"no filters", heat, nil,
			[]any{"2026-01-01", runSecs, DefaultProspectLimit}},
		{"every filter", withFilter(heat, ProspectFilter{Tier: "A", Heat: 3, Cohort: 1990, Course: "Design", Country: "IT", Limit: 7}),
			[]string{"AND label = ?", "AND level = ?", "WHERE intDiv(graduation_year, 10) * 10 = ? AND degree_course = ? AND country = ?"},
			[]any{"2026-01-01", runSecs, "A", "2025-12-01", heatSecs, int32(3), "2026-01-01", int64(1990), "Design", "IT", 7}},
		{"heat filter without heat scores", withFilter(don, ProspectFilter{Heat: 2}),
			[]string{"AND level = ?"}, []any{"2026-01-01", runSecs, "1970-01-01", uint32(0), int32(2), DefaultProspectLimit}},
		{"user text stays a parameter", withFilter(don, ProspectFilter{Course: "x' OR '1'='1"}),
			[]string{"WHERE degree_course = ?"}, []any{"2026-01-01", runSecs, "2026-01-01", "x' OR '1'='1", DefaultProspectLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args := tt.q.toSQL()
			for _, w := range tt.want {
				if !containsLine(sql, w) {
					t.Errorf("sql lacks %q:\n%s", w, sql)
				}
			}
			if tt.want == nil && containsLine(sql, "AND label") {
				t.Error("unexpected filter")
			}
			if containsLine(sql, "/*where*/") {
				t.Error("marker left in the SQL")
			}
			if !reflect.DeepEqual(args, tt.wantArgs) {
				t.Errorf("args %#v\nwant %#v", args, tt.wantArgs)
			}
			if n := countPlaceholders(sql); n != len(args) {
				t.Errorf("%d placeholders, %d args", n, len(args))
			}
		})
	}
}

func withFilter(q prospectQuery, f ProspectFilter) prospectQuery {
	q.filter = f
	return q
}

func containsLine(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func countPlaceholders(s string) int {
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
		}
	}
	return n
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"empty period", Filter{}.Validate()},
		{"reversed period", Filter{From: at("2025-02-01"), To: at("2025-01-01")}.Validate()},
		{"bad tier", ProspectFilter{Tier: "E"}.Validate()},
		{"bad heat", ProspectFilter{Heat: 5}.Validate()},
		{"bad cohort", ProspectFilter{Cohort: 1995}.Validate()},
		{"bad limit", ProspectFilter{Limit: MaxProspectLimit + 1}.Validate()},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if err := year2025.Validate(); err != nil {
		t.Error(err)
	}
	for in, want := range map[string]Targets{"": DefaultFundraisingTargets, "1,2,3": {1, 2, 3}, " 2700000 , 2800000,3100000": DefaultFundraisingTargets} {
		got, err := ParseTargets(in)
		if err != nil || got != want {
			t.Errorf("ParseTargets(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"1,2", "3,2,1", "a,b,c", "-1,2,3"} {
		if _, err := ParseTargets(bad); err == nil {
			t.Errorf("ParseTargets(%q) accepted", bad)
		}
	}
	if l := (Targets{1, 2, 3}).Level(2.5); l != "target" {
		t.Errorf("level %s", l)
	}
}
