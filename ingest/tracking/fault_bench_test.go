package tracking

import (
	"context"
	"testing"
	"time"

	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// BenchmarkFaultKafkaDown is TestEndToEndExactWithKafkaOutage as a report
// row (bench/faults.md): 10,000 hits through the HTTP endpoints, the
// producer's path to Kafka cut for 30 s after the first 3,000 while 4,000
// more go to the spool, replayed when Kafka is back. Sent is the hits the
// endpoints accepted; recovery is from the restore (the last 3,000 hits
// included) until every hit is counted.
func BenchmarkFaultKafkaDown(b *testing.B) {
	warehousetest.RunFaults(b, func() warehousetest.Faults {
		r := kafkaOutage(b, 30*time.Second)
		warehousetest.AwaitTracking(b, r.conn, uint64(r.sent), 120*time.Second)
		recovery := time.Since(r.restored)
		if err := r.p.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second) // let any straggling redelivery land
		return warehousetest.CountFaults(b, r.conn, uint64(r.sent), nil, r.cut, recovery)
	})
}
