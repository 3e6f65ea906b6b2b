// Package workspace is the staff workspace (issue 15, docs/workspace.md):
// server-rendered pages where the offices look people and organisations up,
// read a person's 360° page and log a contact report. Pages are html/template
// files embedded in the binary with one layout, phone-first CSS and htmx for
// partial updates, all under the strict CSP of package web (no inline script
// or style). Italian and English come from a message catalogue.
//
// The package holds no SQL: handlers read through the small interfaces
// below (the PostgreSQL store and the warehouse timeline satisfy them; tests
// use in-memory fakes), and every page needs the same permission of the one
// access policy as its API read (Pages). Package api mounts the workspace
// behind its login and puts the user in the request (Deps.Principal).
package workspace

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/text/message/catalog"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the pages read from the operational store
// (*postgres.Store). Office-owned records (interactions, donations) are read
// only through the scoped methods, with the caller's record scope.
type Store interface {
	Directory(ctx context.Context, q postgres.DirectoryQuery) ([]postgres.DirectoryEntry, error)
	Person(ctx context.Context, id int64) (*calore.Person, error)
	PersonScores(ctx context.Context, personID int64) (json.RawMessage, error)
	FindDuplicatePeople(ctx context.Context, q postgres.DuplicateQuery) ([]calore.DuplicateCandidate, error)
	ListAffiliations(ctx context.Context, f postgres.Filter) ([]*calore.Affiliation, error)
	ListConsents(ctx context.Context, f postgres.Filter) ([]*calore.Consent, error)
	ListRegistrations(ctx context.Context, f postgres.Filter) ([]*calore.Registration, error)
	ListPartnerships(ctx context.Context, f postgres.Filter) ([]*calore.Partnership, error)
	ListResearchContracts(ctx context.Context, f postgres.Filter) ([]*calore.ResearchContract, error)
	Event(ctx context.Context, id int64) (*calore.CalendarEvent, error)
	Organisation(ctx context.Context, id int64) (*calore.Organisation, error)
	ClusterOf(ctx context.Context, organisationID int64) (*postgres.OrganisationCluster, error)
	InteractionIn(ctx context.Context, sc postgres.Scope, id int64) (*calore.Interaction, error)
	SearchInteractionsIn(ctx context.Context, sc postgres.Scope, q postgres.SearchQuery) ([]*calore.Interaction, int64, error)
	SearchDonationsIn(ctx context.Context, sc postgres.Scope, q postgres.SearchQuery) ([]*calore.Donation, int64, error)
}

// Writer makes the workspace's changes, each in one transaction with its
// audit line, for the request's user (api.WorkspaceWriter).
type Writer interface {
	CreateInteraction(r *http.Request, sc postgres.Scope, in *calore.Interaction) error
	UpdateInteraction(r *http.Request, sc postgres.Scope, in *calore.Interaction) error
	ErasePerson(r *http.Request, id int64, reason string) error
}

// Events reads a person's warehouse events (warehouse.Timeline).
type Events interface {
	PersonEvents(ctx context.Context, personID int64, limit int) ([]warehouse.PersonEvent, error)
}

// Auditor writes the audit line of a read of personal data with the ids
// shown (api.DashboardAudit).
type Auditor func(r *http.Request, action, entity string, ids []int64, extra map[string]string) error

// Deps is what the workspace runs on. Store, Writer, Principal and Audit are
// required; without Events the timeline shows store records only.
type Deps struct {
	Store     Store
	Writer    Writer
	Events    Events
	Audit     Auditor
	Principal func(*http.Request) *access.Principal // the signed-in user (api.Principal)
	Logger    *slog.Logger
	Now       func() time.Time
	Base      string // where the workspace is mounted; "" = "/workspace"
}

// Page is one route of the workspace and the permission of the access
// policy it needs: the same as the API's read of its resource.
type Page struct {
	Method  string
	Pattern string
	Perm    access.Permission
}

func perm(res string, a access.Action) access.Permission {
	return access.Permission{Resource: res, Action: a}
}

// Pages lists every route with its permission; the router and the RBAC
// tests read it.
var Pages = []Page{
	{http.MethodGet, "/", perm(access.People, access.Read)},
	{http.MethodGet, "/people/{id}", perm(access.People, access.Read)},
	{http.MethodGet, "/people/{id}/timeline", perm(access.People, access.Read)},
	{http.MethodGet, "/people/{id}/log", perm(access.Interactions, access.Write)},
	{http.MethodPost, "/people/{id}/log", perm(access.Interactions, access.Write)},
	{http.MethodGet, "/people/{id}/erase", perm(access.GDPR, access.Write)},
	{http.MethodPost, "/people/{id}/erase", perm(access.GDPR, access.Write)},
	{http.MethodGet, "/organisations/{id}", perm(access.Organisations, access.Read)},
	{http.MethodPost, "/language", perm(access.Self, access.Read)},
}

// Workspace serves the pages.
type Workspace struct {
	deps  Deps
	cat   catalog.Catalog
	pages map[string]*template.Template
	h     http.Handler
}

// New builds the workspace's router.
func New(deps Deps) (*Workspace, error) {
	var errs []error
	if deps.Store == nil {
		errs = append(errs, errors.New("a store is required"))
	}
	if deps.Writer == nil {
		errs = append(errs, errors.New("a writer is required"))
	}
	if deps.Principal == nil {
		errs = append(errs, errors.New("a principal function is required"))
	}
	if deps.Audit == nil {
		errs = append(errs, errors.New("an auditor is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Base == "" {
		deps.Base = "/workspace"
	}
	cat, err := newCatalog()
	if err != nil {
		return nil, fmt.Errorf("workspace: catalogue: %w", err)
	}
	w := &Workspace{deps: deps, cat: cat}
	if w.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	handlers := map[string]http.HandlerFunc{
		"GET /":                     w.search,
		"GET /people/{id}":          w.person,
		"GET /people/{id}/timeline": w.timelinePart,
		"GET /people/{id}/log":      w.logForm,
		"POST /people/{id}/log":     w.logPost,
		"GET /people/{id}/erase":    w.eraseForm,
		"POST /people/{id}/erase":   w.erasePost,
		"GET /organisations/{id}":   w.organisation,
		"POST /language":            w.language,
	}
	r := chi.NewRouter()
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	r.Handle("/static/*", http.StripPrefix(deps.Base+"/static/", staticHandler(static)))
	for _, p := range Pages {
		h, ok := handlers[p.Method+" "+p.Pattern]
		if !ok {
			return nil, fmt.Errorf("workspace: no handler for %s %s", p.Method, p.Pattern)
		}
		r.Method(p.Method, p.Pattern, w.guard(p.Perm, h))
	}
	r.NotFound(func(rw http.ResponseWriter, req *http.Request) {
		w.fail(rw, req, calore.Errorf(calore.ErrNotFound, "no page %s", req.URL.Path))
	})
	w.h = r
	return w, nil
}

// ServeHTTP serves a request under the mount point.
func (w *Workspace) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.h.ServeHTTP(rw, r) }

// staticHandler serves the embedded CSS and scripts; they change only with
// the binary.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// guard checks the page's permission against the one access policy: a user
// without it gets a 403 page (the API's guard has already signed the user
// in and refused cross-site changes).
func (w *Workspace) guard(need access.Permission, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := w.deps.Principal(r)
		if p == nil {
			w.fail(rw, r, calore.Errorf(calore.ErrForbidden, "not signed in"))
			return
		}
		if !p.Can(need) {
			w.fail(rw, r, calore.Errorf(calore.ErrForbidden, "your roles do not allow %s on %s", need.Action, need.Resource))
			return
		}
		h(rw, r)
	})
}
