package dashboards_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/api"
	"github.com/calore-crm/calore/dashboards"
	"github.com/calore-crm/calore/dashboards/saved"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/synthetic/load"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/kpiq"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// The payloads of the audit: closing the script element, and breaking out
// of an attribute.
var xssPayloads = []string{`</script><script>window.__xss=1</script>`, `"><img src=x onerror=window.__xss=2>`}

// cspProbe runs before the page's own scripts (injected over DevTools, so
// the page's CSP does not apply to it) and records every CSP violation.
const cspProbe = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));`

// TestStoredXSSInCharts replays the audit's critical finding in a real
// browser: people and organisations stored through the store (as the API
// does) with script payloads in region, country and organisation names,
// forwarded to the warehouse by the sink's own mapping, scored and rolled
// up; then the managers' and companies' dashboards and a saved dashboard are
// opened behind the real login, under the server's real CSP, at a phone and
// a desktop width. No payload may run (window.__xss stays undefined, no
// injected <img>), the page must report no CSP violation and no console
// error, and every chart must draw on its canvas, tooltips included.
// Seen failing with the old rendering put back (go-echarts' RenderSnippet
// emitted as template.HTML) and the CSP removed: window.__xss was 1 and 2;
// with the old rendering under the CSP: the CSP violations were reported
// and the charts not drawn.
func TestStoredXSSInCharts(t *testing.T) {
	chromium := findChromium(t)
	ctx := context.Background()
	pool := pgtest.New(t)
	ch := warehousetest.New(t)
	s, err := synthetic.ScaleByName("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Alumni, s.NewsletterContacts, s.Journalists, s.Referents, s.ProspectsPerYear, s.Organisations = 400, 100, 5, 60, 40, 40
	s.DonorsPerYear, s.EventsPerYear = 20, 4
	if _, err := load.Run(ctx, pool, ch, s, 7, nil); err != nil {
		t.Fatalf("load synthetic university: %v", err)
	}

	// The hostile records, through the store: enough people for their
	// regions and countries to lead the geography charts.
	var lastOutbox int64
	if err := pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM outbox`).Scan(&lastOutbox); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewStore(pool)
	for i := range 80 {
		// half in Italy with a hostile region (the regions chart is Italy's),
		// half with a hostile country. The regions chart shows the hostile
		// regions as "?": the rollup's visitParamExtractString (ClickHouse
		// 18.16) cannot unescape the \u003c of Go's JSON, so a region with <, >
		// or & counts as unknown; the countries chart, the clusters'
		// organisation names and the saved dashboard's name carry the payloads.
		country := "IT"
		if i%4 >= 2 {
			country = xssPayloads[i%2]
		}
		p := &calore.Person{Kind: "alumnus", FirstName: "Mallory", LastName: fmt.Sprintf("Hostile %d", i),
			Region: xssPayloads[i%2], Country: country, City: xssPayloads[i%2]}
		if err := store.CreatePerson(ctx, p); err != nil {
			t.Fatalf("store a hostile person: %v", err)
		}
	}
	for i := range 4 {
		o := &calore.Organisation{Kind: calore.OrgCompany, Status: "active", LegalName: xssPayloads[i%2] + fmt.Sprint(i),
			Country: xssPayloads[(i+1)%2], Region: xssPayloads[i%2], SizeClass: "large"}
		if err := store.CreateOrganisation(ctx, o); err != nil {
			t.Fatalf("store a hostile organisation: %v", err)
		}
	}
	forwardOutbox(t, pool, ch, lastOutbox)

	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
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
	if _, err := kpiq.Refresh(ctx, ch, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("refresh rollups: %v", err)
	}

	// The real server: the edge, the login, the dashboards behind it.
	now := func() time.Time { return asOf.Add(9 * time.Hour) }
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := api.NewServer(api.Deps{Pool: pool, Warehouse: ch, Logger: logger, Access: access.Options{BcryptCost: bcrypt.MinCost},
		Dashboards: dashboards.Routes(dashboards.Deps{Warehouse: ch, Store: pool, Logger: logger, CurrentUser: api.CurrentUser, CanSee: api.CanSeeWidget, Now: now})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); _ = srv.Close(context.Background()) })
	admin := &calore.User{Username: "xss-admin", Roles: []calore.Role{{Office: access.Central, Role: calore.RoleAdmin}}}
	if err := store.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if err := srv.Access().SetPassword(ctx, admin.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	mine, err := saved.New(pool).Create(ctx, saved.Dashboard{UserID: admin.ID, Name: xssPayloads[0] + xssPayloads[1],
		Widgets: []string{"geo_regions", "geo_countries", "clusters", "cluster_profiles"}, Filters: map[string]string{"from": "2025-01-01", "to": "2026-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	period := "?from=2025-01-01&to=2026-01-01"
	pagesToOpen := []string{"/dashboards/managers" + period, "/dashboards/companies" + period, fmt.Sprintf("/dashboards/my/%d", mine.ID)}

	dir := os.Getenv("CALORE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1366, 900, false}} {
		t.Run(vp.name, func(t *testing.T) {
			bctx, cancel := browser(t, chromium)
			defer cancel()
			var mu sync.Mutex
			var consoleErrs []string
			lctx, stop := context.WithCancel(bctx)
			defer stop()
			if err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
				return err
			})); err != nil {
				t.Fatalf("start chromium: %v", err)
			}
			go func() {
				for m, err := range chromedp.Console(lctx) {
					if err != nil {
						return
					}
					if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
						mu.Lock()
						consoleErrs = append(consoleErrs, fmt.Sprintf("%s at %s:%d", m.String(), m.URL, m.Line))
						mu.Unlock()
					}
				}
			}()
			// log in through the form, as a person would
			err := chromedp.Do(bctx,
				chromedp.Navigate(hs.URL+"/login?next="+strings.ReplaceAll(pagesToOpen[0], "&", "%26")),
				chromedp.SendKeys(`input[name=username]`, admin.Username),
				chromedp.SendKeys(`input[name=password]`, "correct horse battery"),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`#widget-geo_regions`),
			)
			if err != nil {
				t.Fatalf("log in: %v", err)
			}
			for _, p := range pagesToOpen {
				name := strings.Trim(strings.ReplaceAll(strings.SplitN(strings.TrimPrefix(p, "/dashboards"), "?", 2)[0], "/", "-"), "-")
				shot := filepath.Join(dir, fmt.Sprintf("xss-%s-%s.png", name, vp.name))
				for _, e := range visit(t, bctx, hs.URL+p, vp.width, vp.height, vp.mobile, shot) {
					t.Errorf("%s: %s", p, e)
				}
				t.Logf("screenshot %s", shot)
				// every chart's tooltip, on the canvas, then the verdict
				got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](`(() => {
					const charts = Array.from(document.querySelectorAll('.card .item')).map(d => echarts.getInstanceByDom(d)).filter(Boolean);
					charts.forEach(c => c.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0}));
					return new Promise(ok => setTimeout(() => ok({
						xss: typeof window.__xss === 'undefined' ? 'undefined' : String(window.__xss),
						injected: document.querySelectorAll('img[src="x"], body script:not([src]):not([type="application/json"])').length,
						csp: window.__csp,
						charts: charts.length,
						canvases: document.querySelectorAll('.card .item canvas').length,
						payloadInData: Array.from(document.querySelectorAll('script[type="application/json"]')).some(s => s.textContent.includes('window.__xss')),
					}), 600));
				})()`, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatalf("%s: evaluate: %v", p, err)
				}
				if png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)); err == nil { // PNG
					_ = os.WriteFile(strings.TrimSuffix(shot, ".png")+"-tooltips.png", png, 0o644)
				}
				if got["xss"] != "undefined" || got["injected"] != float64(0) {
					t.Errorf("%s: a payload ran: window.__xss=%v, %v injected elements", p, got["xss"], got["injected"])
				}
				if csp, _ := got["csp"].([]any); len(csp) > 0 {
					t.Errorf("%s: CSP violations: %v", p, csp)
				}
				if got["charts"] == float64(0) || got["canvases"] == float64(0) {
					t.Errorf("%s: %v charts, %v canvases", p, got["charts"], got["canvases"])
				}
				if p != pagesToOpen[1] && got["payloadInData"] != true {
					t.Errorf("%s: the payloads are not in the charts' data: the test proves nothing", p)
				}
				t.Logf("%s: %v charts, payloads in their data: %v", p, got["charts"], got["payloadInData"])
			}
			stop()
			mu.Lock()
			defer mu.Unlock()
			for _, e := range consoleErrs {
				t.Errorf("console: %s", e)
			}
		})
	}
}

// forwardOutbox does what relay and sink do for the outbox rows after
// afterID: each event through the sink's own mapping (warehouse.Rows) into
// the warehouse.
func forwardOutbox(t *testing.T, pool *pgxpool.Pool, ch driver.Conn, afterID int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT event_id::text, event_type, aggregate_type, aggregate_id, schema_version, payload, occurred_at
		FROM outbox WHERE id > $1 ORDER BY id`, afterID)
	if err != nil {
		t.Fatal(err)
	}
	var all []warehouse.Row
	n := 0
	for rows.Next() {
		var ev calore.Event
		var payload []byte
		if err := rows.Scan(&ev.ID, &ev.Type, &ev.Aggregate, &ev.AggregateID, &ev.SchemaVersion, &payload, &ev.Time); err != nil {
			t.Fatal(err)
		}
		ev.Payload = payload
		rs, err := warehouse.Rows(ev)
		if err != nil {
			t.Fatalf("map %s: %v", ev.Type, err)
		}
		all = append(all, rs...)
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the store wrote no outbox events")
	}
	if err := warehouse.Insert(ctx, ch, all); err != nil {
		t.Fatalf("insert into the warehouse: %v", err)
	}
}
