package dashboards

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// TestCardsLeaveOutWhatTheRoleMayNotSee: a widget the role may not see is
// neither queried (the server has no warehouse here: a query would panic)
// nor given a data link.
func TestCardsLeaveOutWhatTheRoleMayNotSee(t *testing.T) {
	deny := map[string]bool{"prospects": true, "fundraising": true}
	s := &server{base: "/dashboards", deps: Deps{Logger: slog.New(slog.DiscardHandler), Now: time.Now,
		CanSee: func(_ *http.Request, widget string) bool { return !deny[widget] }}}
	p, err := parseParams(url.Values{}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cards := s.cards(httptest.NewRequest("GET", "/dashboards/managers", nil), p, []string{"prospects", "fundraising"})
	for _, c := range cards {
		if c.Err == "" || c.DataURL != "" || c.values != nil {
			t.Errorf("widget %s shown to a role that may not see it: %+v", c.Name, c)
		}
	}
}
