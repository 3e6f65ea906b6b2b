package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/kpi"
	"github.com/calore-crm/calore/models"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/warehouse"
)

// cmdScore runs the scoring jobs (all, or those named) as of a date.
func cmdScore(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asOfFlag := fs.String("as-of", cfg.Now().Format("2006-01-02"), "score as of this day (YYYY-MM-DD): features use what happened before it; default today (CALORE_TODAY)")
	rollup := fs.Bool("rollup", true, "refresh the dashboards' rollups after the jobs (calore rollup)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	asOf, err := time.Parse("2006-01-02", *asOfFlag)
	if err != nil {
		return fmt.Errorf("--as-of %q: want YYYY-MM-DD", *asOfFlag)
	}
	jobs, err := scoring.Select(fs.Args())
	if err != nil {
		return err
	}
	heat, err := heatConfig(getenv("CALORE_HEAT_CONFIG"))
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	ch, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer ch.Close()

	progress, done := stepProgress(stderr, "score")
	var mu sync.Mutex // the jobs run two at a time; one progress display
	env := &scoring.Env{Warehouse: ch, Store: pool, Logger: logger, Heat: heat, Progress: func(step string, n, total int) {
		mu.Lock()
		defer mu.Unlock()
		progress(step, n, total)
	}}
	// The jobs are independent: two at a time overlap one job's Go work and
	// store writes with another's ClickHouse queries. Results print in job order.
	sums := make([]scoring.Summary, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i, j := range jobs {
		g.Go(func() error {
			sum, err := j.Run(gctx, env, asOf)
			if err != nil {
				return fmt.Errorf("score %s: %w", j.Name(), err)
			}
			logger.InfoContext(ctx, "scored", "job", sum.Job, "as_of", asOf.Format("2006-01-02"), "rows", sum.Rows, "took", sum.Took.Round(time.Millisecond))
			sums[i] = sum
			return nil
		})
	}
	err = g.Wait()
	done()
	if err != nil {
		return err
	}
	// Heat and donation write person_scores: keep one row per person of the
	// day (scoring.Compact). The dashboards read heat and funnels from the
	// rollups: refresh them now rather than at the sink's next tick.
	if slices.ContainsFunc(jobs, func(j scoring.Job) bool { return j.Name() == "heat" || j.Name() == "donation" }) {
		if err := scoring.Compact(ctx, ch, asOf); err != nil {
			return fmt.Errorf("score: scores written; %w", err)
		}
	}
	if *rollup {
		if _, err := kpi.Refresh(ctx, ch, logger); err != nil {
			return fmt.Errorf("score: scores written; %w", err)
		}
	}
	for _, sum := range sums {
		fmt.Fprintf(stdout, "%s (%s, %d rows)\n", sum.Job, sum.Took.Round(time.Millisecond), sum.Rows)
		for _, l := range sum.Lines {
			fmt.Fprintln(stdout, "  "+strings.TrimSpace(l))
		}
	}
	return nil
}

// heatConfig reads the heat configuration from path, or the shipped default.
func heatConfig(path string) (models.HeatConfig, error) {
	if path == "" {
		return scoring.DefaultHeatConfig()
	}
	f, err := os.Open(path)
	if err != nil {
		return models.HeatConfig{}, fmt.Errorf("CALORE_HEAT_CONFIG: %w", err)
	}
	defer f.Close()
	c, err := models.ParseHeatConfig(f)
	if err != nil {
		return c, fmt.Errorf("CALORE_HEAT_CONFIG %s: %w", path, err)
	}
	return c, nil
}
