package tracking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/calore-crm/calore"
)

// ProducerConfig configures a Producer. Zero durations and sizes take the
// defaults shown.
type ProducerConfig struct {
	Brokers  []string
	Topic    string // full topic name: cfg.KafkaTopicPrefix + ingest.TopicTracking
	SpoolDir string

	// NoWAL switches the write-ahead log off: Publish then returns before
	// the hit is durable and a crash of serve loses what was queued. Only
	// to measure what the log costs and saves (CALORE_TRACKING_WAL=off).
	NoWAL bool

	QueueSize    int           // in-memory queue in front of Kafka; when full, hits go to the spool (10,000)
	BatchSize    int           // messages per produce call at most (1,000)
	Linger       time.Duration // how long a batch waits to fill once it has a message (5 ms)
	WriteTimeout time.Duration // one produce call, retries included (10 s)
	SyncInterval time.Duration // spool fsync interval (200 ms)
	RetryMin     time.Duration // first wait before retrying Kafka after a failure (250 ms)
	RetryMax     time.Duration // longest wait between retries (10 s)

	// SASL authenticates to Kafka (nil: no authentication); serve's user may
	// write the tracking topic only.
	SASL sasl.Mechanism

	// Dial, if set, opens every connection to Kafka (kafka.Transport.Dial);
	// tests use it to cut Kafka off without stopping the shared broker.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c *ProducerConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 10_000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	def(&c.Linger, 5*time.Millisecond)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.SyncInterval, 200*time.Millisecond)
	def(&c.RetryMin, 250*time.Millisecond)
	def(&c.RetryMax, 10*time.Second)
}

// Producer sends tracking events to Kafka without making callers wait:
// Publish puts the event on a bounded in-memory queue and returns; one
// goroutine takes batches off the queue and produces them with acks=all.
// When a produce fails (Kafka unreachable), the batch goes to the durable
// Spool and so does everything after it, in order, until the spool has been
// replayed to Kafka; a full queue also spills into the spool. Delivery is
// at-least-once: a batch whose acknowledgement was lost is sent again, and
// the sink drops repeated event ids.
type Producer struct {
	cfg     ProducerConfig
	logger  *slog.Logger
	metrics *Metrics
	writer  *kafka.Writer
	conns   *kafka.Transport
	spool   *Spool
	wal     *WAL

	// WALRecovered is how many hits the write-ahead log held at start
	// (acknowledged by an earlier run, perhaps never produced).
	WALRecovered int

	relMu     sync.Mutex
	toRelease []message // in the spool, released from the log after its next fsync
	queue     chan message
	stop      chan context.Context // Close hands its context to the loop
	done      chan struct{}
	closeOnce sync.Once
	closed    chan struct{} // closed once Publish must stop queueing
}

// message is one queued event: Kafka key (the aggregate id), value and the
// write-ahead log segment holding it (0: none).
type message struct {
	key, value []byte
	seg        uint64
}

// ErrProducerClosed is returned by Publish after Close.
var ErrProducerClosed = errors.New("tracking producer closed")

// NewProducer opens the spool and starts the producer's goroutine; Close
// stops it.
func NewProducer(cfg ProducerConfig, logger *slog.Logger, metrics *Metrics) (*Producer, error) {
	cfg.defaults()
	if len(cfg.Brokers) == 0 || cfg.Topic == "" || cfg.SpoolDir == "" {
		return nil, errors.New("tracking producer: brokers, topic and spool dir are required")
	}
	spool, err := OpenSpool(cfg.SpoolDir, logger, func(events, bytes int64) {
		metrics.SpoolEvents.Set(float64(events))
		metrics.SpoolBytes.Set(float64(bytes))
	})
	if err != nil {
		return nil, fmt.Errorf("tracking producer: %w", err)
	}
	wal, recovered, err := OpenWAL(filepath.Join(cfg.SpoolDir, "wal"), spool, logger, cfg.NoWAL)
	if err != nil {
		_ = spool.Close()
		return nil, fmt.Errorf("tracking producer: %w", err)
	}
	metrics.WALRecovered.Add(float64(recovered))
	p := &Producer{
		cfg: cfg, logger: logger, metrics: metrics, spool: spool, wal: wal, WALRecovered: recovered,
		queue:  make(chan message, cfg.QueueSize),
		stop:   make(chan context.Context),
		done:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	p.writer, p.conns = newWriter(cfg)
	go p.loop()
	go p.syncLoop()
	return p, nil
}

// newWriter makes a Kafka writer with its own connection pool.
func newWriter(cfg ProducerConfig) (*kafka.Writer, *kafka.Transport) {
	transport := &kafka.Transport{DialTimeout: 3 * time.Second, MetadataTTL: 30 * time.Second, Dial: cfg.Dial, SASL: cfg.SASL}
	return &kafka.Writer{
		Addr:     kafka.TCP(cfg.Brokers...),
		Topic:    cfg.Topic,
		Balancer: &kafka.Hash{}, // by key: one contact's (or browser's) hits stay in order on one partition
		// kafka-go's defaults are acks=none and a 1 s batch timeout.
		RequiredAcks:    kafka.RequireAll,
		BatchTimeout:    time.Millisecond,
		BatchSize:       cfg.BatchSize,
		BatchBytes:      16 << 20,
		MaxAttempts:     3,
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: 500 * time.Millisecond,
		WriteTimeout:    cfg.WriteTimeout,
		ReadTimeout:     cfg.WriteTimeout,
		Transport:       transport,
	}, transport
}

// resetWriter replaces the writer after a failure: kafka-go's connection
// pool keeps a failed metadata lookup until its next refresh (up to
// MetadataTTL), so a fresh pool notices at once that Kafka is back.
func (p *Producer) resetWriter() {
	if err := p.writer.Close(); err != nil {
		p.logger.Debug("tracking: close failed kafka writer", "err", err)
	}
	p.conns.CloseIdleConnections()
	p.writer, p.conns = newWriter(p.cfg)
}

// Publish makes ev durable in the write-ahead log (a group-committed
// fsync), queues it for Kafka and returns; it never waits on Kafka. When
// the queue is full the event is appended to the spool instead.
func (p *Producer) Publish(ev calore.Event) error {
	v, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("publish %s: encode: %w", ev.Type, err)
	}
	select {
	case <-p.closed:
		return ErrProducerClosed
	default:
	}
	seg, err := p.wal.Append(v)
	if err != nil {
		p.metrics.PublishErrors.Inc()
		return fmt.Errorf("publish %s: %w", ev.Type, err)
	}
	m := message{key: []byte(ev.AggregateID), value: v, seg: seg}
	select {
	case p.queue <- m:
		return nil
	default:
	}
	if err := p.spool.Append(v); err != nil {
		// Still in the log: the next start replays it.
		p.metrics.PublishErrors.Inc()
		return fmt.Errorf("publish %s: queue full and %w", ev.Type, err)
	}
	p.releaseAfterSync([]message{m})
	p.metrics.Spooled.Inc()
	return nil
}

// releaseAfterSync releases batch from the log once the spool holding it
// has been fsynced (syncSpool).
func (p *Producer) releaseAfterSync(batch []message) {
	if p.cfg.NoWAL {
		return
	}
	p.relMu.Lock()
	p.toRelease = append(p.toRelease, batch...)
	p.relMu.Unlock()
}

// release tells the log that batch is safe in Kafka or the synced spool.
func (p *Producer) release(batch []message) {
	if p.cfg.NoWAL {
		return
	}
	var seg uint64
	n := 0
	for _, m := range batch {
		if m.seg != seg {
			if seg != 0 {
				p.wal.Release(seg, n)
			}
			seg, n = m.seg, 0
		}
		n++
	}
	if seg != 0 {
		p.wal.Release(seg, n)
	}
}

// Close stops taking events, sends what is queued (to Kafka if it answers
// before ctx ends, else to the spool), syncs the spool and closes. Call it
// after the HTTP server has stopped calling Publish.
func (p *Producer) Close(ctx context.Context) error {
	first := false
	p.closeOnce.Do(func() { close(p.closed); first = true })
	if first {
		select {
		case p.stop <- ctx: // the loop drains with ctx: once it is over, the rest goes to the spool
		case <-p.done:
		}
	}
	<-p.done
	var late []message // published while Close ran: straight to the spool
	for len(p.queue) > 0 {
		late = append(late, <-p.queue)
	}
	p.toSpool(late)
	p.syncSpool()
	var errs []error
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("close tracking producer: %w", err))
	}
	if err := p.writer.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close kafka writer: %w", err))
	}
	p.conns.CloseIdleConnections()
	if err := p.spool.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := p.wal.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SpoolSize reports what waits in the spool.
func (p *Producer) SpoolSize() (events, bytes int64) { return p.spool.Size() }

// syncLoop fsyncs the spool every SyncInterval until the loop ends; it runs
// apart from the loop so that a produce call stuck on an unreachable broker
// does not delay the fsync of what Publish spilled into the spool meanwhile.
func (p *Producer) syncLoop() {
	t := time.NewTicker(p.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.syncSpool()
		case <-p.done:
			return
		}
	}
}

// loop is the producer's main goroutine: batches from the queue to Kafka or
// the spool, and spool replay when Kafka is back.
func (p *Producer) loop() {
	defer close(p.done)
	retry := time.NewTimer(0) // try the spool at start: earlier runs may have left events
	defer retry.Stop()
	backoff := p.cfg.RetryMin
	canReplay := true
	batch := make([]message, 0, p.cfg.BatchSize)

	fail := func() {
		p.resetWriter()
		canReplay = false
		retry.Reset(backoff)
		backoff = min(backoff*2, p.cfg.RetryMax)
	}
	for {
		// Replay one chunk at a time so new events keep being taken off
		// the queue (into the spool, behind the replayed ones).
		if canReplay && p.spool.Pending() > 0 {
			if _, err := p.replay(context.Background(), 10*p.cfg.BatchSize); err != nil {
				p.logger.Warn("tracking: kafka produce still failing (unreachable, or topic missing: calore migrate), keeping events in the spool", "err", err, "retry_in", backoff)
				fail()
			} else {
				backoff = p.cfg.RetryMin
				if p.spool.Pending() > 0 && len(p.queue) == 0 {
					select { // more to replay and nothing new: go on at once
					case ctx := <-p.stop:
						p.drain(ctx, batch[:0])
						return
					default:
						continue
					}
				}
			}
		}
		batch = batch[:0]
		select {
		case v := <-p.queue:
			batch = append(batch, v)
		case <-retry.C:
			canReplay = true
			continue
		case ctx := <-p.stop:
			p.drain(ctx, batch)
			return
		}
		linger := time.NewTimer(p.cfg.Linger)
	fill:
		for len(batch) < p.cfg.BatchSize {
			select {
			case v := <-p.queue:
				batch = append(batch, v)
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		p.metrics.QueueLength.Set(float64(len(p.queue)))
		if p.spool.Pending() > 0 {
			p.toSpool(batch) // keep order: the spool drains first
			continue
		}
		if err := p.produce(context.Background(), batch); err != nil {
			p.logger.Warn("tracking: kafka produce failed, spooling", "err", err, "messages", len(batch))
			p.toSpool(batch)
			fail()
		} else {
			p.release(batch)
		}
	}
}

// drain empties the queue at Close: into Kafka while it works and ctx
// lasts, else into the spool. Events already in the spool stay there for
// the next run.
func (p *Producer) drain(ctx context.Context, batch []message) {
	kafkaOK := p.spool.Pending() == 0
	for {
		for len(batch) < p.cfg.BatchSize {
			select {
			case v := <-p.queue:
				batch = append(batch, v)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			break
		}
		if kafkaOK && ctx.Err() == nil {
			if err := p.produce(ctx, batch); err != nil {
				p.logger.Warn("tracking: kafka produce failed at shutdown, spooling", "err", err, "messages", len(batch))
				kafkaOK = false
				p.toSpool(batch)
			} else {
				p.release(batch)
			}
		} else {
			p.toSpool(batch)
		}
		batch = batch[:0]
	}
	p.metrics.QueueLength.Set(0)
	p.syncSpool()
}

// produce writes batch to Kafka with acks=all. On a partial failure only
// the failed messages are returned in the error's Unsent.
func (p *Producer) produce(ctx context.Context, batch []message) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	defer cancel()
	msgs := make([]kafka.Message, len(batch))
	for i, m := range batch {
		msgs[i] = kafka.Message{Key: m.key, Value: m.value}
	}
	start := time.Now()
	err := p.writer.WriteMessages(ctx, msgs...)
	p.metrics.ProduceTime.Observe(time.Since(start).Seconds())
	p.metrics.BatchSize.Observe(float64(len(batch)))
	if err != nil {
		p.metrics.ProduceErrors.Inc()
		return fmt.Errorf("produce %d messages to %s: %w", len(batch), p.cfg.Topic, err)
	}
	p.metrics.Produced.Add(float64(len(batch)))
	return nil
}

// replay sends up to limit spooled messages to Kafka, in order.
func (p *Producer) replay(ctx context.Context, limit int) (int, error) {
	batch := make([]message, 0, p.cfg.BatchSize)
	n, err := p.spool.Replay(limit, p.cfg.BatchSize, func(values [][]byte) error {
		batch = batch[:0]
		for _, v := range values {
			batch = append(batch, message{key: keyOf(v), value: v})
		}
		return p.produce(ctx, batch)
	})
	p.metrics.Replayed.Add(float64(n))
	if n > 0 {
		events, _ := p.spool.Size()
		p.logger.Info("tracking: replayed spooled events to kafka", "events", n, "still_spooled", events)
	}
	return n, err
}

func (p *Producer) toSpool(batch []message) {
	if len(batch) == 0 {
		return
	}
	values := make([][]byte, len(batch))
	for i, m := range batch {
		values[i] = m.value
	}
	if err := p.spool.Append(values...); err != nil {
		// Nowhere left to put them: count and log the loss loudly.
		p.metrics.PublishErrors.Add(float64(len(batch)))
		// They stay in the write-ahead log (when on): the next start
		// replays them.
		p.logger.Error("tracking: kafka unreachable and spool append failed", "err", err, "messages", len(batch))
		return
	}
	p.releaseAfterSync(batch)
	p.metrics.Spooled.Add(float64(len(batch)))
}

// syncSpool fsyncs the spool, then releases from the write-ahead log what
// was appended to the spool before the fsync.
func (p *Producer) syncSpool() {
	p.relMu.Lock()
	rel := p.toRelease
	p.toRelease = nil
	p.relMu.Unlock()
	if err := p.spool.Sync(); err != nil {
		p.logger.Error("tracking: spool fsync failed", "err", err)
		p.relMu.Lock()
		p.toRelease = append(rel, p.toRelease...)
		p.relMu.Unlock()
		return
	}
	p.release(rel)
}

// keyOf extracts the Kafka key (the envelope's aggregate_id) from an encoded
// calore.Event (spooled messages keep only the value).
func keyOf(v []byte) []byte {
	var k struct {
		AggregateID string `json:"aggregate_id"`
	}
	if json.Unmarshal(v, &k) != nil || k.AggregateID == "" {
		return nil
	}
	return []byte(k.AggregateID)
}
