package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/pii"
	"github.com/calore-crm/calore/ingest/relay"
	"github.com/calore-crm/calore/postgres"
)

// cmdRelay publishes the PostgreSQL outbox to the changes topic until
// interrupted, serving its metrics on --metrics-addr. Several relays may run
// against one database.
func cmdRelay(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("calore relay", flag.ContinueOnError)
	fs.SetOutput(stdout)
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9464", "where to serve Prometheus /metrics (empty: nowhere)")
	batchSize := fs.Int("batch-size", 500, "outbox rows per transaction")
	poll := fs.Duration("poll-interval", time.Second, "look for rows at least this often (NOTIFY wakes the relay sooner)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	wrapper, err := pii.NewWrapper(cfg.DataKeyMaster)
	if err != nil {
		return err
	}
	k, err := ingest.NewKafka(cfg)
	if err != nil {
		return err
	}
	promReg := newPromRegistry()
	r, err := relay.New(relay.Config{
		Brokers:      k.Brokers,
		SASL:         k.SASL,
		Topic:        cfg.KafkaTopicPrefix + ingest.TopicChanges,
		BatchSize:    *batchSize,
		PollInterval: *poll,
		KeyWrapper:   wrapper,
	}, pool, relay.NewMetrics(promReg), logger)
	if err != nil {
		return err
	}
	defer r.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveMetrics(gctx, *metricsAddr, promReg, logger) })
	g.Go(func() error {
		err := r.Run(gctx)
		if err == nil && ctx.Err() == nil {
			err = errors.New("relay stopped")
		}
		return err
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	logger.Info("relay stopped")
	return nil
}
