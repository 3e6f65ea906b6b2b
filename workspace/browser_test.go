package workspace_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

// cspProbe runs before the page's own scripts (injected over DevTools, so
// the page's CSP does not apply to it) and records every CSP violation.
const cspProbe = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));`

// axeRun runs axe-core on the page and returns its serious and critical
// violations, one line each.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r =>
	r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(' | ')))`

// TestBrowserContactReport walks the fundraiser's path in headless Chromium
// behind the real login and CSP, at a phone's and a laptop's size: search
// (htmx swaps the results) → person page → log a phone call in three taps
// (the button, the subject, Save) → the call on the timeline. Every page:
// no console error, no CSP violation, no horizontal scrolling, and axe-core
// (npm axe-core, injected from testdata, not from the page) finds no
// serious or critical WCAG 2.1 A/AA violation. Screenshots go to
// docs/screenshots/ (CALORE_SCREENSHOT_DIR overrides).
// Seen failing with the layout's htmx-config meta removed (htmx's inline
// indicator style is refused by the CSP) and with the layout's lang
// attribute removed (axe: serious "html-has-lang"); the overflow check seen
// failing on the phone with the filter grid's columns at 1fr (selects wider
// than the screen).
func TestBrowserContactReport(t *testing.T) {
	chromium := findChromium(t)
	axe, err := os.ReadFile("testdata/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("CALORE_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "docs", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	ctx := context.Background()
	u := &calore.User{Username: "fundraiser.anna", DisplayName: "Anna Bianchi", Roles: []calore.Role{{Office: access.Fundraising, Role: calore.RoleEditor}}}
	if err := e.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Access().SetPassword(ctx, u.ID, "correct horse battery"); err != nil {
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
					if strings.Contains(m.URL, "heat=9") && strings.Contains(m.Text, "status of 400") {
						continue // the bad filters' page answers 400 on purpose
					}
					if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
						mu.Lock()
						consoleErrs = append(consoleErrs, fmt.Sprintf("%s at %s:%d", m.String(), m.URL, m.Line))
						mu.Unlock()
					}
				}
			}()
			vopts := []chromedp.EmulateViewportOption{}
			if vp.mobile {
				vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))
			}
			step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(bctx, actions...); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			// ready waits until the page has loaded and htmx has started.
			ready := func(name string) {
				t.Helper()
				for i := 0; ; i++ {
					ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && typeof htmx !== 'undefined'`))
					if err == nil && ok {
						return
					}
					if i == 50 {
						t.Fatalf("%s: page not ready: %v", name, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			// check looks at the page as it is: CSP, overflow, axe, screenshot.
			check := func(name string) {
				t.Helper()
				ready(name)
				got, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]any](`({csp: window.__csp || [],
					overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1, width: document.documentElement.clientWidth,
					foreign: Array.from(document.scripts).filter(s => s.src && !s.src.startsWith(location.origin)).map(s => s.src)})`))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if csp, _ := got["csp"].([]any); len(csp) > 0 {
					t.Errorf("%s: CSP violations: %v", name, csp)
				}
				if got["overflow"] == true {
					t.Errorf("%s: page wider than the %v px viewport", name, got["width"])
				}
				if f, _ := got["foreign"].([]any); len(f) > 0 {
					t.Errorf("%s: scripts from elsewhere: %v", name, f)
				}
				if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](string(axe)+";0")); err != nil {
					t.Fatalf("%s: inject axe: %v", name, err)
				}
				viol, err := chromedp.Run(bctx, chromedp.Evaluate[[]any](axeRun, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatalf("%s: axe: %v", name, err)
				}
				for _, v := range viol {
					t.Errorf("%s: axe: %v", name, v)
				}
				png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("%s: screenshot: %v", name, err)
				}
				shot := filepath.Join(dir, fmt.Sprintf("workspace-%s-%s.png", name, vp.name))
				if err := os.WriteFile(shot, png, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot %s", shot)
			}

			step("log in", chromedp.EmulateViewport(vp.width, vp.height, vopts...),
				chromedp.Navigate(e.srv.URL+"/login?next=/workspace/"),
				chromedp.SendKeys(`input[name=username]`, u.Username),
				chromedp.SendKeys(`input[name=password]`, "correct horse battery"),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`#q`))
			ready("search form")
			step("search", chromedp.SendKeys(`#q`, "lavleis"), chromedp.Click(`form.search button.primary`),
				chromedp.WaitVisible(`ul.results a[href="/workspace/people/`+fmt.Sprint(e.ada)+`"]`))
			check("search")
			step("open the person", chromedp.Click(`ul.results a[href="/workspace/people/`+fmt.Sprint(e.ada)+`"]`), chromedp.WaitVisible(`#h-timeline`))
			check("person")
			// the contact report: tap 1 the button, tap 2 the subject, tap 3 Save
			subject := "Visit planned " + vp.name
			step("open the form", chromedp.Click(`a.button.primary`), chromedp.WaitVisible(`#subject`))
			check("log")
			ready("log")
			step("save", chromedp.SendKeys(`#subject`, subject), chromedp.Click(`form.log button.primary`), chromedp.WaitVisible(`p.ok`))
			text, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('timeline').textContent`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, subject) {
				t.Errorf("the call is not on the timeline: %s", text)
			}
			ready("saved")
			step("timeline filter (htmx)", chromedp.Click(`nav.chips a[href$="kind=interaction"]`), chromedp.Sleep(500*time.Millisecond))
			check("saved")
			// the other pages, for axe and the CSP: an organisation, a search
			// with bad filters (errors next to their fields), and the person
			// page in Italian chosen with the language switch
			step("organisation", chromedp.Navigate(fmt.Sprintf("%s/workspace/organisations/%d", e.srv.URL, e.org)), chromedp.WaitVisible(`#h-ref`))
			check("organisation")
			step("bad filters", chromedp.Navigate(e.srv.URL+"/workspace/?heat=9&country=Italy"), chromedp.WaitVisible(`p.fielderr`))
			check("search-errors")
			step("italian", chromedp.Navigate(fmt.Sprintf("%s/workspace/people/%d", e.srv.URL, e.ada)), chromedp.WaitVisible(`#lang-select`),
				chromedp.SetValue(`#lang-select`, "it"), chromedp.Click(`#lang-select + button`), chromedp.WaitVisible(`html[lang="it"] #h-timeline`))
			check("person-it")
			stop()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range consoleErrs {
				t.Errorf("console: %s", c)
			}
		})
	}
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
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "chromium").CombinedOutput(); err != nil {
			t.Logf("apt-get install chromium: %v\n%s", err, out)
		}
		if p, err := exec.LookPath("chromium"); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed and could not be installed (apt-get install chromium, as root); CI=true needs it")
	}
	t.Skip("chromium is not installed: apt-get install chromium")
	return ""
}

func browser(t *testing.T, path string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	return ctx, func() { cancelTime(); cancelCtx(); cancelAlloc() }
}
