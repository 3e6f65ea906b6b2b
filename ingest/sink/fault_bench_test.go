package sink_test

import (
	"context"
	"testing"
	"time"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// BenchmarkFaultClickHouseDown is TestClickHouseDownThenBack as a report row
// (bench/faults.md): 5,000 tracking events and 200 redeliveries stream into
// Kafka; the sink's path to ClickHouse is cut for 30 s once the first 1,000
// are stored. Recovery is from the restore until every event is counted.
func BenchmarkFaultClickHouseDown(b *testing.B) {
	warehousetest.RunFaults(b, func() warehousetest.Faults { return clickHouseDown(b, 30*time.Second) })
}

// clickHouseDown is TestClickHouseDownThenBack's run, ending in
// warehousetest's counts instead of the test's assertions (the test could
// call it; bench/faults.md).
func clickHouseDown(b *testing.B, outage time.Duration) warehousetest.Faults {
	b.Helper()
	e := newEnv(b, 3)
	// the sink reaches this database through a proxy the run can cut; the
	// counts go straight to it through e.conn
	cfg := warehousetest.Config(b)
	if err := e.conn.QueryRow(context.Background(), `SELECT currentDatabase()`).Scan(&cfg.Database); err != nil {
		b.Fatal(err)
	}
	p := newProxy(b, cfg.Addr[0])
	cfg.Addr = []string{p.ln.Addr().String()}
	conn, err := warehouse.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()

	msgs := hits(5000, 200)
	ids := uniqueIDs(msgs)
	topic := e.prefix + ingest.TopicTracking
	s := e.start(b, conn)
	defer s.stop(b)
	produce(b, e.brokers, topic, msgs[:1000])
	waitFor(b, e.conn, 60*time.Second, uint64(len(uniqueIDs(msgs[:1000]))), `SELECT uniqExact(event_id) FROM tracking_events`)

	p.setDown(true)
	down := time.Now()
	produce(b, e.brokers, topic, msgs[1000:])
	for total(s.metrics.InsertErrors) < 3 && time.Since(down) < outage {
		time.Sleep(50 * time.Millisecond)
	}
	if total(s.metrics.InsertErrors) < 3 {
		b.Fatal("the sink saw no insert failures while ClickHouse was unreachable")
	}
	time.Sleep(outage - time.Since(down))
	p.setDown(false)
	cut := time.Since(down)
	recovery, _ := warehousetest.AwaitTracking(b, e.conn, uint64(len(ids)), 120*time.Second)
	time.Sleep(time.Second) // let any straggling redelivery land
	return warehousetest.CountFaults(b, e.conn, uint64(len(ids)), ids, cut, recovery)
}
