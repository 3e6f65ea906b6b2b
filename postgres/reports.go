package postgres

// Read models of the API: the donor list (person_scores joined with people)
// and a few KPIs. Fixed queries are embedded .sql files; the donor list's
// filters go through DonorQuery.toSQL with bind parameters only.

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed queries/*.sql
var queries embed.FS

func query(name string) string {
	b, err := queries.ReadFile("queries/" + name)
	if err != nil {
		panic(fmt.Sprintf("postgres: embedded query %s: %v", name, err)) // a build defect, caught by any test
	}
	return string(b)
}

// DonorQuery narrows the donor list; zero fields do not filter.
type DonorQuery struct {
	Tiers          []string // A, B, C, D
	HeatLevels     []int    // 1-4
	MinHeat        int
	GraduationFrom int // cohort: graduation year range, inclusive
	GraduationTo   int
	Course         string // degree course, exact (ignoring case)
	Country        string // ISO code
	Offset, Limit  int    // default limit 100, at most 1000
}

func (q DonorQuery) where() (string, []any) {
	conds := []string{"s.donor_tier IS NOT NULL", "p.status = 'active'"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if len(q.Tiers) > 0 {
		add("s.donor_tier = ANY($%d)", q.Tiers)
	}
	if len(q.HeatLevels) > 0 {
		add("s.heat_level = ANY($%d)", q.HeatLevels)
	}
	if q.MinHeat > 0 {
		add("s.heat_level >= $%d", q.MinHeat)
	}
	if q.GraduationFrom > 0 {
		add("p.graduation_year >= $%d", q.GraduationFrom)
	}
	if q.GraduationTo > 0 {
		add("p.graduation_year <= $%d", q.GraduationTo)
	}
	if q.Course != "" {
		add("lower(p.degree_course) = lower($%d)", q.Course)
	}
	if q.Country != "" {
		add("upper(p.country) = upper($%d)", q.Country)
	}
	return strings.Join(conds, " AND "), args
}

// toSQL returns the page query and the count query with their arguments.
func (q DonorQuery) toSQL() (page, count string, args []any) {
	where, args := q.where()
	page = fmt.Sprintf(`SELECT p.id, p.first_name, p.last_name, p.graduation_year, p.degree_course, p.country,
	s.donor_tier, s.donor_probability, coalesce(s.expected_amount::text, ''), coalesce(s.suggested_ask::text, ''),
	coalesce(s.donor_reasons, '[]'::jsonb), s.heat_level, s.heat_score, s.donor_as_of,
	(SELECT max(d.donated_on) FROM donations d WHERE d.person_id = p.id)
FROM person_scores s JOIN people p ON p.id = s.person_id
WHERE %s
ORDER BY s.donor_probability DESC NULLS LAST, p.id
LIMIT %d OFFSET %d`, where, Filter{Limit: q.Limit}.limit(), max(q.Offset, 0))
	count = fmt.Sprintf(`SELECT count(*) FROM person_scores s JOIN people p ON p.id = s.person_id WHERE %s`, where)
	return page, count, args
}

// Donor is one row of the donor list: a person's donation potential (R5.2)
// with their heat.
type Donor struct {
	PersonID       int64           `json:"person_id"`
	FirstName      string          `json:"first_name"`
	LastName       string          `json:"last_name"`
	GraduationYear *int            `json:"graduation_year,omitempty"`
	DegreeCourse   string          `json:"degree_course,omitempty"`
	Country        string          `json:"country,omitempty"`
	Tier           string          `json:"tier"`
	Probability    *float64        `json:"probability"`
	ExpectedAmount string          `json:"expected_amount"`
	SuggestedAsk   string          `json:"suggested_ask"`
	Reasons        json.RawMessage `json:"reasons"`
	HeatLevel      *int            `json:"heat_level,omitempty"`
	HeatScore      *float64        `json:"heat_score,omitempty"`
	AsOf           *time.Time      `json:"as_of,omitempty"`
	LastGift       *time.Time      `json:"last_gift,omitempty"`
}

// Donors returns a page of the donor list, most probable first, and the total.
func (s *Store) Donors(ctx context.Context, q DonorQuery) ([]Donor, int64, error) {
	page, count, args := q.toSQL()
	var total int64
	if err := s.db.QueryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("donor list: count: %w", err)
	}
	rows, err := s.db.Query(ctx, page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("donor list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Donor, error) {
		var d Donor
		var reasons []byte
		err := r.Scan(&d.PersonID, &d.FirstName, &d.LastName, &d.GraduationYear, &d.DegreeCourse, &d.Country,
			&d.Tier, &d.Probability, &d.ExpectedAmount, &d.SuggestedAsk, &reasons, &d.HeatLevel, &d.HeatScore, &d.AsOf, &d.LastGift)
		d.Reasons = reasons
		return d, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("donor list: %w", err)
	}
	if out == nil {
		out = []Donor{}
	}
	return out, total, nil
}

// PersonScores returns the latest scores of one person as stored by
// `calore score` (a JSON object; nil when the person has none).
func (s *Store) PersonScores(ctx context.Context, personID int64) (json.RawMessage, error) {
	var b []byte
	err := s.db.QueryRow(ctx, `SELECT to_jsonb(s) FROM person_scores s WHERE person_id = $1`, personID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return b, wrap(err, "read scores of person %d", personID)
}

// CompanyKPI counts organisations with an active partnership on a day.
type CompanyKPI struct {
	AsOf                string `json:"as_of"`
	ActiveCompanies     int64  `json:"active_companies"`
	ActiveOrganisations int64  `json:"active_organisations"`
}

// Companies counts the organisations with an active partnership on asOf.
func (s *Store) Companies(ctx context.Context, asOf time.Time) (CompanyKPI, error) {
	k := CompanyKPI{AsOf: asOf.Format(time.DateOnly)}
	err := s.db.QueryRow(ctx, query("kpi_companies.sql"), asOf).Scan(&k.ActiveCompanies, &k.ActiveOrganisations)
	return k, wrap(err, "active companies")
}

// ContractKPI counts research contracts active and expired on a day.
type ContractKPI struct {
	AsOf        string `json:"as_of"`
	Active      int64  `json:"active"`
	Expired     int64  `json:"expired"`
	ActiveValue string `json:"active_value"`
}

// Contracts counts the research contracts active and expired on asOf.
func (s *Store) Contracts(ctx context.Context, asOf time.Time) (ContractKPI, error) {
	k := ContractKPI{AsOf: asOf.Format(time.DateOnly)}
	err := s.db.QueryRow(ctx, query("kpi_contracts.sql"), asOf).Scan(&k.Active, &k.Expired, &k.ActiveValue)
	return k, wrap(err, "research contracts")
}

// EventKPI is registered against attended for events in a period.
type EventKPI struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Events     int64  `json:"events"`
	Invited    int64  `json:"invited"`
	Registered int64  `json:"registered"`
	Attended   int64  `json:"attended"`
}

// EventTurnout counts registrations of the events starting in [from, to).
func (s *Store) EventTurnout(ctx context.Context, from, to time.Time) (EventKPI, error) {
	k := EventKPI{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly)}
	err := s.db.QueryRow(ctx, query("kpi_events.sql"), from, to).Scan(&k.Events, &k.Invited, &k.Registered, &k.Attended)
	return k, wrap(err, "event turnout")
}
