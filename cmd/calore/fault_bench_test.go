package main

import (
	"context"
	"testing"
	"time"

	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// BenchmarkFaultSinkKill is TestSinkKilledMidStream as a report row
// (bench/faults.md): a `calore sink` process is killed with SIGKILL while it
// consumes 10,000 tracking hits (500 redelivered) and another is started.
// Outage is from the kill until the second process started; recovery from
// then until every hit is counted (the killed member's 10 s Kafka session
// has to expire before its partitions move).
func BenchmarkFaultSinkKill(b *testing.B) {
	warehousetest.RunFaults(b, func() warehousetest.Faults {
		cfg, ids, written, killed := sinkKilled(b)
		restarted := time.Now()
		conn, err := warehouse.Open(context.Background(), cfg.ClickHouse)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		warehousetest.AwaitTracking(b, conn, uint64(len(ids)), 120*time.Second)
		recovery := time.Since(restarted)
		time.Sleep(time.Second) // let any straggling redelivery land
		f := warehousetest.CountFaults(b, conn, uint64(len(ids)), ids, restarted.Sub(killed), recovery)
		f.Resent = uint64(written - len(ids)) // written, minus distinct
		return f
	})
}
