package api

import (
	"errors"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/ingest/tracking"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/web"
)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calore: log in</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboards/assets/calore.css">
</head><body class="login"><h1>Calore</h1>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<label>Username <input name="username" autocomplete="username" required value="{{.Username}}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{{.Next}}">
<button type="submit">Log in</button>
</form></body></html>
`))

type loginData struct{ Error, Username, Next string }

// localPath keeps a redirect target on this site: a path, never a URL
// to another host (web.LocalPath), else the dashboards.
func localPath(next string) string { return web.LocalPath(next, "/dashboards/") }

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, loginData{Next: localPath(r.URL.Query().Get("next"))})
}

// login checks the form's username and password, opens a session in
// PostgreSQL and sets its cookie: 303 to ?next (a local path) for a form,
// 200 with the user for a JSON client (Accept: application/json). A login
// posted from a page of another site is refused (login CSRF: it would sign
// the victim into the attacker's account).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !web.SameOrigin(r) {
		s.writeError(w, r, calore.Errorf(calore.ErrForbidden, "cross-site login refused"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, invalid("", "a login is a form: username, password"))
		return
	}
	if field := web.BadText(r.PostForm); field != "" {
		s.writeError(w, r, invalid(field, "%s holds a NUL byte or is not UTF-8 text", field))
		return
	}
	username, password := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"))
	wantsJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	id, u, err := s.access.Login(r.Context(), access.LoginAttempt{Username: username, Password: password,
		Address: tracking.ClientIP(r, s.deps.TrustedProxies), UserAgent: r.UserAgent()})
	if err != nil {
		msg, status := "Wrong username or password, or the account is disabled or expired.", http.StatusUnauthorized
		var tm *access.TooManyAttempts
		if errors.As(err, &tm) {
			secs := access.RetryAfterSeconds(tm.RetryAfter)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			msg, status = "Too many failed logins: try again in "+(time.Duration(secs)*time.Second).String()+".", http.StatusTooManyRequests
		} else if !errors.Is(err, access.ErrUnauthenticated) {
			wantsJSON = true
		}
		if wantsJSON {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = loginPage.Execute(w, loginData{Error: msg, Username: username, Next: next})
		return
	}
	c := s.access.SessionCookie(id)
	c.Secure = c.Secure || r.TLS != nil
	http.SetCookie(w, c)
	if wantsJSON {
		writeJSON(w, http.StatusOK, map[string]any{"user": u})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session and clears its cookie; not from another site.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !web.SameOrigin(r) {
		s.writeError(w, r, calore.Errorf(calore.ErrForbidden, "cross-site logout refused"))
		return
	}
	if err := s.access.Logout(r.Context(), r); err != nil {
		s.writeError(w, r, err)
		return
	}
	http.SetCookie(w, s.access.ClearCookie())
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// me is the caller's account: roles, what each resource allows, and the
// expiry warning of a temporary account.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	perms := map[string]string{}
	for _, res := range access.Resources {
		perms[res] = p.Level(res).String()
	}
	out := map[string]any{"user": p.User, "via": p.Via, "permissions": perms}
	scopes := map[string]access.RecordScope{}
	for res := range access.OwnedBy {
		scopes[res] = p.RecordScope(res)
	}
	out["record_scopes"] = scopes // docs/access.md, "Record scopes"
	if p.ExpiresIn != nil {
		days := int(math.Ceil(p.ExpiresIn.Hours() / 24))
		out["expiry_warning"] = map[string]any{"expires_at": p.User.ExpiresAt, "days_left": days,
			"message": "this account expires in " + strconv.Itoa(days) + " days"}
	}
	writeJSON(w, http.StatusOK, out)
}

// auditLog is the audit log for admins, newest first, filtered by user,
// action, entity, record and period; ?before= pages on.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := postgres.AuditQuery{Action: v.Get("action"), Entity: v.Get("entity"), EntityID: v.Get("entity_id")}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"user_id", &q.UserID}, {"before", &q.BeforeID}} {
		if raw := v.Get(p.name); raw != "" {
			if *p.dst, err = strconv.ParseInt(raw, 10, 64); err != nil {
				s.writeError(w, r, invalid(p.name, "%q is not an id", raw))
				return
			}
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if raw := v.Get(p.name); raw != "" {
			if *p.dst, err = parseTime(raw); err != nil {
				s.writeError(w, r, invalid(p.name, "%q is not a date or RFC 3339 time", raw))
				return
			}
		}
	}
	if q.Limit, err = intParam(v.Get("limit"), "limit", 100, 1, 1000); err != nil {
		s.writeError(w, r, err)
		return
	}
	entries, err := s.store.AuditLog(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if entries == nil {
		entries = []calore.AuditEntry{}
	}
	out := map[string]any{"items": entries, "limit": q.Limit}
	if len(entries) == q.Limit {
		out["next_before"] = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
