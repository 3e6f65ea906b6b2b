package kpi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ProspectFilter narrows the donor prospect list. Zero values mean "any".
type ProspectFilter struct {
	Tier    string // A, B, C, D
	Heat    int    // heat level 1-4
	Cohort  int    // graduation decade, e.g. 1990
	Course  string // degree course, exactly
	Country string // ISO 3166-1 alpha-2
	Limit   int    // rows; 0 means DefaultProspectLimit
}

// DefaultProspectLimit is how many prospects a list shows unless asked.
const DefaultProspectLimit = 100

// MaxProspectLimit bounds a list (and its CSV export).
const MaxProspectLimit = 50_000

// Validate checks the filter's values.
func (p ProspectFilter) Validate() error {
	var errs []string
	switch p.Tier {
	case "", "A", "B", "C", "D":
	default:
		errs = append(errs, fmt.Sprintf("tier %q is not A, B, C or D", p.Tier))
	}
	if p.Heat < 0 || p.Heat > 4 {
		errs = append(errs, fmt.Sprintf("heat %d is not 1-4", p.Heat))
	}
	if p.Cohort != 0 && (p.Cohort%10 != 0 || p.Cohort < 1900 || p.Cohort > 2100) {
		errs = append(errs, fmt.Sprintf("cohort %d is not a decade such as 1990", p.Cohort))
	}
	if p.Limit < 0 || p.Limit > MaxProspectLimit {
		errs = append(errs, fmt.Sprintf("limit %d is not 1-%d", p.Limit, MaxProspectLimit))
	}
	if len(errs) > 0 {
		return fmt.Errorf("prospect filter: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Reason is one reason of a donor score, in words.
type Reason struct {
	Text    string  `json:"text"`
	Feature string  `json:"feature"`
	LogOdds float64 `json:"log_odds"`
}

// Prospect is one alumnus of the ranked prospect list.
type Prospect struct {
	PersonID       int64    `json:"person_id"`
	Name           string   `json:"name"`
	GraduationYear int64    `json:"graduation_year,omitempty"`
	Course         string   `json:"degree_course,omitempty"`
	Country        string   `json:"country,omitempty"`
	Probability    float64  `json:"probability"` // of a gift in the next 12 months
	Tier           string   `json:"tier"`
	ExpectedAmount float64  `json:"expected_amount"`
	SuggestedAsk   float64  `json:"suggested_ask"`
	Heat           int      `json:"heat"` // 1-4; 0 unknown
	Reasons        []Reason `json:"reasons"`
	LastGiftAt     string   `json:"last_gift_at,omitempty"` // YYYY-MM-DD
	LastGiftAmount float64  `json:"last_gift_amount,omitempty"`
}

// ProspectsResult is a ranked prospect list with the scores it comes from.
type ProspectsResult struct {
	Scores    ScoreInfo  `json:"scores"`      // donation model
	Heat      ScoreInfo  `json:"heat_scores"` // heat model
	Prospects []Prospect `json:"prospects"`
}

// prospectQuery is the prospect list query: donation scores of one as_of
// day, with the heat of its day, the person and the last gift before the
// scores' day, filtered by pf. Every value travels as a bind parameter.
type prospectQuery struct {
	donationAsOf string // YYYY-MM-DD
	heatAsOf     string // YYYY-MM-DD; "" none
	filter       ProspectFilter
}

func (q prospectQuery) toSQL() (string, []any) {
	heat := q.heatAsOf
	if heat == "" {
		heat = "1970-01-01" // no heat scores: every heat level is 0
	}
	args := []any{q.donationAsOf, heat, q.donationAsOf, q.donationAsOf, q.donationAsOf}
	var where []string
	if q.filter.Tier != "" {
		where = append(where, "tier = ?")
		args = append(args, q.filter.Tier)
	}
	if q.filter.Heat != 0 {
		where = append(where, "heat_level = ?")
		args = append(args, int32(q.filter.Heat))
	}
	if q.filter.Cohort != 0 {
		where = append(where, "intDiv(graduation_year, 10) * 10 = ?")
		args = append(args, int64(q.filter.Cohort))
	}
	if q.filter.Course != "" {
		where = append(where, "degree_course = ?")
		args = append(args, q.filter.Course)
	}
	if q.filter.Country != "" {
		where = append(where, "country = ?")
		args = append(args, q.filter.Country)
	}
	limit := q.filter.Limit
	if limit == 0 {
		limit = DefaultProspectLimit
	}
	args = append(args, limit)
	sql := query("prospects.sql")
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	return strings.Replace(sql, "/*where*/", cond, 1), args
}

// Prospects returns the alumni most likely to give, by the newest donation
// scores on or before the period's end.
func Prospects(ctx context.Context, conn driver.Conn, f Filter, pf ProspectFilter) (ProspectsResult, error) {
	out := ProspectsResult{Prospects: []Prospect{}}
	if err := pf.Validate(); err != nil {
		return out, err
	}
	var err error
	if out.Scores, err = latestScores(ctx, conn, "donation", f.To); err != nil {
		return out, err
	}
	if out.Heat, err = latestScores(ctx, conn, "heat", f.To); err != nil {
		return out, err
	}
	if out.Scores.AsOf == "" {
		return out, nil
	}
	sql, args := prospectQuery{donationAsOf: out.Scores.AsOf, heatAsOf: out.Heat.AsOf, filter: pf}.toSQL()
	err = scan(ctx, conn, "prospects", sql, args, func(r driver.Rows) error {
		var p Prospect
		var first, last, reasons string
		var heat int32
		var giftAt time.Time
		if err := r.Scan(&p.PersonID, &first, &last, &p.GraduationYear, &p.Course, &p.Country, &p.Probability, &p.Tier,
			&p.ExpectedAmount, &p.SuggestedAsk, &reasons, &heat, &giftAt, &p.LastGiftAmount); err != nil {
			return err
		}
		p.Name = strings.TrimSpace(first + " " + last)
		p.Heat = int(heat)
		if giftAt.Unix() > 0 {
			p.LastGiftAt = day(giftAt)
		}
		if reasons != "" {
			if err := json.Unmarshal([]byte(reasons), &p.Reasons); err != nil {
				return fmt.Errorf("reasons of person %d: %w", p.PersonID, err)
			}
		}
		if p.Reasons == nil {
			p.Reasons = []Reason{}
		}
		out.Prospects = append(out.Prospects, p)
		return nil
	})
	return out, err
}
