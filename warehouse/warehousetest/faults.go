package warehousetest

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Faults is what a fault run (a sink killed, ClickHouse or Kafka cut off
// while events stream in) left in tracking_events, counted by ClickHouse the
// ways the product counts. Counted = Sent - Lost + Dup.
type Faults struct {
	Sent    uint64 // distinct events the run sent
	Stored  uint64 // distinct event_ids in tracking_events
	Counted uint64 // the most any exact query counts (see exactCounts)
	Lost    uint64 // sent events that are not in tracking_events
	// Dup is what Counted holds beyond the sent events it holds: events an
	// exact query counts twice, or events that were never sent.
	Dup uint64
	// Redelivered is the rows stored more than once (count() - Stored):
	// at-least-once delivery at work, which the exact queries dedup.
	Redelivered uint64
	// Resent is how many messages the run itself wrote to Kafka more than
	// once (its injected redeliveries), counted from what it wrote; the
	// caller sets it after CountFaults. The bench report's labels show it.
	Resent uint64
	// Outage is how long the fault lasted, as measured (a server cut off,
	// or no sink running after a kill).
	Outage time.Duration
	// Recovery is from the end of the fault (restore, restart) until
	// ClickHouse held every sent event (or until the wait gave up).
	Recovery time.Duration
}

// exactCounts are the deduplicating counts the product and the fault tests
// run on tracking_events; each must count every event once.
var exactCounts = []string{
	`SELECT uniqExact(event_id) FROM tracking_events`,
	`SELECT count() FROM (SELECT event_id FROM tracking_events GROUP BY event_id)`,
	`SELECT count() FROM tracking_events FINAL`,
	`SELECT toUInt64(sum(n)) FROM (SELECT kind, uniqExact(event_id) AS n FROM tracking_events GROUP BY kind)`,
}

// AwaitTracking polls uniqExact(event_id) of tracking_events until it
// reaches want or timeout passes, and returns how long that took and
// whether it got there. A fault run measures its recovery with it and
// counts what is there either way, instead of failing.
func AwaitTracking(t testing.TB, conn driver.Conn, want uint64, timeout time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	for {
		if scalar(t, conn, exactCounts[0]) >= want {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CountFaults counts tracking_events of conn's database against what a
// fault run sent: ids are the event ids it sent, or nil when it cannot know
// them (the tracking endpoint makes them), in which case only the number
// sent is compared. outage and recovery are stored as they are.
func CountFaults(t testing.TB, conn driver.Conn, sent uint64, ids map[string]bool, outage, recovery time.Duration) Faults {
	t.Helper()
	f := Faults{Sent: sent, Outage: outage, Recovery: recovery, Stored: scalar(t, conn, exactCounts[0])}
	for _, q := range exactCounts {
		f.Counted = max(f.Counted, scalar(t, conn, q))
	}
	f.Redelivered = scalar(t, conn, `SELECT count() FROM tracking_events`) - f.Stored
	var unsent uint64 // stored events that were never sent
	if ids != nil {
		rows, err := conn.Query(context.Background(), `SELECT DISTINCT toString(event_id) FROM tracking_events`)
		if err != nil {
			t.Fatalf("warehousetest: stored event ids: %v", err)
		}
		defer rows.Close()
		var found uint64
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatalf("warehousetest: stored event ids: %v", err)
			}
			if ids[id] {
				found++
			} else {
				unsent++
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("warehousetest: stored event ids: %v", err)
		}
		f.Lost = sent - found
	} else if f.Stored < sent {
		f.Lost = sent - f.Stored
	} else {
		unsent = f.Stored - sent
	}
	f.Dup = f.Counted - f.Stored + unsent
	return f
}

// RunFaults runs a fault benchmark: run once per b.N iteration (b.N is 1
// when a run takes longer than -benchtime), then the mean of the runs
// reported in the units the bench report reads: sent, counted, lost, dup,
// redelivered-rows, resent, outage-s and recovery-s.
func RunFaults(b *testing.B, run func() Faults) {
	b.Helper()
	var sent, counted, lost, dup, redelivered, resent, outage, recovery float64
	for range b.N {
		f := run()
		sent += float64(f.Sent)
		counted += float64(f.Counted)
		lost += float64(f.Lost)
		dup += float64(f.Dup)
		redelivered += float64(f.Redelivered)
		resent += float64(f.Resent)
		outage += f.Outage.Seconds()
		recovery += f.Recovery.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(sent/n, "sent")
	b.ReportMetric(counted/n, "counted")
	b.ReportMetric(lost/n, "lost")
	b.ReportMetric(dup/n, "dup")
	b.ReportMetric(redelivered/n, "redelivered-rows")
	b.ReportMetric(resent/n, "resent")
	b.ReportMetric(outage/n, "outage-s")
	b.ReportMetric(recovery/n, "recovery-s")
}

func scalar(t testing.TB, conn driver.Conn, query string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("warehousetest: %s: %v", query, err)
	}
	return n
}
