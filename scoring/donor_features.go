package scoring

import (
	"context"
	"math"
	"math/bits"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// DonorFeatureNames are the donation model's features, in column order. Each
// is computed from what was recorded before the as-of date only (point in
// time); none reads the 12 months the label looks at.
var DonorFeatureNames = []string{
	"gave_last_year",     // a gift in the 12 months before (recency, coarse)
	"gift_years",         // of the 5 yearly windows before, how many with a gift (frequency)
	"consecutive_years",  // yearly windows with a gift in a row, back from the newest
	"years_since_gift",   // years since the last gift, 6 when never (recency)
	"log_largest_gift",   // log10(1 + largest gift of the 5 years), EUR (monetary)
	"log_total_given",    // log10(1 + total given in the 5 years), EUR (monetary)
	"recurring",          // a recurring (monthly, quarterly, yearly) gift in the last 12 months
	"events_12m",         // events attended in the last 12 months (≤10)
	"events_24m",         // events attended in the last 24 months (≤10)
	"opens_12m",          // emails a person (not a machine) opened in the last 12 months (≤20)
	"clicks_12m",         // emails clicked in the last 12 months (≤10)
	"open_rate",          // human opens / emails sent in the last 12 months
	"giving_page_visits", // visits to a giving page of the website in the last 12 months (≤10)
	"web_visits",         // website visits in the last 12 months (≤20)
	"age_known",          // 1 when the birth date is known
	"age_decades",        // age / 10 at the as-of date, 0 when unknown
	"age_peak",           // closeness to the giving-age peak: 1 - |age - 60| / 30, floored at 0; 0 when unknown
	"seniority_decades",  // decades since graduation (≤4)
	"career_level",       // from current roles: 0 none, 1 staff, 2 manager or lead, 3 director or head, 4 chief or founder
	"top_economic",       // top alumnus, high economic profile
	"top_prestige",       // top alumnus, prestige
	"top_visibility",     // top alumnus, visibility
	"mentor",             // mentoring students
	"staff_interactions", // staff interactions in the last 12 months (≤10)
	"engagement_modes",   // of events, email, web, giving, mentoring, staff contact: how many in the last 12 months
}

// donorExample is one alumnus's features as of a date, the label when known,
// and what the ask suggestion needs.
type donorExample struct {
	PersonID   int64
	X          []float64
	GaveNext   bool
	LastAmount float64
	Gifts      uint64
	Total      float64
	Top        string
}

// feature returns the column of a named feature.
func feature(name string) int {
	for i, n := range DonorFeatureNames {
		if n == name {
			return i
		}
	}
	panic("scoring: unknown donor feature " + name)
}

// careerLevel maps a role as written to a seniority level. Matching is on
// words, in Italian and English, and the highest level of a person's
// current roles wins.
func careerLevel(role string) float64 {
	r := " " + strings.ToLower(role) + " "
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(r, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("ceo", "cto", "cfo", "coo", "chief", "founder", "fondat", "president", "owner", "partner", "amministratore", "general manager"):
		return 4
	case has("director", "direttor", "head", "vp", "vice president", "responsabile", "dirigente"):
		return 3
	case has("manager", " lead", "lead ", "supervisor", "coordinat", "senior"):
		return 2
	case strings.TrimSpace(r) != "":
		return 1
	}
	return 0
}

// DonorExamples reads the features of every eligible alumnus as of asOf:
// alumni recorded before asOf who graduated before its year.
func DonorExamples(ctx context.Context, env *Env, asOf time.Time) ([]donorExample, error) {
	at := clickhouse.Named("as_of", dateTime(asOf))
	type alum struct {
		grad, birth int64
		top         string
	}
	alumni := map[int64]alum{}
	var ids []int64
	if err := scan(ctx, env, "donor_alumni.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var a alum
		if err := r.Scan(&id, &a.grad, &a.top, &a.birth); err != nil {
			return err
		}
		alumni[id] = a
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, err
	}
	type gifts struct {
		bits              uint8
		lastAt            time.Time
		largest, last     float64
		n                 uint64
		total             float64
		recurring, gaveNx uint8
	}
	gs := map[int64]gifts{}
	if err := scan(ctx, env, "donor_gifts.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var g gifts
		if err := r.Scan(&id, &g.bits, &g.lastAt, &g.largest, &g.last, &g.n, &g.total, &g.recurring, &g.gaveNx); err != nil {
			return err
		}
		gs[id] = g
		return nil
	}); err != nil {
		return nil, err
	}
	type attendance struct{ n12, n24 uint64 }
	attended := map[int64]attendance{}
	if err := scan(ctx, env, "donor_attendance.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var a attendance
		if err := r.Scan(&id, &a.n12, &a.n24); err != nil {
			return err
		}
		attended[id] = a
		return nil
	}); err != nil {
		return nil, err
	}
	type mail struct{ sends, opens, clicks uint64 }
	ms := map[int64]mail{}
	if err := scan(ctx, env, "donor_mail.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var m mail
		if err := r.Scan(&id, &m.sends, &m.opens, &m.clicks); err != nil {
			return err
		}
		ms[id] = m
		return nil
	}); err != nil {
		return nil, err
	}
	type web struct{ visits, giving uint64 }
	ws := map[int64]web{}
	if err := scan(ctx, env, "donor_web.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var w web
		if err := r.Scan(&id, &w.visits, &w.giving); err != nil {
			return err
		}
		ws[id] = w
		return nil
	}); err != nil {
		return nil, err
	}
	mentors := map[int64]bool{}
	if err := scan(ctx, env, "donor_mentors.sql", []any{at}, func(r rowScanner) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		mentors[id] = true
		return nil
	}); err != nil {
		return nil, err
	}
	career := map[int64]float64{}
	if err := scan(ctx, env, "donor_roles.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var role string
		if err := r.Scan(&id, &role); err != nil {
			return err
		}
		career[id] = math.Max(career[id], careerLevel(role))
		return nil
	}); err != nil {
		return nil, err
	}
	contacts := map[int64]uint64{}
	if err := scan(ctx, env, "donor_interactions.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var n uint64
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		contacts[id] = n
		return nil
	}); err != nil {
		return nil, err
	}

	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	out := make([]donorExample, 0, len(ids))
	year := asOf.UTC().Year()
	for _, id := range ids {
		a, g, m, w, att := alumni[id], gs[id], ms[id], ws[id], attended[id]
		openRate := 0.0
		if m.sends > 0 {
			openRate = math.Min(1, float64(m.opens)/float64(m.sends))
		}
		consecutive := float64(bits.TrailingZeros8(^g.bits))
		sinceGift := 6.0
		if !g.lastAt.IsZero() && g.lastAt.Unix() > 0 {
			sinceGift = math.Min(6, asOf.Sub(g.lastAt).Hours()/24/365.25)
		}
		var ageKnown, age, agePeak float64
		if a.birth > 1880 && a.birth < int64(year) {
			ageKnown, age = 1, float64(int64(year)-a.birth)
			agePeak = math.Max(0, 1-math.Abs(age-60)/30)
		}
		modes := b2f(att.n12 > 0) + b2f(m.opens+m.clicks > 0) + b2f(w.visits > 0) + b2f(g.bits&1 == 1) + b2f(mentors[id]) + b2f(contacts[id] > 0)
		x := []float64{
			b2f(g.bits&1 == 1),
			float64(bits.OnesCount8(g.bits)),
			consecutive,
			sinceGift,
			math.Log10(1 + g.largest),
			math.Log10(1 + g.total),
			float64(g.recurring),
			math.Min(float64(att.n12), 10),
			math.Min(float64(att.n24), 10),
			math.Min(float64(m.opens), 20),
			math.Min(float64(m.clicks), 10),
			openRate,
			math.Min(float64(w.giving), 10),
			math.Min(float64(w.visits), 20),
			ageKnown,
			age / 10,
			agePeak,
			math.Min(float64(int64(year)-a.grad), 40) / 10,
			career[id],
			b2f(a.top == "economic"),
			b2f(a.top == "prestige"),
			b2f(a.top == "visibility"),
			b2f(mentors[id]),
			math.Min(float64(contacts[id]), 10),
			modes,
		}
		out = append(out, donorExample{PersonID: id, X: x, GaveNext: g.gaveNx == 1, LastAmount: g.last, Gifts: g.n, Total: g.total, Top: a.top})
	}
	return out, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
