package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/dashboards"
	"github.com/calore-crm/calore/web"
)

// newEdgeEnv is a server with the real dashboards mounted and a stand-in
// for the tracking endpoints, and an admin who can log in with a password.
func newEdgeEnv(t *testing.T) (*testEnv, *calore.User, string) {
	t.Helper()
	e := newTestEnv(t, func(d *Deps) {
		d.Dashboards = dashboards.Routes(dashboards.Deps{Warehouse: d.Warehouse, Store: d.Pool, Logger: slog.New(slog.DiscardHandler),
			CurrentUser: CurrentUser, CanSee: CanSeeWidget})
		d.Tracking = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/gif")
			_, _ = w.Write([]byte("GIF89a"))
		})
	})
	u, tok := e.user(calore.Role{Office: access.Central, Role: calore.RoleAdmin})
	if err := e.srv.Access().SetPassword(context.Background(), u.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	return e, u, tok
}

// TestSecurityHeaders: every kind of response (HTML pages of the
// dashboards and the login, error pages, JSON, CSV exports, static assets,
// tracking, health) carries the strict CSP and the other headers, and
// everything but the static assets is no-store (seen failing with the edge
// taken out of the router's middleware: no header on any of them); HTML
// pages have no inline script or style (seen failing with the login page's
// old <style> element put back).
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e, u, tok := newEdgeEnv(t)
	_, cookie := e.login(u.Username, "correct horse battery")
	if cookie == "" {
		t.Fatal("no session")
	}
	form := url.Values{"username": {u.Username}, "password": {"wrong password!"}}
	cases := []struct {
		name, method, path, token string
		body                      any
		headers                   []string
		status                    int
		cache                     string
	}{
		{"login page", "GET", "/login", "", nil, nil, 200, "no-store"},
		{"login failed (html)", "POST", "/login", "", strings.NewReader(form.Encode()), []string{"Content-Type", "application/x-www-form-urlencoded"}, 401, "no-store"},
		{"dashboards index", "GET", "/dashboards/", "", nil, []string{"Cookie", access.SessionCookie + "=" + cookie}, 200, "no-store"},
		{"dashboard page", "GET", "/dashboards/engagement", "", nil, []string{"Cookie", access.SessionCookie + "=" + cookie}, 200, "no-store"},
		{"donor page", "GET", "/dashboards/fundraisers", tok, nil, nil, 200, "no-store"},
		{"dashboard error page", "GET", "/dashboards/nothing", tok, nil, nil, 404, "no-store"},
		{"redirect to login", "GET", "/dashboards/managers", "", nil, []string{"Accept", "text/html"}, 303, "no-store"},
		{"widget data", "GET", "/dashboards/data/prospects", tok, nil, nil, 200, "no-store"},
		{"prospects csv", "GET", "/dashboards/fundraisers/prospects.csv", tok, nil, nil, 200, "no-store"},
		{"static asset", "GET", "/dashboards/assets/calore.js", "", nil, nil, 200, "public, max-age=86400"},
		{"api json", "GET", "/api/people", tok, nil, nil, 200, "no-store"},
		{"api csv export", "GET", "/api/people/export?format=csv", tok, nil, nil, 200, "no-store"},
		{"api error", "GET", "/api/people", "", nil, nil, 401, "no-store"},
		{"unknown route", "GET", "/nothing", "", nil, nil, 404, "no-store"},
		{"tracking", "GET", "/t/o/x.gif", "", nil, nil, 200, "no-store"},
		{"health", "GET", "/healthz", "", nil, nil, 200, "no-store"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(c.method, c.path, c.token, c.body, c.headers...)
			want(t, resp, c.status, c.name)
			h := resp.header
			if got := h.Get("Content-Security-Policy"); got != web.CSP || strings.Contains(got, "unsafe") {
				t.Errorf("CSP %q", got)
			}
			if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
				t.Errorf("headers %v", h)
			}
			if h.Get("Cache-Control") != c.cache {
				t.Errorf("Cache-Control %q, want %q", h.Get("Cache-Control"), c.cache)
			}
			if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				if strings.Contains(string(resp.body), "style=") || strings.Contains(string(resp.body), "<style") {
					t.Errorf("inline style, which the CSP refuses: %s", resp.body)
				}
				for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(string(resp.body), -1) {
					if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) {
						t.Errorf("inline script %s, which the CSP refuses", tag)
					}
				}
			}
		})
	}
}

// TestLoginCSRFAndRedirect: a login posted from another site is refused
// (seen failing with the SameOrigin check of login removed: 303 and a
// session cookie), and next= never leaves the site (seen failing with
// localPath's old rule: Location "/\t/evil.example").
func TestLoginCSRFAndRedirect(t *testing.T) {
	t.Parallel()
	e, u, _ := newEdgeEnv(t)
	for _, origin := range []string{"https://evil.example", "null", strings.Replace(e.http.URL, "http:", "https:", 1)} {
		resp, cookie := e.login(u.Username, "correct horse battery", "Origin", origin)
		if resp.status != 403 || cookie != "" {
			t.Errorf("login from %s: %d, cookie %q", origin, resp.status, cookie)
		}
	}
	resp, cookie := e.login(u.Username, "correct horse battery", "Origin", e.http.URL)
	if resp.status != 303 || cookie == "" {
		t.Fatalf("same-origin login: %d", resp.status)
	}
	c := (&http.Response{Header: resp.header}).Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Errorf("cookie %+v: HttpOnly, SameSite=Lax, not Secure on plain http by default", c)
	}

	for _, next := range []string{"/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "/\n/evil.example", " //evil.example"} {
		form := url.Values{"username": {u.Username}, "password": {"correct horse battery"}, "next": {next}}
		resp := e.do("POST", "/login", "", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		if resp.status != 303 || resp.header.Get("Location") != "/dashboards/" {
			t.Errorf("next=%q: %d Location %q", next, resp.status, resp.header.Get("Location"))
		}
		page := e.do("GET", "/login?next="+url.QueryEscape(next), "", nil)
		if !strings.Contains(string(page.body), `name="next" value="/dashboards/"`) {
			t.Errorf("login form with next=%q: %s", next, page.body)
		}
	}
}

// TestSecureCookieOption: with access.Options.SecureCookie (CALORE_COOKIE_SECURE)
// the session cookie is Secure.
func TestSecureCookieOption(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, func(d *Deps) { d.Access.SecureCookie = true })
	u, _ := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	if err := e.srv.Access().SetPassword(context.Background(), u.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.login(u.Username, "correct horse battery")
	cs := (&http.Response{Header: resp.header}).Cookies()
	if resp.status != 303 || len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly {
		t.Errorf("login: %d cookies %+v", resp.status, cs)
	}
}

// TestBadInputIsNot500: a NUL byte in a query parameter, a JSON body or a
// login form is a 400 naming the field (seen failing with the edge's
// BadText and decode's NUL check removed: 500 "internal error" from
// PostgreSQL), the assets folder itself is a 404 (seen failing as a 500
// before the stat), and constraint errors carry neither PostgreSQL's text
// nor another person's id (seen failing with translate's old messages:
// "Key (event_id)=(999999) is not present in table \"events\"", and with
// the holder's id put back into the taken-email conflict).
func TestBadInputIsNot500(t *testing.T) {
	t.Parallel()
	e, u, tok := newEdgeEnv(t)
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		field              string
	}{
		{"query", "GET", "/api/people?q=Ros%00si", nil, nil, 400, "q"},
		{"query filter", "GET", "/api/people?region=Lomb%00ardia", nil, nil, 400, "region"},
		{"query, invalid utf-8", "GET", "/api/organisations?q=%ff", nil, nil, 400, "q"},
		{"dashboard query", "GET", "/dashboards/data/prospects?course=a%00b", nil, nil, 400, "course"},
		{"json body", "POST", "/api/people", `{"kind":"alumnus","last_name":"Ros\u0000si"}`, nil, 400, "last_name"},
		{"json body, nested", "POST", "/api/people", `{"kind":"alumnus","last_name":"Rossi","emails":[{"type":"personal","address":"a\u0000@example.com"}]}`, nil, 400, "emails[0].address"},
		{"login form", "POST", "/login", strings.NewReader("username=ad%00min&password=x"), []string{"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json"}, 400, "username"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := tok
			if c.path == "/login" {
				token = ""
			}
			resp := e.do(c.method, c.path, token, c.body, c.headers...)
			want(t, resp, c.status, c.name)
			var eb errorBody
			resp.json(t, &eb)
			if eb.Error.Field != c.field || eb.Error.Code != "invalid" {
				t.Errorf("error %s, want field %q", resp.body, c.field)
			}
		})
	}
	for _, p := range []string{"/dashboards/assets/", "/dashboards/assets/nothing.js", "/dashboards/assets/../page.html"} {
		if resp := e.do("GET", p, "", nil); resp.status != 404 {
			t.Errorf("%s: %d, want 404", p, resp.status)
		}
	}

	// constraint errors in Calore's words
	holder := e.do("POST", "/api/people", tok, map[string]any{"kind": "alumnus", "last_name": "Holder",
		"emails": []map[string]any{{"type": "personal", "address": "taken@example.com"}}})
	want(t, holder, 201, "holder")
	var h calore.Person
	holder.json(t, &h)
	resp := e.do("POST", "/api/people", tok, map[string]any{"kind": "alumnus", "last_name": "Other",
		"emails": []map[string]any{{"type": "personal", "address": "TAKEN@example.com"}}})
	want(t, resp, 409, "taken email")
	var eb errorBody
	resp.json(t, &eb)
	if regexp.MustCompile(`\b`+strconv.FormatInt(h.ID, 10)+`\b`).MatchString(eb.Error.Message) || !strings.Contains(eb.Error.Message, "another person") {
		t.Errorf("the conflict names the holder %d: %s", h.ID, resp.body)
	}
	resp = e.do("POST", "/api/registrations", tok, map[string]any{"event_id": 999999, "person_id": h.ID, "status": "registered"})
	want(t, resp, 400, "registration of an unknown event")
	for _, leak := range []string{"Key (", "is not present", "table", "999999", "violates"} {
		if strings.Contains(string(resp.body), leak) {
			t.Errorf("PostgreSQL's text in %s", resp.body)
		}
	}
	if resp.errCode(t) != "invalid" {
		t.Errorf("registration: %s", resp.body)
	}
	_ = u
}
