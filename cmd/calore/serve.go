package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/tracking"
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
	router   chi.Router
	registry *prometheus.Registry
	producer *tracking.Producer
}

// newServeApp wires the server: a Prometheus registry of its own, the
// tracking producer and endpoints, and the router. Later parts (REST API,
// dashboards) mount on app.router.
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
	keys, err := tracking.NewKeys(cfg.Tracking.Keys)
	if err != nil {
		return nil, fmt.Errorf("calore serve: %w", err)
	}
	if cfg.Tracking.DevKeys {
		logger.Warn("CALORE_TRACKING_KEYS is unset: tracking tokens use the public DEVELOPMENT key and can be forged; set it in production")
	}
	producer, err := tracking.NewProducer(tracking.ProducerConfig{
		Brokers:  cfg.KafkaBrokers,
		Topic:    cfg.KafkaTopicPrefix + ingest.TopicTracking,
		SpoolDir: cfg.Tracking.SpoolDir,
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
	return &serveApp{router: newRouter(track, reg, producer), registry: reg, producer: producer}, nil
}

func (a *serveApp) close(ctx context.Context) error {
	return a.producer.Close(ctx)
}

// spoolSizer is what /healthz reports about the tracking producer.
type spoolSizer interface {
	SpoolSize() (events, bytes int64)
}

// newRouter is the HTTP surface of `calore serve`: tracking under /t,
// /metrics and /healthz. The API and dashboards add their routes to the
// returned router.
func newRouter(track http.Handler, reg *prometheus.Registry, spool spoolSizer) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Mount("/t", track)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		events, bytes := spool.SpoolSize()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "tracking_spool_events": events, "tracking_spool_bytes": bytes})
	})
	return r
}
