package sink

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the sink's Prometheus metrics, registered on the registry the
// caller passes (no global registry).
type Metrics struct {
	Lag           *prometheus.GaugeVec   // messages behind the partition's high-water mark, per topic and partition
	Consumed      *prometheus.CounterVec // messages fetched, per topic
	BatchSize     prometheus.Histogram   // messages per flushed batch
	InsertSeconds prometheus.Histogram   // time for one successful ClickHouse insert of a batch
	InsertErrors  prometheus.Counter     // failed insert attempts (each is retried)
	Rows          *prometheus.CounterVec // rows inserted, per table
	DeadLetters   *prometheus.CounterVec // messages sent to the dead-letter topic, per reason
	CommitErrors  prometheus.Counter     // offset commits that failed (the batch is redelivered)
	Flushes       *prometheus.CounterVec // flushes, per trigger: size, time
	SealedErased  prometheus.Counter     // sealed personal fields stored as erased (their key destroyed)
}

// NewMetrics registers the sink's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Lag: f.NewGaugeVec(prometheus.GaugeOpts{Name: "calore_sink_consumer_lag",
			Help: "Messages between the last fetched offset and the partition's high-water mark."}, []string{"topic", "partition"}),
		Consumed: f.NewCounterVec(prometheus.CounterOpts{Name: "calore_sink_messages_total",
			Help: "Messages fetched from Kafka."}, []string{"topic"}),
		BatchSize: f.NewHistogram(prometheus.HistogramOpts{Name: "calore_sink_batch_size",
			Help: "Messages per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		InsertSeconds: f.NewHistogram(prometheus.HistogramOpts{Name: "calore_sink_insert_seconds",
			Help: "Duration of a successful ClickHouse insert of one batch (all its tables).", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		InsertErrors: f.NewCounter(prometheus.CounterOpts{Name: "calore_sink_insert_errors_total",
			Help: "Failed ClickHouse insert attempts; the same batch is retried with backoff."}),
		Rows: f.NewCounterVec(prometheus.CounterOpts{Name: "calore_sink_rows_total",
			Help: "Rows inserted into ClickHouse, per table."}, []string{"table"}),
		DeadLetters: f.NewCounterVec(prometheus.CounterOpts{Name: "calore_sink_dead_letters_total",
			Help: "Messages sent to the dead-letter topic, per reason."}, []string{"reason"}),
		CommitErrors: f.NewCounter(prometheus.CounterOpts{Name: "calore_sink_commit_errors_total",
			Help: "Offset commits that failed after a successful insert (the batch is redelivered and deduplicated)."}),
		Flushes: f.NewCounterVec(prometheus.CounterOpts{Name: "calore_sink_flushes_total",
			Help: "Batches flushed, per trigger (size or time)."}, []string{"trigger"}),
		SealedErased: f.NewCounter(prometheus.CounterOpts{Name: "calore_sink_sealed_fields_erased_total",
			Help: "Sealed personal fields stored as erased because their data key was destroyed by an erasure."}),
	}
}
