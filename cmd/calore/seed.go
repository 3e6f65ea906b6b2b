package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/progress"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/synthetic/load"
	"github.com/calore-crm/calore/warehouse"
)

// cmdSeed loads the synthetic university into an empty store and warehouse.
func cmdSeed(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scaleName := fs.String("scale", "demo", "demo (about 32k people) or full (about 630k people, the tender's scale)")
	seed := fs.Uint64("seed", 1, "random seed: the same scale and seed give the same university")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	s, err := synthetic.ScaleByName(*scaleName)
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

	progress, done := stepProgress(stderr, "seed")
	rep, err := load.Run(ctx, pool, ch, s, *seed, progress)
	done()
	if err != nil {
		return fmt.Errorf("seed %s/%d: %w", s.Name, *seed, err)
	}
	if rep.AlreadyLoaded {
		fmt.Fprintf(stdout, "seed: nothing to do: the store already holds the %s university of seed %d (%d people)\n", s.Name, *seed, rep.People)
		return nil
	}
	logger.InfoContext(ctx, "seeded", "scale", s.Name, "seed", *seed, "took", rep.Took.Round(time.Second))
	fmt.Fprintf(stdout, "seed: %s university, seed %d, as of %s, in %s\n", s.Name, *seed, s.AsOf.Format("2006-01-02"), rep.Took.Round(time.Second))
	fmt.Fprintf(stdout, "  people %d, organisations %d, registrations %d, sends %d, tracking hits %d, donations %d; warehouse rows %d\n",
		rep.People, rep.Organisations, rep.Registrations, rep.Sends, rep.Hits, rep.Donations, rep.WarehouseRows)
	for y := s.FirstYear(); y < s.AsOf.Year(); y++ {
		fmt.Fprintf(stdout, "  donations %d: %.0f EUR\n", y, rep.DonationsEUR[y])
	}
	fmt.Fprintf(stdout, "  giving model: Bayes ROC AUC %.3f for %d (%d donors of %d alumni): the best any donation model can reach\n",
		rep.Bayes.ROCAUC, rep.BayesYear, rep.Bayes.Positives, rep.Bayes.N)
	return nil
}

// stepProgress adapts a (step, done, total) progress callback to a bar on a
// terminal or plain lines otherwise; a new step starts a new bar. Call done
// when the work ends.
func stepProgress(w io.Writer, label string) (report func(step string, done, total int), finish func()) {
	bar := progress.New(w, isTerminal(w), label, 5*time.Second)
	phase := ""
	return func(step string, n, total int) {
		if step != phase {
			phase = step
			bar.Phase(step, int64(total))
		}
		bar.Set(int64(n))
	}, func() { bar.Done(); phase = "" }
}
