package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/ingest/tracking"
	"github.com/calore-crm/calore/internal/itest"
)

// testTrackingKeys is a CALORE_TRACKING_KEYS value with a random key.
func testTrackingKeys(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test:" + base64.StdEncoding.EncodeToString(b)
}

// TestServeRefusesWithoutTrackingKeys: without CALORE_TRACKING_KEYS `calore
// serve` does not start (it would otherwise accept tokens forged with the
// public development key), unless CALORE_TRACKING_DEV_KEY=1 asks for that key.
// Security: seen failing with the RequireKeys check in newServeApp removed.
func TestServeRefusesWithoutTrackingKeys(t *testing.T) {
	env := map[string]string{"CALORE_HTTP_ADDR": "127.0.0.1:0", "CALORE_SPOOL_DIR": t.TempDir(), "CALORE_LOG_LEVEL": "error"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "CALORE_TRACKING_KEYS is unset") {
		t.Fatalf("serve without tracking keys: %v, want a refusal naming CALORE_TRACKING_KEYS", err)
	}
	if strings.Contains(stdout.String(), "listening on") {
		t.Fatalf("serve listened without tracking keys:\n%s", stdout.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe starts the whole `calore serve` on port 0 against the real
// Kafka, records an open, a click and a page view, checks /healthz and
// /metrics, stops it through ctx and reads the three events from Kafka.
func TestServe(t *testing.T) {
	t.Parallel()
	brokers, prefix := kafkatest.Topics(t, 2, ingest.TopicTracking)
	env := map[string]string{
		"CALORE_KAFKA_BROKERS":      strings.Join(brokers, ","),
		"CALORE_KAFKA_TOPIC_PREFIX": prefix,
		"CALORE_HTTP_ADDR":          "127.0.0.1:0",
		"CALORE_SPOOL_DIR":          t.TempDir(),
		"CALORE_TRACKING_ORIGINS":   "https://www.example.edu",
		"CALORE_LOG_LEVEL":          "warn",
		"CALORE_TRACKING_KEYS":      testTrackingKeys(t),
	}
	for k, v := range kafkatest.Env(t) {
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := tracking.NewKeys(cfg.Tracking.Keys)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, &stdout, &stderr) }()
	var base string
	addrRE := regexp.MustCompile(`listening on (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := addrRE.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	body := func(resp *http.Response) string {
		t.Helper()
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	// sent an hour ago, the click on another send: a hit seconds after the send,
	// or a click right after an open of the same send, is flagged as a machine
	sent := time.Now().Add(-time.Hour)
	open, _ := keys.Sign(tracking.Token{Kind: tracking.KindOpen, CampaignID: 1, SendID: 2, ContactID: 3, Issued: sent})
	click, _ := keys.Sign(tracking.Token{Kind: tracking.KindClick, CampaignID: 1, SendID: 4, ContactID: 3, Issued: sent, URL: "https://www.example.edu/give"})
	if resp := get("/t/o/" + open); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("open: %d %v", resp.StatusCode, resp.Header)
	} else {
		body(resp)
	}
	if resp := get("/t/c/" + click); resp.StatusCode != 302 || resp.Header.Get("Location") != "https://www.example.edu/give" {
		t.Errorf("click: %d %v", resp.StatusCode, resp.Header)
	} else {
		body(resp)
	}
	if resp := get("/t/c/" + click[:len(click)-2] + "AA"); resp.StatusCode != 404 || resp.Header.Get("Location") != "" {
		t.Errorf("forged click: %d %v", resp.StatusCode, resp.Header)
	} else {
		body(resp)
	}
	req, _ := http.NewRequest("POST", base+"/t/e", strings.NewReader(`{"type":"pageview","anonymous_id":"abcdefgh12345678","url":"https://www.example.edu/"}`))
	req.Header.Set("Origin", "https://www.example.edu")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != 204 {
		t.Errorf("beacon: %v %v", resp, err)
	} else {
		body(resp)
	}
	if resp := get("/healthz"); resp.StatusCode != 200 || !strings.Contains(body(resp), `"status":"ok"`) {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	if resp := get("/t/calore.js"); resp.StatusCode != 200 || !strings.Contains(body(resp), "calore") {
		t.Errorf("snippet: %d", resp.StatusCode)
	}
	metrics := body(get("/metrics"))
	for _, want := range []string{
		`calore_tracking_hits_total{machine="false",type="email.open"} 1`,
		`calore_tracking_hits_total{machine="false",type="email.click"} 1`,
		`calore_tracking_hits_total{machine="false",type="web.pageview"} 1`,
		`calore_tracking_rejected_total{endpoint="click",reason="bad-token"} 1`,
		"calore_tracking_spool_events 0", "go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}

	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	r := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: brokers, GroupID: itest.Name("group"), Topic: prefix + ingest.TopicTracking, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	types := map[string]int{}
	for i := 0; i < 3; i++ {
		m, err := r.FetchMessage(rctx)
		if err != nil {
			t.Fatalf("read tracking topic after %d: %v", i, err)
		}
		var ev calore.Event
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		types[ev.Type]++
	}
	if types[calore.EventEmailOpen] != 1 || types[calore.EventEmailClick] != 1 || types[calore.EventWebPageView] != 1 {
		t.Errorf("events on Kafka: %v", types)
	}
}
