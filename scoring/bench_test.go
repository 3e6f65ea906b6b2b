package scoring_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// The full-scale scoring benchmark runs the real `calore score` binary on
// the full synthetic university (about 630,000 people), loaded once into
// databases of its own (PostgreSQL and ClickHouse database calore_full, shared with the dashboards benchmark,
// Kafka prefix full.) and kept between runs: `calore seed` is a no-op when
// the same university is already there. Per job it reports the wall time
// and the peak resident memory of the process (ru_maxrss), and for the
// donation job the hold-out ROC AUC next to the Bayes AUC.

const benchDB = "calore_full"

// benchEnv returns the environment of the bench databases, creating them
// when missing.
func benchEnv(b *testing.B) []string {
	b.Helper()
	dsn := itest.Env(b, "CALORE_PG_DSN")
	ch := warehousetest.Config(b)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, benchDB).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+benchDB); err != nil {
			b.Fatal(err)
		}
	}
	conn, err := warehouse.Open(ctx, ch)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+benchDB); err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + benchDB
	env := append(os.Environ(), "CALORE_PG_DSN="+u.String(), "CALORE_CLICKHOUSE_DATABASE="+benchDB, "CALORE_KAFKA_TOPIC_PREFIX=full.", "CALORE_LOG_LEVEL=warn")
	return env
}

type runResult struct {
	took   time.Duration
	rssMiB float64
	out    string
}

func runCalore(b *testing.B, bin string, env []string, args ...string) runResult {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("calore %v: %v\n%s", args, err, out.String())
	}
	r := runResult{took: time.Since(start), out: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return r
}

func BenchmarkScoreFull(b *testing.B) {
	env := benchEnv(b)
	bin := filepath.Join(b.TempDir(), "calore")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/calore").CombinedOutput(); err != nil {
		b.Fatalf("build calore: %v\n%s", err, out)
	}
	runCalore(b, bin, env, "migrate")
	seed := runCalore(b, bin, env, "seed", "--scale", "full", "--seed", "1")
	b.Logf("seed (%s, peak RSS %.0f MiB):\n%s", seed.took.Round(time.Second), seed.rssMiB, seed.out)

	for _, job := range []string{"all", "heat", "donation", "clusters", "funnels", "turnout"} {
		b.Run(job, func(b *testing.B) {
			args := []string{"score", "--as-of", "2026-01-01"}
			if job != "all" {
				args = append(args, job)
			}
			var peak float64
			var last runResult
			b.ResetTimer()
			for range b.N {
				last = runCalore(b, bin, env, args...)
				peak = max(peak, last.rssMiB)
			}
			b.ReportMetric(peak, "peak-rss-MiB")
			if job == "donation" || job == "all" {
				roc, bayes := lastEvaluation(b, env)
				b.ReportMetric(roc, "roc-auc")
				b.ReportMetric(bayes, "bayes-auc")
			}
			b.Logf("%s", last.out)
		})
	}
}

func lastEvaluation(b *testing.B, env []string) (roc, bayes float64) {
	b.Helper()
	c := warehousetest.Config(b)
	c.Database = benchDB
	conn, err := warehouse.Open(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRow(context.Background(),
		`SELECT argMax(roc_auc, computed_at), argMax(bayes_auc, computed_at) FROM model_evaluations WHERE model = 'donation' AND as_of = toDate(?)`, "2026-01-01").Scan(&roc, &bayes); err != nil {
		b.Fatal(fmt.Errorf("read evaluation: %w", err))
	}
	return roc, bayes
}
