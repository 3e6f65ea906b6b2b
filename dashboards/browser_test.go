package dashboards_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore/dashboards"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/synthetic/load"
	"github.com/calore-crm/calore/warehouse/kpiq"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

var asOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// university is a small synthetic university, loaded into the test's own
// databases and scored as of 2026-01-01 (heat also at three earlier days, so
// that the trend charts have a trend), served at /dashboards with two users.
type university struct {
	srv          *httptest.Server
	pool         *pgxpool.Pool
	alice, bobby int64
}

func newUniversity(t *testing.T) *university {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	ch := warehousetest.New(t)
	s, err := synthetic.ScaleByName("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Alumni, s.NewsletterContacts, s.Journalists, s.Referents, s.ProspectsPerYear, s.Organisations = 3000, 1000, 20, 300, 200, 60
	s.DonorsPerYear, s.EventsPerYear = 60, 12
	if _, err := load.Run(ctx, pool, ch, s, 1, nil); err != nil {
		t.Fatalf("load synthetic university: %v", err)
	}
	heat, err := scoring.DefaultHeatConfig()
	if err != nil {
		t.Fatal(err)
	}
	env := &scoring.Env{Warehouse: ch, Store: pool, Logger: slog.New(slog.DiscardHandler), Heat: heat, Now: func() time.Time { return asOf }}
	for _, j := range scoring.Jobs() {
		if _, err := j.Run(ctx, env, asOf); err != nil {
			t.Fatalf("scoring job %s: %v", j.Name(), err)
		}
	}
	heatJob, err := scoring.Select([]string{"heat"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []int{-9, -6, -3} {
		if _, err := heatJob[0].Run(ctx, env, asOf.AddDate(0, m, 0)); err != nil {
			t.Fatalf("heat as of %s: %v", asOf.AddDate(0, m, 0), err)
		}
	}
	if _, err := kpiq.Refresh(ctx, ch, slog.New(slog.DiscardHandler)); err != nil { // as `calore score` does
		t.Fatalf("refresh rollups: %v", err)
	}
	u := &university{pool: pool}
	for _, name := range []string{"alice", "bobby"} {
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO users (username) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			u.alice = id
		} else {
			u.bobby = id
		}
	}
	// The current user comes from a header here; package api/access will
	// take it from the session.
	current := func(r *http.Request) (int64, bool) {
		switch r.Header.Get("X-Test-User") {
		case "alice":
			return u.alice, true
		case "bobby":
			return u.bobby, true
		}
		if c, err := r.Cookie("user"); err == nil && c.Value == "alice" {
			return u.alice, true
		}
		return 0, false
	}
	r := chi.NewRouter()
	r.Mount("/dashboards", dashboards.Routes(dashboards.Deps{Warehouse: ch, Store: pool, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		CurrentUser: current, Now: func() time.Time { return asOf.Add(9 * time.Hour) }}))
	u.srv = httptest.NewServer(r)
	t.Cleanup(u.srv.Close)
	return u
}

func (u *university) get(t *testing.T, path, user string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u.srv.URL+path, nil)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	_, _ = fmt.Fprint(&b, "")
	buf := make([]byte, 1<<16)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res, b.String()
}

var pages = []string{"/dashboards/", "/dashboards/managers", "/dashboards/fundraisers", "/dashboards/companies", "/dashboards/engagement"}

var widgetNames = []string{"lead_funnel", "campaigns", "events", "heat_distribution", "heat_trend", "fundraising", "companies",
	"geo_countries", "geo_regions", "prospects", "clusters", "cluster_profiles", "company_funnel", "heat_cohorts"}

// TestDashboards loads a small synthetic university, checks every route
// with httptest, then loads every dashboard in headless Chromium at a phone
// and a desktop width: no JavaScript error, every chart drawn, ECharts from
// the binary, a screenshot of each (CALORE_SCREENSHOT_DIR, else the test's
// temporary directory; the paths are logged).
func TestDashboards(t *testing.T) {
	u := newUniversity(t)
	period := "from=2025-01-01&to=2026-01-01"

	t.Run("pages", func(t *testing.T) {
		for _, p := range pages {
			res, body := u.get(t, p+"?"+period, "")
			if res.StatusCode != 200 || !strings.Contains(body, "</html>") {
				t.Errorf("%s: %d", p, res.StatusCode)
			}
			if strings.Contains(body, "go-echarts.github.io") || strings.Contains(body, "cdn.") {
				t.Errorf("%s refers to a CDN", p)
			}
			if strings.Contains(body, "Could not load") {
				t.Errorf("%s: a widget failed to load", p)
			}
			if !strings.Contains(body, "Figures as of ") {
				t.Errorf("%s does not say when its rollups were refreshed", p)
			}
		}
		res, body := u.get(t, "/dashboards/fundraisers?"+period, "")
		if !strings.Contains(body, "donation-logistic-") && !strings.Contains(body, "donation-forest-") {
			t.Error("fundraisers page does not name the donation model's version (donation-logistic-… or donation-forest-…)")
		}
		for _, want := range []string{"as of 2026-01-01", "/dashboards/data/prospects?", "prospects.csv?",
			`<td data-label="alumnus"><a href="/workspace/people/`} { // names link to the person page
			if res.StatusCode != 200 || !strings.Contains(body, want) {
				t.Errorf("fundraisers page lacks %q", want)
			}
		}
		if res, _ := u.get(t, "/dashboards/nothing", ""); res.StatusCode != 404 {
			t.Errorf("unknown dashboard: %d", res.StatusCode)
		}
		if res, _ := u.get(t, "/dashboards/assets/echarts.min.js", ""); res.StatusCode != 200 {
			t.Errorf("echarts asset: %d", res.StatusCode)
		}
	})

	t.Run("data", func(t *testing.T) {
		for _, w := range widgetNames {
			res, body := u.get(t, "/dashboards/data/"+w+"?"+period, "")
			var got struct {
				Widget  string          `json:"widget"`
				From    string          `json:"from"`
				Source  string          `json:"source"`
				Rollups string          `json:"rollups_as_of"`
				Data    json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 {
				t.Errorf("%s: %d %v %.200s", w, res.StatusCode, err, body)
				continue
			}
			if _, err := time.Parse(time.RFC3339, got.Rollups); err != nil {
				t.Errorf("%s: rollups_as_of %q: %v", w, got.Rollups, err)
			}
			if got.Widget != w || got.From != "2025-01-01" || got.Source != "clickhouse" || len(got.Data) < 3 {
				t.Errorf("%s: %.300s", w, body)
			}
		}
		var heat struct {
			Data struct {
				Trend []struct {
					AsOf string `json:"as_of"`
				} `json:"trend"`
			} `json:"data"`
		}
		_, body := u.get(t, "/dashboards/data/heat_trend?"+period, "")
		if err := json.Unmarshal([]byte(body), &heat); err != nil || len(heat.Data.Trend) != 4 {
			t.Errorf("heat trend: want 4 scoring days, got %.300s", body)
		}
		for _, bad := range []string{"/dashboards/data/campaigns?from=yesterday", "/dashboards/data/campaigns?from=2026-01-01&to=2025-01-01",
			"/dashboards/data/prospects?tier=Z", "/dashboards/data/events?office=x%27%20OR%201", "/dashboards/data/prospects?cohort=1995"} {
			if res, _ := u.get(t, bad, ""); res.StatusCode != 400 {
				t.Errorf("%s: %d, want 400", bad, res.StatusCode)
			}
		}
		if res, _ := u.get(t, "/dashboards/data/nothing", ""); res.StatusCode != 404 {
			t.Errorf("unknown widget: %d", res.StatusCode)
		}
	})

	t.Run("csv", func(t *testing.T) {
		res, body := u.get(t, "/dashboards/fundraisers/prospects.csv?tier=A&"+period, "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if !strings.HasPrefix(body, "\ufeff") { // Excel reads UTF-8 only with its byte-order mark
			t.Error("prospects.csv has no UTF-8 byte-order mark")
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("csv: %v, %d rows", err, len(rows))
		}
		if rows[0][0] != "rank" || rows[0][7] != "tier" {
			t.Errorf("header %v", rows[0])
		}
		for _, r := range rows[1:] {
			if r[7] != "A" || r[15] != "2026-01-01" || r[14] == "" {
				t.Errorf("row %v", r)
			}
		}
	})

	t.Run("saved", func(t *testing.T) {
		form := url.Values{"name": {"My KPIs"}, "widget": {"fundraising", "heat_cohorts"}, "from": {"2025-01-01"}, "to": {"2026-01-01"}}
		post := func(path, user string, v url.Values, origin string) *http.Response {
			req, _ := http.NewRequest("POST", u.srv.URL+path, strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if user != "" {
				req.Header.Set("X-Test-User", user)
			}
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		if res := post("/dashboards/my", "", form, ""); res.StatusCode != 403 {
			t.Errorf("save without a user: %d", res.StatusCode)
		}
		if res := post("/dashboards/my", "alice", form, "http://evil.example"); res.StatusCode != 403 {
			t.Errorf("save from another site: %d", res.StatusCode)
		}
		if res := post("/dashboards/my", "alice", url.Values{"name": {"x"}, "widget": {"nope"}}, ""); res.StatusCode != 400 {
			t.Errorf("unknown widget saved: %d", res.StatusCode)
		}
		res := post("/dashboards/my", "alice", form, u.srv.URL)
		loc := res.Header.Get("Location")
		if res.StatusCode != 303 || !strings.HasPrefix(loc, "/dashboards/my/") {
			t.Fatalf("save: %d %q", res.StatusCode, loc)
		}
		if res := post("/dashboards/my", "alice", form, ""); res.StatusCode != 409 {
			t.Errorf("same name again: %d", res.StatusCode)
		}
		res, body := u.get(t, loc, "alice")
		if res.StatusCode != 200 || !strings.Contains(body, "My KPIs") || !strings.Contains(body, `id="widget-fundraising"`) ||
			!strings.Contains(body, `id="widget-heat_cohorts"`) || strings.Contains(body, `id="widget-campaigns"`) {
			t.Errorf("saved dashboard: %d", res.StatusCode)
		}
		if res, _ := u.get(t, loc, "bobby"); res.StatusCode != 404 {
			t.Errorf("another user's dashboard: %d", res.StatusCode)
		}
		if _, body := u.get(t, "/dashboards/", "alice"); !strings.Contains(body, loc) {
			t.Error("index does not list the saved dashboard")
		}
		if res := post(loc+"/delete", "bobby", nil, ""); res.StatusCode != 404 {
			t.Errorf("bobby deletes alice's dashboard: %d", res.StatusCode)
		}
		var n int
		if err := u.pool.QueryRow(context.Background(), `SELECT count(*) FROM saved_dashboards WHERE user_id = $1`, u.alice).Scan(&n); err != nil || n != 1 {
			t.Errorf("alice has %d dashboards (%v)", n, err)
		}
		// Kept for the browser test below, which shows it.
	})

	t.Run("browser", func(t *testing.T) {
		chromium := findChromium(t)
		dir := os.Getenv("CALORE_SCREENSHOT_DIR")
		if dir == "" {
			dir = t.TempDir()
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var mine string
		if err := u.pool.QueryRow(context.Background(), `SELECT '/dashboards/my/' || id FROM saved_dashboards WHERE user_id = $1 LIMIT 1`, u.alice).Scan(&mine); err != nil {
			t.Fatal(err)
		}
		all := append(append([]string{}, pages...), mine)
		for _, vp := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"phone", 412, 915, true}, {"desktop", 1366, 900, false}} {
			t.Run(vp.name, func(t *testing.T) {
				ctx, cancel := browser(t, chromium)
				defer cancel()
				// Signed in as alice (the test's CurrentUser reads a cookie).
				if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "user", Value: "alice", URL: u.srv.URL})
					return err
				})); err != nil {
					t.Fatalf("start chromium: %v", err)
				}
				for _, p := range all {
					name := strings.Trim(strings.ReplaceAll(strings.TrimPrefix(p, "/dashboards"), "/", "-"), "-")
					if name == "" {
						name = "index"
					}
					shot := filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, vp.name))
					errs := visit(t, ctx, u.srv.URL+p+"?"+period, vp.width, vp.height, vp.mobile, shot)
					for _, e := range errs {
						t.Errorf("%s (%s): %s", p, vp.name, e)
					}
					t.Logf("screenshot %s", shot)
				}
			})
		}
	})
}

// findChromium returns the system Chromium, installing Debian's package
// first when it is missing and the test runs as root. Without it the test
// skips, or fails under CI=true.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Geteuid() == 0 {
		t.Log("chromium is missing: apt-get install -y chromium")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("apt-get install chromium: %v\n%s", err, out)
		}
		if p, err := exec.LookPath("chromium"); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed and could not be installed (apt-get install chromium, as root); CI=true needs it")
	}
	t.Skip("chromium is not installed: apt-get install chromium (the test installs it itself when run as root)")
	return ""
}

func browser(t *testing.T, path string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	return ctx, func() { cancelTime(); cancelCtx(); cancelAlloc() }
}

// visit loads one page at one viewport and returns what went wrong: console
// errors, uncaught exceptions, charts not drawn, scripts from elsewhere.
func visit(t *testing.T, ctx context.Context, pageURL string, width, height int64, mobile bool, shot string) []string {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	lctx, stop := context.WithCancel(ctx)
	msgs := chromedp.Console(lctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, fmt.Sprintf("console %s at %s:%d", m.String(), m.URL, m.Line))
				mu.Unlock()
			}
		}
	}()
	vopts := []chromedp.EmulateViewportOption{}
	if mobile {
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, height, vopts...),
		chromedp.Navigate(pageURL),
		chromedp.Sleep(1500*time.Millisecond), // ECharts animates for about a second
	)
	if err != nil {
		stop()
		<-done
		return append(problems, fmt.Sprintf("load: %v", err))
	}
	check, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
		const divs = Array.from(document.querySelectorAll('.card .item'));
		const drawn = divs.filter(d => typeof echarts !== 'undefined' && echarts.getInstanceByDom(d) && d.querySelector('canvas'));
		const foreign = Array.from(document.scripts).filter(s => s.src && !s.src.startsWith(location.origin)).map(s => s.src);
		return {charts: divs.length, drawn: drawn.length, foreign: foreign, echarts: typeof echarts !== 'undefined',
		        overflow: document.documentElement.scrollWidth > window.innerWidth + 1, width: window.innerWidth};
	})()`))
	if err != nil {
		problems = append(problems, fmt.Sprintf("check: %v", err))
	} else {
		if check["echarts"] != true && check["charts"] != float64(0) {
			problems = append(problems, "ECharts did not load")
		}
		if check["charts"] != check["drawn"] {
			problems = append(problems, fmt.Sprintf("%v of %v charts drawn", check["drawn"], check["charts"]))
		}
		if f, ok := check["foreign"].([]any); ok && len(f) > 0 {
			problems = append(problems, fmt.Sprintf("scripts from elsewhere: %v", f))
		}
		if check["overflow"] == true {
			problems = append(problems, fmt.Sprintf("page wider than the %v px viewport", check["width"]))
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		problems = append(problems, fmt.Sprintf("screenshot: %v", err))
	} else if err := os.WriteFile(shot, png, 0o644); err != nil {
		problems = append(problems, fmt.Sprintf("write screenshot: %v", err))
	}
	stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return problems
}
