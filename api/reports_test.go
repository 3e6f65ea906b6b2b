package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/warehouse/kpiq"
)

func TestDonorList(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	_, fund := e.user(calore.Role{Office: access.Fundraising, Role: calore.RoleReadOnly})
	type donor struct {
		name    string
		year    int
		course  string
		country string
		tier    string
		prob    float64
		heat    int
	}
	ds := []donor{
		{"Alpha", 1990, "Engineering", "IT", "A", 0.6, 4},
		{"Beta", 2005, "Engineering", "IT", "B", 0.2, 3},
		{"Gamma", 2010, "Architecture", "FR", "A", 0.4, 2},
		{"Delta", 1985, "Engineering", "IT", "D", 0.01, 1},
	}
	ids := map[string]int64{}
	for _, d := range ds {
		p := &calore.Person{Kind: calore.KindAlumnus, LastName: d.name, GraduationYear: &d.year, DegreeCourse: d.course, Country: d.country}
		if err := e.store.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		ids[d.name] = p.ID
		_, err := e.deps.Pool.Exec(ctx, `INSERT INTO person_scores (person_id, heat_level, heat_score, donor_probability, donor_tier, expected_amount, suggested_ask, donor_reasons, donor_as_of)
			VALUES ($1, $2, $3, $4, $5, 120.50, 200, '["gave in 3 of the last 4 years", "attended events"]', '2026-01-01')`, p.ID, d.heat, float64(d.heat)*2.5, d.prob, d.tier)
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"Alpha", "Gamma", "Beta", "Delta"}},
		{"tier=A", []string{"Alpha", "Gamma"}},
		{"tier=a,b&country=it", []string{"Alpha", "Beta"}},
		{"heat=3,4", []string{"Alpha", "Beta"}},
		{"min_heat=2&course=engineering", []string{"Alpha", "Beta"}},
		{"graduation_year_from=2000&graduation_year_to=2010", []string{"Gamma", "Beta"}},
		{"limit=1&offset=1", []string{"Gamma"}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			resp := e.do("GET", "/api/scores/donors?"+c.query, fund, nil)
			want(t, resp, 200, "donors")
			var pg struct {
				Items []struct {
					LastName       string   `json:"last_name"`
					Tier           string   `json:"tier"`
					Probability    float64  `json:"probability"`
					ExpectedAmount string   `json:"expected_amount"`
					SuggestedAsk   string   `json:"suggested_ask"`
					Reasons        []string `json:"reasons"`
				} `json:"items"`
				Total int64 `json:"total"`
			}
			resp.json(t, &pg)
			var got []string
			for _, it := range pg.Items {
				got = append(got, it.LastName)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
			if len(pg.Items) > 0 && (pg.Items[0].ExpectedAmount != "120.50" || pg.Items[0].SuggestedAsk != "200.00" || len(pg.Items[0].Reasons) != 2 || pg.Items[0].Probability == 0) {
				t.Errorf("row: %+v", pg.Items[0])
			}
		})
	}
	_, alumni := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleManager})
	want(t, e.do("GET", "/api/scores/donors", alumni, nil), 403, "alumni office")
}

func TestKPIs(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(d *Deps) {
		d.Now = func() time.Time { return time.Date(2025, 12, 31, 10, 0, 0, 0, time.UTC) }
	})
	admin := e.admin()
	ctx := context.Background()
	pid, oid, eid, _ := e.fixtures()
	// donations: TestDonationsOneFigure (the API reads kpiq.Donations on the warehouse)
	if err := e.store.CreatePartnership(ctx, &calore.Partnership{OrganisationID: oid, Product: "career days", Stage: "active"}); err != nil {
		t.Fatal(err)
	}
	var c struct {
		Active int64 `json:"active_companies"`
	}
	e.do("GET", "/api/kpis/companies", admin, nil).json(t, &c)
	if c.Active != 1 {
		t.Errorf("active companies %d", c.Active)
	}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	for i, rc := range []*calore.ResearchContract{
		{ContractNumber: "RC-1", OrganisationID: &oid, Title: "Running", Status: "active", StartDate: &start},
		{ContractNumber: "RC-2", OrganisationID: &oid, Title: "Past its end", Status: "active", StartDate: &start, EndDate: &end},
		{ContractNumber: "RC-3", OrganisationID: &oid, Title: "Expired", Status: "expired", StartDate: &start, EndDate: &end},
	} {
		if err := e.store.CreateResearchContract(ctx, rc); err != nil {
			t.Fatalf("contract %d: %v", i, err)
		}
	}
	var rc struct{ Active, Expired int64 }
	e.do("GET", "/api/kpis/contracts", admin, nil).json(t, &rc)
	if rc.Active != 1 || rc.Expired != 2 {
		t.Errorf("contracts %+v", rc)
	}
	p2 := &calore.Person{Kind: calore.KindStudent, LastName: "Second"}
	if err := e.store.CreatePerson(ctx, p2); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*calore.Registration{{EventID: eid, PersonID: pid, Status: "attended"}, {EventID: eid, PersonID: p2.ID, Status: "no_show"}} {
		if err := e.store.CreateRegistration(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var ev struct{ Events, Registered, Attended int64 }
	e.do("GET", "/api/kpis/events?from=2025-01-01&to=2026-01-01", admin, nil).json(t, &ev)
	if ev.Events != 1 || ev.Registered != 2 || ev.Attended != 1 {
		t.Errorf("events %+v", ev)
	}
}

func TestGDPRExport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.admin()
	ctx := context.Background()
	pid, oid, eid, cid := e.fixtures()
	for _, err := range []error{
		e.store.CreateInteraction(ctx, &calore.Interaction{PersonID: &pid, Channel: "email", OccurredAt: time.Now()}),
		e.store.CreateRegistration(ctx, &calore.Registration{EventID: eid, PersonID: pid, Status: "registered"}),
		e.store.CreateDonation(ctx, &calore.Donation{PersonID: &pid, Amount: "10.00", DonatedOn: time.Now(), CampaignID: &cid}),
		e.store.CreateAffiliation(ctx, &calore.Affiliation{PersonID: pid, OrganisationID: oid, Role: "engineer"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	resp := e.do("GET", fmt.Sprintf("/api/people/%d/gdpr-export", pid), admin, nil)
	want(t, resp, 200, "gdpr export")
	var out map[string]json.RawMessage
	resp.json(t, &out)
	for _, k := range []string{"person", "affiliations", "interactions", "registrations", "campaign_sends", "donations", "collaborations", "journey_stages", "consents", "scores", "merges", "audit_trail"} {
		if _, ok := out[k]; !ok {
			t.Errorf("export lacks %s", k)
		}
	}
	for _, k := range []string{"interactions", "registrations", "donations", "affiliations"} {
		var list []any
		if err := json.Unmarshal(out[k], &list); err != nil || len(list) != 1 {
			t.Errorf("%s: %s", k, out[k])
		}
	}
	want(t, e.do("GET", "/api/people/999999/gdpr-export", admin, nil), 404, "missing person")
	trail, err := e.store.AuditTrail(ctx, "person", fmt.Sprint(pid))
	if err != nil || len(trail) != 1 || trail[0].Action != "export" {
		t.Errorf("gdpr export audit: %+v %v", trail, err)
	}
}

func TestClustersAndFunnels(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, research := e.user(calore.Role{Office: access.Research, Role: calore.RoleReadOnly})
	ctx := context.Background()
	wh := e.deps.Warehouse
	b, err := wh.PrepareBatch(ctx, `INSERT INTO company_clusters (model_version, as_of, organisation_id, cluster, label, x, y, features, computed_at)`)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := day.AddDate(0, -1, 0)
	rows := []struct {
		asOf     time.Time
		org      int64
		cluster  int32
		x        float64
		computed time.Time
	}{
		{day, 1, 0, 1, day}, {day, 2, 0, 3, day}, {day, 3, 1, -2, day},
		{day, 3, 0, 9, day.Add(-time.Hour)}, // an older computation of the same day: superseded
		{old, 4, 5, 0, old},                 // an older clustering
	}
	for _, r := range rows {
		if err := b.Append("v1", r.asOf, r.org, r.cluster, fmt.Sprintf("label %d", r.cluster), r.x, r.x/2, `{"size":2,"log_revenue":6}`, r.computed); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	var cl struct {
		AsOf          string `json:"as_of"`
		Organisations int    `json:"organisations"`
		Clusters      []struct {
			Cluster  int32              `json:"cluster"`
			Label    string             `json:"label"`
			Size     int                `json:"size"`
			X        float64            `json:"x"`
			Features map[string]float64 `json:"mean_features"`
		} `json:"clusters"`
	}
	resp := e.do("GET", "/api/clusters", research, nil)
	want(t, resp, 200, "clusters")
	resp.json(t, &cl)
	if cl.AsOf != "2026-01-01" || cl.Organisations != 3 || len(cl.Clusters) != 2 || cl.Clusters[0].Size != 2 || cl.Clusters[0].X != 2 || cl.Clusters[1].Label != "label 1" || cl.Clusters[0].Features["size"] != 2 {
		t.Errorf("clusters: %s", resp.body)
	}
	e.do("GET", "/api/clusters?as_of="+old.Format(time.DateOnly), research, nil).json(t, &cl)
	if cl.Organisations != 1 || cl.Clusters[0].Cluster != 5 {
		t.Errorf("older clustering: %+v", cl)
	}
	var members struct {
		Items []kpiq.ClusterMember `json:"items"`
		Total int64                `json:"total"`
	}
	e.do("GET", "/api/clusters/0", research, nil).json(t, &members)
	if members.Total != 2 || members.Items[1].OrganisationID != 2 {
		t.Errorf("members: %+v", members)
	}

	var f struct {
		Funnel   string `json:"funnel"`
		Segments []any  `json:"segments"`
	}
	resp = e.do("GET", "/api/funnels/student_journey?from=2025-01-01&to=2026-01-01&segment=all,country", research, nil)
	want(t, resp, 200, "funnel")
	resp.json(t, &f)
	if f.Funnel != "student_journey" || f.Segments == nil {
		t.Errorf("funnel: %s", resp.body)
	}
	want(t, e.do("GET", "/api/funnels", research, nil), 200, "funnel list")
}

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(d *Deps) { d.Health = func() map[string]any { return map[string]any{"tracking_spool_events": 0} } })
	resp := e.do("GET", "/healthz", "", nil)
	want(t, resp, 200, "healthz")
	var h map[string]any
	resp.json(t, &h)
	if h["status"] != "ok" || h["tracking_spool_events"] != float64(0) {
		t.Errorf("healthz: %s", resp.body)
	}
	resp = e.do("GET", "/readyz", "", nil)
	want(t, resp, 200, "readyz")

	down := newTestEnv(t, func(d *Deps) { d.KafkaBrokers = []string{"127.0.0.1:1"}; d.Warehouse = nil })
	start := time.Now()
	resp = down.do("GET", "/readyz", "", nil)
	want(t, resp, 503, "readyz with Kafka and ClickHouse away")
	var r struct{ Checks map[string]string }
	resp.json(t, &r)
	if r.Checks["postgres"] != "ok" || r.Checks["kafka"] != "unreachable" || r.Checks["clickhouse"] != "unreachable" || time.Since(start) > 5*time.Second {
		t.Errorf("readyz: %s in %v", resp.body, time.Since(start))
	}
	resp = down.do("GET", "/api/clusters", down.admin(), nil)
	want(t, resp, 503, "warehouse route without a warehouse")
}

// TestImportUpload uploads a CSV of contacts and follows the job to its end.
func TestImportUpload(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	_, tok := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	upload := func(kind, name, content string, fields ...string) response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("kind", kind)
		for i := 0; i+1 < len(fields); i += 2 {
			_ = mw.WriteField(fields[i], fields[i+1])
		}
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write([]byte(content))
		_ = mw.Close()
		return e.do("POST", "/api/imports", tok, &buf, "Content-Type", mw.FormDataContentType())
	}
	csv := "Nome;Cognome;E-mail;Anno di laurea;Tipologia\nMaria;Rossi;maria.rossi@example.org;2001;laureata\nLuca;Bianchi;luca@example.org;1999;\nX;Y;not-an-email;2000;ex allieva\n"
	resp := upload("contacts", "alumni.csv", csv)
	want(t, resp, 202, "upload")
	var j job
	resp.json(t, &j)
	if j.ID == "" || resp.header.Get("Location") != "/api/imports/"+j.ID {
		t.Fatalf("job: %s", resp.body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for j.Status == "running" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		e.do("GET", "/api/imports/"+j.ID, tok, nil).json(t, &j)
	}
	if j.Status != "done" || j.Report == nil || j.Report.Created != 2 || len(j.Report.Errors) != 2 || !j.Report.Committed || j.Finished == nil {
		t.Fatalf("finished job: %s %s %+v", j.Status, j.Error, j.Report)
	}
	// the value a mapping file should map, with its rows
	if n := j.Report.Unknown["kind"]["ex allieva"]; n != 1 || len(j.Report.Unknown) != 1 {
		t.Errorf("unknown values: %v", j.Report.Unknown)
	}
	p, err := e.store.PersonByEmail(ctx, "maria.rossi@example.org")
	if err != nil || p.LastName != "Rossi" || p.GraduationYear == nil || *p.GraduationYear != 2001 {
		t.Errorf("imported person: %+v %v", p, err)
	}
	// another user does not see the job; an admin does
	_, other := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	want(t, e.do("GET", "/api/imports/"+j.ID, other, nil), 404, "someone else's job")
	want(t, e.do("GET", "/api/imports/"+j.ID, e.admin(), nil), 200, "admin sees the job")
	// the alumni office may not import donations; nor anything without a kind or file
	want(t, upload("donations", "gifts.csv", "Email;Importo;Data\na@b.org;10;2025-01-01\n"), 403, "donations by alumni")
	want(t, upload("", "x.csv", csv), 400, "no kind")
	want(t, upload("contacts", "x.csv", csv, "dry_run", "perhaps"), 400, "bad flag")
	want(t, upload("campaign-activity", "x.csv", "Email;Campagna\na@b.org;c\n"), 400, "campaign activity (calore import only)")
}
