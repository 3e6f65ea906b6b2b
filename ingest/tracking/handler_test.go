package tracking

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/calore-crm/calore"
)

// recorder is a Publisher that keeps what it is given (unit tests only; the
// producer tests use the real broker).
type recorder struct {
	mu     sync.Mutex
	events []calore.Event
	fail   error // returned by Publish when set (the write-ahead log failing)
}

func (r *recorder) Publish(ev calore.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) take() []calore.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

type testServer struct {
	h       http.Handler
	keys    *Keys
	pub     *recorder
	metrics *Metrics
	now     time.Time
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{keys: mustKeys(t, testKey("k1", 1)), pub: &recorder{}, metrics: m, now: time.Now().Add(time.Hour)}
	h, err := Routes(Options{
		Keys: s.keys, Publisher: s.pub, Metrics: m,
		Origins:        []string{"https://www.example.edu"},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:            func() time.Time { return s.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/t/", http.StripPrefix("/t", h))
	s.h = mux
	return s
}

func (s *testServer) do(method, target, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "203.0.113.77:5555"
	r.Header.Set("User-Agent", firefox)
	for k, v := range header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	s.now = s.now.Add(time.Minute) // hits a minute apart: no open-then-click rule fires by accident
	s.h.ServeHTTP(w, r)
	return w
}

func hitOf(t *testing.T, ev calore.Event) calore.TrackingHit {
	t.Helper()
	var h calore.TrackingHit
	if err := json.Unmarshal(ev.Payload, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOpenAndClick(t *testing.T) {
	s := newTestServer(t)
	open, _ := s.keys.OpenToken(11, 22, 33)
	click, _ := s.keys.ClickToken(11, 22, 33, "https://www.example.edu/give?fund=7")
	identify, _ := s.keys.Sign(Token{Kind: KindClick, CampaignID: 11, SendID: 22, ContactID: 33, URL: "https://www.example.edu/events", Identify: true})
	forged, _ := mustKeys(t, testKey("k1", 7)).ClickToken(11, 22, 33, "https://evil.example.com/")
	other, _ := mustKeys(t, testKey("k9", 1)).OpenToken(11, 22, 33)

	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
		wantType   string // "" = nothing recorded
		wantReason string
		check      func(t *testing.T, w *httptest.ResponseRecorder, h calore.TrackingHit)
	}{
		{name: "open", method: "GET", path: "/t/o/" + open, wantStatus: 200, wantType: calore.EventEmailOpen,
			check: func(t *testing.T, w *httptest.ResponseRecorder, h calore.TrackingHit) {
				if w.Header().Get("Content-Type") != "image/gif" || w.Body.Len() != 43 || !strings.Contains(w.Header().Get("Cache-Control"), "no-store") {
					t.Errorf("response: %v %d bytes", w.Header(), w.Body.Len())
				}
				if h.ContactID != 33 || h.CampaignID != 11 || h.SendID != 22 || h.IPPrefix != "203.0.113.0" || h.UserAgent != firefox {
					t.Errorf("hit %+v", h)
				}
			}},
		{name: "open via Apple MPP", method: "GET", path: "/t/o/" + open, header: map[string]string{"User-Agent": "Mozilla/5.0"},
			wantStatus: 200, wantType: calore.EventEmailOpen, wantReason: ReasonAppleMPP},
		{name: "open behind trusted proxy", method: "GET", path: "/t/o/" + open, header: map[string]string{"X-Forwarded-For": "17.1.2.3"},
			wantStatus: 200, wantType: calore.EventEmailOpen},
		{name: "click", method: "GET", path: "/t/c/" + click, wantStatus: 302, wantType: calore.EventEmailClick,
			check: func(t *testing.T, w *httptest.ResponseRecorder, h calore.TrackingHit) {
				if loc := w.Header().Get("Location"); loc != "https://www.example.edu/give?fund=7" {
					t.Errorf("Location %q", loc)
				}
				if h.URL != "https://www.example.edu/give?fund=7" || h.IsMachine {
					t.Errorf("hit %+v", h)
				}
			}},
		{name: "click with identify", method: "GET", path: "/t/c/" + identify, wantStatus: 302, wantType: calore.EventEmailClick,
			check: func(t *testing.T, w *httptest.ResponseRecorder, h calore.TrackingHit) {
				u, err := url.Parse(w.Header().Get("Location"))
				if err != nil || u.Host != "www.example.edu" || u.Path != "/events" {
					t.Fatalf("Location %q", w.Header().Get("Location"))
				}
				tok, err := s.keys.Parse(u.Query().Get("calore_id"))
				if err != nil || tok.Kind != KindIdentify || tok.ContactID != 33 {
					t.Errorf("identify token: %+v %v", tok, err)
				}
				if h.URL != "https://www.example.edu/events" {
					t.Errorf("recorded URL %q: want the link without calore_id", h.URL)
				}
			}},
		{name: "HEAD click by a scanner", method: "HEAD", path: "/t/c/" + click, wantStatus: 302, wantType: calore.EventEmailClick, wantReason: ReasonHead},
		{name: "forged click", method: "GET", path: "/t/c/" + forged, wantStatus: 404},
		{name: "unknown key id", method: "GET", path: "/t/o/" + other, wantStatus: 404},
		{name: "open token on the click endpoint", method: "GET", path: "/t/c/" + open, wantStatus: 404},
		{name: "click token on the open endpoint", method: "GET", path: "/t/o/" + click, wantStatus: 404},
		{name: "garbage", method: "GET", path: "/t/c/not-a-token", wantStatus: 404},
		{name: "no token", method: "GET", path: "/t/c/", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.do(tt.method, tt.path, "", tt.header)
			evs := s.pub.take()
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantType == "" {
				if len(evs) != 0 || w.Header().Get("Location") != "" {
					t.Fatalf("recorded %d events, Location %q; want nothing", len(evs), w.Header().Get("Location"))
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("recorded %d events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Type != tt.wantType || ev.SchemaVersion != 1 || ev.Aggregate != "tracking" || ev.AggregateID != "contact:33" || len(ev.ID) != 36 {
				t.Errorf("event %+v", ev)
			}
			h := hitOf(t, ev)
			if h.IsMachine != (tt.wantReason != "") || h.MachineReason != tt.wantReason {
				t.Errorf("machine %v %q, want %q", h.IsMachine, h.MachineReason, tt.wantReason)
			}
			if tt.check != nil {
				tt.check(t, w, h)
			}
		})
	}
	if got := testutil.ToFloat64(s.metrics.Rejected.WithLabelValues("click", "bad-token")); got != 3 {
		t.Errorf("rejected clicks metric = %v, want 3 (forged, open token, garbage)", got)
	}
}

func TestBeacon(t *testing.T) {
	s := newTestServer(t)
	ident, _ := s.keys.IdentifyToken(55)
	openTok, _ := s.keys.OpenToken(1, 2, 3)
	const anon = "0f4e6c1a-9b7d-4d2a-8e55-3c1f2a9b7e10"
	origin := map[string]string{"Origin": "https://www.example.edu", "Content-Type": "text/plain;charset=UTF-8"}
	tests := []struct {
		name       string
		body       string
		header     map[string]string
		wantStatus int
		wantErr    string // substring of the 4xx body
		check      func(t *testing.T, ev calore.Event, h calore.TrackingHit)
	}{
		{name: "page view", header: origin, wantStatus: 204,
			body: `{"type":"pageview","anonymous_id":"` + anon + `","url":"https://www.example.edu/study","referrer":"https://search.example/"}`,
			check: func(t *testing.T, ev calore.Event, h calore.TrackingHit) {
				if ev.Type != calore.EventWebPageView || ev.AggregateID != "anon:"+anon || h.AnonymousID != anon || h.URL != "https://www.example.edu/study" ||
					h.Referrer != "https://search.example/" || h.IPPrefix != "203.0.113.0" || h.ContactID != 0 {
					t.Errorf("event %+v hit %+v", ev, h)
				}
			}},
		{name: "custom event of an identified contact", header: map[string]string{"Content-Type": "application/json"}, wantStatus: 204,
			body: `{"type":"event","anonymous_id":"` + anon + `","contact_token":"` + ident + `","url":"https://www.example.edu/apply","name":"form_submit","props":{"form":"msc","step":3,"ok":true}}`,
			check: func(t *testing.T, ev calore.Event, h calore.TrackingHit) {
				if ev.Type != calore.EventWebCustom || ev.AggregateID != "contact:55" || h.ContactID != 55 || h.Name != "form_submit" ||
					h.Props["form"] != "msc" || h.Props["step"] != "3" || h.Props["ok"] != "true" {
					t.Errorf("event %+v hit %+v", ev, h)
				}
			}},
		{name: "bot page view is flagged", header: map[string]string{"User-Agent": "Googlebot/2.1"}, wantStatus: 204,
			body: `{"type":"pageview","anonymous_id":"` + anon + `","url":"https://www.example.edu/"}`,
			check: func(t *testing.T, ev calore.Event, h calore.TrackingHit) {
				if !h.IsMachine || h.MachineReason != ReasonBotUA {
					t.Errorf("hit %+v", h)
				}
			}},
		{name: "foreign origin", header: map[string]string{"Origin": "https://evil.example.com"}, wantStatus: 403, wantErr: "origin not allowed",
			body: `{"type":"pageview","anonymous_id":"` + anon + `","url":"https://www.example.edu/"}`},
		{name: "every problem at once", wantStatus: 400, wantErr: "type: want",
			body: `{"type":"click","anonymous_id":"x","url":"javascript:alert(1)","referrer":"ftp://x"}`},
		{name: "missing anonymous id", wantStatus: 400, wantErr: "anonymous_id: required",
			body: `{"type":"pageview","url":"https://www.example.edu/"}`},
		{name: "event without name", wantStatus: 400, wantErr: "name: required",
			body: `{"type":"event","anonymous_id":"` + anon + `","url":"https://www.example.edu/"}`},
		{name: "raw contact id refused", wantStatus: 400, wantErr: "contact_id: not accepted",
			body: `{"type":"pageview","anonymous_id":"` + anon + `","contact_id":5,"url":"https://www.example.edu/"}`},
		{name: "open token is no contact token", wantStatus: 400, wantErr: "contact_token: not a valid",
			body: `{"type":"pageview","anonymous_id":"` + anon + `","contact_token":"` + openTok + `","url":"https://www.example.edu/"}`},
		{name: "nested prop", wantStatus: 400, wantErr: "props.x: want a string",
			body: `{"type":"event","name":"n","anonymous_id":"` + anon + `","url":"https://www.example.edu/","props":{"x":{"y":1}}}`},
		{name: "unknown field", wantStatus: 400, wantErr: `unknown field \"colour\"`,
			body: `{"type":"pageview","colour":"red","anonymous_id":"` + anon + `","url":"https://www.example.edu/"}`},
		{name: "malformed JSON", wantStatus: 400, wantErr: "malformed JSON", body: `{"type":`},
		{name: "empty body", wantStatus: 400, wantErr: "body: empty", body: ``},
		{name: "two objects", wantStatus: 400, wantErr: "one JSON object",
			body: `{"type":"pageview","anonymous_id":"` + anon + `","url":"https://www.example.edu/"}{}`},
		{name: "too large", wantStatus: 413, wantErr: "larger than",
			body: `{"type":"pageview","anonymous_id":"` + anon + `","url":"https://www.example.edu/?q=` + strings.Repeat("a", MaxBeaconBytes) + `"}`},
		{name: "form content type", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 415, wantErr: "content type",
			body: `type=pageview`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.do("POST", "/t/e", tt.body, tt.header)
			evs := s.pub.take()
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantErr != "" {
				if !strings.Contains(w.Body.String(), tt.wantErr) {
					t.Errorf("body %s lacks %q", w.Body, tt.wantErr)
				}
				if len(evs) != 0 {
					t.Errorf("recorded %d events on a refused beacon", len(evs))
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("recorded %d events, want 1", len(evs))
			}
			if o := tt.header["Origin"]; o != "" && w.Header().Get("Access-Control-Allow-Origin") != o {
				t.Errorf("CORS header %q", w.Header().Get("Access-Control-Allow-Origin"))
			}
			tt.check(t, evs[0], hitOf(t, evs[0]))
		})
	}
}

func TestPreflightAndSnippet(t *testing.T) {
	s := newTestServer(t)
	w := s.do("OPTIONS", "/t/e", "", map[string]string{"Origin": "https://www.example.edu", "Access-Control-Request-Method": "POST"})
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://www.example.edu" || w.Header().Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	if w := s.do("OPTIONS", "/t/e", "", map[string]string{"Origin": "https://evil.example.com"}); w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign preflight: %d %v", w.Code, w.Header())
	}
	w = s.do("GET", "/t/calore.js", "", nil)
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") ||
		!strings.Contains(w.Body.String(), "sendBeacon") || !strings.Contains(w.Body.String(), "api.track") {
		t.Errorf("snippet: %d %v", w.Code, w.Header())
	}
	if len(s.pub.take()) != 0 {
		t.Error("preflight or snippet recorded a hit")
	}
}

// TestNotDurableNotAcknowledged: when Publish fails (the write-ahead log
// cannot be written) the open and beacon endpoints answer 503, never a 2xx;
// the click still redirects (a 302). Seen failing with record's result
// ignored by open and beacon (200 and 204 answered).
func TestNotDurableNotAcknowledged(t *testing.T) {
	s := newTestServer(t)
	s.pub.fail = errors.New("disk full")
	open, err := s.keys.Sign(Token{Kind: KindOpen, CampaignID: 1, SendID: 1, ContactID: 1, Issued: s.now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	click, err := s.keys.Sign(Token{Kind: KindClick, CampaignID: 1, SendID: 1, ContactID: 1, URL: "https://www.example.edu/", Issued: s.now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, method, target, body string
		header                     map[string]string
		want                       int
	}{
		{"open", "GET", "/t/o/" + open, "", nil, http.StatusServiceUnavailable},
		{"beacon", "POST", "/t/e", `{"type":"pageview","anonymous_id":"anon-0001","url":"https://www.example.edu/x"}`,
			map[string]string{"Origin": "https://www.example.edu", "Content-Type": "application/json"}, http.StatusServiceUnavailable},
		{"click", "GET", "/t/c/" + click, "", nil, http.StatusFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if w := s.do(tt.method, tt.target, tt.body, tt.header); w.Code != tt.want {
				t.Errorf("status %d, want %d: %s", w.Code, tt.want, w.Body.String())
			}
		})
	}
	if n := len(s.pub.take()); n != 0 {
		t.Errorf("%d events recorded", n)
	}
}
