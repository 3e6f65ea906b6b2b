package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `{"Action":"output","Output":"goos: linux\n"}
{"Action":"output","Output":"BenchmarkSink-2   \t       1\t1186000000 ns/op\t     84000 events/s\n"}
{"Action":"output","Output":"BenchmarkSink-2   \t       1\t1186000000 ns/op\t     90000 events/s\n"}
{"Action":"output","Output":"BenchmarkSink-2   \t       1\t1186000000 ns/op\t     80000 events/s\n"}
{"Action":"output","Output":"BenchmarkRawBatchInsert-2\t"}
{"Action":"output","Output":"       1\t1186000000 ns/op\t    400000 events/s\n"}
{"Action":"output","Output":"BenchmarkImportContacts/merge-10k-2 \t 1\t1500000000 ns/op\t 6666 rows/s\n"}
{"Action":"output","Output":"BenchmarkFaultClickHouseDown-2 \t 1\t32828854024 ns/op\t 5000 counted\t 0 dup\t 0 lost\t 30.00 outage-s\t 0.9352 recovery-s\t 200.0 redelivered-rows\t 200 resent\t 5000 sent\n"}
{"Action":"output","Output":"BenchmarkFaultClickHouseDown-2 \t 1\t32828854024 ns/op\t 4998 counted\t 0 dup\t 2 lost\t 30.10 outage-s\t 1.2 recovery-s\t 100.0 redelivered-rows\t 200 resent\t 5000 sent\n"}
{"Action":"output","Output":"BenchmarkFaultClickHouseDown-2 \t 1\t32828854024 ns/op\t 5000 counted\t 0 dup\t 0 lost\t 30.20 outage-s\t 0.8 recovery-s\t 300.0 redelivered-rows\t 200 resent\t 5000 sent\n"}
{"Action":"output","Output":"BenchmarkFaultSinkKill-2 \t 1\t13379248491 ns/op\t 10000 counted\t 0 dup\t 0 lost\t 0.005622 outage-s\t 11.06 recovery-s\t 0 redelivered-rows\t 500 resent\t 10000 sent\n"}
{"Action":"output","Output":"BenchmarkDashboard/managers-2 \t 1\t 250000000 ns/op\t 250.0 p95-ms\n"}
{"Action":"output","Output":"BenchmarkDashboardGroupBy/managers-2 \t 1\t 50000000 ns/op\t 50.0 p95-ms\n"}
{"Action":"output","Output":"BenchmarkDashboard/companies-2 \t 1\t 400000000 ns/op\t 400.0 p95-ms\n"}
not json at all
`

func TestReport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "raw.json")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| pipeline | sink throughput | 84,000 events/s | 400,000 events/s | 0.21 | ≥ 100,000 events/s | **no** |",
		"| import | 10,000 contacts merged into 200,000 | 1.50 s | not run |  | ≤ 2 s | yes |",
		"| tracking | tracking endpoint throughput | not run |",
		// a fault row shows the worst run for lost and dup, medians for the rest
		"| faults | ClickHouse cut off 30 s during ingest (5,000 events, 200 written twice) | sent 5,000, counted 5,000, lost 2, double-counted 0 (200 rows stored twice, deduplicated by the queries); down 30.1 s, all counted 0.9 s after it came back; 3 runs |  |  | lost = 0, double-counted = 0 (every run) | **no** |",
		"| faults | sink killed with SIGKILL mid-stream, another started (10,000 hits, 500 written twice) | sent 10,000, counted 10,000, lost 0, double-counted 0 (0 rows stored twice, deduplicated by the queries); down 0.0 s, all counted 11.1 s after it came back; 1 run |  |  | lost = 0, double-counted = 0 (every run) | yes |",
		"| faults | Kafka cut off 30 s during tracking hits, spool replayed (? hits) | not run |  |  | lost = 0, double-counted = 0 (every run) |  |",
		// a dashboard next to its plain GROUP BY, or without it when that did not run
		"| dashboards | managers: all queries of the page, p95 | 250.0 p95-ms | 50.0 p95-ms | 5.00 | ≤ 300 ms | yes |",
		"| dashboards | companies, p95 | 400.0 p95-ms | not run |  | ≤ 300 ms | **no** |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
