package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/pii"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/ingest/sink"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/kpiq"
)

// cmdSink consumes the changes and tracking topics into ClickHouse until
// interrupted, serving its metrics on --metrics-addr.
func cmdSink(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("calore sink", flag.ContinueOnError)
	fs.SetOutput(stdout)
	metricsAddr := fs.String("metrics-addr", "127.0.0.1:9465", "where to serve Prometheus /metrics (empty: nowhere)")
	group := fs.String("group", cfg.KafkaTopicPrefix+"sink", "Kafka consumer group; all sinks of a deployment share it (default: the topic prefix + \"sink\")")
	batchSize := fs.Int("batch-size", 10000, "flush a batch at this many messages")
	flushInterval := fs.Duration("flush-interval", time.Second, "or this long after its first message")
	backoffMax := fs.Duration("backoff-max", 30*time.Second, "cap of the retry delay while ClickHouse fails")
	rollupEvery := fs.Duration("rollup-every", cfg.RollupEvery, "refresh the dashboards' rollups this often when the warehouse changed (0: never; CALORE_ROLLUP_EVERY)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	reg, err := schemas.New()
	if err != nil {
		return err
	}
	conn, err := openWarehouse(ctx, cfg.ClickHouse, logger, *backoffMax)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The data keys that open sealed personal fields (docs/gdpr.md): the
	// sink only reads them.
	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		return fmt.Errorf("sink: data keys: %w", err)
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
	s, err := sink.New(sink.Config{
		Brokers:         k.Brokers,
		SASL:            k.SASL,
		Topics:          []string{cfg.KafkaTopicPrefix + ingest.TopicChanges, cfg.KafkaTopicPrefix + ingest.TopicTracking},
		DeadLetterTopic: cfg.KafkaTopicPrefix + ingest.TopicDeadLetter,
		GroupID:         *group,
		BatchSize:       *batchSize,
		FlushInterval:   *flushInterval,
		BackoffMax:      *backoffMax,
		Keys:            postgres.NewStore(pool),
		KeyWrapper:      wrapper,
	}, conn, reg, sink.NewMetrics(promReg), logger)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveMetrics(gctx, *metricsAddr, promReg, logger) })
	if *rollupEvery > 0 {
		g.Go(func() error { return kpiq.Refresher{Conn: conn, Every: *rollupEvery, Logger: logger}.Run(gctx) })
	}
	g.Go(func() error {
		err := s.Run(gctx)
		if err == nil && ctx.Err() == nil {
			err = errors.New("sink stopped")
		}
		return err
	})
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return err
	}
	logger.Info("sink stopped")
	return nil
}

// openWarehouse connects to ClickHouse, retrying with capped backoff while it
// is unreachable, so a sink started before the warehouse waits for it.
func openWarehouse(ctx context.Context, c config.ClickHouse, logger *slog.Logger, maxDelay time.Duration) (driver.Conn, error) {
	delay := 200 * time.Millisecond
	for {
		conn, err := warehouse.Open(ctx, c)
		if err == nil {
			return conn, nil
		}
		logger.WarnContext(ctx, "clickhouse unreachable; retrying", "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open warehouse: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, maxDelay)
	}
}

// newPromRegistry is a registry of the process's own metrics, to which a
// command adds its metrics.
func newPromRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveMetrics serves reg on addr at /metrics until ctx is done. An empty
// addr serves nothing.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, logger *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	logger.InfoContext(ctx, "serving metrics", "addr", ln.Addr().String())
	go func() {
		<-ctx.Done()
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics: %w", err)
	}
	return nil
}
