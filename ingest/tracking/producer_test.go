package tracking

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/internal/itest"
)

// testEvent is hit number seq of one of keys contacts; SendID carries seq so
// the order per key can be checked after the round trip.
func testEvent(seq, keys int) calore.Event {
	contact := int64(seq%keys + 1)
	payload, _ := json.Marshal(calore.TrackingHit{ContactID: contact, CampaignID: 1, SendID: int64(seq + 1), UserAgent: firefox, IPPrefix: "203.0.113.0"})
	return calore.Event{
		ID: uuid.NewString(), Type: calore.EventEmailOpen, SchemaVersion: 1, Time: time.Now().UTC(),
		Aggregate: "tracking", AggregateID: fmt.Sprintf("contact:%d", contact), Payload: payload,
	}
}

func newTestProducer(t *testing.T, cfg ProducerConfig) (*Producer, *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SASL == nil {
		cfg.SASL = kafkatest.Kafka(t).SASL
	}
	p, err := NewProducer(cfg, quietLogger(), m)
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// topicCount is the number of messages on topic (sum of the partitions'
// high-water marks): exact, however long we would wait for more.
func topicCount(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	conn, err := kafkatest.Dialer(t).Dial("tcp", brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	parts, err := conn.ReadPartitions(topic)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range parts {
		c, err := kafkatest.Dialer(t).DialLeader(context.Background(), "tcp", brokers[0], topic, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		last, err := c.ReadLastOffset()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		n += last
	}
	return n
}

// readBack reads n messages of topic and checks each is a calore.Event keyed
// by its aggregate id, that no event id repeats, and that per key the
// sequence numbers (SendID) rise: the order of publication survived.
func readBack(t *testing.T, brokers []string, topic string, n int) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: brokers, GroupID: itest.Name("group"), Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ids := map[string]bool{}
	last := map[string]int64{}
	for i := 0; i < n; i++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read back after %d of %d messages: %v", i, n, err)
		}
		var ev calore.Event
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(m.Key) != ev.AggregateID {
			t.Errorf("key %q, aggregate id %q", m.Key, ev.AggregateID)
		}
		if ids[ev.ID] {
			t.Errorf("event %s delivered twice", ev.ID)
		}
		ids[ev.ID] = true
		var h calore.TrackingHit
		_ = json.Unmarshal(ev.Payload, &h)
		if h.SendID <= last[ev.AggregateID] {
			t.Errorf("key %s: hit %d after %d: order lost", ev.AggregateID, h.SendID, last[ev.AggregateID])
		}
		last[ev.AggregateID] = h.SendID
	}
	return ids
}

func publishAll(t *testing.T, p *Producer, from, to, keys int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for i := from; i < to; i++ {
		ev := testEvent(i, keys)
		if err := p.Publish(ev); err != nil {
			t.Fatal(err)
		}
		ids[ev.ID] = true
	}
	return ids
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sameIDs(t *testing.T, got, want map[string]bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d distinct events, want %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("event %s lost", id)
			return
		}
	}
}

func TestProducerDeliversExactly(t *testing.T) {
	t.Parallel()
	brokers, prefix := kafkatest.Topics(t, 3, ingest.TopicTracking)
	topic := prefix + ingest.TopicTracking
	p, m := newTestProducer(t, ProducerConfig{Brokers: brokers, Topic: topic, SpoolDir: t.TempDir()})
	const n = 5000
	start := time.Now()
	want := publishAll(t, p, 0, n, 50)
	publishTime := time.Since(start)
	waitFor(t, "all produced", 30*time.Second, func() bool { return testutil.ToFloat64(m.Produced) == n })
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d in %v, all acknowledged after %v", n, publishTime, time.Since(start))
	if got := topicCount(t, brokers, topic); got != n {
		t.Fatalf("topic holds %d messages, want exactly %d", got, n)
	}
	sameIDs(t, readBack(t, brokers, topic, n), want)
	if s := testutil.ToFloat64(m.Spooled); s != 0 {
		t.Errorf("spooled %v with Kafka up", s)
	}
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// forward starts relaying TCP connections on addr to target (Kafka coming
// back at the address the producer was given) until the test ends.
func forward(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
}

// TestProducerSpoolsUntilKafkaReturns: the producer starts with Kafka
// unreachable (a closed port), spools everything, and replays it, in order,
// when Kafka answers at that address; hits keep coming during the replay.
func TestProducerSpoolsUntilKafkaReturns(t *testing.T) {
	t.Parallel()
	brokers, prefix := kafkatest.Topics(t, 3, ingest.TopicTracking)
	topic := prefix + ingest.TopicTracking
	addr := closedPort(t)
	p, m := newTestProducer(t, ProducerConfig{Brokers: []string{addr}, Topic: topic, SpoolDir: t.TempDir(), RetryMin: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond})

	const down, up = 3000, 3000
	want := publishAll(t, p, 0, down, 20)
	start := time.Now()
	waitFor(t, "hits spooled while Kafka is down", 20*time.Second, func() bool { ev, _ := p.SpoolSize(); return ev == down })
	t.Logf("%d hits spooled after %v", down, time.Since(start))
	if got := testutil.ToFloat64(m.Produced); got != 0 {
		t.Fatalf("produced %v with Kafka down", got)
	}
	if testutil.ToFloat64(m.ProduceErrors) == 0 || testutil.ToFloat64(m.SpoolBytes) == 0 {
		t.Error("produce errors or spool bytes not counted")
	}

	forward(t, addr, brokers[0])
	start = time.Now()
	for id := range publishAll(t, p, down, down+up, 20) {
		want[id] = true
	}
	waitFor(t, "spool replayed and every hit acknowledged", 60*time.Second, func() bool {
		ev, _ := p.SpoolSize()
		return ev == 0 && testutil.ToFloat64(m.Produced) >= down+up
	})
	t.Logf("spool replayed, all %d acknowledged %v after Kafka returned", down+up, time.Since(start))
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := topicCount(t, brokers, topic); got != down+up {
		t.Fatalf("topic holds %d messages, want exactly %d", got, down+up)
	}
	sameIDs(t, readBack(t, brokers, topic, down+up), want)
	if r := testutil.ToFloat64(m.Replayed); r < down {
		t.Errorf("replayed %v, want at least %d", r, down)
	}
}

// TestSpoolSurvivesRestart: a producer that cannot reach Kafka closes with
// its hits in the spool (a tiny queue, so most took the queue-full path);
// the next producer on the same spool directory, reaching Kafka, delivers
// them all.
func TestSpoolSurvivesRestart(t *testing.T) {
	t.Parallel()
	brokers, prefix := kafkatest.Topics(t, 2, ingest.TopicTracking)
	topic := prefix + ingest.TopicTracking
	dir := t.TempDir()
	const n = 2000

	first, _ := newTestProducer(t, ProducerConfig{Brokers: []string{closedPort(t)}, Topic: topic, SpoolDir: dir, QueueSize: 16})
	want := publishAll(t, first, 0, n, 1000)
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	second, m := newTestProducer(t, ProducerConfig{Brokers: brokers, Topic: topic, SpoolDir: dir})
	if ev, _ := second.SpoolSize(); ev != n {
		t.Fatalf("spool holds %d after restart, want %d", ev, n)
	}
	waitFor(t, "spool replayed", 60*time.Second, func() bool { ev, _ := second.SpoolSize(); return ev == 0 })
	if err := second.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := topicCount(t, brokers, topic); got != n {
		t.Fatalf("topic holds %d messages, want exactly %d", got, n)
	}
	ids := readIDs(t, brokers, topic, n)
	sameIDs(t, ids, want)
	if testutil.ToFloat64(m.Replayed) != n {
		t.Errorf("replayed %v, want %d", testutil.ToFloat64(m.Replayed), n)
	}
}

// readIDs reads until it has seen n distinct event ids on topic.
func readIDs(t *testing.T, brokers []string, topic string, n int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: brokers, GroupID: itest.Name("group"), Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for len(ids) < n {
		msg, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read back after %d: %v", len(ids), err)
		}
		var ev calore.Event
		if err := json.Unmarshal(msg.Value, &ev); err != nil {
			t.Fatal(err)
		}
		ids[ev.ID] = true
	}
	return ids
}

// TestQueueOverflowSpillsToSpool: with Kafka up but a queue of one, most
// hits take the queue-full path into the spool; all are delivered, exactly.
func TestQueueOverflowSpillsToSpool(t *testing.T) {
	t.Parallel()
	brokers, prefix := kafkatest.Topics(t, 2, ingest.TopicTracking)
	topic := prefix + ingest.TopicTracking
	p, m := newTestProducer(t, ProducerConfig{Brokers: brokers, Topic: topic, SpoolDir: t.TempDir(), QueueSize: 1})
	const n = 3000
	want := publishAll(t, p, 0, n, 100)
	waitFor(t, "all produced", 60*time.Second, func() bool { return testutil.ToFloat64(m.Produced) >= n })
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if testutil.ToFloat64(m.Spooled) == 0 {
		t.Error("nothing took the queue-full path")
	}
	if got := topicCount(t, brokers, topic); got != n {
		t.Fatalf("topic holds %d messages, want exactly %d", got, n)
	}
	sameIDs(t, readIDs(t, brokers, topic, n), want)
}
