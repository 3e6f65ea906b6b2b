// Package sink consumes Calore's Kafka topics into the ClickHouse warehouse.
//
// One consumer group reads the changes and tracking topics. Messages are
// fetched without auto-commit, decoded and checked against the contract
// (ingest/schemas), their sealed personal fields opened with the data keys
// in PostgreSQL (keys.go, ingest/pii), mapped to warehouse rows and
// buffered; a batch is flushed when it reaches BatchSize messages or
// FlushInterval after its first message. A flush is a transaction in the stream sense: dead letters are
// written (acks=all), rows are inserted with native batches, retried with
// capped exponential backoff while ClickHouse fails, and only then are the
// offsets committed. One writer goroutine flushes batches in order while the
// next batch is fetched and decoded (on every CPU); at most one finished
// batch waits for it. A crash or stop at any point redelivers whatever was
// not committed; duplicates carry the same event id and every warehouse
// query dedups by it.
package sink

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest/pii"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/erasure"
)

// Dead-letter headers: why a message was refused, and where it came from.
const (
	HeaderError     = "calore-error"        // the error, one line
	HeaderReason    = "calore-error-reason" // schemas.Reason* or "unmappable"
	HeaderTopic     = "calore-source-topic"
	HeaderPartition = "calore-source-partition"
	HeaderOffset    = "calore-source-offset"
)

// ReasonUnmappable: the message passed the contract but could not become a
// warehouse row (e.g. a field of the wrong type for its column).
const ReasonUnmappable = "unmappable"

// Config is how the sink consumes.
type Config struct {
	Brokers         []string
	Topics          []string       // full topic names to consume (changes, tracking)
	DeadLetterTopic string         // full name of the dead-letter topic
	GroupID         string         // consumer group; every sink process of one deployment shares it
	SASL            sasl.Mechanism // authenticates to Kafka (nil: none); the sink's user reads both topics and the group, writes dead letters

	BatchSize     int           // flush at this many messages (default 10000)
	FlushInterval time.Duration // or this long after a batch's first message (default 1s)
	BackoffMin    time.Duration // first retry delay after a failed insert (default 100ms)
	BackoffMax    time.Duration // cap of the doubling retry delay (default 30s)

	// Keys opens the personal fields `calore relay` sealed (ingest/pii,
	// docs/gdpr.md). Without it every sealed field is stored as erased.
	Keys KeyStore
	// KeyWrapper unwraps the data keys when a master key wraps them
	// (CALORE_DATA_KEY_MASTER).
	KeyWrapper *pii.Wrapper
}

func (c *Config) defaults() {
	if c.GroupID == "" {
		c.GroupID = "calore-sink"
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 10000
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.BackoffMin <= 0 {
		c.BackoffMin = 100 * time.Millisecond
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 30 * time.Second
	}
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("sink: no kafka brokers"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("sink: no topics"))
	}
	if c.DeadLetterTopic == "" {
		errs = append(errs, errors.New("sink: no dead-letter topic"))
	}
	return errors.Join(errs...)
}

// Sink moves messages from Kafka into ClickHouse.
type Sink struct {
	cfg      Config
	conn     driver.Conn
	reg      *schemas.Registry
	metrics  *Metrics
	logger   *slog.Logger
	decoders chan struct{} // semaphore: background decoders running
	erase    *eraser       // GDPR erasures (erase.go); writer goroutine only
	keys     *keyring      // data keys of sealed personal fields (keys.go)
}

// New returns a sink writing through conn. metrics may come from
// NewMetrics on any registry.
func New(cfg Config, conn driver.Conn, reg *schemas.Registry, metrics *Metrics, logger *slog.Logger) (*Sink, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Keys == nil {
		logger.Warn("sink: no key store: sealed personal fields will be stored as erased")
	}
	return &Sink{cfg: cfg, conn: conn, reg: reg, metrics: metrics, logger: logger,
		decoders: make(chan struct{}, runtime.GOMAXPROCS(0)),
		keys:     &keyring{store: cfg.Keys, wrapper: cfg.KeyWrapper, logger: logger, min: cfg.BackoffMin, max: cfg.BackoffMax}}, nil
}

// batch is what has been fetched since the last flush.
type batch struct {
	msgs    []kafka.Message // every fetched message, committed together
	first   time.Time       // when the first message was fetched
	pending int             // msgs[len(msgs)-pending:] not yet handed to a decoder
	chunks  []*chunk        // decoding, or decoded, in fetch order
	decoded                 // when complete: its rows and dead letters
	trigger string          // what completed it: "size" or "time"
}

// chunk is a run of messages decoded in the background while the sink
// fetches more: the JSON Schema checks are the sink's main CPU cost.
type chunk struct {
	done chan struct{}
	n    int // messages
	decoded
}

// decoded is messages turned into warehouse rows and dead letters.
type decoded struct {
	rows     []warehouse.Row
	rowMsg   []int // for each row, the index of its message
	dead     []kafka.Message
	erasures []erasure.Request // person.erased events (erase.go): applied, not stored as rows
	err      error             // decoding stopped (only when the sink's ctx is cancelled)
}

// dropMessage removes every row of message i.
func (d *decoded) dropMessage(i int) {
	rows, rowMsg := d.rows[:0], d.rowMsg[:0]
	for j, r := range d.rows {
		if d.rowMsg[j] != i {
			rows, rowMsg = append(rows, r), append(rowMsg, d.rowMsg[j])
		}
	}
	d.rows, d.rowMsg = rows, rowMsg
}

// chunkSize is how many messages one background decoder takes.
const chunkSize = 512

// Run consumes until ctx is cancelled (then it returns nil, leaving the
// unflushed batch uncommitted for redelivery) or Kafka fails for good.
func (s *Sink) Run(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:          s.cfg.Brokers,
		Dialer:           &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, SASLMechanism: s.cfg.SASL},
		GroupID:          s.cfg.GroupID,
		GroupTopics:      s.cfg.Topics,
		StartOffset:      kafka.FirstOffset,
		MinBytes:         1,
		MaxBytes:         16 << 20,
		MaxWait:          250 * time.Millisecond,
		QueueCapacity:    max(1000, s.cfg.BatchSize),
		CommitInterval:   0, // synchronous commits, only from flush
		JoinGroupBackoff: time.Second,
		// A crashed sink's partitions move after SessionTimeout (kafka-go's
		// default is 30 s); heartbeats run in the background, also while a
		// flush waits for ClickHouse.
		SessionTimeout:    10 * time.Second,
		HeartbeatInterval: time.Second,
		ErrorLogger:       kafka.LoggerFunc(func(msg string, args ...any) { s.logger.Debug("kafka reader: " + fmt.Sprintf(msg, args...)) }),
	})
	defer r.Close()
	dlq := &kafka.Writer{
		Addr:                   kafka.TCP(s.cfg.Brokers...),
		Transport:              &kafka.Transport{SASL: s.cfg.SASL},
		Topic:                  s.cfg.DeadLetterTopic,
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		AllowAutoTopicCreation: false,
	}
	defer dlq.Close()

	s.logger.InfoContext(ctx, "sink consuming", "topics", s.cfg.Topics, "group", s.cfg.GroupID,
		"batch_size", s.cfg.BatchSize, "flush_interval", s.cfg.FlushInterval)

	// One writer goroutine stores and commits batches in order while this
	// one fetches and decodes the next: at most one batch is being written
	// and one handed over, the rest waits in Kafka. Flushed batches come
	// back through spare, so that their message buffers are allocated once
	// rather than grown message by message for every batch.
	ready := make(chan *batch)
	spare := make(chan *batch, 2)
	writerDone := make(chan struct{})
	writerCtx, stopWriter := context.WithCancel(ctx)
	go func() {
		defer close(writerDone)
		s.writeLoop(writerCtx, r, dlq, ready, spare)
	}()
	defer func() { stopWriter(); <-writerDone }() // also when fetching fails

	for b := s.newBatch(spare); ; b = s.newBatch(spare) {
		trigger, err := s.fill(ctx, r, b)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sink: fetch from kafka: %w", err)
		}
		b.trigger = trigger
		b.decoded = s.collect(ctx, b)
		if b.decoded.err != nil { // only a cancelled ctx stops decoding
			return nil
		}
		select {
		case ready <- b:
		case <-writerDone: // the writer stopped: ctx is cancelled
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// fill fetches messages into the empty batch b until it holds BatchSize
// messages ("size") or FlushInterval has passed since its first one
// ("time"). The deadline is one context per batch, not a timer per fetch.
func (s *Sink) fill(ctx context.Context, r *kafka.Reader, b *batch) (trigger string, err error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return "", err
	}
	b.first = time.Now()
	s.add(ctx, b, m)
	fetchCtx, cancel := context.WithDeadline(ctx, b.first.Add(s.cfg.FlushInterval))
	defer cancel()
	for len(b.msgs) < s.cfg.BatchSize {
		m, err := r.FetchMessage(fetchCtx)
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return "time", nil
			}
			return "", err
		}
		s.add(ctx, b, m)
	}
	return "size", nil
}

// maxPrealloc bounds the messages a new batch has room for up front.
const maxPrealloc = 1 << 16

// newBatch returns a flushed batch to reuse, or a new one with room for
// BatchSize messages.
func (s *Sink) newBatch(spare <-chan *batch) *batch {
	select {
	case b := <-spare:
		return b
	default:
		return &batch{msgs: make([]kafka.Message, 0, min(s.cfg.BatchSize, maxPrealloc))}
	}
}

// writeLoop stores and commits the batches it is handed, in order, until ctx
// is cancelled, and hands each flushed batch back through spare.
func (s *Sink) writeLoop(ctx context.Context, r *kafka.Reader, dlq *kafka.Writer, ready <-chan *batch, spare chan<- *batch) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-ready:
			if err := s.flush(ctx, r, dlq, b); err != nil {
				return // only a cancelled ctx stops a flush; the batch stays uncommitted
			}
			b.reset()
			select {
			case spare <- b:
			default:
			}
		}
	}
}

// reset empties a flushed batch for reuse, keeping its message buffer.
func (b *batch) reset() {
	clear(b.msgs) // drop the references to message keys, values and rows
	clear(b.chunks[:cap(b.chunks)])
	*b = batch{msgs: b.msgs[:0], chunks: b.chunks[:0]}
}

// add appends one fetched message to the batch, handing full chunks to a
// background decoder.
func (s *Sink) add(ctx context.Context, b *batch, m kafka.Message) {
	b.msgs = append(b.msgs, m)
	b.pending++
	if b.pending >= chunkSize {
		s.dispatch(ctx, b)
	}
}

// dispatch starts decoding the batch's pending messages. At most GOMAXPROCS
// decoders run at once (s.decoders).
func (s *Sink) dispatch(ctx context.Context, b *batch) {
	if b.pending == 0 {
		return
	}
	msgs := b.msgs[len(b.msgs)-b.pending:]
	b.pending = 0
	c := &chunk{done: make(chan struct{}), n: len(msgs)}
	b.chunks = append(b.chunks, c)
	s.decoders <- struct{}{}
	go func() {
		defer func() { <-s.decoders; close(c.done) }()
		c.decoded = s.decode(ctx, msgs)
	}()
}

// collect waits for every chunk of the batch and joins them in order.
func (s *Sink) collect(ctx context.Context, b *batch) decoded {
	s.dispatch(ctx, b)
	var out decoded
	nrows := 0
	for _, c := range b.chunks {
		<-c.done
		nrows += len(c.rows)
	}
	out.rows, out.rowMsg = make([]warehouse.Row, 0, nrows), make([]int, 0, nrows)
	offset := 0
	for _, c := range b.chunks {
		out.rows = append(out.rows, c.rows...)
		for _, i := range c.rowMsg {
			out.rowMsg = append(out.rowMsg, offset+i)
		}
		out.dead = append(out.dead, c.dead...)
		out.erasures = append(out.erasures, c.erasures...)
		if c.err != nil {
			out.err = c.err
		}
		offset += c.n
	}
	b.chunks = b.chunks[:0]
	return out
}

// decode checks and maps messages: rows, or a dead letter each. Sealed
// personal fields are opened first (open), so that the warehouse stores
// them in clear, or as erased when their key is gone; the dead letters keep
// the message as it came, sealed.
func (s *Sink) decode(ctx context.Context, msgs []kafka.Message) decoded {
	// most messages are one row each (a change with a typed table is two)
	out := decoded{rows: make([]warehouse.Row, 0, len(msgs)), rowMsg: make([]int, 0, len(msgs))}
	type checked struct {
		ev  calore.Event
		hit *schemas.Hit
		err error
	}
	evs := make([]checked, len(msgs))
	for i, m := range msgs {
		evs[i].ev, evs[i].hit, evs[i].err = s.reg.DecodeHit(m.Value)
	}
	if err := s.open(ctx, func(yield func(*calore.Event) bool) {
		for i := range evs {
			if evs[i].err == nil && evs[i].hit == nil && !yield(&evs[i].ev) {
				return
			}
		}
	}); err != nil {
		out.err = err
		return out
	}
	for i, m := range msgs {
		ev, hit, err := evs[i].ev, evs[i].hit, evs[i].err
		reason := ReasonUnmappable
		if err == nil && ev.Type == EventPersonErased {
			if e, ok := parseErasure(m.Value); ok {
				out.erasures = append(out.erasures, e)
				continue
			}
			err = errors.New("person.erased: payload needs person_id equal to aggregate_id and positive merged_ids")
		}
		if err == nil {
			var rows []warehouse.Row
			if hit != nil {
				rows, err = warehouse.TrackingRows(ev, hit.TrackingHit, hit.Props)
			} else {
				rows, err = warehouse.Rows(ev)
			}
			if err == nil {
				out.rows = append(out.rows, rows...)
				for range rows {
					out.rowMsg = append(out.rowMsg, i)
				}
				continue
			}
		} else if se := (*schemas.Error)(nil); errors.As(err, &se) {
			reason = se.Reason
		}
		out.dead = append(out.dead, deadLetter(m, reason, err))
	}
	return out
}

// open opens the sealed personal fields of the change events evs yields,
// in place, reading the keys of a whole chunk at once. A field whose key
// was destroyed (erasure) becomes null; nothing fails for it. It fails only
// when ctx is cancelled while the key store is unreachable.
func (s *Sink) open(ctx context.Context, evs iter.Seq[*calore.Event]) error {
	type sealed struct {
		ev  *calore.Event
		doc *pii.Doc
	}
	var (
		todo []sealed
		kids []int64
	)
	for ev := range evs {
		if ev.Type == EventPersonErased || !pii.MaySeal(ev.Payload) {
			continue
		}
		d, err := pii.ForOpening(ev.Payload)
		if err != nil || d == nil {
			continue // the contract checked the payload; nothing sealed in it
		}
		todo = append(todo, sealed{ev, d})
		kids = append(kids, d.KeyIDs()...)
	}
	if len(todo) == 0 {
		return nil
	}
	keys, err := s.keys.get(ctx, kids)
	if err != nil {
		return fmt.Errorf("sink: read data keys: %w", err)
	}
	for _, t := range todo {
		payload, erased, err := t.doc.Open(keys)
		if err != nil {
			continue // cannot happen (re-encoding parsed JSON); the payload stays sealed
		}
		t.ev.Payload = payload
		if erased > 0 {
			s.metrics.SealedErased.Add(float64(erased))
		}
	}
	return nil
}

// observe updates the consumption metrics once per batch.
func (s *Sink) observe(msgs []kafka.Message) {
	type tp struct {
		topic     string
		partition int
	}
	last := map[tp]kafka.Message{}
	perTopic := map[string]int{}
	for _, m := range msgs {
		perTopic[m.Topic]++
		k := tp{m.Topic, m.Partition}
		if prev, ok := last[k]; !ok || m.Offset > prev.Offset {
			last[k] = m
		}
	}
	for t, n := range perTopic {
		s.metrics.Consumed.WithLabelValues(t).Add(float64(n))
	}
	for k, m := range last {
		s.metrics.Lag.WithLabelValues(k.topic, strconv.Itoa(k.partition)).Set(float64(max(0, m.HighWaterMark-m.Offset-1)))
	}
}

func deadLetter(m kafka.Message, reason string, err error) kafka.Message {
	var headers []kafka.Header
	for _, h := range m.Headers { // a re-produced dead letter keeps only its new reason
		switch h.Key {
		case HeaderError, HeaderReason, HeaderTopic, HeaderPartition, HeaderOffset:
		default:
			headers = append(headers, h)
		}
	}
	headers = append(headers,
		kafka.Header{Key: HeaderError, Value: []byte(err.Error())},
		kafka.Header{Key: HeaderReason, Value: []byte(reason)},
		kafka.Header{Key: HeaderTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
	)
	return kafka.Message{Key: m.Key, Value: m.Value, Headers: headers, Time: m.Time}
}

// flush makes the batch durable and commits it: dead letters, then rows,
// each retried with capped exponential backoff until it succeeds, then the
// offsets. It fails only when ctx is cancelled; the batch then stays
// uncommitted.
func (s *Sink) flush(ctx context.Context, r *kafka.Reader, dlq *kafka.Writer, b *batch) error {
	s.observe(b.msgs)
	erasures := b.decoded.erasures
	if err := s.applyErasures(ctx, b); err != nil { // erase.go: person.erased, rows about erased people
		return err
	}
	for _, e := range erasures {
		s.keys.forget(e.IDs())
	}
	d, trigger := b.decoded, b.trigger
	if len(d.dead) > 0 {
		if err := s.retry(ctx, "write dead letters", func() error { return dlq.WriteMessages(ctx, d.dead...) }); err != nil {
			return err
		}
		for _, m := range d.dead {
			s.metrics.DeadLetters.WithLabelValues(header(m, HeaderReason)).Inc()
			s.logger.WarnContext(ctx, "message dead-lettered", "reason", header(m, HeaderReason),
				"topic", header(m, HeaderTopic), "partition", header(m, HeaderPartition), "offset", header(m, HeaderOffset),
				"err", header(m, HeaderError))
		}
	}
	if len(d.rows) > 0 {
		var took time.Duration
		if err := s.retry(ctx, "insert into clickhouse", func() error {
			for len(d.rows) > 0 {
				start := time.Now()
				err := warehouse.Insert(ctx, s.conn, d.rows)
				took = time.Since(start)
				var re *warehouse.RowError
				if !errors.As(err, &re) {
					if err != nil {
						s.metrics.InsertErrors.Inc()
					}
					return err
				}
				// A row the client cannot encode fails every retry: its
				// message goes to the dead letters and the rest is inserted.
				mi := d.rowMsg[re.Index]
				dl := deadLetter(b.msgs[mi], ReasonUnmappable, re)
				if err := dlq.WriteMessages(ctx, dl); err != nil {
					return fmt.Errorf("write dead letter: %w", err)
				}
				s.metrics.DeadLetters.WithLabelValues(ReasonUnmappable).Inc()
				s.logger.WarnContext(ctx, "message dead-lettered", "reason", ReasonUnmappable,
					"topic", b.msgs[mi].Topic, "partition", b.msgs[mi].Partition, "offset", b.msgs[mi].Offset, "err", re)
				d.dropMessage(mi)
			}
			return nil
		}); err != nil {
			return err
		}
		s.metrics.InsertSeconds.Observe(took.Seconds())
		perTable := map[string]int{}
		for _, row := range d.rows {
			perTable[row.Table.Name]++
		}
		for t, n := range perTable {
			s.metrics.Rows.WithLabelValues(t).Add(float64(n))
		}
	}
	s.metrics.BatchSize.Observe(float64(len(b.msgs)))
	s.metrics.Flushes.WithLabelValues(trigger).Inc()
	if err := r.CommitMessages(ctx, b.msgs...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// After a rebalance the batch belongs to another member, which
		// reads it again; the warehouse dedups the repeat.
		s.metrics.CommitErrors.Inc()
		s.logger.WarnContext(ctx, "commit kafka offsets failed; the batch will be redelivered", "messages", len(b.msgs), "err", err)
	}
	s.logger.DebugContext(ctx, "batch flushed", "messages", len(b.msgs), "rows", len(d.rows), "dead", len(d.dead), "trigger", trigger)
	return nil
}

// retry runs op until it succeeds, sleeping with capped exponential backoff
// between attempts; it gives up only when ctx is cancelled.
func (s *Sink) retry(ctx context.Context, what string, op func() error) error {
	delay := s.cfg.BackoffMin
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 1 {
				s.logger.InfoContext(ctx, what+" succeeded after retries", "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.logger.WarnContext(ctx, what+" failed; retrying the same batch", "attempt", attempt, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, s.cfg.BackoffMax)
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
