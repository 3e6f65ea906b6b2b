package dashboards_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/calore-crm/calore/dashboards"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestServe serves the dashboards on the configured warehouse (the demo
// database of the local stack) at 127.0.0.1:0 for manual checks, for as long
// as CALORE_DASHBOARDS_SERVE says (e.g. 10m); skipped when unset. The clock
// is the synthetic university's "today", 2026-01-01; no user is signed in.
func TestServe(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("CALORE_DASHBOARDS_SERVE"))
	if err != nil {
		t.Skip("set CALORE_DASHBOARDS_SERVE=10m to serve the dashboards for a manual look")
	}
	ctx := context.Background()
	conn, err := warehouse.Open(ctx, warehousetest.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := chi.NewRouter()
	r.Mount("/dashboards", dashboards.Routes(dashboards.Deps{Warehouse: conn, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Now: func() time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC) }}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	go srv.Serve(ln)
	t.Logf("dashboards at http://%s/dashboards/ for %s", ln.Addr(), d)
	time.Sleep(d)
	srv.Close()
}
