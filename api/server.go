package api

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse/kpiq"
	"github.com/calore-crm/calore/web"
)

// Targets are the institutional fundraising levels of a year (R6.5), EUR:
// the dashboards' own type, so both read one configuration.
type Targets = kpiq.Targets

// DefaultTargets are those of seed 002: 2.7 / 2.8 / 3.1 M EUR.
var DefaultTargets = kpiq.DefaultFundraisingTargets

// Deps is what the server runs on. Pool is required; the rest is optional:
// without Warehouse the warehouse routes answer 503, and each nil handler
// leaves its mount point empty.
type Deps struct {
	Pool         *pgxpool.Pool
	Warehouse    driver.Conn
	KafkaBrokers []string       // checked by /readyz
	KafkaSASL    sasl.Mechanism // how /readyz authenticates to Kafka (nil: no SASL)
	Logger       *slog.Logger

	Tracking   http.Handler          // mounted at /t (ingest/tracking)
	Metrics    http.Handler          // GET /metrics
	Health     func() map[string]any // extra fields of GET /healthz
	Dashboards http.Handler          // mounted at /dashboards (package dashboards)
	Workspace  http.Handler          // mounted at /workspace (package workspace)

	Targets   Targets        // zero: DefaultTargets
	Access    access.Options // sessions, expiry warning, clock
	Now       func() time.Time
	UploadDir string // where uploaded import files wait; "" = the system temp dir
	MaxUpload int64  // bytes; 0 = 200 MB

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client of a login (CALORE_TRACKING_TRUSTED_PROXIES); otherwise the
	// connection's address is the client's.
	TrustedProxies []netip.Prefix
	// PublicURL is where users open Calore (CALORE_PUBLIC_URL); nil: each
	// request's own scheme and host. The same-origin rule compares with it
	// (package web).
	PublicURL *url.URL
}

// Server is Calore's HTTP surface: the REST API under /api, login and
// logout, health, and the mount points of tracking and dashboards.
type Server struct {
	deps   Deps
	store  *postgres.Store
	access *access.Service
	log    *slog.Logger
	now    func() time.Time
	router chi.Router
	routes []route
	jobs   *jobs
	ctx    context.Context // lives until Close: background imports
	cancel context.CancelFunc
}

// route is one endpoint: the table the router, the RBAC test and the
// OpenAPI test all read.
type route struct {
	method  string
	pattern string
	perm    access.Permission
	handler http.HandlerFunc
}

// NewServer builds the router.
func NewServer(deps Deps) (*Server, error) {
	if deps.Pool == nil {
		return nil, fmt.Errorf("api: a PostgreSQL pool is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Targets == (Targets{}) {
		deps.Targets = DefaultTargets
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Access.Now == nil {
		deps.Access.Now = deps.Now
	}
	if deps.MaxUpload <= 0 {
		deps.MaxUpload = 200 << 20
	}
	store := postgres.NewStore(deps.Pool)
	acc, err := access.NewService(store, deps.Access)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{deps: deps, store: store, access: acc, log: deps.Logger, now: deps.Now, jobs: newJobs(), ctx: ctx, cancel: cancel}
	s.routes = s.routeTable()
	s.router = s.newRouter()
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Access is the access service, for commands that log users in or make tokens.
func (s *Server) Access() *access.Service { return s.access }

// Close stops the background imports and waits for them up to ctx.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	return s.jobs.wait(ctx)
}

func (s *Server) newRouter() chi.Router {
	r := chi.NewRouter()
	// The HTTP edge (package web) wraps every route, the mounted dashboards
	// and tracking included: security headers, no-store, query text checks.
	r.Use(middleware.RequestID, requestIDHeader, s.edge, middleware.Recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, calore.Errorf(calore.ErrNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed",
			Message: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), RequestID: middleware.GetReqID(r.Context())}})
	})
	// Mount points of the other parts of `calore serve`.
	if s.deps.Tracking != nil {
		r.Mount("/t", s.deps.Tracking) // ingest/tracking: opens, clicks, web beacon
	}
	if s.deps.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", s.deps.Metrics)
	}
	if s.deps.Dashboards != nil {
		r.Mount("/dashboards", s.guardDashboards(s.deps.Dashboards)) // package dashboards: dashboards.Routes(deps)
	}
	if s.deps.Workspace != nil {
		r.Mount("/workspace", s.guardWorkspace(s.deps.Workspace)) // package workspace: the staff pages
	}
	for _, rt := range s.routes {
		r.With(s.authorize(rt.perm)).Method(rt.method, rt.pattern, rt.handler)
	}
	return r
}

// edge is package web's layer, answering bad input in the API's error shape.
func (s *Server) edge(next http.Handler) http.Handler {
	return web.Handler(web.Options{PublicURL: s.deps.PublicURL, Invalid: func(w http.ResponseWriter, r *http.Request, field, msg string) {
		s.writeError(w, r, invalid(field, "%s", msg))
	}}, next)
}

// requestIDHeader echoes chi's request id in the response.
func requestIDHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", middleware.GetReqID(r.Context()))
		next.ServeHTTP(w, r)
	})
}

type principalKey struct{}

// principal is the user of a request that went through authorize.
func principal(r *http.Request) *access.Principal {
	p, _ := r.Context().Value(principalKey{}).(*access.Principal)
	return p
}

// authorize lets a request through when its user may do perm: a session
// cookie or bearer token (401 without), the route's permission in the
// matrix (403 without), and for a cookie session changing data, a same-origin
// request (403 otherwise: the cookie must not be usable from another site).
// A temporary account near its end gets a warning header on every response.
func (s *Server) authorize(perm access.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if perm == access.Public {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := s.signIn(w, r, false, true)
			if p == nil {
				return
			}
			if !p.Can(perm) {
				s.writeError(w, r, calore.Errorf(calore.ErrForbidden, "your roles do not allow %s on %s", perm.Action, perm.Resource))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		})
	}
}

// warnExpiry tells a temporary account near its end, on every response.
func warnExpiry(w http.ResponseWriter, p *access.Principal) {
	if p.ExpiresIn == nil {
		return
	}
	days := int(math.Ceil(p.ExpiresIn.Hours() / 24))
	w.Header().Set("Calore-Account-Expires", p.User.ExpiresAt.UTC().Format(time.RFC3339))
	w.Header().Set("Warning", fmt.Sprintf(`299 calore "this account expires in %d days, on %s"`, days, p.User.ExpiresAt.UTC().Format(time.DateOnly)))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// CurrentUser tells the dashboards who is signed in: the user of a request
// that went through the server's access check (dashboards.Deps.CurrentUser).
func CurrentUser(r *http.Request) (int64, bool) {
	p := principal(r)
	if p == nil {
		return 0, false
	}
	return p.User.ID, true
}

// CurrentUserName names the user of a request that went through the
// server's access check, for the dashboards' header
// (dashboards.Deps.UserName); "" for nobody.
func CurrentUserName(r *http.Request) string {
	p := principal(r)
	if p == nil {
		return ""
	}
	return p.User.Username
}

// widgetScopes are the dashboard widgets that show data of a restricted
// resource; every other widget is for any signed-in user (access.Self).
var widgetScopes = map[string]string{
	"prospects":        access.Predictions,
	"fundraising":      access.KPIDonations,
	"companies":        access.KPIContracts, // "Companies and contracts": research contracts inside
	"clusters":         access.Clusters,
	"cluster_profiles": access.Clusters,
}

// dashboardScopes are the built-in dashboards whose purpose is restricted
// data (paths under /dashboards).
var dashboardScopes = map[string]string{
	"/fundraisers": access.Predictions,
	"/companies":   access.Clusters,
}

// CanSeeWidget reports whether the user of a request that went through the
// dashboards' access check may see a widget's data. The dashboards package
// can use it to leave out (or refuse) widgets on mixed pages such as the
// managers' one and on saved dashboards.
func CanSeeWidget(r *http.Request, widget string) bool {
	res, ok := widgetScopes[widget]
	if !ok {
		res = access.Self
	}
	return principal(r).Can(perm(res, access.Read))
}

// dashboardPerm is what a path under /dashboards needs.
func dashboardPerm(rest string) access.Permission {
	if w, ok := strings.CutPrefix(rest, "/data/"); ok {
		if res, ok := widgetScopes[w]; ok {
			return perm(res, access.Read)
		}
	}
	for prefix, res := range dashboardScopes {
		if rest == prefix || strings.HasPrefix(rest, prefix+"/") {
			return perm(res, access.Read)
		}
	}
	return perm(access.Self, access.Read)
}

// signIn is the sign-in check of every guard (the API's authorize, the
// dashboards', the workspace's): it authenticates the session or token,
// warns a temporary account near its end, and refuses a session changing
// data from another site. On failure it has answered and returns nil: an
// unauthenticated request goes to the login page when redirect is set (a
// browser's page), else gets the error, with a Bearer challenge when
// challenge is set (the API).
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, redirect, challenge bool) *access.Principal {
	p, err := s.access.Authenticate(r.Context(), r)
	if err != nil {
		if errorsIsUnauth(err) && redirect {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil
		}
		if errorsIsUnauth(err) && challenge {
			w.Header().Set("WWW-Authenticate", `Bearer realm="calore"`)
		}
		s.writeError(w, r, err)
		return nil
	}
	warnExpiry(w, p)
	if p.Via == "session" && !safeMethod(r.Method) && !web.SameOrigin(r) {
		s.writeError(w, r, calore.Errorf(calore.ErrForbidden, "cross-site request refused"))
		return nil
	}
	return p
}

// guardDashboards puts the dashboards behind the login: a browser without a
// session goes to /login and comes back; the restricted dashboards need
// their resource; the ECharts assets are public.
func (s *Server) guardDashboards(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/dashboards")
		if strings.HasPrefix(rest, "/assets/") {
			h.ServeHTTP(w, r)
			return
		}
		p := s.signIn(w, r, r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html"), false)
		if p == nil {
			return
		}
		if need := dashboardPerm(rest); !p.Can(need) {
			s.writeError(w, r, calore.Errorf(calore.ErrForbidden, "your roles do not allow %s on %s", need.Action, need.Resource))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		// Personal data on the dashboards (the prospects, on any page, saved
		// dashboards included, their JSON and CSV) is audited by package
		// dashboards where it is read, with the ids shown (DashboardAudit).
		h.ServeHTTP(w, r)
	})
}

// Principal is the user of a request that went through the server's access
// check (the staff workspace's workspace.Deps.Principal).
func Principal(r *http.Request) *access.Principal { return principal(r) }

// guardWorkspace puts the staff workspace (package workspace) behind the
// login as guardDashboards does: a browser without a session goes to /login
// and comes back, a change from another site is refused, the user goes into
// the request; each page then checks its own permission of the one policy
// (workspace.Pages). Its CSS and script are public.
func (s *Server) guardWorkspace(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/workspace/static/") {
			h.ServeHTTP(w, r)
			return
		}
		p := s.signIn(w, r, r.Method == http.MethodGet, false)
		if p == nil {
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
