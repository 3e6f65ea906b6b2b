package kpiq

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
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

// prospectQuery chooses the prospects of a list (prospect_rank.sql): the
// newest donation run of one as_of day, filtered, most probable first. The
// people filters read only the scored people's versions; every value
// travels as a bind parameter.
type prospectQuery struct {
	donationAsOf string    // YYYY-MM-DD: the donation run ranked
	donationRun  time.Time // its computed_at
	heatAsOf     string    // YYYY-MM-DD: the heat run the heat filter reads; "" none
	heatRun      time.Time //
	filter       ProspectFilter
}

func (q prospectQuery) toSQL() (string, []any) {
	args := []any{q.donationAsOf, unixSeconds(q.donationRun)}
	var where []string
	if q.filter.Tier != "" {
		where = append(where, "label = ?")
		args = append(args, q.filter.Tier)
	}
	if q.filter.Heat != 0 {
		where = append(where, "person_id IN (SELECT person_id FROM person_scores WHERE model = 'heat' AND as_of = toDate(?) AND computed_at = toDateTime(toUInt32(?)) AND level = ?)")
		args = append(args, dayOrEpoch(q.heatAsOf), unixSeconds(q.heatRun), int32(q.filter.Heat))
	}
	var person []string
	var personArgs []any
	if q.filter.Cohort != 0 {
		person = append(person, "intDiv(graduation_year, 10) * 10 = ?")
		personArgs = append(personArgs, int64(q.filter.Cohort))
	}
	if q.filter.Course != "" {
		person = append(person, "degree_course = ?")
		personArgs = append(personArgs, q.filter.Course)
	}
	if q.filter.Country != "" {
		person = append(person, "country = ?")
		personArgs = append(personArgs, q.filter.Country)
	}
	if len(person) > 0 {
		where = append(where, `person_id IN (SELECT id FROM
        (SELECT id, argMax(graduation_year, version) AS graduation_year, argMax(degree_course, version) AS degree_course,
                argMax(country, version) AS country
         FROM dim_people
         WHERE id IN (SELECT person_id FROM person_scores WHERE model = 'donation' AND as_of = toDate(?))
         GROUP BY id)
     WHERE `+strings.Join(person, " AND ")+")")
		args = append(append(args, q.donationAsOf), personArgs...)
	}
	limit := q.filter.Limit
	if limit == 0 {
		limit = DefaultProspectLimit
	}
	args = append(args, limit)
	cond := ""
	if len(where) > 0 {
		cond = "  AND " + strings.Join(where, "\n  AND ")
	}
	return strings.Replace(queries.Get("prospect_rank.sql"), "/*where*/", cond, 1), args
}

// Prospects returns the alumni most likely to give, by the newest donation
// scores on or before the period's end.
func Prospects(ctx context.Context, conn driver.Conn, f Filter, pf ProspectFilter) (ProspectsResult, error) {
	out := ProspectsResult{Prospects: []Prospect{}}
	if err := pf.Validate(); err != nil {
		return out, err
	}
	var err error
	var donationRun, heatRun time.Time
	if out.Scores, donationRun, err = latestRun(ctx, conn, "donation", f.To); err != nil {
		return out, err
	}
	if out.Heat, heatRun, err = latestRun(ctx, conn, "heat", f.To); err != nil {
		return out, err
	}
	if out.Scores.AsOf == "" {
		return out, nil
	}
	sql, args := prospectQuery{donationAsOf: out.Scores.AsOf, donationRun: donationRun, heatAsOf: out.Heat.AsOf, heatRun: heatRun, filter: pf}.toSQL()
	var ids []int64
	err = scan(ctx, conn, "prospect ranking", sql, args, func(r driver.Rows) error {
		var id int64
		if err := r.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil || len(ids) == 0 {
		return out, err
	}
	// The details of the chosen people, a chunk at a time (the ids travel in
	// the query text), then in the ranking's order.
	byID := make(map[int64]Prospect, len(ids))
	for start := 0; start < len(ids); start += prospectChunk {
		chunk := ids[start:min(start+prospectChunk, len(ids))]
		set := clickhouse.GroupSet{Value: make([]any, len(chunk))}
		for i, id := range chunk {
			set.Value[i] = id
		}
		args = []any{out.Scores.AsOf, set, dayOrEpoch(out.Heat.AsOf), set, set, out.Scores.AsOf}
		err = scan(ctx, conn, "prospects", queries.Get("prospects.sql"), args, func(r driver.Rows) error {
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
			byID[p.PersonID] = p
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out.Prospects = append(out.Prospects, p)
		}
	}
	return out, nil
}

// prospectChunk is how many people one details query asks for.
const prospectChunk = 5000

// dayOrEpoch is the as_of day of a run, or 1970-01-01 when there is none
// (no heat scores: nobody has a heat level, every heat level is 0).
func dayOrEpoch(asOf string) string {
	if asOf == "" {
		return "1970-01-01"
	}
	return asOf
}

// unixSeconds is t as a ClickHouse DateTime's seconds; 0 for the zero time.
func unixSeconds(t time.Time) uint32 {
	if t.Unix() <= 0 {
		return 0
	}
	return uint32(t.Unix())
}
