package sink_test

import (
	"testing"
	"time"

	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// BenchmarkFaultClickHouseDown is TestClickHouseDownThenBack as a report row
// (bench/faults.md): 5,000 tracking events and 200 redeliveries stream into
// Kafka; the sink's path to ClickHouse is cut for 30 s once the first 1,000
// are stored. Recovery is from the restore until every event is counted.
func BenchmarkFaultClickHouseDown(b *testing.B) {
	warehousetest.RunFaults(b, func() warehousetest.Faults { return clickHouseDown(b, 30*time.Second) })
}

// clickHouseDown is TestClickHouseDownThenBack's run (cutClickHouse),
// ending in warehousetest's counts instead of the test's assertions.
func clickHouseDown(b *testing.B, outage time.Duration) warehousetest.Faults {
	b.Helper()
	e := newEnv(b, 3)
	msgs := hits(5000, 200)
	ids := uniqueIDs(msgs)
	var cut time.Duration
	s := cutClickHouse(b, e, msgs, outage, func(p *proxy, down time.Time) {
		time.Sleep(outage - time.Since(down))
		p.setDown(false)
		cut = time.Since(down)
	})
	defer s.stop(b)
	recovery, _ := warehousetest.AwaitTracking(b, e.conn, uint64(len(ids)), 120*time.Second)
	time.Sleep(time.Second) // let any straggling redelivery land
	f := warehousetest.CountFaults(b, e.conn, uint64(len(ids)), ids, cut, recovery)
	f.Resent = uint64(len(msgs) - len(ids)) // written, minus distinct
	return f
}
