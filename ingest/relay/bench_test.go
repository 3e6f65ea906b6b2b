package relay_test

import (
	"testing"
	"time"
)

// BenchmarkRelay measures the relay's throughput: 20,000 outbox rows already
// written (one per change of five kinds of record) published to Kafka with
// acks=all and marked published, in batches of 500, by one relay started for
// the operation. Its limit is the broker's; bench/REPORT.md shows events/s.
func BenchmarkRelay(b *testing.B) {
	const rows, warm = 20_000, 100
	p := newPipeline(b)
	// Warm up: the topics were just created; their partitions' leaders and
	// the producer's metadata settle on the first messages, which is not the
	// relay's throughput (a deployment's topics exist long before).
	writeOutbox(b, p.pool, 1, warm)
	bg, m := p.startRelay(b, 50*time.Millisecond)
	for deadline := time.Now().Add(time.Minute); total(m.Published) < warm && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	bg.stop(b)
	var published float64
	b.ResetTimer()
	var busy time.Duration
	for i := range b.N {
		b.StopTimer()
		writeOutbox(b, p.pool, warm+i*rows+1, warm+(i+1)*rows)
		b.StartTimer()
		opStart := time.Now()
		bg, m := p.startRelay(b, 50*time.Millisecond)
		deadline := time.Now().Add(5 * time.Minute)
		for total(m.Published) < rows && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(opStart)
		busy += took
		b.Logf("run %d: %d rows in %s", i+1, rows, took.Round(time.Millisecond))
		bg.stop(b)
		if got := total(m.Published); got != rows {
			b.Fatalf("relay published %v rows, want %d", got, rows)
		}
		published += rows
	}
	b.ReportMetric(published/busy.Seconds(), "events/s")
}
