package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

// login posts the form and returns the session cookie.
func (e *testEnv) login(username, password string, headers ...string) (response, string) {
	e.t.Helper()
	form := url.Values{"username": {username}, "password": {password}, "next": {"/api/me"}}
	resp := e.do("POST", "/login", "", strings.NewReader(form.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name == access.SessionCookie && c.Value != "" {
			return resp, c.Value
		}
	}
	return resp, ""
}

func TestSessionLogin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	u, _ := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	if err := e.srv.Access().SetPassword(ctx, u.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/login", "", nil), 200, "login form")

	resp, cookie := e.login(u.Username, "wrong password!")
	want(t, resp, 401, "wrong password")
	if cookie != "" || !strings.Contains(string(resp.body), "Wrong username or password") {
		t.Errorf("wrong password: cookie %q body %s", cookie, resp.body)
	}
	resp, _ = e.login("nobody", "correct horse battery", "Accept", "application/json")
	want(t, resp, 401, "unknown user")
	if resp.errCode(t) != "unauthenticated" {
		t.Errorf("unknown user: %s", resp.body)
	}

	resp, cookie = e.login(u.Username, "correct horse battery")
	want(t, resp, 303, "login")
	if cookie == "" || resp.header.Get("Location") != "/api/me" {
		t.Fatalf("login: %v", resp.header)
	}
	var n int
	if err := e.deps.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = $1 AND token_hash = $2`, u.ID, access.HashSecret(cookie)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("session row (hashed): %d %v", n, err)
	}
	withCookie := func(method, path string, body any, headers ...string) response {
		return e.do(method, path, "", body, append([]string{"Cookie", access.SessionCookie + "=" + cookie}, headers...)...)
	}
	resp = withCookie("GET", "/api/me", nil)
	want(t, resp, 200, "me with session")
	var me struct {
		User        calore.User       `json:"user"`
		Via         string            `json:"via"`
		Permissions map[string]string `json:"permissions"`
	}
	resp.json(t, &me)
	if me.User.ID != u.ID || me.Via != "session" || me.Permissions[access.Donations] != "none" || me.Permissions[access.People] != "write" {
		t.Errorf("me: %s", resp.body)
	}
	// a session changing data from another site is refused; from this one it passes
	body := map[string]any{"kind": "alumnus", "last_name": "Sessione"}
	want(t, withCookie("POST", "/api/people", body, "Origin", "https://evil.example"), 403, "cross-site post")
	want(t, withCookie("POST", "/api/people", body, "Origin", e.http.URL), 201, "same-origin post")

	// five wrong passwords in a row: even the right one waits
	for range 5 {
		resp, _ = e.login(u.Username, "not the password")
		want(t, resp, 401, "wrong password")
	}
	resp, _ = e.login(u.Username, "correct horse battery", "Accept", "application/json")
	want(t, resp, 429, "throttled login")
	if resp.errCode(t) != "too_many_requests" {
		t.Errorf("throttled: %s", resp.body)
	}

	resp = withCookie("POST", "/logout", nil)
	want(t, resp, 303, "logout")
	want(t, withCookie("GET", "/api/me", nil), 401, "me after logout")
	// a login is audited
	trail, err := e.store.AuditLog(ctx, auditQuery("login", "user"))
	if err != nil || len(trail) != 1 || *trail[0].UserID != u.ID {
		t.Errorf("login audit: %+v %v", trail, err)
	}
}

func TestTemporaryAccounts(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := newTestEnv(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	ctx := context.Background()
	roles := []calore.Role{{Office: access.Orientation, Role: calore.RoleEditor}}
	cases := []struct {
		name      string
		expires   *time.Time
		disabled  bool
		status    int
		warning   bool
		daysLeft  int
		loginCode int
	}{
		{"permanent", nil, false, 200, false, 0, 303},
		{"far from expiry", ptr(now.AddDate(0, 2, 0)), false, 200, false, 0, 303},
		{"expires in 5 days", ptr(now.Add(5*24*time.Hour - time.Hour)), false, 200, true, 5, 303},
		{"expired yesterday", ptr(now.Add(-24 * time.Hour)), false, 401, false, 0, 401},
		{"disabled", nil, true, 401, false, 0, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, tok := e.user(roles...)
			u.ExpiresAt, u.Disabled = c.expires, c.disabled
			if err := e.store.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if err := e.srv.Access().SetPassword(ctx, u.ID, "a long enough password"); err != nil {
				t.Fatal(err)
			}
			resp := e.do("GET", "/api/me", tok, nil)
			want(t, resp, c.status, "me")
			if got := resp.header.Get("Warning") != ""; got != c.warning {
				t.Errorf("Warning header %q", resp.header.Get("Warning"))
			}
			if c.warning {
				var me struct {
					Warn struct {
						DaysLeft int `json:"days_left"`
					} `json:"expiry_warning"`
				}
				resp.json(t, &me)
				if me.Warn.DaysLeft != c.daysLeft || resp.header.Get("Calore-Account-Expires") == "" {
					t.Errorf("warning: %s %v", resp.body, resp.header)
				}
			}
			if c.status == 401 && resp.errCode(t) != "unauthenticated" {
				t.Errorf("refusal: %s", resp.body)
			}
			resp, _ = e.login(u.Username, "a long enough password")
			want(t, resp, c.loginCode, "login")
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestAPITokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	u, tok := e.user(calore.Role{Office: access.Research, Role: calore.RoleReadOnly})
	want(t, e.do("GET", "/api/me", tok, nil), 200, "token")
	want(t, e.do("GET", "/api/me", tok+"x", nil), 401, "wrong token")
	want(t, e.do("GET", "/api/me", "", nil, "Authorization", "Basic abc"), 401, "basic auth")
	toks, err := e.store.APITokens(ctx, u.ID)
	if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil {
		t.Fatalf("tokens: %+v %v", toks, err)
	}
	if err := e.store.RevokeAPIToken(ctx, toks[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	want(t, e.do("GET", "/api/me", tok, nil), 401, "revoked token")
	// only the hash is stored
	var n int
	if err := e.deps.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE token_hash = $1`, access.HashSecret(tok)).Scan(&n); err != nil || n != 1 {
		t.Errorf("hash lookup: %d %v", n, err)
	}
}

// TestAuditLog: reads of personal data and changes are logged and admins
// query them; others may not.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	admin := e.admin()
	u, tok := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	pid, _, _, _ := e.fixtures()
	want(t, e.do("GET", fmt.Sprintf("/api/people/%d", pid), tok, nil), 200, "read person")
	want(t, e.do("GET", "/api/people?country=IT", tok, nil), 200, "search people")
	want(t, e.do("GET", "/api/events", tok, nil), 200, "events are not personal")
	resp := e.do("POST", "/api/interactions", tok, map[string]any{"person_id": pid, "channel": "phone", "occurred_at": "2025-01-02T10:00:00Z"})
	want(t, resp, 201, "create interaction")

	var out struct {
		Items []calore.AuditEntry `json:"items"`
	}
	resp = e.do("GET", fmt.Sprintf("/api/audit?user_id=%d", u.ID), admin, nil)
	want(t, resp, 200, "audit")
	resp.json(t, &out)
	var got []string
	for _, a := range out.Items {
		got = append(got, a.Action+" "+a.Entity+" "+a.EntityID)
	}
	wantLines := []string{"create interaction 1", "read person ", fmt.Sprintf("read person %d", pid)}
	if fmt.Sprint(got) != fmt.Sprint(wantLines) {
		t.Errorf("audit lines %q, want %q", got, wantLines)
	}
	resp = e.do("GET", fmt.Sprintf("/api/audit?entity=person&entity_id=%d&action=read", pid), admin, nil)
	resp.json(t, &out)
	if len(out.Items) != 1 || out.Items[0].Detail["api_token"] == "" {
		t.Errorf("filtered audit: %s", resp.body)
	}
	want(t, e.do("GET", "/api/audit", tok, nil), 403, "audit for non-admin")
	want(t, e.do("GET", "/api/audit?from=yesterday", admin, nil), 400, "bad from")
}

// TestDashboardGuard: the mounted dashboards need a user, and the restricted
// ones their resource; assets are public.
func TestDashboardGuard(t *testing.T) {
	t.Parallel()
	var seen int64
	var seesProspects bool
	stub := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = CurrentUser(r)
		seesProspects = CanSeeWidget(r, "prospects")
		w.WriteHeader(http.StatusOK)
	})
	e := newTestEnv(t, func(d *Deps) { d.Dashboards = stub })
	alumni, atok := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	_, ftok := e.user(calore.Role{Office: access.Fundraising, Role: calore.RoleReadOnly})
	cases := []struct {
		path, token string
		status      int
	}{
		{"/dashboards/assets/echarts.min.js", "", 200},
		{"/dashboards/managers", "", 401},
		{"/dashboards/managers", atok, 200},
		{"/dashboards/engagement", atok, 200},
		{"/dashboards/fundraisers", atok, 403},
		{"/dashboards/fundraisers/prospects.csv", atok, 403},
		{"/dashboards/data/prospects", atok, 403},
		{"/dashboards/data/fundraising", atok, 403},
		{"/dashboards/companies", atok, 403},
		{"/dashboards/fundraisers", ftok, 200},
		{"/dashboards/data/prospects", ftok, 200},
		{"/dashboards/companies", ftok, 200},
		{"/dashboards/data/companies", ftok, 403}, // companies and research contracts
		{"/dashboards/data/heat_trend", atok, 200},
	}
	for _, c := range cases {
		if resp := e.do("GET", c.path, c.token, nil); resp.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.path, resp.status, c.status, resp.body)
		}
	}
	e.do("GET", "/dashboards/managers", atok, nil)
	if seen != alumni.ID || seesProspects {
		t.Errorf("CurrentUser %d, want %d; alumni sees prospects: %v", seen, alumni.ID, seesProspects)
	}
	e.do("GET", "/dashboards/managers", ftok, nil)
	if !seesProspects {
		t.Error("fundraising does not see the prospects widget")
	}
	resp := e.do("GET", "/dashboards/managers", "", nil, "Accept", "text/html")
	if resp.status != 303 || resp.header.Get("Location") != "/login?next=%2Fdashboards%2Fmanagers" {
		t.Errorf("browser without a session: %d %v", resp.status, resp.header)
	}
}
