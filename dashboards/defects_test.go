package dashboards_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/calore-crm/calore/dashboards"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestHeaderAndErrors checks the issue 15 defects of the dashboards on an
// empty warehouse: the header tabs keep the filters (seen failing with the
// query passed as a string, which html/template escaped into
// "from%3d2024…"), a bad filter is an HTML page with the error and a way
// back, the header says who is signed in with a logout and links to the
// workspace, and the prospects CSV starts with a UTF-8 byte-order mark.
func TestHeaderAndErrors(t *testing.T) {
	r := chi.NewRouter()
	r.Mount("/dashboards", dashboards.Routes(dashboards.Deps{Warehouse: warehousetest.New(t), Logger: slog.New(slog.DiscardHandler),
		Now:         func() time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC) },
		CurrentUser: func(*http.Request) (int64, bool) { return 0, false },
		UserName:    func(*http.Request) string { return "ada.l" },
		Audit:       func(*http.Request, string, string, []int64, map[string]string) error { return nil }}))
	srv := httptest.NewServer(r)
	defer srv.Close()
	get := func(path string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}

	status, _, body := get("/dashboards/managers?from=2024-01-01&to=2025-01-01&office=alumni")
	if status != http.StatusOK {
		t.Fatalf("managers: %d", status)
	}
	if !strings.Contains(body, `href="/dashboards/fundraisers?from=2024-01-01&amp;office=alumni&amp;to=2025-01-01"`) {
		i := strings.Index(body, "/dashboards/fundraisers")
		t.Errorf("the Fundraisers tab drops the filters: %.120s", body[max(i, 0):])
	}
	for _, s := range []string{"Signed in as ada.l", `action="/logout"`, `href="/workspace/"`} {
		if !strings.Contains(body, s) {
			t.Errorf("header lacks %q", s)
		}
	}

	status, h, body := get("/dashboards/managers?from=2025-13-01")
	if status != http.StatusBadRequest || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("bad filter: %d %s, want an HTML 400", status, h.Get("Content-Type"))
	}
	if !strings.Contains(body, "2025-13-01") || !strings.Contains(body, `<form class="filters"`) || !strings.Contains(body, "Back to the dashboards") {
		t.Error("bad filter page lacks the error, the filters or the way back")
	}

	status, _, body = get("/dashboards/fundraisers/prospects.csv")
	if status != http.StatusOK || !strings.HasPrefix(body, "\ufeffrank,") {
		t.Errorf("prospects.csv: %d, starts %q, want a UTF-8 BOM", status, body[:min(len(body), 10)])
	}
}
