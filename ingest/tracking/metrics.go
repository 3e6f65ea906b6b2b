package tracking

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the tracking endpoints' and producer's Prometheus metrics,
// registered on the registry given to NewMetrics (never the global one).
type Metrics struct {
	Hits          *prometheus.CounterVec // calore_tracking_hits_total{type, machine}
	Rejected      *prometheus.CounterVec // calore_tracking_rejected_total{endpoint, reason}
	PublishErrors prometheus.Counter     // calore_tracking_publish_errors_total: hits neither queued nor spooled
	BatchSize     prometheus.Histogram   // calore_tracking_producer_batch_size
	Produced      prometheus.Counter     // calore_tracking_produced_total
	ProduceErrors prometheus.Counter     // calore_tracking_produce_errors_total
	ProduceTime   prometheus.Histogram   // calore_tracking_produce_seconds
	Spooled       prometheus.Counter     // calore_tracking_spooled_total
	Replayed      prometheus.Counter     // calore_tracking_replayed_total
	SpoolEvents   prometheus.Gauge       // calore_tracking_spool_events
	SpoolBytes    prometheus.Gauge       // calore_tracking_spool_bytes
	QueueLength   prometheus.Gauge       // calore_tracking_queue_length
	WALRecovered  prometheus.Counter     // calore_tracking_wal_recovered_total
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "calore_tracking_hits_total", Help: "Tracking hits recorded, by event type and whether flagged as a machine.",
		}, []string{"type", "machine"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "calore_tracking_rejected_total", Help: "Tracking requests that recorded nothing, by endpoint and reason.",
		}, []string{"endpoint", "reason"}),
		PublishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calore_tracking_publish_errors_total", Help: "Hits that could be neither queued nor spooled (lost).",
		}),
		BatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "calore_tracking_producer_batch_size", Help: "Messages per Kafka produce call (live and replayed).",
			Buckets: []float64{1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000},
		}),
		Produced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calore_tracking_produced_total", Help: "Messages acknowledged by Kafka (acks=all).",
		}),
		ProduceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calore_tracking_produce_errors_total", Help: "Failed Kafka produce calls (their messages went to or stayed in the spool).",
		}),
		ProduceTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "calore_tracking_produce_seconds", Help: "Duration of Kafka produce calls.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		Spooled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calore_tracking_spooled_total", Help: "Messages written to the local spool because Kafka was unreachable, the queue was full or the spool was not yet empty.",
		}),
		Replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calore_tracking_replayed_total", Help: "Messages replayed from the spool to Kafka.",
		}),
		SpoolEvents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "calore_tracking_spool_events", Help: "Messages waiting in the local spool.",
		}),
		SpoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "calore_tracking_spool_bytes", Help: "Bytes waiting in the local spool.",
		}),
		QueueLength: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "calore_tracking_queue_length", Help: "Messages in the in-memory queue in front of Kafka.",
		}),
		WALRecovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calore_tracking_wal_recovered_total", Help: "Acknowledged hits found in the write-ahead log at start (an earlier run stopped before releasing them) and moved to the spool.",
		}),
	}
	for _, c := range []prometheus.Collector{m.Hits, m.Rejected, m.PublishErrors, m.BatchSize, m.Produced, m.ProduceErrors,
		m.ProduceTime, m.Spooled, m.Replayed, m.SpoolEvents, m.SpoolBytes, m.QueueLength, m.WALRecovered} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register tracking metrics: %w", err)
		}
	}
	return m, nil
}
