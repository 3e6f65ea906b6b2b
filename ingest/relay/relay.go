// Package relay publishes the PostgreSQL outbox to Kafka (`calore relay`).
//
// In a loop: claim the oldest unpublished outbox rows with FOR UPDATE SKIP
// LOCKED, publish them to the changes topic keyed by aggregate id, wait for
// every in-sync replica to acknowledge (acks=all), then stamp published_at
// in the same transaction and commit. A crash between the acknowledgement
// and the commit publishes the rows again on the next run: delivery is at
// least once, and consumers drop repeats by event id. Several relays can run
// at once: SKIP LOCKED hands each a disjoint set of rows (a record's changes
// can then be published out of order; consumers order them by time).
//
// Before publishing, the personal fields of each payload are sealed with the
// data keys of the people they are about (seal, ingest/pii, docs/gdpr.md),
// so that an erasure, which destroys the keys, reaches the copies in Kafka.
//
// The relay wakes on NOTIFY calore_outbox (postgres/migrations/00090) and
// also polls, so a missed notification only delays publishing.
package relay

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest/pii"
	"github.com/calore-crm/calore/postgres"
)

var (
	//go:embed queries/claim.sql
	claimSQL string
	//go:embed queries/mark.sql
	markSQL string
	//go:embed queries/backlog.sql
	backlogSQL string
)

// Channel is the NOTIFY channel the outbox trigger signals.
const Channel = "calore_outbox"

// Config is how the relay publishes.
type Config struct {
	Brokers      []string
	Topic        string         // full name of the changes topic
	BatchSize    int            // rows per transaction (default 500)
	PollInterval time.Duration  // look for rows at least this often (default 1s)
	BackoffMax   time.Duration  // cap of the retry delay after a failure (default 30s)
	SASL         sasl.Mechanism // authenticates to Kafka (nil: none); the relay's user may write the changes topic only
	// KeyWrapper wraps the data keys the relay creates (CALORE_DATA_KEY_MASTER;
	// nil: stored as they are).
	KeyWrapper *pii.Wrapper
}

func (c *Config) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 30 * time.Second
	}
}

// Metrics are the relay's Prometheus metrics.
type Metrics struct {
	Backlog        prometheus.Gauge     // unpublished outbox rows
	OldestSeconds  prometheus.Gauge     // age of the oldest unpublished row
	Published      prometheus.Counter   // rows published and stamped
	BatchSize      prometheus.Histogram // rows per published batch
	PublishSeconds prometheus.Histogram // claim → acks → commit of one batch
	Errors         prometheus.Counter   // failed batches (rolled back, retried)
}

// NewMetrics registers the relay's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Backlog: f.NewGauge(prometheus.GaugeOpts{Name: "calore_relay_backlog",
			Help: "Outbox rows not yet published to Kafka."}),
		OldestSeconds: f.NewGauge(prometheus.GaugeOpts{Name: "calore_relay_oldest_unpublished_seconds",
			Help: "Age of the oldest unpublished outbox row."}),
		Published: f.NewCounter(prometheus.CounterOpts{Name: "calore_relay_published_total",
			Help: "Outbox rows published to Kafka and marked published."}),
		BatchSize: f.NewHistogram(prometheus.HistogramOpts{Name: "calore_relay_batch_size",
			Help: "Rows per published batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 7)}),
		PublishSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "calore_relay_publish_seconds",
			Help: "Duration of one batch: claim, publish with acks=all, mark, commit.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		Errors: f.NewCounter(prometheus.CounterOpts{Name: "calore_relay_errors_total",
			Help: "Batches that failed and were rolled back to be retried."}),
	}
}

// Relay publishes the outbox.
type Relay struct {
	cfg     Config
	pool    *pgxpool.Pool
	w       *kafka.Writer
	metrics *Metrics
	logger  *slog.Logger

	backlogAt time.Time // when the backlog metric was last refreshed (Run's goroutine only)
}

// New returns a relay reading pool's outbox. Close releases its Kafka writer.
func New(cfg Config, pool *pgxpool.Pool, metrics *Metrics, logger *slog.Logger) (*Relay, error) {
	cfg.defaults()
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("relay: brokers and topic are required")
	}
	w := &kafka.Writer{
		Addr:                   kafka.TCP(cfg.Brokers...),
		Transport:              &kafka.Transport{SASL: cfg.SASL},
		Topic:                  cfg.Topic,
		Balancer:               &kafka.Murmur2Balancer{}, // same partition for a key as Java clients
		RequiredAcks:           kafka.RequireAll,         // kafka-go's default is none
		BatchTimeout:           5 * time.Millisecond,     // kafka-go's default is 1 s
		BatchSize:              cfg.BatchSize,
		AllowAutoTopicCreation: false,
	}
	return &Relay{cfg: cfg, pool: pool, w: w, metrics: metrics, logger: logger}, nil
}

// Close flushes and closes the Kafka writer.
func (r *Relay) Close() error { return r.w.Close() }

// Run publishes until ctx is cancelled (then it returns nil; a batch in
// flight is rolled back and published again later).
func (r *Relay) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	listenCtx, stopListen := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		r.listen(listenCtx, wake)
	}()
	defer func() { stopListen(); <-listening }()

	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	delay := 100 * time.Millisecond
	r.logger.InfoContext(ctx, "relay publishing", "topic", r.cfg.Topic, "batch_size", r.cfg.BatchSize)
	for {
		n, err := r.PublishBatch(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			r.metrics.Errors.Inc()
			r.logger.WarnContext(ctx, "relay batch failed; retrying", "retry_in", delay, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(delay):
			}
			delay = min(2*delay, r.cfg.BackoffMax)
			continue
		}
		delay = 100 * time.Millisecond
		if n == r.cfg.BatchSize {
			if time.Since(r.backlogAt) > 5*time.Second { // busy: still report the backlog now and then
				r.updateBacklog(ctx)
			}
			continue // more waiting
		}
		r.updateBacklog(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-poll.C:
		}
	}
}

// PublishBatch publishes up to BatchSize unpublished rows in one transaction
// and returns how many it published.
func (r *Relay) PublishBatch(ctx context.Context) (int, error) {
	start := time.Now()
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("relay: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit

	rows, err := tx.Query(ctx, claimSQL, r.cfg.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("relay: claim outbox rows: %w", err)
	}
	var (
		ids []int64
		evs []calore.Event
	)
	for rows.Next() {
		var (
			id      int64
			ev      calore.Event
			payload []byte
		)
		if err := rows.Scan(&id, &ev.ID, &ev.Type, &ev.Aggregate, &ev.AggregateID, &ev.SchemaVersion, &payload, &ev.Time); err != nil {
			rows.Close()
			return 0, fmt.Errorf("relay: read outbox row: %w", err)
		}
		ev.Time = ev.Time.UTC()
		ev.Payload = payload
		ids, evs = append(ids, id), append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("relay: claim outbox rows: %w", err)
	}
	if len(ids) == 0 {
		return 0, tx.Commit(ctx)
	}
	if err := r.seal(ctx, ids, evs); err != nil {
		return 0, err
	}
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		value, err := json.Marshal(ev)
		if err != nil {
			return 0, fmt.Errorf("relay: encode outbox row %d: %w", ids[i], err)
		}
		msgs[i] = kafka.Message{Key: []byte(ev.AggregateID), Value: value, Headers: []kafka.Header{
			{Key: "calore-type", Value: []byte(ev.Type)},
			{Key: "calore-outbox-id", Value: []byte(strconv.FormatInt(ids[i], 10))},
		}}
	}
	if err := r.w.WriteMessages(ctx, msgs...); err != nil {
		return 0, fmt.Errorf("relay: publish %d outbox rows (%d…%d) to %s: %w", len(ids), ids[0], ids[len(ids)-1], r.cfg.Topic, err)
	}
	if _, err := tx.Exec(ctx, markSQL, ids); err != nil {
		return 0, fmt.Errorf("relay: mark %d outbox rows published: %w", len(ids), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("relay: commit %d published outbox rows: %w", len(ids), err)
	}
	r.metrics.Published.Add(float64(len(ids)))
	r.metrics.BatchSize.Observe(float64(len(ids)))
	r.metrics.PublishSeconds.Observe(time.Since(start).Seconds())
	return len(ids), nil
}

// seal replaces the personal fields of the events' payloads by values
// sealed with the data keys of the people they are about (ingest/pii,
// docs/gdpr.md), creating missing keys. The keys are committed before
// anything is published, so that a consumer always finds them; an outbox
// row is never published with its personal fields in clear.
func (r *Relay) seal(ctx context.Context, ids []int64, evs []calore.Event) error {
	docs := make([]*pii.Doc, len(evs))
	var people []int64
	seen := map[int64]bool{}
	for i, ev := range evs {
		d, err := pii.ForSealing(ev.Type, ev.Payload)
		if err != nil {
			// Not written by the store (its ids are bigints): published
			// without its personal fields rather than in clear, and
			// rather than holding up the outbox behind it.
			stripped, serr := pii.Strip(ev.Type, ev.Payload)
			if serr != nil {
				return fmt.Errorf("relay: outbox row %d: %w", ids[i], errors.Join(err, serr))
			}
			r.logger.WarnContext(ctx, "relay: personal fields dropped from an outbox row that cannot be sealed", "outbox_id", ids[i], "type", ev.Type, "err", err)
			evs[i].Payload = stripped
			continue
		}
		docs[i] = d
		if d == nil {
			continue
		}
		for _, p := range d.People() {
			if !seen[p] {
				seen[p] = true
				people = append(people, p)
			}
		}
	}
	if len(people) == 0 {
		return nil
	}
	w := r.cfg.KeyWrapper
	dk, err := postgres.NewStore(r.pool).PersonKeys(ctx, people, w.Wrap)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	keys := make(map[int64]pii.Key, len(dk))
	for p, k := range dk {
		secret, err := w.Unwrap(p, k.Secret)
		if err != nil {
			return fmt.Errorf("relay: data key %d of person %d: %w", k.ID, p, err)
		}
		keys[p] = pii.Key{ID: k.ID, Secret: secret}
	}
	for i, d := range docs {
		if d == nil {
			continue
		}
		sealed, err := d.Seal(keys)
		if err != nil {
			return fmt.Errorf("relay: seal outbox row %d: %w", ids[i], err)
		}
		evs[i].Payload = sealed
	}
	return nil
}

// Backlog returns the number of unpublished rows and the age of the oldest.
func (r *Relay) Backlog(ctx context.Context) (int64, time.Duration, error) {
	var (
		n   int64
		age float64
	)
	if err := r.pool.QueryRow(ctx, backlogSQL).Scan(&n, &age); err != nil {
		return 0, 0, fmt.Errorf("relay: measure outbox backlog: %w", err)
	}
	return n, time.Duration(age * float64(time.Second)), nil
}

func (r *Relay) updateBacklog(ctx context.Context) {
	n, age, err := r.Backlog(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.WarnContext(ctx, "relay backlog", "err", err)
		}
		return
	}
	r.metrics.Backlog.Set(float64(n))
	r.metrics.OldestSeconds.Set(age.Seconds())
	r.backlogAt = time.Now()
}

// listen holds a connection LISTENing on Channel and signals wake on every
// notification, reconnecting after failures until ctx is done.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		r.logger.WarnContext(ctx, "relay: listen for outbox notifications failed; polling meanwhile", "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, r.cfg.BackoffMax)
	}
}

func (r *Relay) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("listen %s: %w", Channel, err)
	}
	signal(wake) // rows may have arrived while not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		signal(wake)
	}
}

func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
