package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/ingest/sink"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// env is one test's own topics and warehouse database.
type env struct {
	brokers []string
	kafka   ingest.Kafka
	prefix  string
	conn    driver.Conn
	group   string
}

func newEnv(t testing.TB, partitions int) *env {
	t.Helper()
	brokers, prefix := kafkatest.Topics(t, partitions, ingest.Topics...)
	return &env{brokers: brokers, kafka: kafkatest.Kafka(t), prefix: prefix, conn: warehousetest.New(t), group: itest.Name("sink-test-")}
}

func (e *env) config() sink.Config {
	return sink.Config{
		Brokers:         e.brokers,
		SASL:            e.kafka.SASL,
		Topics:          []string{e.prefix + ingest.TopicChanges, e.prefix + ingest.TopicTracking},
		DeadLetterTopic: e.prefix + ingest.TopicDeadLetter,
		GroupID:         e.group,
		BatchSize:       2000,
		FlushInterval:   200 * time.Millisecond,
		BackoffMin:      50 * time.Millisecond,
		BackoffMax:      time.Second,
	}
}

// running is a sink started in the background.
type running struct {
	cancel  context.CancelFunc
	done    chan error
	metrics *sink.Metrics
	once    sync.Once
}

func (e *env) start(t testing.TB, conn driver.Conn) *running {
	t.Helper()
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	m := sink.NewMetrics(prometheus.NewRegistry())
	s, err := sink.New(e.config(), conn, reg, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), metrics: m}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("sink: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("sink did not stop within 30s")
		}
	})
}

// hit returns the JSON of a valid tracking event.
func hit(i int) (key string, value []byte) {
	types := []string{calore.EventEmailOpen, calore.EventEmailClick, calore.EventWebPageView, calore.EventWebCustom}
	typ := types[i%len(types)]
	h := calore.TrackingHit{ContactID: int64(i%500 + 1), CampaignID: 7, SendID: int64(i + 1), URL: "https://www.example.edu/p/" + fmt.Sprint(i%50),
		Name: "form_submitted", UserAgent: "test", IPPrefix: "192.0.2.0", IsMachine: i%10 == 0}
	if h.IsMachine {
		h.MachineReason = "apple-mpp"
	}
	payload, _ := json.Marshal(h)
	key = fmt.Sprintf("contact:%d", h.ContactID)
	ev := calore.Event{ID: uuid.NewString(), Type: typ, SchemaVersion: 1, Time: time.Now().UTC(), Aggregate: "tracking", AggregateID: key, Payload: payload}
	value, _ = json.Marshal(ev)
	return key, value
}

func writer(t testing.TB, brokers []string, topic string) *kafka.Writer {
	return &kafka.Writer{Addr: kafka.TCP(brokers...), Transport: kafkatest.Transport(t), Topic: topic, Balancer: &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000}
}

// produce writes msgs to topic, acknowledged by all replicas.
func produce(t testing.TB, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	w := writer(t, brokers, topic)
	defer w.Close()
	for len(msgs) > 0 {
		n := min(len(msgs), 5000)
		// A topic just created may not be in the writer's metadata yet.
		for attempt := 0; ; attempt++ {
			err := w.WriteMessages(context.Background(), msgs[:n]...)
			if err == nil {
				break
			}
			if !errors.Is(err, kafka.UnknownTopicOrPartition) || attempt == 50 {
				t.Fatalf("produce to %s: %v", topic, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		msgs = msgs[n:]
	}
}

// hits returns n distinct tracking messages followed by dups redeliveries of
// some of them (same bytes, as a producer retry or a replay would send).
func hits(n, dups int) []kafka.Message {
	msgs := make([]kafka.Message, 0, n+dups)
	for i := range n {
		k, v := hit(i)
		msgs = append(msgs, kafka.Message{Key: []byte(k), Value: v})
	}
	for i := range dups {
		msgs = append(msgs, msgs[(i*7919)%n])
	}
	return msgs
}

func count(t testing.TB, conn driver.Conn, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls query until it returns want, failing after timeout.
func waitFor(t testing.TB, conn driver.Conn, timeout time.Duration, want uint64, query string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got uint64
	for time.Now().Before(deadline) {
		if got = count(t, conn, query); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("after %v: %s = %d, want %d", timeout, query, got, want)
}

// The queries the product runs on tracking events; each must count every
// event once, whatever was redelivered.
var exactQueries = []string{
	`SELECT uniqExact(event_id) FROM tracking_events`,
	`SELECT count() FROM (SELECT event_id FROM tracking_events GROUP BY event_id)`,
	`SELECT toUInt64(sum(n)) FROM (SELECT kind, uniqExact(event_id) AS n FROM tracking_events GROUP BY kind)`,
	`SELECT count() FROM tracking_events FINAL`,
}

func checkExact(t *testing.T, conn driver.Conn, want uint64) {
	t.Helper()
	for _, q := range exactQueries {
		if got := count(t, conn, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}

func TestTrackingExactlyCounted(t *testing.T) {
	t.Parallel()
	const n = 10000
	tests := []struct {
		name string
		dups int
		stop bool // stop the sink mid-stream and start another
	}{
		{"with redelivered duplicates", 700, false},
		{"sink stopped mid-stream and restarted", 300, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, 3)
			msgs := hits(n, tt.dups)
			topic := e.prefix + ingest.TopicTracking
			s := e.start(t, e.conn)
			if tt.stop {
				produce(t, e.brokers, topic, msgs[:len(msgs)/2])
				deadline := time.Now().Add(30 * time.Second)
				for count(t, e.conn, `SELECT count() FROM tracking_events`) == 0 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				s.stop(t) // mid-stream: some batches flushed, maybe one uncommitted
				produce(t, e.brokers, topic, msgs[len(msgs)/2:])
				s = e.start(t, e.conn)
			} else {
				produce(t, e.brokers, topic, msgs)
			}
			waitFor(t, e.conn, 90*time.Second, n, `SELECT uniqExact(event_id) FROM tracking_events`)
			time.Sleep(500 * time.Millisecond) // let any straggling redelivery land
			checkExact(t, e.conn, n)
			if got := count(t, e.conn, `SELECT count() FROM tracking_events`); got < n {
				t.Errorf("raw rows %d < %d", got, n)
			}
			if got := count(t, e.conn, `SELECT uniqExact(event_id) FROM tracking_events WHERE is_machine = 0`); got != n-n/10 {
				t.Errorf("human events %d, want %d", got, n-n/10)
			}
			if d := total(s.metrics.DeadLetters); d != 0 {
				t.Errorf("%v dead letters", d)
			}
		})
	}
}

// TestPoisonMessagesGoToDeadLetter puts malformed messages between good ones
// on one partition (same key): the good ones land, each bad one reaches the
// dead-letter topic with its reason and error in headers.
func TestPoisonMessagesGoToDeadLetter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	_, good1 := hit(1)
	_, good2 := hit(2)
	_, good3 := hit(3)
	id := uuid.NewString()
	poison := []struct {
		name, value, reason string
	}{
		{"bad json", `{"event_id": "` + id + `", "type": `, schemas.ReasonBadJSON},
		{"unknown type", `{"event_id":"` + id + `","type":"email.bounce","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:1","payload":{}}`, schemas.ReasonUnknownType},
		{"schema violation", `{"event_id":"` + id + `","type":"email.open","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:1","payload":{"contact_id":"one","campaign_id":7,"send_id":1}}`, schemas.ReasonSchema},
	}
	key := []byte("contact:1")
	msgs := []kafka.Message{{Key: key, Value: good1}}
	for _, p := range poison {
		msgs = append(msgs, kafka.Message{Key: key, Value: []byte(p.value), Headers: []kafka.Header{{Key: "test-case", Value: []byte(p.name)}}})
	}
	msgs = append(msgs, kafka.Message{Key: key, Value: good2}, kafka.Message{Key: key, Value: good3})
	produce(t, e.brokers, e.prefix+ingest.TopicTracking, msgs)
	s := e.start(t, e.conn)
	waitFor(t, e.conn, 60*time.Second, 3, `SELECT uniqExact(event_id) FROM tracking_events`)

	r := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: e.brokers, Topic: e.prefix + ingest.TopicDeadLetter, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	got := map[string]kafka.Message{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(got) < len(poison) {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read dead letters (have %d): %v", len(got), err)
		}
		got[header(m, "test-case")] = m
	}
	for _, p := range poison {
		t.Run(p.name, func(t *testing.T) {
			m, ok := got[p.name]
			if !ok {
				t.Fatal("not dead-lettered")
			}
			if r := header(m, sink.HeaderReason); r != p.reason {
				t.Errorf("reason %q, want %q", r, p.reason)
			}
			if header(m, sink.HeaderError) == "" || header(m, sink.HeaderTopic) != e.prefix+ingest.TopicTracking || header(m, sink.HeaderOffset) == "" {
				t.Errorf("headers incomplete: %v", m.Headers)
			}
			if string(m.Value) != p.value || string(m.Key) != string(key) {
				t.Errorf("dead letter does not carry the original message")
			}
		})
	}
	if d := total(s.metrics.DeadLetters); d != float64(len(poison)) {
		t.Errorf("dead-letter metric %v, want %d", d, len(poison))
	}
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestConsoleProducerMessageLands produces the example of docs/events.md
// with Kafka's own console producer, as an outside team would.
func TestConsoleProducerMessageLands(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	stack := os.Getenv("CALORE_STACK_DIR") // as scripts/stack uses it
	if stack == "" {
		stack = filepath.Join(root, ".stack")
	}
	libs := filepath.Join(stack, "kafka", "libs")
	if _, err := os.Stat(libs); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("kafka jars missing at %s: %v", libs, err)
		}
		t.Skipf("kafka jars missing at %s (run scripts/stack up)", libs)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "events.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The line after the "console-example" marker is what the document tells
	// producers to type; give it a fresh event id so reruns count.
	_, after, ok := strings.Cut(string(doc), "<!-- console-example -->")
	if !ok {
		t.Fatal("docs/events.md has no <!-- console-example --> marker")
	}
	var line string
	for _, l := range strings.Split(after, "\n") {
		if strings.HasPrefix(l, "contact:") {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatal("no example line after the marker")
	}
	const docID = "6f1c2b1e-8d8a-4c1e-9b9a-2f0e5d7c4a10"
	if !strings.Contains(line, docID) {
		t.Fatalf("example line does not use the documented event id %s: %s", docID, line)
	}
	id := uuid.NewString()
	line = strings.Replace(line, docID, id, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"-cp", libs + "/*", "org.apache.kafka.tools.ConsoleProducer",
		"--bootstrap-server", e.brokers[0], "--topic", e.prefix + ingest.TopicTracking,
		"--property", "parse.key=true", "--property", "key.separator=|"}
	if kenv := kafkatest.Env(t); kenv["CALORE_KAFKA_USER"] != "" { // the stack's broker requires SASL (docs/events.md)
		mech := kenv["CALORE_KAFKA_SASL_MECHANISM"]
		if mech == "" {
			mech = "SCRAM-SHA-512"
		}
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if mech == "PLAIN" {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		args = append(args, "--producer-property", "security.protocol=SASL_PLAINTEXT", "--producer-property", "sasl.mechanism="+mech,
			"--producer-property", fmt.Sprintf(`sasl.jaas.config=%s required username=%q password=%q;`, module, kenv["CALORE_KAFKA_USER"], kenv["CALORE_KAFKA_PASSWORD"]))
	}
	cmd := exec.CommandContext(ctx, "java", args...)
	cmd.Stdin = strings.NewReader(line + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("console producer: %v\n%s", err, out)
	}
	e.start(t, e.conn)
	waitFor(t, e.conn, 60*time.Second, 1, fmt.Sprintf(`SELECT uniqExact(event_id) FROM tracking_events WHERE event_id = toUUID('%s') AND kind = 'email.click'`, id))
}

// proxy is a TCP forwarder to a real server that the test can cut: while
// down it drops every connection, as a stopped or unreachable server would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

// setDown cuts (true) or restores (false) the path to the server.
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestClickHouseDownThenBack cuts the sink's path to ClickHouse for 30 s while events
// stream in: the sink retries the same batch with backoff, commits nothing,
// and when ClickHouse is reachable again every event is counted exactly once.
func TestClickHouseDownThenBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	const n = 5000
	msgs := hits(n, 200)
	cutClickHouse(t, e, msgs, 30*time.Second, func(p *proxy, _ time.Time) {
		stored := count(t, e.conn, `SELECT uniqExact(event_id) FROM tracking_events`)
		time.Sleep(30 * time.Second) // down for 30 s, as in the acceptance, backing off
		if got := count(t, e.conn, `SELECT uniqExact(event_id) FROM tracking_events`); got != stored {
			t.Fatalf("rows arrived while the sink's path to ClickHouse was cut: %d → %d", stored, got)
		}
		p.setDown(false)
	})
	waitFor(t, e.conn, 90*time.Second, n, `SELECT uniqExact(event_id) FROM tracking_events`)
	checkExact(t, e.conn, n)
}

// cutClickHouse runs the ClickHouse-down scenario up to the restore: a sink
// writes to e's database through a proxy; the first 1,000 of msgs are
// stored, then the proxy cuts the sink off and the rest are produced. Once
// the sink has failed three inserts (within failWithin), down runs while
// the proxy is down, with the time the cut began; down restores it. It
// returns the sink, which runs until the test ends.
func cutClickHouse(tb testing.TB, e *env, msgs []kafka.Message, failWithin time.Duration, down func(p *proxy, cut time.Time)) *running {
	tb.Helper()
	// the sink reaches the database through the proxy; the counts go
	// straight to it through e.conn
	cfg := warehousetest.Config(tb)
	if err := e.conn.QueryRow(context.Background(), `SELECT currentDatabase()`).Scan(&cfg.Database); err != nil {
		tb.Fatal(err)
	}
	p := newProxy(tb, cfg.Addr[0])
	cfg.Addr = []string{p.ln.Addr().String()}
	conn, err := warehouse.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })

	topic := e.prefix + ingest.TopicTracking
	s := e.start(tb, conn)
	produce(tb, e.brokers, topic, msgs[:1000])
	waitFor(tb, e.conn, 60*time.Second, uint64(len(uniqueIDs(msgs[:1000]))), `SELECT uniqExact(event_id) FROM tracking_events`)

	p.setDown(true)
	cut := time.Now()
	produce(tb, e.brokers, topic, msgs[1000:])
	for total(s.metrics.InsertErrors) < 3 && time.Since(cut) < failWithin {
		time.Sleep(50 * time.Millisecond)
	}
	if total(s.metrics.InsertErrors) < 3 {
		tb.Fatal("the sink saw no insert failures while ClickHouse was unreachable")
	}
	down(p, cut)
	return s
}

func uniqueIDs(msgs []kafka.Message) map[string]bool {
	ids := map[string]bool{}
	for _, m := range msgs {
		var ev calore.Event
		_ = json.Unmarshal(m.Value, &ev)
		ids[ev.ID] = true
	}
	return ids
}

// total sums every series of a counter or gauge collector.
func total(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err == nil {
			sum += d.GetCounter().GetValue() + d.GetGauge().GetValue()
		}
	}
	return sum
}

// TestMappingsFollowTheContract: every typed warehouse table is fed by an
// aggregate the contract accepts, so no mapping is dead code.
func TestMappingsFollowTheContract(t *testing.T) {
	for agg, rt := range warehouse.RecordTables {
		t.Run(agg, func(t *testing.T) {
			if _, _, ok := schemas.SplitChange(agg + ".updated"); !ok {
				t.Errorf("%s (table %s) is not a change aggregate of the contract", agg, rt.Table.Name)
			}
		})
	}
}
