package dashboards

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
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/dashboards/saved"
	"github.com/calore-crm/calore/internal/spreadsheet"
	"github.com/calore-crm/calore/warehouse/kpiq"
	"github.com/calore-crm/calore/web"
)

//go:embed assets/echarts.min.js assets/calore.css assets/calore.js assets/LICENSE-echarts assets/NOTICE-echarts assets/LICENSE-d3
var assets embed.FS

//go:embed page.html
var pageHTML string

// Deps is what the dashboards need. Warehouse runs every dashboard query;
// Store holds only the saved dashboards' definitions.
type Deps struct {
	Warehouse driver.Conn
	Store     *pgxpool.Pool
	Logger    *slog.Logger
	// CurrentUser tells who is asking (package api/access); !ok means nobody
	// is signed in: the dashboards still show, saving does not.
	CurrentUser func(*http.Request) (userID int64, ok bool)
	// UserName names who is signed in, for the header (api.CurrentUserName);
	// nil shows nobody.
	UserName func(*http.Request) string
	// CanSee tells whether the asking user's role may see a widget's data
	// (api.CanSeeWidget); nil lets everyone see everything. Pages mixing
	// widgets (the managers' one, saved dashboards) leave out the others.
	CanSee func(r *http.Request, widget string) bool
	// Audit writes the audit line of personal data shown (R7.3): action
	// "read" (a page, a saved dashboard or a widget's JSON with the
	// prospects) or "export" (the prospects CSV), the entity ("donor_scores")
	// and the ids of the people shown (api.DashboardAudit). When it fails the
	// people are not shown. nil audits nothing (tests of drawing only).
	Audit   func(r *http.Request, action, entity string, ids []int64, extra map[string]string) error
	Targets kpiq.Targets     // fundraising levels; zero means kpiq.DefaultFundraisingTargets
	Now     func() time.Time // the clock; nil means time.Now
	// BasePath is where Routes is mounted, for links and the ECharts
	// assets; "" means "/dashboards".
	BasePath string
}

type server struct {
	deps  Deps
	base  string
	saved *saved.Store
	page  *template.Template
}

// Routes returns the dashboards' handler, to mount at deps.BasePath:
//
//	GET  /                         index: built-in and saved dashboards, composer
//	GET  /{managers|fundraisers|companies|engagement}
//	GET  /fundraisers/prospects.csv  the prospect list as CSV
//	GET  /data/{widget}            a widget's data as JSON (same filters)
//	GET  /my/{id}                  a saved dashboard
//	POST /my                       save a dashboard (name, widget…, filters)
//	POST /my/{id}/delete           delete one
//	GET  /assets/*                 ECharts and the page's CSS and JS, from the binary
//
// Filters are query parameters: from, to (YYYY-MM-DD, period [from, to)),
// office, segment, and for prospects tier, heat, cohort, course, country,
// limit.
func Routes(deps Deps) http.Handler {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Targets == (kpiq.Targets{}) {
		deps.Targets = kpiq.DefaultFundraisingTargets
	}
	if deps.CurrentUser == nil {
		deps.CurrentUser = func(*http.Request) (int64, bool) { return 0, false }
	}
	s := &server{deps: deps, base: strings.TrimSuffix(deps.BasePath, "/")}
	if deps.BasePath == "" {
		s.base = "/dashboards"
	}
	if deps.Store != nil {
		s.saved = saved.New(deps.Store)
	}
	s.page = template.Must(template.New("page").Funcs(template.FuncMap{"join": strings.Join}).Parse(pageHTML))

	r := chi.NewRouter()
	sub, _ := fs.Sub(assets, "assets")
	r.Get("/assets/*", func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "*")
		if fi, err := fs.Stat(sub, name); err != nil || fi.IsDir() { // no listing of the folder itself
			s.fail(w, r, fmt.Errorf("asset %q: %w", name, calore.ErrNotFound))
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeFileFS(w, r, sub, name)
	})
	r.Get("/", s.index)
	r.Get("/data/{widget}", s.data)
	r.Get("/fundraisers/prospects.csv", s.prospectsCSV)
	r.Get("/my/{id}", s.mine)
	r.Post("/my", s.save)
	r.Post("/my/{id}/delete", s.remove)
	r.Get("/{slug}", s.builtin)
	return r
}

// pageData is what page.html renders.
type pageData struct {
	Base      string
	Title     string
	Help      string
	Nav       []dashboard
	Active    string
	Query     template.URL // the filters, encoded by url.Values (a query string: not escaped again)
	User      string       // who is signed in
	P         params
	Offices   []string
	Segments  []string
	Prospect  bool // show the prospect filters
	Cards     []card
	Scripts   []string
	Saved     []saved.Dashboard
	SignedIn  bool
	Composer  []widget
	SaveWith  []string // widgets to save from this page
	SavedID   int64    // viewing a saved dashboard
	Errors    []string
	Generated string
	DataAsOf  string // when the rollups the widgets read were refreshed; "" never
}

type card struct {
	widget
	view
	DataURL string
	CSVURL  string
	Err     string
	values  any // the widget's data, before drawing
}

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	p, err := parseParams(r.URL.Query(), s.deps.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := s.pageData(r, p, "Calore dashboards", "Choose a dashboard, or compose your own from the widgets below and save it with the current filters.")
	s.render(w, r, d)
}

func (s *server) builtin(w http.ResponseWriter, r *http.Request) {
	db, ok := builtin(chi.URLParam(r, "slug"))
	if !ok {
		s.fail(w, r, fmt.Errorf("dashboard %q: %w", chi.URLParam(r, "slug"), calore.ErrNotFound))
		return
	}
	p, err := parseParams(r.URL.Query(), s.deps.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := s.pageData(r, p, db.Title, db.Help)
	d.Active = db.Slug
	d.Composer = nil
	d.SaveWith = db.Widgets
	d.Cards = s.cards(r, p, db.Widgets)
	s.finish(&d)
	s.render(w, r, d)
}

func (s *server) mine(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deps.CurrentUser(r)
	if !ok || s.saved == nil {
		s.fail(w, r, fmt.Errorf("saved dashboards need a signed-in user: %w", calore.ErrForbidden))
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, fmt.Errorf("dashboard %q: %w", chi.URLParam(r, "id"), calore.ErrNotFound))
		return
	}
	sd, err := s.saved.Get(r.Context(), uid, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	if len(q) == 0 {
		for k, v := range sd.Filters {
			q.Set(k, v)
		}
	}
	p, err := parseParams(q, s.deps.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := s.pageData(r, p, sd.Name, "Your saved dashboard.")
	d.Composer = nil
	d.SavedID = sd.ID
	d.Cards = s.cards(r, p, sd.Widgets)
	s.finish(&d)
	s.render(w, r, d)
}

func (s *server) save(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deps.CurrentUser(r)
	if !ok || s.saved == nil {
		s.fail(w, r, fmt.Errorf("saving a dashboard needs a signed-in user: %w", calore.ErrForbidden))
		return
	}
	if !web.SameOrigin(r) {
		s.fail(w, r, fmt.Errorf("cross-site form: %w", calore.ErrForbidden))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, fmt.Errorf("%w: %w", calore.ErrInvalid, err))
		return
	}
	if field := web.BadText(r.PostForm); field != "" {
		s.fail(w, r, fmt.Errorf("%w: %s holds a NUL byte or is not UTF-8 text", calore.ErrInvalid, field))
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	var ws []string
	for _, n := range r.PostForm["widget"] {
		if _, ok := widgetByName(n); !ok {
			s.fail(w, r, fmt.Errorf("%w: unknown widget %q", calore.ErrInvalid, n))
			return
		}
		ws = append(ws, n)
	}
	if name == "" || len(name) > 200 || len(ws) == 0 || len(ws) > 50 {
		s.fail(w, r, fmt.Errorf("%w: a dashboard needs a name (at most 200 characters) and 1-50 widgets", calore.ErrInvalid))
		return
	}
	p, err := parseParams(r.PostForm, s.deps.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sd, err := s.saved.Create(r.Context(), saved.Dashboard{UserID: uid, Name: name, Widgets: ws, Filters: p.Filters()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/my/%d", s.base, sd.ID), http.StatusSeeOther)
}

func (s *server) remove(w http.ResponseWriter, r *http.Request) {
	uid, ok := s.deps.CurrentUser(r)
	if !ok || s.saved == nil {
		s.fail(w, r, fmt.Errorf("deleting a dashboard needs a signed-in user: %w", calore.ErrForbidden))
		return
	}
	if !web.SameOrigin(r) {
		s.fail(w, r, fmt.Errorf("cross-site form: %w", calore.ErrForbidden))
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, fmt.Errorf("dashboard %q: %w", chi.URLParam(r, "id"), calore.ErrNotFound))
		return
	}
	if err := s.saved.Delete(r.Context(), uid, id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, s.base+"/", http.StatusSeeOther)
}

// data serves one widget's data as JSON, with the filters it was computed
// for: the trace of every number a card shows.
func (s *server) data(w http.ResponseWriter, r *http.Request) {
	wd, ok := widgetByName(chi.URLParam(r, "widget"))
	if !ok {
		s.fail(w, r, fmt.Errorf("widget %q: %w", chi.URLParam(r, "widget"), calore.ErrNotFound))
		return
	}
	p, err := parseParams(r.URL.Query(), s.deps.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := wd.data(r.Context(), s, p)
	if err != nil {
		s.fail(w, r, fmt.Errorf("widget %s: %w", wd.Name, err))
		return
	}
	if err := s.audit(r, "read", wd.Name, v); err != nil {
		s.fail(w, r, err)
		return
	}
	rollupsAsOf := "" // when the rollups the rollup widgets read were refreshed (docs/dashboards.md)
	if ref, err := kpiq.LatestRefresh(r.Context(), s.deps.Warehouse); err != nil {
		s.fail(w, r, err)
		return
	} else if ref != nil {
		rollupsAsOf = ref.FinishedAt.UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"widget":        wd.Name,
		"rollups_as_of": rollupsAsOf,
		"title":         wd.Title,
		"help":          wd.Help,
		"filters_used":  wd.Filters,
		"from":          p.Filter.From.Format("2006-01-02"),
		"to":            p.Filter.To.Format("2006-01-02"),
		"office":        p.Filter.Office,
		"segment":       p.Filter.Segment,
		"source":        "clickhouse",
		"generated_at":  s.deps.Now().UTC().Format(time.RFC3339),
		"data":          v,
	})
}

// prospectsCSV exports the prospect list with the page's filters (up to
// limit rows, kpiq.MaxProspectLimit by default).
func (s *server) prospectsCSV(w http.ResponseWriter, r *http.Request) {
	p, err := parseParams(r.URL.Query(), s.deps.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Prospect.Limit == 0 {
		p.Prospect.Limit = kpiq.MaxProspectLimit
	}
	res, err := kpiq.Prospects(r.Context(), s.deps.Warehouse, p.Filter, p.Prospect)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.audit(r, "export", "prospects", res); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="prospects-%s.csv"`, res.Scores.AsOf))
	_, _ = w.Write([]byte("\ufeff"))  // Excel reads UTF-8 with a BOM, as the API's exports
	cw := spreadsheet.NewCSVWriter(w) // formula-safe cells (CSV injection)
	_ = cw.Write([]string{"rank", "person_id", "name", "graduation_year", "degree_course", "country", "probability", "tier",
		"expected_amount_eur", "suggested_ask_eur", "heat", "reasons", "last_gift_at", "last_gift_eur", "model_version", "as_of", "heat_model_version", "heat_as_of"})
	for i, x := range res.Prospects {
		var reasons []string
		for _, rr := range x.Reasons {
			reasons = append(reasons, rr.Text)
		}
		gy := ""
		if x.GraduationYear > 0 {
			gy = strconv.FormatInt(x.GraduationYear, 10)
		}
		gift := ""
		if x.LastGiftAt != "" {
			gift = strconv.FormatFloat(x.LastGiftAmount, 'f', 2, 64)
		}
		_ = cw.Write([]string{strconv.Itoa(i + 1), strconv.FormatInt(x.PersonID, 10), x.Name, gy, x.Course, x.Country,
			strconv.FormatFloat(x.Probability, 'f', 4, 64), x.Tier, strconv.FormatFloat(x.ExpectedAmount, 'f', 2, 64),
			strconv.FormatFloat(x.SuggestedAsk, 'f', 2, 64), strconv.Itoa(x.Heat), strings.Join(reasons, "; "), x.LastGiftAt, gift,
			res.Scores.Version, res.Scores.AsOf, res.Heat.Version, res.Heat.AsOf})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.deps.Logger.ErrorContext(r.Context(), "write prospects csv", "err", err)
	}
}

// cards runs the widgets' queries (in parallel; widgets sharing a source
// share one query) and keeps their data for drawing. A widget the user's
// role may not see (Deps.CanSee) is neither queried nor drawn.
func (s *server) cards(r *http.Request, p params, names []string) []card {
	ctx := r.Context()
	out := make([]card, len(names))
	type result struct {
		v   any
		err error
	}
	results := map[string]*result{}
	var wg sync.WaitGroup
	q := p.query()
	for i, n := range names {
		wd, ok := widgetByName(n)
		if !ok {
			out[i] = card{widget: widget{Name: n, Title: n}, Err: "This widget no longer exists."}
			continue
		}
		if s.deps.CanSee != nil && !s.deps.CanSee(r, wd.Name) {
			out[i] = card{widget: wd, Err: "Your role does not give access to this widget's data."}
			continue
		}
		out[i] = card{widget: wd, DataURL: s.base + "/data/" + wd.Name + "?" + q.Encode()}
		if wd.Name == "prospects" {
			out[i].CSVURL = s.base + "/fundraisers/prospects.csv?" + q.Encode()
		}
		key := wd.source
		if key == "" {
			key = wd.Name
		}
		if results[key] != nil {
			continue
		}
		r := &result{}
		results[key] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.v, r.err = wd.data(ctx, s, p)
		}()
	}
	wg.Wait()
	for i := range out {
		c := &out[i]
		if c.Err != "" {
			continue
		}
		key := c.source
		if key == "" {
			key = c.Name
		}
		res := results[key]
		if res.err != nil {
			s.deps.Logger.ErrorContext(ctx, "dashboard widget", "widget", c.Name, "err", res.err)
			c.Err = "Could not load this widget's data; the error is logged."
			continue
		}
		if err := s.audit(r, "read", c.Name, res.v); err != nil {
			s.deps.Logger.ErrorContext(ctx, "dashboard widget: audit", "widget", c.Name, "err", err)
			c.Err = "Could not write the audit line of this widget's personal data; the error is logged."
			continue
		}
		c.values = res.v
	}
	return out
}

// audit writes the audit line of a widget's data when it shows people (the
// prospects: names of donor prospects): their ids, with the widget's name.
// Other widgets' data (aggregates, organisations) is not personal.
func (s *server) audit(r *http.Request, action, widget string, v any) error {
	res, ok := v.(kpiq.ProspectsResult)
	if !ok || s.deps.Audit == nil {
		return nil
	}
	ids := make([]int64, len(res.Prospects))
	for i, x := range res.Prospects {
		ids[i] = x.PersonID
	}
	if err := s.deps.Audit(r, action, "donor_scores", ids, map[string]string{"via": "dashboards", "widget": widget}); err != nil {
		return fmt.Errorf("audit %s of widget %s: %w", action, widget, err)
	}
	return nil
}

func (s *server) pageData(r *http.Request, p params, title, help string) pageData {
	d := pageData{Base: s.base, Title: title, Help: help, Nav: builtins, P: p, Query: template.URL(p.query().Encode()),
		Offices: Offices, Segments: Segments, Composer: widgets, Generated: s.deps.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if ref, err := kpiq.LatestRefresh(r.Context(), s.deps.Warehouse); err != nil {
		s.deps.Logger.ErrorContext(r.Context(), "latest rollup refresh", "err", err)
	} else if ref != nil {
		d.DataAsOf = ref.FinishedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if s.deps.UserName != nil {
		d.User = s.deps.UserName(r)
	}
	if uid, ok := s.deps.CurrentUser(r); ok && s.saved != nil {
		d.SignedIn = true
		list, err := s.saved.List(r.Context(), uid)
		if err != nil {
			s.deps.Logger.ErrorContext(r.Context(), "list saved dashboards", "user", uid, "err", err)
		}
		d.Saved = list
	}
	return d
}

// finish draws the cards (drawing is not safe in parallel: one chartMaker
// numbers the charts of the page) and collects the scripts they need.
func (s *server) finish(d *pageData) {
	cm := &chartMaker{assetsHost: s.base + "/assets/", prefix: "w"}
	for i := range d.Cards {
		c := &d.Cards[i]
		if c.Err != "" || c.draw == nil || c.values == nil {
			continue
		}
		c.view = c.draw(c.values, cm)
		if c.Name == "prospects" {
			d.Prospect = true
		}
	}
	d.Scripts = cm.js
	if len(d.Scripts) == 0 {
		d.Scripts = []string{s.base + "/assets/echarts.min.js"}
	}
}

func (s *server) render(w http.ResponseWriter, r *http.Request, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.page.Execute(w, d); err != nil {
		s.deps.Logger.ErrorContext(r.Context(), "render dashboard", "title", d.Title, "err", err)
	}
}

// fail answers with the status of err's kind; internals are logged, not shown.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error; it is logged"
	switch {
	case errors.Is(err, calore.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, calore.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, calore.ErrForbidden):
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, calore.ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, context.Canceled):
		return
	default:
		s.deps.Logger.ErrorContext(r.Context(), "dashboards", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if strings.Contains(r.URL.Path, "/data/") || strings.HasSuffix(r.URL.Path, ".csv") || strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	if status == http.StatusBadRequest && r.Method == http.MethodGet {
		// a bad filter: the page with the default filters, the error next
		// to the filter form and a way back
		p, perr := parseParams(url.Values{}, s.deps.Now())
		if perr == nil {
			d := s.pageData(r, p, "Calore dashboards", "The filters were not valid: correct them and apply again.")
			d.Errors = []string{msg}
			s.finish(&d)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			if err := s.page.Execute(w, d); err != nil {
				s.deps.Logger.ErrorContext(r.Context(), "render dashboard", "err", err)
			}
			return
		}
	}
	http.Error(w, msg, status)
}
