package kpi

import (
	"context"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// benchDashboards are the queries each built-in dashboard runs for one page
// (package dashboards runs them in parallel, as here, and once per source:
// two widgets drawing the same data share one query).
var benchDashboards = []struct {
	name    string
	queries []func(ctx context.Context, c driver.Conn, f Filter) error
}{
	{"managers", []func(context.Context, driver.Conn, Filter) error{
		func(ctx context.Context, c driver.Conn, f Filter) error {
			_, err := Funnel(ctx, c, "student_journey", f, "")
			return err
		},
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Campaigns(ctx, c, f); return err },
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Events(ctx, c, f); return err },
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Heat(ctx, c, f); return err }, // distribution and trend
		func(ctx context.Context, c driver.Conn, f Filter) error {
			_, err := Fundraising(ctx, c, f, DefaultFundraisingTargets)
			return err
		},
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Companies(ctx, c, f); return err },
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Geography(ctx, c, f); return err }, // countries and regions
	}},
	{"fundraisers", []func(context.Context, driver.Conn, Filter) error{
		func(ctx context.Context, c driver.Conn, f Filter) error {
			_, err := Prospects(ctx, c, f, ProspectFilter{})
			return err
		},
	}},
	{"companies", []func(context.Context, driver.Conn, Filter) error{
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Clusters(ctx, c, f); return err }, // scatter and profiles
		func(ctx context.Context, c driver.Conn, f Filter) error {
			_, err := Funnel(ctx, c, "company_lifecycle", f, "")
			return err
		},
	}},
	{"engagement", []func(context.Context, driver.Conn, Filter) error{
		func(ctx context.Context, c driver.Conn, f Filter) error {
			_, err := HeatByCohort(ctx, c, f)
			return err
		},
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Heat(ctx, c, f); return err },
		func(ctx context.Context, c driver.Conn, f Filter) error { _, err := Heat(ctx, c, f); return err },
	}},
}

// benchConn opens the largest scored university available, read-only use:
// CALORE_KPI_BENCH_DB if set, else the first of calore_bench (the full
// university `make bench` loads for the scoring benchmark), calore_full and
// the configured (demo) database that holds people.
func benchConn(b *testing.B) (driver.Conn, string, uint64) {
	b.Helper()
	ctx := context.Background()
	c := warehousetest.Config(b)
	candidates := []string{"calore_bench", "calore_full", c.Database}
	if db := os.Getenv("CALORE_KPI_BENCH_DB"); db != "" {
		candidates = []string{db}
	}
	for _, db := range candidates {
		c.Database = db
		conn, err := warehouse.Open(ctx, c)
		if err != nil {
			continue
		}
		var people uint64
		if err := conn.QueryRow(ctx, "SELECT uniqExact(id) FROM dim_people").Scan(&people); err != nil || people == 0 {
			conn.Close()
			continue
		}
		return conn, db, people
	}
	b.Skipf("no warehouse database with people among %v: run `make demo` first", candidates)
	return nil, "", 0
}

// BenchmarkDashboard measures each dashboard's queries for one page load
// (run in parallel, as the dashboards do) over the year 2025, and reports
// the 95th percentile in milliseconds (p95-ms) and the people in the
// database used (people; its name is in the log).
func BenchmarkDashboard(b *testing.B) {
	conn, db, people := benchConn(b)
	defer conn.Close()
	b.Logf("database %s: %d people", db, people)
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, d := range benchDashboards {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			page := func() time.Duration {
				start := time.Now()
				var wg sync.WaitGroup
				errs := make([]error, len(d.queries))
				for i, q := range d.queries {
					wg.Add(1)
					go func() { defer wg.Done(); errs[i] = q(ctx, conn, f) }()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			page() // warm up
			var samples []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				samples = append(samples, page())
			}
			b.StopTimer()
			for len(samples) < 10 { // a few samples at least for a 95th percentile
				samples = append(samples, page())
			}
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			p95 := samples[(len(samples)*95+99)/100-1]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(people), "people")
			b.Logf("%s on %s (%d people): p95 %s over %d page loads", d.name, db, people, p95, len(samples))
		})
	}
}
