package dashboards

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse/kpiq"
)

func TestParseParams(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	tests := []struct {
		name     string
		query    string
		filter   kpiq.Filter
		prospect kpiq.ProspectFilter
		bad      bool
	}{
		{"defaults: the twelve months before today", "", kpiq.Filter{From: day("2025-01-01"), To: day("2026-01-01")}, kpiq.ProspectFilter{}, false},
		{"period", "from=2024-03-01&to=2024-06-01", kpiq.Filter{From: day("2024-03-01"), To: day("2024-06-01")}, kpiq.ProspectFilter{}, false},
		{"to only: a year before it", "to=2025-07-01", kpiq.Filter{From: day("2024-07-01"), To: day("2025-07-01")}, kpiq.ProspectFilter{}, false},
		{"office and segment", "office=alumni&segment=alumnus", kpiq.Filter{From: day("2025-01-01"), To: day("2026-01-01"), Office: "alumni", Segment: "alumnus"}, kpiq.ProspectFilter{}, false},
		{"prospect filters", "tier=B&heat=3&cohort=1990&course=Architettura&country=it&limit=25",
			kpiq.Filter{From: day("2025-01-01"), To: day("2026-01-01")}, kpiq.ProspectFilter{Tier: "B", Heat: 3, Cohort: 1990, Course: "Architettura", Country: "IT", Limit: 25}, false},
		{"bad date", "from=01/02/2025", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"reversed period", "from=2025-06-01&to=2025-01-01", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"unknown segment", "segment=martian", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"office with SQL", "office=x'%20OR%201=1", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"bad heat", "heat=hot", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"bad tier", "tier=Z", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"bad cohort", "cohort=1995", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
		{"limit too high", "limit=1000000", kpiq.Filter{}, kpiq.ProspectFilter{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			p, err := parseParams(q, now)
			if tt.bad {
				if !errors.Is(err, calore.ErrInvalid) {
					t.Errorf("err %v, want invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Filter, tt.filter) || !reflect.DeepEqual(p.Prospect, tt.prospect) {
				t.Errorf("got %+v %+v\nwant %+v %+v", p.Filter, p.Prospect, tt.filter, tt.prospect)
			}
			if got := p.query(); got.Get("from") != tt.filter.From.Format("2006-01-02") || got.Get("to") != tt.filter.To.Format("2006-01-02") {
				t.Errorf("query %v", got)
			}
		})
	}
}

func TestNum(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 12: "12", 1234: "1,234", 1234567.5: "1,234,567.50", -2500: "-2,500", 999.99: "999.99"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestWidgetsAndDashboards(t *testing.T) {
	seen := map[string]bool{}
	for _, w := range widgets {
		if seen[w.Name] || w.data == nil || w.draw == nil || w.Title == "" || w.Help == "" || len(w.Filters) == 0 {
			t.Errorf("widget %q incomplete or repeated", w.Name)
		}
		seen[w.Name] = true
	}
	for _, d := range builtins {
		for _, n := range d.Widgets {
			if !seen[n] {
				t.Errorf("dashboard %s: unknown widget %s", d.Slug, n)
			}
		}
	}
}
