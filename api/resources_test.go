package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/calore-crm/calore"
)

// fixtures creates a person, an organisation, an event and a campaign for
// the records that hang off them.
func (e *testEnv) fixtures() (person, org, event, campaign int64) {
	e.t.Helper()
	ctx := context.Background()
	p := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Ada", LastName: "Lovelace", Country: "IT"}
	o := &calore.Organisation{Kind: calore.OrgCompany, LegalName: "Analytical Engines S.p.A."}
	ev := &calore.CalendarEvent{Name: "Open day", StartsAt: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)}
	c := &calore.Campaign{Name: "Spring newsletter", Channel: "email"}
	for _, err := range []error{e.store.CreatePerson(ctx, p), e.store.CreateOrganisation(ctx, o), e.store.CreateEvent(ctx, ev), e.store.CreateCampaign(ctx, c)} {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return p.ID, o.ID, ev.ID, c.ID
}

// TestResourcesCRUD creates, reads, searches, updates (and conflicts),
// deletes every kind of record through the API with a real store.
func TestResourcesCRUD(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.admin()
	pid, oid, eid, cid := e.fixtures()
	cases := []struct {
		path, noun string
		create     map[string]any
		change     map[string]any // fields set on update
		filter     string         // a search that finds the created record
		miss       string         // a search that does not
	}{
		{"people", "person", map[string]any{"kind": "alumnus", "first_name": "Grace", "last_name": "Hopper", "country": "US", "graduation_year": 1934,
			"source": "esse3", "source_id": "S1906", "top_category": "prestige", "relevance": 5,
			"emails": []map[string]any{{"type": "personal", "address": "grace@example.org"}}, "tags": []string{"navy"}},
			map[string]any{"city": "Arlington"}, "q=Grace+H%C3%B6pper&country=US&graduation_year_from=1930&tag=navy", "q=hopper&country=IT"},
		{"organisations", "organisation", map[string]any{"kind": "company", "legal_name": "Compiler Works Srl", "country": "IT", "labels": []string{"placement"}},
			map[string]any{"size_class": "small"}, "q=compiler&label=placement", "q=compiler&kind=foundation"},
		{"affiliations", "affiliation", map[string]any{"person_id": pid, "organisation_id": oid, "role": "CTO", "seniority": "executive",
			"start_date": "2020-01-01T00:00:00Z", "source": "esse3", "source_id": "AFF1"},
			map[string]any{"end_date": "2024-12-31T00:00:00Z"}, fmt.Sprintf("person_id=%d&seniority=executive&source_id=AFF1&q=ct", pid), "seniority=junior"},
		{"interactions", "interaction", map[string]any{"person_id": pid, "channel": "email", "occurred_at": "2025-03-01T10:00:00Z", "office": "alumni"},
			map[string]any{"subject": "thanks"}, fmt.Sprintf("person_id=%d&channel=email&from=2025-01-01", pid), "from=2026-01-01"},
		{"events", "event", map[string]any{"name": "Alumni gala", "kind": "gala", "starts_at": "2025-11-20T19:00:00Z"},
			map[string]any{"location": "Aula magna"}, "q=gala&kind=gala", "kind=webinar"},
		{"registrations", "registration", map[string]any{"event_id": eid, "person_id": pid, "status": "registered"},
			map[string]any{"status": "attended"}, fmt.Sprintf("event_id=%d&status=registered", eid), "status=no_show"},
		{"campaigns", "campaign", map[string]any{"name": "Giving day", "channel": "email", "newsletter": "alumni"},
			map[string]any{"subject": "Give today"}, "q=giving&newsletter=alumni", "channel=sms"},
		{"donations", "donation", map[string]any{"person_id": pid, "organisation_id": oid, "amount": "250.00", "donated_on": "2025-06-01T00:00:00Z", "campaign_id": cid},
			map[string]any{"purpose": "scholarship"}, fmt.Sprintf("person_id=%d&from=2025-01-01&min_amount=100", pid), "min_amount=1000"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp := e.do("POST", "/api/"+c.path, admin, c.create)
			want(t, resp, 201, "create")
			var rec map[string]any
			resp.json(t, &rec)
			id := int64(rec["id"].(float64))
			if rec["version"].(float64) != 1 || resp.header.Get("Location") != fmt.Sprintf("/api/%s/%d", c.path, id) {
				t.Fatalf("created %v, Location %q", rec, resp.header.Get("Location"))
			}
			url := fmt.Sprintf("/api/%s/%d", c.path, id)
			want(t, e.do("GET", url, admin, nil), 200, "get")
			for _, k := range []string{"source", "source_id", "top_category", "relevance", "role", "seniority"} {
				if v, ok := c.create[k]; ok && fmt.Sprint(rec[k]) != fmt.Sprint(v) {
					t.Errorf("%s as created: %v, want %v", k, rec[k], v)
				}
			}

			var pg struct {
				Items []map[string]any `json:"items"`
				Total int64            `json:"total"`
			}
			resp = e.do("GET", "/api/"+c.path+"?"+c.filter, admin, nil)
			want(t, resp, 200, "search")
			resp.json(t, &pg)
			if pg.Total != 1 || len(pg.Items) != 1 || int64(pg.Items[0]["id"].(float64)) != id {
				t.Errorf("search %s: %s", c.filter, resp.body)
			}
			resp = e.do("GET", "/api/"+c.path+"?"+c.miss, admin, nil)
			resp.json(t, &pg)
			for _, it := range pg.Items {
				if int64(it["id"].(float64)) == id {
					t.Errorf("search %s found the record", c.miss)
				}
			}

			upd := map[string]any{}
			for k, v := range rec {
				upd[k] = v
			}
			for k, v := range c.change {
				upd[k] = v
			}
			resp = e.do("PUT", url, admin, upd)
			want(t, resp, 200, "update")
			var after map[string]any
			resp.json(t, &after)
			if after["version"].(float64) != 2 {
				t.Errorf("version after update: %v", after["version"])
			}
			for k, v := range c.change {
				if fmt.Sprint(after[k]) != fmt.Sprint(v) {
					t.Errorf("%s after update: %v, want %v", k, after[k], v)
				}
			}
			// the same stale version again: 409 naming the record
			resp = e.do("PUT", url, admin, upd)
			want(t, resp, 409, "stale update")
			var eb errorBody
			resp.json(t, &eb)
			if eb.Error.Code != "conflict" || !strings.Contains(eb.Error.Message, fmt.Sprintf("%s %d changed since version 1", c.noun, id)) || eb.Error.RequestID == "" {
				t.Errorf("conflict body: %s", resp.body)
			}
			want(t, e.do("PUT", url, admin, map[string]any{"kind": "x"}), 400, "update without version")
			want(t, e.do("DELETE", url+"?version=1", admin, nil), 409, "stale delete")
			want(t, e.do("DELETE", url, admin, nil), 400, "delete without version")
			want(t, e.do("DELETE", url+"?version=2", admin, nil), 204, "delete")
			resp = e.do("GET", url, admin, nil)
			want(t, resp, 404, "get after delete")
			if resp.errCode(t) != "not_found" {
				t.Errorf("404 body: %s", resp.body)
			}
			// one audit line per change that happened, none for the refused ones
			for action, n := range map[string]int{"create": 1, "update": 1, "delete": 1} {
				trail, err := e.store.AuditLog(context.Background(), auditQuery(action, c.noun))
				if err != nil || len(trail) != n || trail[0].EntityID != fmt.Sprint(id) {
					t.Errorf("audit %s: %+v %v", action, trail, err)
				}
			}
		})
	}
}

func TestValidationAndErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.admin()
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"invalid person", "POST", "/api/people", map[string]any{"kind": "wizard", "last_name": "X"}, 400, "invalid", "kind"},
		{"unknown field", "POST", "/api/people", map[string]any{"kind": "alumnus", "last_name": "X", "shoe_size": 42}, 400, "invalid", ""},
		{"not json", "POST", "/api/people", "{", 400, "invalid", ""},
		{"bad id", "GET", "/api/people/abc", nil, 400, "invalid", "id"},
		{"bad filter", "GET", "/api/people?graduation_year_from=soon", nil, 400, "invalid", "graduation_year_from"},
		{"bad limit", "GET", "/api/people?limit=5000", nil, 400, "invalid", "limit"},
		{"bad amount", "GET", "/api/donations?min_amount=lots", nil, 400, "invalid", ""},
		{"unknown route", "GET", "/api/nothing", nil, 404, "not_found", ""},
		{"method", "PATCH", "/api/people", nil, 405, "method_not_allowed", ""},
		{"bad format", "GET", "/api/people/export?format=pdf", nil, 400, "invalid", "format"},
		{"unknown funnel", "GET", "/api/funnels/nope", nil, 404, "not_found", ""},
		{"bad segment", "GET", "/api/funnels/campaign?segment=planet", nil, 400, "invalid", "segment"},
		{"bad tier", "GET", "/api/scores/donors?tier=Z", nil, 400, "invalid", "tier"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(c.method, c.path, admin, c.body)
			want(t, resp, c.status, c.name)
			var eb errorBody
			resp.json(t, &eb)
			if eb.Error.Code != c.code || eb.Error.Field != c.field || eb.Error.Message == "" || eb.Error.RequestID != resp.header.Get("X-Request-Id") || eb.Error.RequestID == "" {
				t.Errorf("error body %s (X-Request-Id %q)", resp.body, resp.header.Get("X-Request-Id"))
			}
		})
	}
}

// TestPagination: totals, offset pages and cursor pages agree.
func TestPagination(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.admin()
	ctx := context.Background()
	for i := range 7 {
		if err := e.store.CreatePerson(ctx, &calore.Person{Kind: calore.KindStudent, LastName: fmt.Sprintf("Page%d", i), City: "Torino"}); err != nil {
			t.Fatal(err)
		}
	}
	type pg struct {
		Items []struct {
			LastName string `json:"last_name"`
		} `json:"items"`
		Total      int64  `json:"total"`
		NextCursor string `json:"next_cursor"`
	}
	var names []string
	cursor := ""
	for range 5 {
		var p pg
		e.do("GET", "/api/people?city=Torino&limit=3&cursor="+cursor, admin, nil).json(t, &p)
		if p.Total != 7 {
			t.Fatalf("total %d", p.Total)
		}
		for _, it := range p.Items {
			names = append(names, it.LastName)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(names) != 7 || names[0] != "Page0" || names[6] != "Page6" {
		t.Errorf("cursor pages: %v", names)
	}
	var p pg
	e.do("GET", "/api/people?city=Torino&limit=3&offset=6", admin, nil).json(t, &p)
	if len(p.Items) != 1 || p.Items[0].LastName != "Page6" || p.NextCursor != "" {
		t.Errorf("offset page: %+v", p)
	}
}

// TestExport checks the CSV and XLSX content of an export.
func TestExport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.admin()
	ctx := context.Background()
	people := []*calore.Person{
		{Kind: calore.KindAlumnus, FirstName: "Zoë", LastName: "Ñúñez", Country: "ES", Tags: []string{"a", "b"}},
		{Kind: calore.KindAlumnus, FirstName: "=cmd", LastName: "-2+3+cmd|' /C calc'!A0", Country: "ES"},
		{Kind: calore.KindStudent, FirstName: "Not", LastName: "Exported", Country: "FR"},
	}
	for _, p := range people {
		if err := e.store.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	resp := e.do("GET", "/api/people/export?format=csv&country=ES", admin, nil)
	want(t, resp, 200, "csv")
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(resp.header.Get("Content-Disposition"), "people.csv") {
		t.Errorf("headers %v", resp.header)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(resp.body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("csv rows: %v", rows)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if rows[0][0] != "id" || rows[1][col["first_name"]] != "Zoë" || rows[1][col["last_name"]] != "Ñúñez" || rows[1][col["tags"]] != "a; b" ||
		rows[1][col["id"]] != fmt.Sprint(people[0].ID) || rows[2][col["first_name"]] != "'=cmd" {
		t.Errorf("csv: %v", rows)
	}
	// CSV injection: a sign then a digit is no number when a formula follows.
	// Security: seen failing with the old api csvSafe (which passed "-2…" through).
	if got := rows[2][col["last_name"]]; got != "'-2+3+cmd|' /C calc'!A0" {
		t.Errorf("csv injection: last_name exported as %q", got)
	}

	resp = e.do("GET", "/api/people/export?format=xlsx&country=ES", admin, nil)
	want(t, resp, 200, "xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(resp.body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows("people")
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != 3 || xrows[0][col["last_name"]] != "last_name" || xrows[1][col["last_name"]] != "Ñúñez" || xrows[2][col["first_name"]] != "=cmd" {
		t.Errorf("xlsx: %v", xrows)
	}
	// XLSX cells are text, never formulas: "=cmd" is shown, not run.
	for _, name := range []string{"first_name", "last_name"} {
		c, _ := excelize.CoordinatesToCellName(col[name]+1, 3)
		fx, err := f.GetCellFormula("people", c)
		typ, terr := f.GetCellType("people", c)
		if err != nil || terr != nil || fx != "" || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
			t.Errorf("xlsx %s (%s): formula %q, type %v (%v, %v)", c, name, fx, typ, err, terr)
		}
	}
	// the export is in the audit log
	trail, err := e.store.AuditLog(ctx, auditQuery("export", "person"))
	if err != nil || len(trail) != 2 || trail[0].Detail["rows"] != "2" {
		t.Errorf("audit of exports: %+v %v", trail, err)
	}
}
