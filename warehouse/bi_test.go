package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// biFixture writes hand-made changes, hits and scores into a warehouse the
// way the sink and the scoring jobs do.
type biFixture struct {
	t    *testing.T
	conn driver.Conn
	rows []warehouse.Row
}

func at(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// change records one change event of a record (typ: created, updated, deleted).
func (f *biFixture) change(aggregate, typ string, id int64, when time.Time, rec map[string]any) {
	f.t.Helper()
	rec["id"] = id
	payload, err := json.Marshal(rec)
	if err != nil {
		f.t.Fatal(err)
	}
	rows, err := warehouse.Rows(calore.Event{ID: uuid.NewString(), Type: aggregate + "." + typ, SchemaVersion: 1, Time: when,
		Aggregate: aggregate, AggregateID: strconv.FormatInt(id, 10), Payload: payload})
	if err != nil {
		f.t.Fatalf("rows of %s %d: %v", aggregate, id, err)
	}
	f.rows = append(f.rows, rows...)
}

// hit records one tracking hit; eventID lets a test deliver a hit twice.
func (f *biFixture) hit(eventID, typ string, when time.Time, h calore.TrackingHit) {
	f.t.Helper()
	payload, _ := json.Marshal(h)
	rows, err := warehouse.Rows(calore.Event{ID: eventID, Type: typ, SchemaVersion: 1, Time: when,
		Aggregate: "tracking", AggregateID: fmt.Sprint("contact:", h.ContactID), Payload: payload})
	if err != nil {
		f.t.Fatalf("rows of hit: %v", err)
	}
	f.rows = append(f.rows, rows...)
}

func (f *biFixture) load() {
	f.t.Helper()
	if err := warehouse.Insert(context.Background(), f.conn, f.rows); err != nil {
		f.t.Fatal(err)
	}
	f.rows = nil
}

// insert writes rows into a scoring table through a native batch.
func (f *biFixture) insert(table, columns string, rows ...[]any) {
	f.t.Helper()
	b, err := f.conn.PrepareBatch(context.Background(), "INSERT INTO "+table+" ("+columns+")")
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			f.t.Fatalf("%s: %v", table, err)
		}
	}
	if err := b.Send(); err != nil {
		f.t.Fatalf("%s: %v", table, err)
	}
}

// records writes the operational part of the fixture: people,
// organisations, events, registrations, campaigns, sends, hits, donations.
func (f *biFixture) records() {
	t0 := at("2020-01-01")
	f.change("person", "created", 1, t0, map[string]any{"kind": "alumnus", "status": "active", "first_name": "Anna", "last_name": "Rossi",
		"country": "IT", "region": "Lombardia", "city": "Milano", "graduation_year": 2000, "degree_course": "Ingegneria Civile", "macro_category": "engineering"})
	f.change("person", "updated", 1, t0.Add(time.Hour), map[string]any{"kind": "alumnus", "status": "active", "first_name": "Anna", "last_name": "Rossi",
		"country": "IT", "region": "Piemonte", "city": "Torino", "graduation_year": 2000, "degree_course": "Ingegneria Civile", "macro_category": "engineering", "organisation_id": 10})
	f.change("person", "created", 2, t0, map[string]any{"kind": "alumnus", "status": "active", "first_name": "Bruno", "last_name": "Bianchi", "country": "FR"})
	f.change("person", "created", 3, t0, map[string]any{"kind": "other", "status": "active", "first_name": "Carla", "last_name": "Verdi"})
	f.change("person", "deleted", 3, t0.Add(time.Hour), map[string]any{"kind": "other"})

	f.change("organisation", "created", 10, t0, map[string]any{"legal_name": "Acme S.p.A.", "kind": "company", "status": "active", "sector": "energy", "size_class": "large", "country": "IT", "city": "Milano"})
	f.change("organisation", "created", 11, t0, map[string]any{"legal_name": "Acme Lab", "kind": "company", "status": "active", "sector": "energy", "parent_id": 10})
	f.change("organisation", "created", 12, t0, map[string]any{"legal_name": "Gone Srl"})
	f.change("organisation", "deleted", 12, t0.Add(time.Hour), map[string]any{"legal_name": "Gone Srl"})

	f.change("event", "created", 100, t0, map[string]any{"name": "Gala 2025", "kind": "gala", "office": "alumni", "location": "Milano", "capacity": 200, "starts_at": "2025-05-10T19:00:00Z"})
	f.change("event", "created", 101, t0, map[string]any{"name": "Webinar", "kind": "webinar", "office": "engagement", "is_online": true, "series_id": 5, "starts_at": "2026-02-01T17:00:00Z"})
	f.change("registration", "created", 1000, at("2025-04-01"), map[string]any{"event_id": 100, "person_id": 1, "status": "attended", "source": "email", "is_vip": true, "registered_at": "2025-04-01T10:00:00Z", "attended_at": "2025-05-10T19:05:00Z"})
	f.change("registration", "created", 1001, at("2025-04-02"), map[string]any{"event_id": 100, "person_id": 2, "status": "registered", "registered_at": "2025-04-02T10:00:00Z"})
	f.change("registration", "updated", 1001, at("2025-05-11"), map[string]any{"event_id": 100, "person_id": 2, "status": "no_show", "registered_at": "2025-04-02T10:00:00Z"})
	f.change("registration", "created", 1002, at("2025-03-01"), map[string]any{"event_id": 100, "person_id": 3, "status": "invited", "invited_at": "2025-03-01T10:00:00Z"})
	f.change("registration", "created", 1003, at("2025-04-03"), map[string]any{"event_id": 100, "person_id": 2, "status": "registered", "registered_at": "2025-04-03T10:00:00Z"})
	f.change("registration", "deleted", 1003, at("2025-04-04"), map[string]any{"event_id": 100, "person_id": 2, "status": "registered", "registered_at": "2025-04-03T10:00:00Z"})

	f.change("campaign", "created", 7, t0, map[string]any{"name": "Appello 1/2025", "channel": "email", "status": "sent", "office": "fundraising", "sent_at": "2025-03-01T09:00:00Z"})
	f.change("campaign", "created", 8, t0, map[string]any{"name": "Draft", "channel": "email", "status": "draft", "office": "fundraising", "newsletter": "Frontiere"})
	for i, p := range []int64{1, 2, 3} {
		f.change("campaign_send", "created", 70+int64(i), at("2025-03-01"), map[string]any{"campaign_id": 7, "person_id": p, "status": "delivered", "sent_at": "2025-03-01T09:00:00Z"})
	}
	open1 := uuid.NewString()
	f.hit(open1, "email.open", at("2025-03-02"), calore.TrackingHit{ContactID: 1, CampaignID: 7, SendID: 70})
	f.hit(open1, "email.open", at("2025-03-02"), calore.TrackingHit{ContactID: 1, CampaignID: 7, SendID: 70}) // redelivered
	f.hit(uuid.NewString(), "email.open", at("2025-03-03"), calore.TrackingHit{ContactID: 1, CampaignID: 7, SendID: 70})
	f.hit(uuid.NewString(), "email.click", at("2025-03-03"), calore.TrackingHit{ContactID: 1, CampaignID: 7, SendID: 70})
	f.hit(uuid.NewString(), "email.open", at("2025-03-01"), calore.TrackingHit{ContactID: 2, CampaignID: 7, SendID: 71, IsMachine: true, MachineReason: "apple-mpp"})
	f.hit(uuid.NewString(), "web.pageview", at("2025-03-01"), calore.TrackingHit{ContactID: 2, URL: "https://www.example.edu/"})

	f.change("donation", "created", 500, at("2024-03-01"), map[string]any{"person_id": 1, "amount": "100.50", "currency": "", "periodicity": "one_off", "donated_on": "2024-03-01"})
	f.change("donation", "created", 501, at("2025-02-01"), map[string]any{"person_id": 1, "campaign_id": 7, "amount": 50, "currency": "EUR", "donated_on": "2025-02-01"})
	f.change("donation", "updated", 501, at("2025-02-02"), map[string]any{"person_id": 1, "campaign_id": 7, "amount": 60, "currency": "EUR", "donated_on": "2025-02-01"})
	f.change("donation", "created", 502, at("2025-05-05"), map[string]any{"organisation_id": 10, "amount": 1000, "currency": "EUR", "purpose": "scholarships", "donated_on": "2025-05-05"})
	f.change("donation", "created", 503, at("2025-06-01"), map[string]any{"person_id": 2, "amount": 5, "donated_on": "2025-06-01"})
	f.change("donation", "deleted", 503, at("2025-06-02"), map[string]any{"person_id": 2, "amount": 5, "donated_on": "2025-06-01"})
}

// scores writes what the scoring jobs would: two heat runs (the later run of
// 2026-01-01 replaces the earlier), a donation score, clusters, an
// evaluation, a funnel and forecasts.
func (f *biFixture) scores() {
	c1, c2 := time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	jan, jun := at("2026-01-01"), at("2025-06-01")
	const scoreCols = "model, model_version, as_of, person_id, score, level, label, expected_amount, suggested_ask, reasons, computed_at"
	f.insert("person_scores", scoreCols,
		[]any{"heat", "h1", jun, int64(1), 2.0, int32(2), "cool", 0.0, 0.0, "{}", c1},
		[]any{"heat", "h1", jan, int64(1), 5.0, int32(3), "warm", 0.0, 0.0, "{}", c1},
		[]any{"heat", "h1", jan, int64(1), 12.0, int32(4), "hot", 0.0, 0.0, "{}", c2},
		[]any{"heat", "h1", jan, int64(2), 0.5, int32(1), "cold", 0.0, 0.0, "{}", c1},
		[]any{"donation", "d1", jan, int64(1), 0.4, int32(1), "A", 200.0, 500.0,
			`[{"text":"gave in the last 12 months","feature":"gave_last_year","log_odds":2.1},{"text":"mentor","feature":"mentor","log_odds":0.3}]`, c1})
	f.insert("company_clusters", "model_version, as_of, organisation_id, cluster, label, x, y, features, computed_at",
		[]any{"k2", jan, int64(10), int32(0), "old", 0.0, 0.0, "{}", c1},
		[]any{"k2", jan, int64(10), int32(1), "high research contracts", 1.5, -0.5,
			`{"interactions":12,"log_contract_value":5.25,"log_revenue":7.5,"partnership_level":3,"placements":4,"size":3}`, c2})
	f.insert("model_evaluations", "model, model_version, as_of, trained_on, evaluated_on, examples, positives, roc_auc, pr_auc, lift_top10, brier, bayes_auc, calibration, details, computed_at",
		[]any{"donation", "d1", jan, at("2024-01-01"), at("2025-01-01"), int64(1000), int64(20), 0.8, 0.3, 4.5, 0.01, 0.82,
			`[{"Lo":0,"Hi":0.5,"N":900,"Predicted":0.01,"Observed":0.012},{"Lo":0.5,"Hi":1,"N":100,"Predicted":0.7,"Observed":0.65}]`,
			`{"bayes_examples":1000,"candidates":{"logistic-l2=1":0.8},"coefficients":{"gave_last_year":1.5,"intercept":-3,"mentor":-0.25}}`, c1},
		[]any{"donation", "d2", jan, at("2023-01-01"), at("2025-01-01"), int64(1000), int64(20), 0.81, 0.3, 4.6, 0.01, 0.82, `[]`,
			`{"protocol":"rolling origin","family":"forest","champion":"donation-forest-depth=4","windows":{"train":"2023-01-01","validation":"2024-01-01","test":"2025-01-01","label":"a gift in the 12 months after each date"},"features":["gave_last_year","mentor"],"importances":{"gave_last_year":0.2,"mentor":1e-3},"validation":{"forest-depth=4":0.8}}`, c1})
	const funnelCols = "funnel, as_of, segment_kind, segment, step, step_name, entered, conversion, median_hours, computed_at"
	f.insert("funnel_snapshots", funnelCols,
		[]any{"campaign", jan, "all", "all", int32(1), "sent", int64(100), 1.0, 0.0, c1},
		[]any{"campaign", jan, "all", "all", int32(2), "opened", int64(40), 0.4, 12.0, c1},
		[]any{"campaign", jan, "all", "all", int32(2), "opened", int64(42), 0.42, 11.0, c2})
	f.insert("event_forecasts", "as_of, event_id, kind, starts_at, registered, show_up_rate, forecast, actual, computed_at",
		[]any{jan, int64(100), "gala", time.Date(2025, 5, 10, 19, 0, 0, 0, time.UTC), int64(2), 0.5, 1.0, int64(1), c1},
		[]any{jan, int64(101), "webinar", time.Date(2026, 2, 1, 17, 0, 0, 0, time.UTC), int64(10), 0.4, 4.0, int64(-1), c1})
}

// TestBIObjectsOnFixture checks every bi object's numbers against a
// hand-made fixture. Half of it is in the warehouse before the bi database
// is created (the back-fill must copy it), the other half arrives afterwards
// (the feeds must copy it), and some rows arrive twice (the views dedup).
func TestBIObjectsOnFixture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := warehousetest.NewEmpty(t)
	conn, err := warehouse.Open(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	f := &biFixture{t: t, conn: conn}
	f.records()
	f.load()
	c = warehousetest.WithBI(t, c)
	f.scores()
	f.records() // every change and hit again, as a redelivery would
	f.load()

	bi := warehousetest.OpenBI(t, c)
	// read as Power BI does: read-only session
	ctx = driverReadOnly(ctx)

	tests := []struct {
		object, query, want string
	}{
		{"people", "SELECT count(), sum(person_id) FROM people", "2 3"},
		{"people", "SELECT city, region, organisation_id, graduation_year, degree_area FROM people WHERE person_id = 1", "Torino Piemonte 10 2000 engineering"},
		{"people", "SELECT isNull(graduation_year), isNull(organisation_id), country FROM people WHERE person_id = 2", "1 1 FR"},
		{"people", "SELECT heat_level, heat_label, heat_score, heat_as_of FROM people WHERE person_id = 1", "4 hot 12 2026-01-01"},
		{"people", "SELECT donor_probability, donor_tier, donor_expected_amount_eur, donor_suggested_ask_eur, donor_reasons FROM people WHERE person_id = 1",
			"0.4 A 200 500 gave in the last 12 months; mentor"},
		{"people", "SELECT heat_level, isNull(donor_probability), donor_tier, isNull(donor_as_of) FROM people WHERE person_id = 2", "1 1  1"},
		{"organisations", "SELECT count(), sum(organisation_id) FROM organisations", "2 21"},
		{"organisations", "SELECT name, isNull(parent_organisation_id) FROM organisations WHERE organisation_id = 10", "Acme S.p.A. 1"},
		{"organisations", "SELECT parent_organisation_id FROM organisations WHERE organisation_id = 11", "10"},
		{"donations", "SELECT count(), toFloat64(sum(amount)) FROM donations", "3 1160.5"},
		{"donations", "SELECT donation_year, toFloat64(sum(amount)) FROM donations GROUP BY donation_year ORDER BY donation_year", "2024 100.5 2025 1060"},
		{"donations", "SELECT currency, campaign_id, isNull(organisation_id) FROM donations WHERE donation_id = 500", "EUR \\N 1"},
		{"donations", "SELECT isNull(person_id), organisation_id, purpose FROM donations WHERE donation_id = 502", "1 10 scholarships"},
		{"fundraising_days", "SELECT donation_year, toFloat64(sum(amount_eur)), sum(gifts) FROM fundraising_days GROUP BY donation_year ORDER BY donation_year", "2024 100.5 1 2025 1060 2"},
		{"fundraising_days", "SELECT donated_on, toFloat64(amount_eur), gifts FROM fundraising_days WHERE donation_year = 2025 ORDER BY donated_on", "2025-02-01 60 1 2025-05-05 1000 1"},
		{"registrations", "SELECT count(), sum(attended), sum(is_vip) FROM registrations", "3 1 1"},
		{"registrations", "SELECT status, isNull(attended_at) FROM registrations WHERE registration_id = 1001", "no_show 1"},
		{"registrations", "SELECT attended_at FROM registrations WHERE registration_id = 1000", "2025-05-10 19:05:00"},
		{"events", "SELECT invited, registered, attended, no_show, attendance_rate, capacity FROM events WHERE event_id = 100", "1 2 1 1 0.5 200"},
		{"events", "SELECT registered, isNull(attendance_rate), is_online, series_id FROM events WHERE event_id = 101", "0 1 1 5"},
		{"campaign_performance", "SELECT recipients, opened_human, opened_raw, clicked_human, clicked_raw FROM campaign_performance WHERE campaign_id = 7", "3 1 2 1 1"},
		{"campaign_performance", "SELECT round(open_rate_human, 4), round(open_rate_raw, 4), round(click_rate_human, 4), sent_at FROM campaign_performance WHERE campaign_id = 7",
			"0.3333 0.6667 0.3333 2025-03-01 09:00:00"},
		{"campaign_performance", "SELECT recipients, isNull(open_rate_human), isNull(sent_at), newsletter FROM campaign_performance WHERE campaign_id = 8", "0 1 1 Frontiere"},
		{"scores", "SELECT count() FROM scores", "4"},
		{"scores", "SELECT score, level, label FROM scores WHERE model = 'heat' AND person_id = 1 AND as_of = '2026-01-01'", "12 4 hot"},
		{"scores", "SELECT expected_amount_eur, suggested_ask_eur FROM scores WHERE model = 'donation'", "200 500"},
		{"company_clusters", "SELECT count(), any(cluster), any(cluster_label), any(pca_x), any(pca_y) FROM company_clusters", "1 1 high research contracts 1.5 -0.5"},
		{"company_clusters", "SELECT size_level, log10_revenue, interactions_12m, placements_12m, log10_contract_value_3y, partnership_level FROM company_clusters",
			"3 7.5 12 4 5.25 3"},
		{"funnels", "SELECT step, step_name, entered, conversion FROM funnels ORDER BY step", "1 sent 100 1 2 opened 42 0.42"},
		{"model_evaluations", "SELECT count(), any(roc_auc), any(lift_top_decile), any(examples), any(positives), any(bayes_auc) FROM model_evaluations WHERE model_version = 'd1'", "1 0.8 4.5 1000 20 0.82"},
		{"model_calibration", "SELECT bin, predicted_from, predicted_to, examples, mean_predicted, observed_rate FROM model_calibration ORDER BY bin",
			"1 0 0.5 900 0.01 0.012 2 0.5 1 100 0.7 0.65"},
		{"model_features", "SELECT feature, coefficient FROM model_features ORDER BY feature", "gave_last_year 1.5 intercept -3 mentor -0.25"},
		{"model_weights", "SELECT model_version, kind, feature, weight FROM model_weights ORDER BY model_version, feature",
			"d1 coefficient gave_last_year 1.5 d1 coefficient intercept -3 d1 coefficient mentor -0.25 d2 importance gave_last_year 0.2 d2 importance mentor 0.001"},
		{"model_cards", "SELECT family, champion, train_on, validation_on, test_on, features FROM model_cards WHERE model_version = 'd2'",
			"forest donation-forest-depth=4 2023-01-01 2024-01-01 2025-01-01 gave_last_year, mentor"},
		{"model_cards", "SELECT family, validation_on FROM model_cards WHERE model_version = 'd1'", " 1970-01-01"},
		{"event_forecasts", "SELECT event_id, forecast, actual FROM event_forecasts ORDER BY event_id", "100 1 1 101 4 \\N"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.object] = true
		t.Run(tt.object, func(t *testing.T) {
			if got := queryText(t, ctx, bi, tt.query); got != tt.want {
				t.Errorf("%s\n got %q\nwant %q", tt.query, got, tt.want)
			}
		})
	}
	for _, o := range warehouse.BIObjects {
		if !covered[o] {
			t.Errorf("bi object %s has no fixture check", o)
		}
	}
	checkBITypes(t, ctx, bi, c.BIDatabase)
}

// queryText runs q and renders every value of every row, space separated
// (NULL as \N), so a fixture's expected answer reads as one line.
func queryText(t *testing.T, ctx context.Context, conn driver.Conn, q string) string {
	t.Helper()
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	types := rows.ColumnTypes()
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = newScan(ct.DatabaseTypeName())
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, v := range vals {
			out = append(out, render(v))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(out, " ")
}

func newScan(typ string) any {
	nullable := strings.HasPrefix(typ, "Nullable(")
	base := strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")")
	var v any
	switch {
	case base == "String":
		v = new(string)
	case base == "Int64":
		v = new(int64)
	case base == "UInt64":
		v = new(uint64)
	case base == "Int32":
		v = new(int32)
	case base == "UInt8":
		v = new(uint8)
	case base == "Float64":
		v = new(float64)
	case base == "Date", base == "DateTime":
		v = new(time.Time)
	default:
		panic("queryText: add type " + typ)
	}
	if !nullable {
		return v
	}
	switch p := v.(type) {
	case *string:
		return new(*string)
	case *int64:
		return new(*int64)
	case *float64:
		return new(*float64)
	case *time.Time:
		return new(*time.Time)
	default:
		panic(fmt.Sprintf("queryText: add nullable %T", p))
	}
}

func render(v any) string {
	switch x := v.(type) {
	case *string:
		return *x
	case *int64:
		return strconv.FormatInt(*x, 10)
	case *uint64:
		return strconv.FormatUint(*x, 10)
	case *int32:
		return strconv.FormatInt(int64(*x), 10)
	case *uint8:
		return strconv.FormatUint(uint64(*x), 10)
	case *float64:
		return strconv.FormatFloat(*x, 'g', -1, 64)
	case *time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.UTC().Format(time.DateOnly)
		}
		return x.UTC().Format(time.DateTime)
	case **string:
		if *x == nil {
			return `\N`
		}
		return **x
	case **int64:
		if *x == nil {
			return `\N`
		}
		return strconv.FormatInt(**x, 10)
	case **float64:
		if *x == nil {
			return `\N`
		}
		return strconv.FormatFloat(**x, 'g', -1, 64)
	case **time.Time:
		if *x == nil {
			return `\N`
		}
		return render(*x)
	}
	panic(fmt.Sprintf("render %T", v))
}

// checkBITypes: Power BI's ODBC path has no unsigned 64-bit type, so no bi
// object may have a UInt64 column (nor any unsigned integer, for uniformity),
// and every object must carry a documented, friendly name set.
func checkBITypes(t *testing.T, ctx context.Context, conn driver.Conn, db string) {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT table, name, type FROM system.columns WHERE database = ? AND table NOT LIKE 'src\_%' AND table != 'schema_migrations'`, db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, name, typ string
		if err := rows.Scan(&table, &name, &typ); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.Contains(typ, "UInt") {
			t.Errorf("bi.%s.%s is %s: Power BI objects use signed integers", table, name, typ)
		}
		rawOpens := strings.Contains(name, "open") || strings.Contains(name, "click") // raw = machine hits included
		if (strings.HasSuffix(name, "_raw") && !rawOpens) || name == "is_deleted" || strings.HasPrefix(name, "has_") {
			t.Errorf("bi.%s.%s: an internal column leaks", table, name)
		}
	}
	if n == 0 {
		t.Error("no bi columns found")
	}
}

// driverReadOnly makes every query of ctx run with readonly = 1, as the
// powerbi user's do.
func driverReadOnly(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"readonly": 1}))
}

// TestMigrateBILeavesAnotherWarehousesBI: a bi database built over one
// warehouse is refused to another (calore migrate then skips it), and a
// second run over its own warehouse has nothing to do.
func TestMigrateBILeavesAnotherWarehousesBI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := warehousetest.NewBI(t)
	res, err := warehouse.MigrateBI(ctx, c, slog.New(slog.DiscardHandler))
	if err != nil || len(res.Applied) != 0 {
		t.Fatalf("second MigrateBI: %v, applied %v", err, res.Applied)
	}
	other := warehousetest.NewEmpty(t)
	other.BIDatabase = c.BIDatabase
	if _, err := warehouse.MigrateBI(ctx, other, slog.New(slog.DiscardHandler)); !errors.Is(err, warehouse.ErrBIElsewhere) {
		t.Fatalf("MigrateBI over another warehouse: %v, want ErrBIElsewhere", err)
	}
}

// TestMigrateBIRefusesARecreatedWarehouse: a warehouse dropped and recreated
// after its bi database was built would mix old copies with new rows.
func TestMigrateBIRefusesARecreatedWarehouse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, c := warehousetest.NewBI(t)
	time.Sleep(1100 * time.Millisecond) // applied_at has whole seconds
	if err := conn.Exec(ctx, "DROP TABLE schema_migrations"); err != nil {
		t.Fatal(err)
	}
	if _, err := warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, err := warehouse.MigrateBI(ctx, c, slog.New(slog.DiscardHandler)); !errors.Is(err, warehouse.ErrBIStale) {
		t.Fatalf("MigrateBI after the warehouse was recreated: %v, want ErrBIStale", err)
	}
}
