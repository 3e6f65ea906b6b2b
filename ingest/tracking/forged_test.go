package tracking

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/calore-crm/calore/config"
)

// TestForgedTokensAndOpenRedirect replays the audit's attack on a server
// configured as production is (real keys from CALORE_TRACKING_KEYS, the
// development flag set too): tokens signed with the published development
// key, and tokens whose redirect target is not an absolute http(s) URL
// although correctly signed with the real key (a minting bug or a leaked
// key), record nothing, answer 404 and redirect nowhere. A real token still
// redirects to its signed URL.
// Security: seen failing with the scheme/host check of checkRedirectURL
// switched off (javascript:, //evil and https:evil redirected), and with
// config loading the development key next to real ones (the dev-signed
// tokens recorded and redirected).
func TestForgedTokensAndOpenRedirect(t *testing.T) {
	real := "k2026:" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("r", 32)))
	env := map[string]string{"CALORE_TRACKING_KEYS": real, "CALORE_TRACKING_DEV_KEY": "1"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewKeys(cfg.Tracking.Keys)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	h, err := Routes(Options{Keys: keys, Publisher: pub, Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("User-Agent", firefox)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	// the published development key, parsed as the configuration does
	devCfg, err := config.FromEnv(func(k string) string { return map[string]string{"CALORE_TRACKING_DEV_KEY": "1"}[k] })
	if err != nil || !devCfg.Tracking.DevKeys {
		t.Fatalf("dev key: %v", err)
	}
	dev := mustKeys(t, devCfg.Tracking.Keys...)
	// a correctly signed token carrying any URL, bypassing Sign's checks
	craft := func(target string) string {
		tok := Token{Kind: KindClick, CampaignID: 1, SendID: 2, ContactID: 999999, Issued: time.Now(), URL: target}
		payload := base64.RawURLEncoding.EncodeToString(tok.encode())
		signed := keys.signID + "." + payload
		return signed + "." + base64.RawURLEncoding.EncodeToString(mac(keys.verify[keys.signID], signed))
	}

	var forged []string
	for _, mint := range []func() (string, error){
		func() (string, error) { return dev.OpenToken(1, 2, 999999) },
		func() (string, error) { return dev.ClickToken(1, 2, 999999, "https://evil.example/phish") },
	} {
		tok, err := mint()
		if err != nil {
			t.Fatal(err)
		}
		forged = append(forged, tok)
	}
	for _, target := range []string{"javascript:alert(1)", "//evil.example/x", "/\\evil.example", "https:evil.example", "http://", "data:text/html,x", "ftp://evil.example/"} {
		forged = append(forged, craft(target))
	}
	for _, tok := range forged {
		for _, p := range []string{"/o/", "/c/"} {
			w := get(p + tok)
			if w.Code != http.StatusNotFound || w.Header().Get("Location") != "" {
				t.Errorf("GET %s%s: %d, Location %q; want 404 and no redirect", p, tok[:20], w.Code, w.Header().Get("Location"))
			}
		}
	}
	if evs := pub.take(); len(evs) != 0 {
		t.Errorf("forged hits recorded: %d", len(evs))
	}

	// control: the real key's token redirects to the signed URL only
	tok, err := keys.ClickToken(1, 2, 3, "https://www.example.edu/give?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if w := get("/c/" + tok); w.Code != http.StatusFound || w.Header().Get("Location") != "https://www.example.edu/give?x=1" {
		t.Errorf("real click: %d %q", w.Code, w.Header().Get("Location"))
	}
	if evs := pub.take(); len(evs) != 1 {
		t.Errorf("real click recorded %d events", len(evs))
	}
}
