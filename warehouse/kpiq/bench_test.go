package kpiq

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/internal/fulluni"
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

// benchConn opens the full synthetic university (internal/fulluni, loaded
// and scored on first use), or CALORE_KPI_BENCH_DB if set (any scored
// database: the demo's, calore, for a quick look).
func benchConn(b testing.TB) (driver.Conn, string, uint64) {
	b.Helper()
	ctx := context.Background()
	c := warehousetest.Config(b)
	c.Database = os.Getenv("CALORE_KPI_BENCH_DB")
	if c.Database == "" {
		fulluni.Load(b)
		c.Database = fulluni.DB
	}
	conn, err := warehouse.Open(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	// A database loaded by an older binary lacks the newest tables (the
	// rollups): bring it to this schema, as `calore migrate` would.
	if _, err := warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatalf("migrate %s: %v", c.Database, err)
	}
	var people uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(id) FROM dim_people").Scan(&people); err != nil || people == 0 {
		b.Fatalf("database %s has no people (%v): load it first", c.Database, err)
	}
	return conn, c.Database, people
}

// BenchmarkRollupRefresh measures one refresh of every rollup table (the
// work the dashboards' pages no longer do) on the same database as
// BenchmarkDashboard, which reads the refresh it leaves.
func BenchmarkRollupRefresh(b *testing.B) {
	conn, db, people := benchConn(b)
	defer conn.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		info, err := Refresh(ctx, conn, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("refresh %d on %s (%d people): %.2f s, rows %v", info.ID, db, people, info.Seconds, info.Rows)
	}
	b.ReportMetric(float64(people), "people")
}

// BenchmarkDashboard measures each dashboard's queries for one page load
// (run in parallel, as the dashboards do) over the year 2025, and reports
// the 95th percentile in milliseconds (p95-ms) and the people in the
// database used (people; its name is in the log).
func BenchmarkDashboard(b *testing.B) {
	conn, db, people := benchConn(b)
	defer conn.Close()
	b.Logf("database %s: %d people", db, people)
	ensureRefreshed(b, conn)
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, d := range benchDashboards {
		b.Run(d.name, func(b *testing.B) {
			measurePages(b, db, people, d.name, d.queries, conn, f)
		})
	}
}

// dashboardGroupBys are, per dashboard, one plain GROUP BY over each table
// its queries read (no deduplication of versions, no join): the limit a
// page's queries are measured against.
var dashboardGroupBys = map[string][]string{
	"managers": {
		"SELECT refresh_id, count() FROM rollup_journeys GROUP BY refresh_id",
		"SELECT day, sum(sends) FROM rollup_campaign_days GROUP BY day",
		"SELECT event_id, sum(registered) FROM rollup_event_regs GROUP BY event_id",
		"SELECT as_of, level, sum(people) FROM rollup_heat GROUP BY as_of, level",
		"SELECT toStartOfMonth(donated_at), count() FROM fact_donations GROUP BY toStartOfMonth(donated_at)",
		"SELECT kind, count() FROM dim_organisations GROUP BY kind",
		"SELECT office, count() FROM fact_interactions GROUP BY office",
		"SELECT type, count() FROM change_log WHERE aggregate = 'partnership' GROUP BY type",
		"SELECT country, sum(people) FROM rollup_people GROUP BY country",
	},
	"fundraisers": {
		"SELECT label, count() FROM person_scores WHERE model = 'donation' GROUP BY label",
	},
	"companies": {
		"SELECT cluster, count() FROM company_clusters GROUP BY cluster",
		"SELECT size, count() FROM rollup_company_funnel GROUP BY size",
	},
	"engagement": {
		"SELECT as_of, decade, sum(people) FROM rollup_heat GROUP BY as_of, decade",
		"SELECT as_of, level, sum(people) FROM rollup_heat GROUP BY as_of, level",
	},
}

// BenchmarkDashboardGroupBy measures, for each dashboard, plain GROUP BYs
// over the tables its page reads, in parallel as the page runs its queries:
// the limit next to BenchmarkDashboard's figure in the report.
func BenchmarkDashboardGroupBy(b *testing.B) {
	conn, db, people := benchConn(b)
	defer conn.Close()
	ensureRefreshed(b, conn)
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, d := range benchDashboards {
		var queries []func(context.Context, driver.Conn, Filter) error
		for _, sql := range dashboardGroupBys[d.name] {
			queries = append(queries, func(ctx context.Context, c driver.Conn, _ Filter) error {
				rows, err := c.Query(ctx, sql)
				if err != nil {
					return fmt.Errorf("%s: %w", sql, err)
				}
				defer rows.Close()
				for rows.Next() {
				}
				return rows.Err()
			})
		}
		b.Run(d.name, func(b *testing.B) {
			measurePages(b, db, people, d.name, queries, conn, f)
		})
	}
}

// ensureRefreshed refreshes the rollups if they never were.
func ensureRefreshed(b testing.TB, conn driver.Conn) {
	b.Helper()
	ctx := context.Background()
	last, err := LatestRefresh(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	if last == nil {
		if _, err := Refresh(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
			b.Fatal(err)
		}
	}
}

// measurePages runs the queries of one page in parallel b.N times (and at
// least 10) and reports the 95th percentile in milliseconds (p95-ms).
func measurePages(b *testing.B, db string, people uint64, name string, queries []func(context.Context, driver.Conn, Filter) error, conn driver.Conn, f Filter) {
	ctx := context.Background()
	page := func() time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, len(queries))
		for i, q := range queries {
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
	b.Logf("%s on %s (%d people): p95 %s over %d page loads", name, db, people, p95, len(samples))
}
