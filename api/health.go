package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// checkTimeout bounds each readiness check.
const checkTimeout = 2 * time.Second

// healthz says the process serves; the tracking part adds its spool size.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	out := map[string]any{"status": "ok"}
	if s.deps.Health != nil {
		for k, v := range s.deps.Health() {
			out[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// readyz checks PostgreSQL, ClickHouse and Kafka, each within checkTimeout,
// in parallel: 200 when all answer, 503 naming those that do not.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := map[string]func(context.Context) error{
		"postgres": func(ctx context.Context) error { return s.deps.Pool.Ping(ctx) },
		"clickhouse": func(ctx context.Context) error {
			if s.deps.Warehouse == nil {
				return errors.New("not configured")
			}
			return s.deps.Warehouse.Ping(ctx)
		},
		"kafka": func(ctx context.Context) error { return s.pingKafka(ctx) },
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	results := map[string]string{}
	ready := true
	for name, check := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			defer cancel()
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			results[name] = "ok"
			if err != nil {
				ready = false
				results[name] = "unreachable"
				s.log.Warn("readyz: check failed", slog.String("check", name), slog.Any("err", err))
			}
		}()
	}
	wg.Wait()
	status, code := "ready", http.StatusOK
	if !ready {
		status, code = "not ready", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": results})
}

// pingKafka asks any bootstrap broker for the cluster's brokers.
func (s *Server) pingKafka(ctx context.Context) error {
	if len(s.deps.KafkaBrokers) == 0 {
		return errors.New("no brokers configured")
	}
	var errs []error
	for _, b := range s.deps.KafkaBrokers {
		d := &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, SASLMechanism: s.deps.KafkaSASL}
		c, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			if dl, ok := ctx.Deadline(); ok {
				_ = c.SetDeadline(dl)
			}
			_, err = c.Brokers() // a metadata request: a broker, not just an open port
			_ = c.Close()
			if err == nil {
				return nil
			}
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
