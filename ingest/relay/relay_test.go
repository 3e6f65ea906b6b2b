package relay_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/ingest/relay"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/ingest/sink"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// pipeline is one test's PostgreSQL database, topics and warehouse database.
type pipeline struct {
	pool    *pgxpool.Pool
	brokers []string
	prefix  string
	ch      driver.Conn
}

func newPipeline(t testing.TB) *pipeline {
	t.Helper()
	brokers, prefix := kafkatest.Topics(t, 3, ingest.Topics...)
	return &pipeline{pool: pgtest.New(t), brokers: brokers, prefix: prefix, ch: warehousetest.New(t)}
}

// background runs fn(ctx) until stop is called; stop waits for it.
type background struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func goRun(t testing.TB, fn func(context.Context) error) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- fn(ctx) }()
	t.Cleanup(func() { b.stop(t) })
	return b
}

func (b *background) stop(t testing.TB) {
	t.Helper()
	b.once.Do(func() {
		b.cancel()
		select {
		case err := <-b.done:
			if err != nil {
				t.Errorf("stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("did not stop within 30s")
		}
	})
}

func (p *pipeline) startRelay(t testing.TB, poll time.Duration) (*background, *relay.Metrics) {
	t.Helper()
	m := relay.NewMetrics(prometheus.NewRegistry())
	r, err := relay.New(relay.Config{Brokers: p.brokers, SASL: kafkatest.Kafka(t).SASL, Topic: p.prefix + ingest.TopicChanges, BatchSize: 500, PollInterval: poll},
		p.pool, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return goRun(t, r.Run), m
}

func (p *pipeline) startSink(t *testing.T) *sink.Metrics {
	t.Helper()
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	m := sink.NewMetrics(prometheus.NewRegistry())
	s, err := sink.New(sink.Config{
		Brokers:         p.brokers,
		SASL:            kafkatest.Kafka(t).SASL,
		Topics:          []string{p.prefix + ingest.TopicChanges, p.prefix + ingest.TopicTracking},
		DeadLetterTopic: p.prefix + ingest.TopicDeadLetter,
		GroupID:         itest.Name("relay-test-"),
		BatchSize:       2000,
		FlushInterval:   200 * time.Millisecond,
		Keys:            postgres.NewStore(p.pool),
	}, p.ch, reg, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	goRun(t, s.Run)
	return m
}

// aggregates rotate over the outbox rows the tests write; each has a typed
// warehouse table.
var aggregates = map[string]string{
	"person": "dim_people", "organisation": "dim_organisations", "donation": "fact_donations",
	"interaction": "fact_interactions", "registration": "fact_registrations",
}

// writeOutbox inserts outbox rows from..to (inclusive) as the store would:
// one change of a record per row, ids unique per aggregate.
func writeOutbox(t testing.TB, pool *pgxpool.Pool, from, to int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
INSERT INTO outbox (event_id, event_type, aggregate_type, aggregate_id, schema_version, payload, occurred_at)
SELECT gen_random_uuid(), a || '.created', a, g::text, 1,
       jsonb_build_object('id', g, 'version', 1, 'first_name', 'P' || g, 'legal_name', 'Org ' || g,
                          'person_id', g % 97 + 1, 'amount', (g % 500)::text || '.50', 'currency', 'EUR',
                          'kind', 'meeting', 'event_id', g % 13 + 1, 'status', 'registered',
                          'created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
       now()
FROM generate_series($1::int, $2::int) AS g,
     LATERAL (SELECT (ARRAY['person', 'organisation', 'donation', 'interaction', 'registration'])[1 + g % 5] AS a) AS x`, from, to)
	if err != nil {
		t.Fatalf("write outbox rows %d..%d: %v", from, to, err)
	}
}

func pgCount(t *testing.T, pool *pgxpool.Pool, query string) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func chCount(t *testing.T, conn driver.Conn, query string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

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

// TestOutboxToWarehouseExactly: 10,000 outbox rows through relay(s) and the
// sink give exactly 10,000 change-log events and 10,000 record versions in
// the typed tables, also when a relay is stopped mid-way and restarted and
// when two relays share the outbox.
func TestOutboxToWarehouseExactly(t *testing.T) {
	t.Parallel()
	const n = 10000
	tests := []struct {
		name      string
		relays    int
		interrupt bool // stop one relay once some rows are out, then start a new one
	}{
		{"one relay", 1, false},
		{"relay stopped mid-way and restarted", 1, true},
		{"two relays, one stopped mid-way", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPipeline(t)
			sm := p.startSink(t)
			writeOutbox(t, p.pool, 1, n)
			var relays []*background
			for range tt.relays {
				r, _ := p.startRelay(t, 200*time.Millisecond)
				relays = append(relays, r)
			}
			if tt.interrupt {
				deadline := time.Now().Add(60 * time.Second)
				for pgCount(t, p.pool, `SELECT count(*) FROM outbox WHERE published_at IS NOT NULL`) < n/5 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				relays[0].stop(t) // cancels a batch in flight if there is one
				if pgCount(t, p.pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`) == 0 {
					t.Log("the relay finished before it was stopped; nothing was interrupted")
				}
				p.startRelay(t, 200*time.Millisecond)
			}

			// A batch inserts change_log first, then the typed tables: wait
			// for the last table too.
			deadline := time.Now().Add(120 * time.Second)
			for (chCount(t, p.ch, `SELECT uniqExact(event_id) FROM change_log`) < n || versions(t, p.ch) < n) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // any straggling duplicate
			if got := pgCount(t, p.pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); got != 0 {
				t.Errorf("%d outbox rows unpublished", got)
			}
			if got := chCount(t, p.ch, `SELECT uniqExact(event_id) FROM change_log`); got != n {
				t.Errorf("change_log events = %d, want %d", got, n)
			}
			for agg, table := range aggregates {
				got := chCount(t, p.ch, `SELECT count() FROM (SELECT id, argMax(deleted, version) AS d FROM `+table+` GROUP BY id) WHERE d = 0`)
				if got != n/uint64(len(aggregates)) {
					t.Errorf("%s: %d current %s records, want %d", table, got, agg, n/len(aggregates))
				}
			}
			if v := versions(t, p.ch); v != n {
				t.Errorf("record versions = %d, want %d", v, n)
			}
			if got := chCount(t, p.ch, `SELECT toUInt64(count()) FROM (SELECT id FROM fact_donations GROUP BY id HAVING argMax(currency, version) = 'EUR')`); got != n/5 {
				t.Errorf("donations in EUR = %d, want %d", got, n/5)
			}
			if d := total(sm.DeadLetters); d != 0 {
				t.Errorf("%v relay messages dead-lettered", d)
			}
		})
	}
}

// versions counts the record versions in all typed tables, once each.
func versions(t *testing.T, conn driver.Conn) uint64 {
	t.Helper()
	var sum uint64
	for _, table := range aggregates {
		sum += chCount(t, conn, `SELECT uniqExact(change_id) FROM `+table)
	}
	return sum
}

// TestNotifyWakesRelay: with polling effectively off, an outbox insert is
// published within moments, woken by the NOTIFY trigger.
func TestNotifyWakesRelay(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	_, m := p.startRelay(t, time.Hour)
	// wait until the relay's connection has run LISTEN (a fixed sleep loses
	// the race on a loaded machine: a NOTIFY before LISTEN wakes nobody)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'LISTEN %'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the relay did not LISTEN within 30 s")
		}
	}
	time.Sleep(100 * time.Millisecond) // and is idle after its first drain
	writeOutbox(t, p.pool, 1, 1)
	// polling is off (1 h): only the NOTIFY can wake the relay. The bound is
	// generous because the package's other tests load the broker meanwhile
	// and a first publish can take seconds; a lost wake-up never publishes.
	deadline := time.Now().Add(30 * time.Second)
	for total(m.Published) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := total(m.Published); got != 1 {
		t.Fatalf("published %v rows 30s after the insert, want 1 (no wake-up?)", got)
	}
	// the backlog metric is refreshed when the relay goes idle
	time.Sleep(200 * time.Millisecond)
	if b := total(m.Backlog); b != 0 {
		t.Errorf("backlog %v, want 0", b)
	}
}

// TestUnacknowledgedRowsStayUnpublished: while the broker cannot be reached
// nothing is marked published; once it can, everything is, exactly once in
// the warehouse.
func TestUnacknowledgedRowsStayUnpublished(t *testing.T) {
	t.Parallel()
	p := newPipeline(t)
	writeOutbox(t, p.pool, 1, 50)
	closed, err := relay.New(relay.Config{Brokers: []string{"127.0.0.1:1"}, Topic: p.prefix + ingest.TopicChanges},
		p.pool, relay.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := closed.PublishBatch(ctx); err == nil {
		t.Fatalf("published %d rows to a broker that does not exist", n)
	}
	if got := pgCount(t, p.pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); got != 50 {
		t.Fatalf("%d rows unpublished after a failed publish, want 50", got)
	}
	if n, _, err := closed.Backlog(ctx); err != nil || n != 50 {
		t.Errorf("backlog = %d, %v; want 50", n, err)
	}

	p.startSink(t)
	p.startRelay(t, 100*time.Millisecond)
	deadline := time.Now().Add(60 * time.Second)
	for chCount(t, p.ch, `SELECT uniqExact(event_id) FROM change_log`) < 50 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := chCount(t, p.ch, `SELECT uniqExact(event_id) FROM change_log`); got != 50 {
		t.Errorf("change_log has %d events, want 50", got)
	}
	if got := pgCount(t, p.pool, `SELECT count(*) FROM outbox WHERE published_at IS NULL`); got != 0 {
		t.Errorf("%d rows still unpublished", got)
	}
}
