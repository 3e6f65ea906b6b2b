package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/api"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/dashboards"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/tracking"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/kpiq"
	"github.com/calore-crm/calore/workspace"
)

// shutdownTimeout bounds the graceful stop: in-flight requests, then the
// producer's flush to Kafka (what does not make it goes to the spool).
const shutdownTimeout = 15 * time.Second

// cmdServe runs the HTTP server on cfg.HTTPAddr until ctx ends, then stops
// taking requests, flushes the tracking producer (to Kafka or the spool) and
// returns.
func cmdServe(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("calore serve: takes no arguments, got %q", args)
	}
	app, err := newServeApp(cfg, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		_ = app.close(context.Background())
		return fmt.Errorf("calore serve: listen on %s: %w", cfg.HTTPAddr, err)
	}
	fmt.Fprintf(stdout, "calore serve: listening on http://%s\n", ln.Addr())
	srv := &http.Server{
		Handler:           app.router,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var errs []error
	select {
	case err := <-served:
		errs = append(errs, fmt.Errorf("calore serve: %w", err))
	case <-ctx.Done():
		logger.Info("calore serve: shutting down")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(stopCtx); err != nil {
		errs = append(errs, fmt.Errorf("calore serve: stop http: %w", err))
	}
	if err := app.close(stopCtx); err != nil {
		errs = append(errs, fmt.Errorf("calore serve: %w", err))
	}
	return errors.Join(errs...)
}

// serveApp is everything `calore serve` runs: the router and what must be
// closed after it.
type serveApp struct {
	router    http.Handler
	registry  *prometheus.Registry
	producer  *tracking.Producer
	api       *api.Server
	pool      *pgxpool.Pool
	warehouse driver.Conn
	kafkaSASL sasl.Mechanism // serve's Kafka identity, also for /readyz
}

// newServeApp wires the server: a Prometheus registry of its own, the
// tracking producer and endpoints, and the router of package api, which
// mounts tracking under /t, /metrics, /healthz, the REST API under /api,
// login and the dashboards.
func newServeApp(cfg config.Config, logger *slog.Logger) (*serveApp, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("calore serve: metrics: %w", err)
		}
	}
	metrics, err := tracking.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	if err := cfg.Tracking.RequireKeys(); err != nil {
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	keys, err := tracking.NewKeys(cfg.Tracking.Keys)
	if err != nil {
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	if cfg.Tracking.DevKeys {
		logger.Warn("CALORE_TRACKING_DEV_KEY=1: tracking tokens use the public DEVELOPMENT key and can be forged; never in production")
	}
	k, err := ingest.NewKafka(cfg)
	if err != nil {
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	producer, err := tracking.NewProducer(tracking.ProducerConfig{
		Brokers:  k.Brokers,
		SASL:     k.SASL,
		Topic:    cfg.KafkaTopicPrefix + ingest.TopicTracking,
		SpoolDir: cfg.Tracking.SpoolDir,
		NoWAL:    cfg.Tracking.NoWAL,
	}, logger, metrics)
	if err != nil {
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	track, err := tracking.Routes(tracking.Options{
		Keys: keys, Publisher: producer, Origins: cfg.Tracking.Origins, TrustedProxies: cfg.Tracking.TrustedProxies,
		Logger: logger, Metrics: metrics,
	})
	if err != nil {
		_ = producer.Close(context.Background())
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	app := &serveApp{registry: reg, producer: producer, kafkaSASL: k.SASL}
	if err := app.mountAPI(cfg, logger, track); err != nil {
		_ = app.close(context.Background())
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	return app, nil
}

// mountAPI connects to PostgreSQL and ClickHouse (lazily: the server starts,
// and tracking works, while they are away; /readyz tells) and builds the
// router of package api around the tracking endpoints, /metrics, /healthz
// and the dashboards.
func (a *serveApp) mountAPI(cfg config.Config, logger *slog.Logger, track http.Handler) error {
	pgcfg, err := pgxpool.ParseConfig(cfg.PostgresDSN)
	if err != nil {
		return fmt.Errorf("parse postgres dsn: %w", err)
	}
	if a.pool, err = pgxpool.NewWithConfig(context.Background(), pgcfg); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	a.warehouse, err = clickhouse.Open(&clickhouse.Options{
		Addr: cfg.ClickHouse.Addr, Protocol: clickhouse.Native,
		Auth:        clickhouse.Auth{Database: cfg.ClickHouse.Database, Username: cfg.ClickHouse.User, Password: cfg.ClickHouse.Password},
		DialTimeout: 5 * time.Second, MaxOpenConns: 16, MaxIdleConns: 8, ConnMaxLifetime: time.Hour,
	})
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	targets, err := kpiq.ParseTargets(cfg.FundraisingTargets)
	if err != nil {
		return fmt.Errorf("CALORE_FUNDRAISING_TARGETS: %w", err)
	}
	dash := dashboards.Routes(dashboards.Deps{Targets: targets, Warehouse: a.warehouse, Store: a.pool, Logger: logger, CurrentUser: api.CurrentUser, UserName: api.CurrentUserName, CanSee: api.CanSeeWidget, Audit: api.DashboardAudit(a.pool), Now: cfg.Now})
	work, err := workspace.New(workspace.Deps{
		Store: postgres.NewStore(a.pool), Writer: api.WorkspaceWriter(a.pool), Events: warehouse.Timeline{Conn: a.warehouse},
		Audit: api.DashboardAudit(a.pool), Principal: api.Principal, Logger: logger, Now: cfg.Now,
	})
	if err != nil {
		return err
	}
	a.api, err = api.NewServer(api.Deps{
		Targets: targets,
		Pool:    a.pool, Warehouse: a.warehouse, KafkaBrokers: cfg.KafkaBrokers, KafkaSASL: a.kafkaSASL, Logger: logger,
		Tracking:   track,
		Metrics:    promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}),
		Health:     spoolHealth(a.producer),
		Dashboards: dash,
		Workspace:  work,
		// the proxies whose X-Forwarded-For names a login's client (throttle, audit)
		TrustedProxies: cfg.Tracking.TrustedProxies,
		PublicURL:      cfg.PublicURL,
		Access:         access.Options{SecureCookie: cfg.CookieSecure},
	})
	if err != nil {
		return err
	}
	a.router = a.api
	return nil
}

func (a *serveApp) close(ctx context.Context) error {
	var errs []error
	if a.api != nil {
		errs = append(errs, a.api.Close(ctx))
	}
	errs = append(errs, a.producer.Close(ctx))
	if a.warehouse != nil {
		errs = append(errs, a.warehouse.Close())
	}
	if a.pool != nil {
		a.pool.Close()
	}
	return errors.Join(errs...)
}

// spoolSizer is what /healthz reports about the tracking producer.
type spoolSizer interface {
	SpoolSize() (events, bytes int64)
}

// spoolHealth is what /healthz reports about the tracking producer.
func spoolHealth(spool spoolSizer) func() map[string]any {
	return func() map[string]any {
		events, bytes := spool.SpoolSize()
		return map[string]any{"tracking_spool_events": events, "tracking_spool_bytes": bytes}
	}
}
