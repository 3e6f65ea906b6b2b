package tracking

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/ingest/sink"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// faultDialer opens the producer's Kafka connections and can cut them all:
// while down, open connections are closed and new ones refused, which is
// what the producer sees when Kafka is stopped, without stopping the shared
// broker.
type faultDialer struct {
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (f *faultDialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	c, err := (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, network, addr)
	if err == nil {
		f.conns = append(f.conns, c)
	}
	return c, err
}

func (f *faultDialer) set(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
	if down {
		for _, c := range f.conns {
			c.Close()
		}
		f.conns = nil
	}
}

// TestEndToEndExactWithKafkaOutage is issue 4's acceptance for tracking:
// 10,000 hits through the HTTP endpoints (opens, clicks, page views, custom
// events) with Kafka cut off for 30 s in the middle (`-short`: 3 s) end up
// as exactly 10,000 events in ClickHouse, via the spool, the real broker
// and the real sink; none goes to the dead-letter topic.
func TestEndToEndExactWithKafkaOutage(t *testing.T) {
	t.Parallel()
	outage := 30 * time.Second
	if testing.Short() {
		outage = 3 * time.Second
	}
	r := kafkaOutage(t, outage)
	conn, p, m, brokers, prefix := r.conn, r.p, r.m, r.brokers, r.prefix
	total := uint64(r.sent)
	deadline := time.Now().Add(120 * time.Second)
	for {
		var n uint64
		if err := conn.QueryRow(context.Background(), `SELECT uniqExact(event_id) FROM tracking_events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == total {
			break
		}
		if time.Now().After(deadline) {
			ev, _ := p.SpoolSize()
			t.Fatalf("ClickHouse has %d distinct tracking events after 120 s, want %d (spool %d, produced %v)", n, total, ev, testutil.ToFloat64(m.Produced))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT count() FROM (SELECT event_id FROM tracking_events GROUP BY event_id)`,
		`SELECT count() FROM tracking_events FINAL`,
		`SELECT toUInt64(sum(n)) FROM (SELECT kind, uniqExact(event_id) AS n FROM tracking_events GROUP BY kind)`,
	} {
		var n uint64
		if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != total {
			t.Errorf("%s = %d, want %d", q, n, total)
		}
	}
	var opens, clicks, views, custom uint64
	if err := conn.QueryRow(context.Background(), `SELECT
		uniqExactIf(event_id, kind = 'email.open'), uniqExactIf(event_id, kind = 'email.click'),
		uniqExactIf(event_id, kind = 'web.pageview'), uniqExactIf(event_id, kind = 'web.event') FROM tracking_events`).Scan(&opens, &clicks, &views, &custom); err != nil {
		t.Fatal(err)
	}
	if opens != total/4 || clicks != total/4 || views != total/4 || custom != total/4 {
		t.Errorf("by kind: %d opens, %d clicks, %d page views, %d custom; want %d each", opens, clicks, views, custom, total/4)
	}
	t.Logf("the tracking topic holds %d messages for %d hits: %d re-sent (at-least-once; the sink counted each event once)",
		topicCount(t, brokers, prefix+ingest.TopicTracking), total, topicCount(t, brokers, prefix+ingest.TopicTracking)-int64(total))
	if n := topicCount(t, brokers, prefix+ingest.TopicDeadLetter); n != 0 {
		t.Errorf("%d tracking messages went to the dead-letter topic", n)
	}
}

// outageRun is a kafkaOutage run after its last hit was accepted.
type outageRun struct {
	conn     driver.Conn // the run's warehouse database
	p        *Producer
	m        *Metrics
	brokers  []string
	prefix   string
	sent     int           // hits the endpoints accepted
	cut      time.Duration // how long Kafka was cut off
	restored time.Time
}

// kafkaOutage sends 10,000 hits through the HTTP endpoints (opens, clicks,
// page views, custom events), with the producer's path to Kafka cut off for
// outage after the first 3,000 while 4,000 more keep coming, then the last
// 3,000 once Kafka is back. The real sink runs into the run's own database
// until the test ends.
func kafkaOutage(t testing.TB, outage time.Duration) outageRun {
	t.Helper()
	brokers, prefix := kafkatest.Topics(t, 3, ingest.Topics...)
	conn := warehousetest.New(t)
	startSink(t, brokers, prefix, conn)

	fault := &faultDialer{}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProducer(ProducerConfig{
		Brokers: brokers, SASL: kafkatest.Kafka(t).SASL, Topic: prefix + ingest.TopicTracking, SpoolDir: t.TempDir(),
		RetryMin: 50 * time.Millisecond, RetryMax: time.Second, Dial: fault.Dial,
	}, quietLogger(), m)
	if err != nil {
		t.Fatal(err)
	}
	keys := mustKeys(t, testKey("k1", 1))
	h, err := Routes(Options{Keys: keys, Publisher: p, Logger: quietLogger(), Metrics: m, Origins: []string{"https://www.example.edu"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/t/", http.StripPrefix("/t", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	const before, during, after = 3000, 4000, 3000
	sent := time.Now().Add(-time.Hour)
	r := outageRun{conn: conn, p: p, m: m, brokers: brokers, prefix: prefix}
	send := func(from, to int) {
		t.Helper()
		if err := sendHits(srv.URL, keys, sent, from, to); err != nil {
			t.Fatal(err)
		}
		r.sent += to - from
	}
	send(0, before)
	fault.set(true)
	start := time.Now()
	for i := 0; i < 10; i++ { // hits keep coming throughout the outage
		send(before+i*during/10, before+(i+1)*during/10)
		time.Sleep(outage / 10)
	}
	if ev, _ := p.SpoolSize(); ev == 0 {
		t.Error("nothing went to the spool while Kafka was cut off")
	}
	r.cut = time.Since(start)
	t.Logf("kafka cut off for %v; %v events spooled", r.cut.Round(time.Millisecond), testutil.ToFloat64(m.Spooled))
	fault.set(false)
	r.restored = time.Now()
	send(before+during, before+during+after)
	return r
}

// sendHits sends hits from..to-1 through the endpoints, 8 at a time: hit i
// is an open, a click, a page view or a custom event by i mod 4.
func sendHits(base string, keys *Keys, sent time.Time, from, to int) error {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := sendHit(client, base, keys, sent, i); err != nil {
					errs <- err
					for range work {
					}
					return
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return errors.Join(func() []error {
		var out []error
		for e := range errs {
			out = append(out, e)
		}
		return out
	}()...)
}

func sendHit(client *http.Client, base string, keys *Keys, sent time.Time, i int) error {
	contact, send := int64(i%700+1), int64(i+1)
	var req *http.Request
	var want int
	switch i % 4 {
	case 0, 1:
		kind, path, status := KindOpen, "/t/o/", http.StatusOK
		tok := Token{Kind: kind, CampaignID: 7, SendID: send, ContactID: contact, Issued: sent}
		if i%4 == 1 {
			tok.Kind, tok.URL, path, status = KindClick, fmt.Sprintf("https://www.example.edu/p/%d", i%50), "/t/c/", http.StatusFound
		}
		s, err := keys.Sign(tok)
		if err != nil {
			return err
		}
		req, _ = http.NewRequest("GET", base+path+s, nil)
		want = status
	default:
		body := fmt.Sprintf(`{"type":"pageview","anonymous_id":"anon-%08d","url":"https://www.example.edu/p/%d"}`, i%900, i%50)
		if i%4 == 3 {
			body = fmt.Sprintf(`{"type":"event","name":"form_submit","anonymous_id":"anon-%08d","url":"https://www.example.edu/apply","props":{"step":%d}}`, i%900, i%5)
		}
		req, _ = http.NewRequest("POST", base+"/t/e", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.Header.Set("Origin", "https://www.example.edu")
		want = http.StatusNoContent
	}
	req.Header.Set("User-Agent", firefox)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("hit %d: %w", i, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("hit %d: status %d, want %d", i, resp.StatusCode, want)
	}
	return nil
}

// startSink runs the real sink over the test's topics into its database
// until the test ends.
func startSink(t testing.TB, brokers []string, prefix string, conn driver.Conn) {
	t.Helper()
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := sink.New(sink.Config{
		Brokers: brokers, SASL: kafkatest.Kafka(t).SASL, Topics: []string{prefix + ingest.TopicChanges, prefix + ingest.TopicTracking},
		DeadLetterTopic: prefix + ingest.TopicDeadLetter, GroupID: itest.Name("sink-"),
		BatchSize: 5000, FlushInterval: 200 * time.Millisecond, BackoffMin: 50 * time.Millisecond, BackoffMax: time.Second,
	}, conn, reg, sink.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("sink: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("sink did not stop")
		}
	})
}
