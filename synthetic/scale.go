// Package synthetic generates a deterministic synthetic university at the
// tender's scale: alumni, prospects and their journeys, companies and their
// referents, newsletter and press contacts, campaigns with sends, opens and
// clicks, events with registrations and attendance, web visits, interactions,
// collaborations, partnerships, research contracts and donations.
//
// Giving follows a documented generative model (giving.go, and
// docs/synthetic-data.md) with a known true propensity per alumnus and year,
// so the best achievable (Bayes) AUC of any donation model can be computed
// and printed next to the model's own.
//
// The package is pure: Generate returns records (calore types) and streams
// the high-volume traffic (sends and tracking hits) to a callback; loading
// them into PostgreSQL and ClickHouse is the loader's job.
package synthetic

import (
	"fmt"
	"time"
)

// Scale sizes the synthetic university.
type Scale struct {
	Name               string
	Alumni             int
	NewsletterContacts int // newsletter subscribers and press contacts who are not alumni
	Journalists        int // of which press
	Organisations      int
	Referents          int // company referents, spread over the organisations
	ProspectsPerYear   int // new recruitment leads each year
	Years              int // years of history before AsOf
	AsOf               time.Time
	DonorsPerYear      int // target number of alumni giving in a year; calibrates the giving model
	EventsPerYear      int
	AppealsPerYear     int // fundraising email appeals, up to 20k recipients each
	WebVisitsPerAlumni float64
}

// Scales by name.
var scales = map[string]Scale{
	"demo": {
		Name: "demo", Alumni: 10_000, NewsletterContacts: 14_000, Journalists: 300, Organisations: 200,
		Referents: 2_500, ProspectsPerYear: 1_000, Years: 5, DonorsPerYear: 120,
		EventsPerYear: 24, AppealsPerYear: 3, WebVisitsPerAlumni: 1.5,
	},
	"full": {
		Name: "full", Alumni: 200_000, NewsletterContacts: 280_000, Journalists: 5_000, Organisations: 2_000,
		Referents: 50_000, ProspectsPerYear: 20_000, Years: 5, DonorsPerYear: 1_000,
		EventsPerYear: 60, AppealsPerYear: 4, WebVisitsPerAlumni: 2,
	},
}

// DefaultAsOf is the synthetic university's "today": history covers the
// Years calendar years before it.
var DefaultAsOf = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ScaleByName returns a named scale ("demo" or "full") as of DefaultAsOf.
func ScaleByName(name string) (Scale, error) {
	s, ok := scales[name]
	if !ok {
		return Scale{}, fmt.Errorf("scale %q: want demo or full", name)
	}
	s.AsOf = DefaultAsOf
	return s, nil
}

// FirstYear is the first calendar year of history.
func (s Scale) FirstYear() int { return s.AsOf.Year() - s.Years }

// People is how many people the scale generates.
func (s Scale) People() int {
	return s.Alumni + s.NewsletterContacts + s.Referents + s.ProspectsPerYear*s.Years
}
