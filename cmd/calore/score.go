package main

import (
	"context"
	"errors"
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
	"github.com/calore-crm/calore/models"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/kpiq"
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
	// store writes with another's ClickHouse queries. One job's failure, or
	// its lack of data, neither cancels nor hides another's results: each
	// ends ran, skipped (models.ErrNotEnoughData) or failed, and the summary
	// prints all of them in job order.
	res := make([]jobResult, len(jobs))
	var g errgroup.Group
	g.SetLimit(2)
	for i, j := range jobs {
		g.Go(func() error {
			sum, err := j.Run(ctx, env, asOf)
			res[i] = jobResult{name: j.Name(), sum: sum, err: err}
			if err == nil {
				logger.InfoContext(ctx, "scored", "job", sum.Job, "as_of", asOf.Format("2006-01-02"), "rows", sum.Rows, "took", sum.Took.Round(time.Millisecond))
			}
			return nil
		})
	}
	_ = g.Wait() // the jobs report through res
	done()
	var failed []string
	for _, r := range res {
		switch {
		case r.err == nil:
		case errors.Is(r.err, models.ErrNotEnoughData):
			logger.WarnContext(ctx, "scoring job skipped", "job", r.name, "reason", r.err)
		default:
			logger.ErrorContext(ctx, "scoring job failed", "job", r.name, "err", r.err)
			failed = append(failed, r.name)
		}
	}
	// Heat and donation write person_scores: keep one row per person of the
	// day (scoring.Compact). The dashboards read heat and funnels from the
	// rollups: refresh them now rather than at the sink's next tick.
	var post error
	if slices.ContainsFunc(res, func(r jobResult) bool { return r.err == nil && (r.name == "heat" || r.name == "donation") }) {
		if err := scoring.Compact(ctx, ch, asOf); err != nil {
			post = fmt.Errorf("score: scores written; %w", err)
		}
	}
	if *rollup && post == nil {
		if _, err := kpiq.Refresh(ctx, ch, logger); err != nil {
			post = fmt.Errorf("score: scores written; %w", err)
		}
	}
	for _, r := range res {
		switch {
		case r.err == nil:
			fmt.Fprintf(stdout, "%s: ran (%s, %d rows)\n", r.sum.Job, r.sum.Took.Round(time.Millisecond), r.sum.Rows)
			for _, l := range r.sum.Lines {
				fmt.Fprintln(stdout, "  "+strings.TrimSpace(l))
			}
		case errors.Is(r.err, models.ErrNotEnoughData):
			fmt.Fprintf(stdout, "%s: skipped (%v)\n", r.name, r.err)
		default:
			fmt.Fprintf(stdout, "%s: FAILED (%v)\n", r.name, r.err)
		}
	}
	if post != nil {
		return post
	}
	if len(failed) > 0 {
		return fmt.Errorf("score: %d of %d jobs failed: %s", len(failed), len(jobs), strings.Join(failed, ", "))
	}
	return nil
}

// jobResult is how one scoring job ended.
type jobResult struct {
	name string
	sum  scoring.Summary
	err  error
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
