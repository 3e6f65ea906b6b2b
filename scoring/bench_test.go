package scoring_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/calore-crm/calore/internal/fulluni"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// The full-scale scoring benchmark runs the real `calore score` binary on
// the full synthetic university (package internal/fulluni). Per job it
// reports the wall time and the peak resident memory of the process
// (ru_maxrss), and for the donation job the hold-out ROC AUC next to the
// Bayes AUC. The jobs alone: the rollup refresh `calore score` ends with
// is measured by kpi's BenchmarkRollupRefresh.

func BenchmarkScoreFull(b *testing.B) {
	u := fulluni.Load(b)
	for _, job := range []string{"all", "heat", "donation", "clusters", "funnels", "turnout"} {
		b.Run(job, func(b *testing.B) {
			args := []string{"score", "--as-of", fulluni.AsOf, "--rollup=false"}
			if job != "all" {
				args = append(args, job)
			}
			var peak float64
			var last fulluni.Result
			b.ResetTimer()
			for range b.N {
				last = u.Run(b, args...)
				peak = max(peak, last.RSSMiB)
			}
			b.ReportMetric(peak, "peak-rss-MiB")
			if job == "donation" || job == "all" {
				roc, bayes := lastEvaluation(b)
				b.ReportMetric(roc, "roc-auc")
				b.ReportMetric(bayes, "bayes-auc")
			}
			b.Logf("%s", last.Out)
		})
	}
}

func lastEvaluation(b *testing.B) (roc, bayes float64) {
	b.Helper()
	c := warehousetest.Config(b)
	c.Database = fulluni.DB
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
