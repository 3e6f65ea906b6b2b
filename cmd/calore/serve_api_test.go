package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestServeAPI starts `calore serve` on its own databases and checks that the
// API, login, readiness and dashboards are mounted next to tracking.
func TestServeAPI(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	dsn := pool.Config().ConnString()
	ch := warehousetest.NewEmpty(t)
	brokers, prefix := kafkatest.Topics(t, 1, ingest.TopicTracking)
	env := map[string]string{
		"CALORE_PG_DSN":              dsn,
		"CALORE_CLICKHOUSE_ADDR":     strings.Join(ch.Addr, ","),
		"CALORE_CLICKHOUSE_USER":     ch.User,
		"CALORE_CLICKHOUSE_PASSWORD": ch.Password,
		"CALORE_CLICKHOUSE_DATABASE": ch.Database,
		"CALORE_KAFKA_BROKERS":       strings.Join(brokers, ","),
		"CALORE_KAFKA_TOPIC_PREFIX":  prefix,
		"CALORE_HTTP_ADDR":           "127.0.0.1:0",
		"CALORE_SPOOL_DIR":           t.TempDir(),
		"CALORE_LOG_LEVEL":           "error",
		"CALORE_TRACKING_KEYS":       testTrackingKeys(t),
	}
	for k, v := range kafkatest.Env(t) {
		env[k] = v
	}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, &stdout, &stderr) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		path, accept string
		status       int
		contains     string
	}{
		{"/readyz", "", 200, `"postgres":"ok"`},
		{"/healthz", "", 200, `tracking_spool_events`},
		{"/api/openapi.yaml", "", 200, "openapi: 3"},
		{"/api/me", "", 401, `"code":"unauthenticated"`},
		{"/login", "", 200, "<form"},
		{"/dashboards/managers", "text/html", 303, ""},
		{"/metrics", "", 200, "go_goroutines"},
	}
	// readiness is polled, as a load balancer does: the stores connect lazily
	// and a loaded machine can take a moment for the first ClickHouse handshake
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.contains) {
			t.Errorf("%s: %d %.200s", c.path, resp.StatusCode, b)
		}
	}
}
