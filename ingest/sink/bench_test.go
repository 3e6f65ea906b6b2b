package sink_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/ingest/sink"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse"
)

// benchEvents is how many tracking events one benchmark operation moves.
const benchEvents = 100000

// BenchmarkSink measures the whole sink, Kafka fetch → contract check →
// mapping → ClickHouse native batches → offset commit, on benchEvents
// tracking events already in Kafka (6 partitions, as `calore migrate`
// creates by default). Each operation is a fresh consumer group reading them
// all. events/s includes joining the group and the first fetch;
// steady-events/s counts from the first stored batch to the last. Compare
// with BenchmarkRawBatchInsert, the limit: the same rows inserted straight
// into ClickHouse.
func BenchmarkSink(b *testing.B) {
	e := newEnv(b, 6)
	produce(b, e.brokers, e.prefix+ingest.TopicTracking, hits(benchEvents, 0))
	reg, err := schemas.New()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	var steadyRows float64
	var steadyTime time.Duration
	for range b.N {
		cfg := e.config()
		cfg.GroupID = itest.Name("bench-")
		cfg.BatchSize = 20000
		cfg.FlushInterval = time.Second
		m := sink.NewMetrics(prometheus.NewRegistry())
		s, err := sink.New(cfg, e.conn, reg, m, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		deadline := time.Now().Add(5 * time.Minute)
		// steady state: from the first stored batch (the group has joined
		// and fetching runs) to the last
		for total(m.Rows) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		firstRows, firstAt := total(m.Rows), time.Now()
		for total(m.Rows) < benchEvents && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		steadyRows += benchEvents - firstRows
		steadyTime += time.Since(firstAt)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if got := total(m.Rows); got != benchEvents {
			b.Fatalf("sink stored %v rows, want %d", got, benchEvents)
		}
	}
	b.ReportMetric(float64(benchEvents*b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(steadyRows/steadyTime.Seconds(), "steady-events/s")
}

// BenchmarkRawBatchInsert is the limit for BenchmarkSink: the same
// tracking_events rows, already mapped, inserted with clickhouse-go native
// batches of 20,000 rows and nothing else.
func BenchmarkRawBatchInsert(b *testing.B) {
	e := newEnv(b, 1)
	reg, err := schemas.New()
	if err != nil {
		b.Fatal(err)
	}
	var rows []warehouse.Row
	for _, m := range hits(benchEvents, 0) {
		ev, err := reg.Decode(m.Value)
		if err != nil {
			b.Fatal(err)
		}
		r, err := warehouse.Rows(ev)
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, r...)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for i := 0; i < len(rows); i += 20000 {
			batch, err := e.conn.PrepareBatch(ctx, warehouse.TrackingEvents.InsertSQL())
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range rows[i:min(i+20000, len(rows))] {
				if err := batch.Append(r.Values...); err != nil {
					b.Fatal(err)
				}
			}
			if err := batch.Send(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(benchEvents*b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkDecode is the sink's CPU work per message without any server:
// JSON Schema validation of envelope and payload, then mapping to a row.
func BenchmarkDecode(b *testing.B) {
	reg, err := schemas.New()
	if err != nil {
		b.Fatal(err)
	}
	msgs := hits(1000, 0)
	b.ResetTimer()
	for i := range b.N {
		ev, hit, err := reg.DecodeHit(msgs[i%len(msgs)].Value)
		if err != nil || hit == nil {
			b.Fatal(err, hit)
		}
		if _, err := warehouse.TrackingRows(ev, hit.TrackingHit, hit.Props); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHitToQueryable measures, with the sink at its command-line
// defaults (batches of 10,000 or 1 s), how long a tracking hit takes from the
// producer's acknowledged write to being counted by a ClickHouse query:
// 200 hits, one every 20 ms, while a poller queries every 20 ms. Reports
// p50/p95/max in milliseconds.
func BenchmarkHitToQueryable(b *testing.B) {
	e := newEnv(b, 6)
	reg, err := schemas.New()
	if err != nil {
		b.Fatal(err)
	}
	cfg := e.config()
	cfg.BatchSize = 10000
	cfg.FlushInterval = time.Second
	s, err := sink.New(cfg, e.conn, reg, sink.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	w := writer(b, e.brokers, e.prefix+ingest.TopicTracking)
	w.BatchTimeout = time.Millisecond
	defer w.Close()
	// warm up: the consumer group has joined once a first hit is counted
	k, v := hit(0)
	produce(b, e.brokers, e.prefix+ingest.TopicTracking, []kafka.Message{{Key: []byte(k), Value: v}})
	waitFor(b, e.conn, time.Minute, 1, `SELECT uniqExact(event_id) FROM tracking_events`)

	const hitsPerOp = 200
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		var mu sync.Mutex
		sent := map[string]time.Time{}
		seen := map[string]time.Duration{}
		pollDone := make(chan struct{})
		go func() {
			defer close(pollDone)
			for {
				rows, err := e.conn.Query(ctx, `SELECT toString(event_id) FROM tracking_events WHERE received_at >= now() - 120`)
				if err == nil {
					now := time.Now()
					for rows.Next() {
						var id string
						if rows.Scan(&id) == nil {
							mu.Lock()
							if t, ok := sent[id]; ok {
								if _, dup := seen[id]; !dup {
									seen[id] = now.Sub(t)
								}
							}
							mu.Unlock()
						}
					}
					rows.Close()
				}
				mu.Lock()
				finished := len(seen) == hitsPerOp
				mu.Unlock()
				if finished {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		for i := range hitsPerOp {
			id := uuid.NewString()
			key, value := hitWithID(i, id)
			mu.Lock()
			sent[id] = time.Now()
			mu.Unlock()
			if err := w.WriteMessages(ctx, kafka.Message{Key: []byte(key), Value: value}); err != nil {
				b.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		select {
		case <-pollDone:
		case <-time.After(2 * time.Minute):
			b.Fatal("hits not queryable within 2 minutes")
		}
		for _, d := range seen {
			lat = append(lat, d)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Milliseconds()) }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(1), "max-ms")
}

func hitWithID(i int, id string) (string, []byte) {
	k, v := hit(i)
	return k, []byte(replaceID(string(v), id))
}

// replaceID swaps the event id in an encoded envelope.
func replaceID(value, id string) string {
	const prefix = `{"event_id":"`
	if len(value) < len(prefix)+36 || value[:len(prefix)] != prefix {
		panic(fmt.Sprintf("unexpected envelope %.40s", value))
	}
	return prefix + id + value[len(prefix)+36:]
}
