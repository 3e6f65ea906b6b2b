package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

// pageNames are the templates rendered inside the layout.
var pageNames = []string{"search", "person", "log", "conflict", "erase", "organisation", "error"}

// parsePages parses each page with the layout and the shared partials.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"join": strings.Join,
		"derefF": func(p *float64) float64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"deref": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s page: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// view is what every page's template gets: the layout's data and the
// page's own (Data).
type view struct {
	L         locale
	Base      string
	Title     string
	User      string // who is signed in
	Expires   string // a temporary account's end, when near
	Path      string // the request's path and query, to come back to
	CanSearch bool
	Data      any
}

func (w *Workspace) view(r *http.Request, title string, data any) view {
	v := view{L: pickLocale(r, w.cat), Base: w.deps.Base, Title: title, Path: r.URL.RequestURI(), Data: data}
	if p := w.deps.Principal(r); p != nil {
		v.User = p.User.Username
		if p.User.DisplayName != "" {
			v.User = p.User.DisplayName + " (" + p.User.Username + ")"
		}
		if p.ExpiresIn != nil && p.User.ExpiresAt != nil {
			v.Expires = p.User.ExpiresAt.UTC().Format("2006-01-02")
		}
		v.CanSearch = p.Can(perm(access.People, access.Read))
	}
	return v
}

// render writes a page: into a buffer first, so that a template error is a
// 500 page rather than half a page.
func (w *Workspace) render(rw http.ResponseWriter, r *http.Request, status int, page string, v view) {
	w.renderTemplate(rw, r, status, page, "layout.html", v)
}

// renderPart writes one named template without the layout (an htmx
// partial update).
func (w *Workspace) renderPart(rw http.ResponseWriter, r *http.Request, page, part string, v view) {
	w.renderTemplate(rw, r, http.StatusOK, page, part, v)
}

func (w *Workspace) renderTemplate(rw http.ResponseWriter, r *http.Request, status int, page, name string, v view) {
	var buf bytes.Buffer
	if err := w.pages[page].ExecuteTemplate(&buf, name, v); err != nil {
		w.deps.Logger.Error("workspace: render", "page", page, "err", err, "request_id", middleware.GetReqID(r.Context()))
		http.Error(rw, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Vary", "Accept-Language, Cookie, HX-Request")
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Status    int
	Heading   string
	Message   string
	RequestID string
}

// fail renders an error as a page with a way back: the domain error's
// message for the user, never internals.
func (w *Workspace) fail(rw http.ResponseWriter, r *http.Request, err error) {
	l := pickLocale(r, w.cat)
	e := errorPage{Status: http.StatusInternalServerError, Heading: l.T("Something went wrong"), RequestID: middleware.GetReqID(r.Context())}
	var ce *calore.Error
	switch {
	case errors.Is(err, calore.ErrForbidden):
		e.Status, e.Heading, e.Message = http.StatusForbidden, l.T("Not allowed"), l.T("Your roles do not allow this page.")
	case errors.Is(err, calore.ErrNotFound):
		e.Status, e.Heading = http.StatusNotFound, l.T("Not found")
	case errors.Is(err, calore.ErrInvalid):
		e.Status = http.StatusBadRequest
	case errors.Is(err, calore.ErrUnavailable):
		e.Status = http.StatusServiceUnavailable
	}
	if errors.As(err, &ce) && e.Status != http.StatusForbidden {
		e.Message = ce.Message
	}
	if e.Status >= 500 {
		w.deps.Logger.Error("workspace", "path", r.URL.Path, "err", err, "request_id", e.RequestID)
	}
	w.render(rw, r, e.Status, "error", w.view(r, e.Heading, e))
}
