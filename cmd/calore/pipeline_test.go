package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/warehouse"
)

// migrated is testEnv after `calore migrate`, with the configuration.
func migrated(t testing.TB) (func(string) string, config.Config) {
	t.Helper()
	getenv := testEnv(t)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	return getenv, cfg
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func chCount(t testing.TB, cfg config.Config, query string) uint64 {
	t.Helper()
	conn, err := warehouse.Open(context.Background(), cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func waitCount(t *testing.T, cfg config.Config, timeout time.Duration, want uint64, query string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got uint64
	for time.Now().Before(deadline) {
		if got = chCount(t, cfg, query); got == want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("after %v: %s = %d, want %d", timeout, query, got, want)
}

// TestRelayAndSinkCommands runs `calore relay` and `calore sink` as the
// binary would: outbox rows reach ClickHouse, both serve /metrics with the
// pipeline's metrics, and both stop cleanly when interrupted.
func TestRelayAndSinkCommands(t *testing.T) {
	t.Parallel()
	getenv, cfg := migrated(t)
	relayMetrics, sinkMetrics := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 2)
	for _, args := range [][]string{
		{"relay", "--metrics-addr", relayMetrics, "--poll-interval", "200ms"},
		{"sink", "--metrics-addr", sinkMetrics, "--flush-interval", "200ms"},
	} {
		go func() { done <- run(ctx, args, getenv, io.Discard, io.Discard) }()
	}

	conn, err := pgx.Connect(context.Background(), cfg.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const n = 300
	if _, err := conn.Exec(context.Background(), `
INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id, schema_version, payload)
SELECT gen_random_uuid(), 'person.updated', 'person', g::text, 1, jsonb_build_object('id', g, 'last_name', 'L' || g)
FROM generate_series(1, $1::int) AS g`, n); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitCount(t, cfg, 60*time.Second, n, `SELECT uniqExact(change_id) FROM dim_people`)
	t.Logf("outbox rows in ClickHouse after %v", time.Since(start))

	for addr, names := range map[string][]string{
		relayMetrics: {"calore_relay_backlog 0", "calore_relay_published_total 300", "calore_relay_batch_size_bucket", "calore_relay_publish_seconds_bucket"},
		sinkMetrics:  {"calore_sink_consumer_lag{", "calore_sink_batch_size_bucket", "calore_sink_insert_seconds_bucket", `calore_sink_rows_total{table="dim_people"} 300`, "go_goroutines"},
	} {
		body := scrape(t, addr, names)
		for _, want := range names {
			if !strings.Contains(body, want) {
				t.Errorf("%s/metrics lacks %q", addr, want)
			}
		}
	}
	t.Logf("metrics scraped after %v", time.Since(start))
	cancel()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("command returned %v after interrupt", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("command did not stop within 30s")
		}
	}
}

// scrape reads addr's /metrics until it holds every wanted line (metrics
// are updated just after the work they count) or 10 s pass.
func scrape(t *testing.T, addr string, wants []string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var body string
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			complete := resp.StatusCode == http.StatusOK
			for _, w := range wants {
				complete = complete && strings.Contains(body, w)
			}
			if complete {
				return body
			}
		}
		if time.Now().After(deadline) {
			return body
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHelperCalore is not a test: TestSinkKilledMidStream runs the test
// binary with CALORE_TEST_HELPER=1 so that this runs the calore command
// named in CALORE_TEST_ARGS, as a separate process it can kill -9.
func TestHelperCalore(t *testing.T) {
	if os.Getenv("CALORE_TEST_HELPER") != "1" {
		t.Skip("helper process only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, strings.Fields(os.Getenv("CALORE_TEST_ARGS")), os.Getenv, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func startHelper(t testing.TB, env []string, args string) *exec.Cmd {
	t.Helper()
	cmd, _ := startHelperLog(t, env, args)
	return cmd
}

// startHelperLog is startHelper that also returns the process's stderr
// (its log), written as it runs.
func startHelperLog(t testing.TB, env []string, args string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCalore$")
	cmd.Env = append(append(os.Environ(), env...), "CALORE_TEST_HELPER=1", "CALORE_TEST_ARGS="+args)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", args, stderr.String())
		}
	})
	return cmd, stderr
}

// TestSinkKilledMidStream kills a `calore sink` process with SIGKILL while it
// consumes 10,000 tracking hits (some redelivered), starts another, and
// checks every hit is counted exactly once.
func TestSinkKilledMidStream(t *testing.T) {
	t.Parallel()
	cfg, ids, _, _ := sinkKilled(t)
	n := uint64(len(ids))
	// the killed member's session must expire before its partitions move
	waitCount(t, cfg, 120*time.Second, n, `SELECT uniqExact(event_id) FROM tracking_events`)
	time.Sleep(time.Second)
	for _, q := range []string{
		`SELECT uniqExact(event_id) FROM tracking_events`,
		`SELECT count() FROM (SELECT event_id FROM tracking_events GROUP BY event_id)`,
		`SELECT count() FROM tracking_events FINAL`,
	} {
		if got := chCount(t, cfg, q); got != n {
			t.Errorf("%s = %d, want %d", q, got, n)
		}
	}
	if got := chCount(t, cfg, `SELECT uniqExact(event_id) FROM tracking_events WHERE is_machine = 0`); got != n-n/4 {
		t.Errorf("human opens = %d, want %d", got, n-n/4)
	}
}

// sinkKilled writes 5,250 of 10,500 tracking messages (10,000 distinct hits,
// a quarter machine opens, 500 redelivered) to a migrated environment's
// topic, starts a `calore sink` process, writes the rest once it has stored
// something, kills it with SIGKILL and starts another. It returns the
// configuration, the ids of the hits, how many messages it wrote and when
// the sink was killed.
func sinkKilled(t testing.TB) (config.Config, map[string]bool, int, time.Time) {
	t.Helper()
	getenv, cfg := migrated(t)
	var env []string
	for _, k := range []string{"CALORE_PG_DSN", "CALORE_PG_MIGRATE_DSN", "CALORE_KAFKA_USER", "CALORE_KAFKA_PASSWORD", "CALORE_KAFKA_SASL_MECHANISM", "CALORE_CLICKHOUSE_ADDR", "CALORE_CLICKHOUSE_USER", "CALORE_CLICKHOUSE_PASSWORD",
		"CALORE_CLICKHOUSE_DATABASE", "CALORE_KAFKA_BROKERS", "CALORE_KAFKA_TOPIC_PREFIX", "CALORE_LOG_LEVEL"} {
		env = append(env, k+"="+getenv(k))
	}
	const n = 10000
	var msgs []kafka.Message
	ids := map[string]bool{}
	for i := range n {
		h := calore.TrackingHit{ContactID: int64(i%300 + 1), CampaignID: 3, SendID: int64(i + 1), IsMachine: i%4 == 0}
		payload, _ := json.Marshal(h)
		ev := calore.Event{ID: uuid.NewString(), Type: calore.EventEmailOpen, SchemaVersion: 1, Time: time.Now().UTC(),
			Aggregate: "tracking", AggregateID: fmt.Sprintf("contact:%d", h.ContactID), Payload: payload}
		v, _ := json.Marshal(ev)
		msgs = append(msgs, kafka.Message{Key: []byte(ev.AggregateID), Value: v})
		ids[ev.ID] = true
	}
	for i := range 500 { // redeliveries
		msgs = append(msgs, msgs[i*13%n])
	}
	w := &kafka.Writer{Addr: kafka.TCP(cfg.KafkaBrokers...), Transport: kafkatest.Transport(t), Topic: cfg.KafkaTopicPrefix + "tracking",
		Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000}
	defer w.Close()
	write := func(ms []kafka.Message) {
		for attempt := 0; ; attempt++ { // a topic just created may not be in the writer's metadata yet
			err := w.WriteMessages(context.Background(), ms...)
			if err == nil {
				return
			}
			if !errors.Is(err, kafka.UnknownTopicOrPartition) || attempt == 50 {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	write(msgs[:len(msgs)/2])

	args := "sink --metrics-addr= --batch-size 1000 --flush-interval 100ms"
	first := startHelper(t, env, args)
	deadline := time.Now().Add(60 * time.Second)
	for chCount(t, cfg, `SELECT count() FROM tracking_events`) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	write(msgs[len(msgs)/2:])
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = first.Wait()
	if got := chCount(t, cfg, `SELECT uniqExact(event_id) FROM tracking_events`); got >= n {
		t.Logf("the first sink stored everything (%d) before it was killed", got)
	}
	startHelper(t, env, args)
	return cfg, ids, len(msgs), killed
}
