package scoring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/calore-crm/calore/internal/fulluni"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// The full-scale scoring benchmark runs the real `calore score` binary on
// the full synthetic university (package internal/fulluni). Per job it
// reports the wall time and the peak resident memory of the process
// (ru_maxrss), and for the donation job the test-window ROC AUC next to the
// Bayes AUC of the same alumni. The jobs alone: the rollup refresh `calore
// score` ends with is measured by kpi's BenchmarkRollupRefresh.

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
				reportCards(b, u.DB)
			}
			b.Logf("%s", last.Out)
		})
	}
}

// BenchmarkModelsDemo measures the models' quality on the demo university
// (31,500 people; loaded once into databases of its own): the donation
// model's test-window figures next to the Bayes AUC of the same alumni and
// the three single-signal baselines, the heat back-test and the turnout
// back-test against last edition's rate. Run alone with
// `go test -run '^$' -bench BenchmarkModelsDemo -benchtime 1x ./scoring/`.
func BenchmarkModelsDemo(b *testing.B) {
	u := fulluni.LoadDemo(b)
	var last fulluni.Result
	b.ResetTimer()
	for range b.N {
		last = u.Run(b, "score", "--as-of", fulluni.AsOf, "--rollup=false", "donation", "heat", "turnout")
	}
	b.StopTimer()
	reportCards(b, u.DB)
	b.Logf("%s", last.Out)
}

// reportCards reports the newest model cards of the university's database:
// donation (test window, Bayes AUC, baselines), heat back-test, turnout
// back-test, each when present.
func reportCards(b *testing.B, db string) {
	b.Helper()
	c := warehousetest.Config(b)
	c.Database = db
	conn, err := warehouse.Open(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	card := func(model string) (roc, pr, lift, brier, bayes float64, details string, ok bool) {
		rows, err := conn.Query(context.Background(),
			`SELECT argMax(roc_auc, computed_at), argMax(pr_auc, computed_at), argMax(lift_top10, computed_at), argMax(brier, computed_at), argMax(bayes_auc, computed_at), argMax(details, computed_at)
			 FROM model_evaluations WHERE model = ? AND as_of = toDate(?) GROUP BY model`, model, fulluni.AsOf)
		if err != nil {
			b.Fatal(fmt.Errorf("read %s card: %w", model, err))
		}
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&roc, &pr, &lift, &brier, &bayes, &details); err != nil {
				b.Fatal(fmt.Errorf("read %s card: %w", model, err))
			}
			ok = true
		}
		return
	}
	if roc, pr, lift, brier, bayes, details, ok := card("donation"); ok {
		b.ReportMetric(roc, "roc-auc")
		b.ReportMetric(bayes, "bayes-auc")
		b.ReportMetric(pr, "pr-auc")
		b.ReportMetric(lift, "lift-top10")
		b.ReportMetric(brier, "brier")
		var d struct {
			Baselines []struct {
				Name   string  `json:"name"`
				ROCAUC float64 `json:"roc_auc"`
				Lift   float64 `json:"lift_top10"`
			} `json:"baselines"`
		}
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			b.Fatal(fmt.Errorf("donation card details: %w", err))
		}
		units := map[string]string{"heat level": "heat-level-auc", "gave in the last 12 months": "gave-12m-auc", "count of past gift years": "gift-years-auc"}
		for _, x := range d.Baselines {
			if u, ok := units[x.Name]; ok {
				b.ReportMetric(x.ROCAUC, u)
			}
		}
	}
	if roc, _, lift, _, _, _, ok := card("heat"); ok {
		b.ReportMetric(roc, "heat-backtest-auc")
		b.ReportMetric(lift, "heat-backtest-lift")
	}
	if _, _, _, _, _, details, ok := card("turnout"); ok {
		var d struct {
			ByKind []struct {
				Kind     string  `json:"kind"`
				MAE      float64 `json:"mae"`
				NaiveMAE float64 `json:"naive_mae"`
			} `json:"by_kind"`
		}
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			b.Fatal(fmt.Errorf("turnout card details: %w", err))
		}
		for _, k := range d.ByKind {
			if k.Kind == "all" {
				b.ReportMetric(k.MAE, "turnout-mae")
				b.ReportMetric(k.NaiveMAE, "turnout-naive-mae")
			}
		}
	}
}
