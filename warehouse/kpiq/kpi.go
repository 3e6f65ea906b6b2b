package kpiq

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/warehouse"
)

//go:embed sql/*.sql
var files embed.FS

var queries = warehouse.NewQueries("kpiq", files)

// Filter holds the filters every dashboard shares. A widget uses the ones
// that make sense for it (docs/dashboards.md lists which).
type Filter struct {
	From    time.Time // period [From, To): days, UTC
	To      time.Time //
	Office  string    // owning office of campaigns, events and interactions; "" all
	Segment string    // kind of person (alumnus, student, prospect, referent, …); "" all
}

// Validate checks the period.
func (f Filter) Validate() error {
	var errs []error
	if f.From.IsZero() || f.To.IsZero() {
		errs = append(errs, errors.New("period: from and to are required"))
	} else if !f.From.Before(f.To) {
		errs = append(errs, fmt.Errorf("period: from %s is not before to %s", day(f.From), day(f.To)))
	}
	return errors.Join(errs...)
}

func (f Filter) named() []any {
	return []any{
		clickhouse.Named("from", dateTime(f.From)),
		clickhouse.Named("to", dateTime(f.To)),
		clickhouse.Named("from_day", day(f.From)),
		clickhouse.Named("to_day", day(f.To)),
		clickhouse.Named("office", f.Office),
		clickhouse.Named("segment", f.Segment),
	}
}

// ScoreInfo tells where the scores shown come from: the model, its version
// and the day they were computed as of. Empty AsOf: no scores yet.
type ScoreInfo struct {
	Model   string `json:"model"`
	Version string `json:"model_version"`
	AsOf    string `json:"as_of"` // YYYY-MM-DD
}

func day(t time.Time) string      { return t.UTC().Format("2006-01-02") }
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// scan runs a query and calls fn for each row.
func scan(ctx context.Context, conn driver.Conn, name, sql string, args []any, fn func(driver.Rows) error) error {
	return warehouse.Scan(ctx, conn, name, sql, args, fn)
}

// latestScores returns the newest as_of day of model on or before the day
// to, and the model version of that day's newest run.
func latestScores(ctx context.Context, conn driver.Conn, model string, to time.Time) (ScoreInfo, error) {
	info, _, err := latestRun(ctx, conn, model, to)
	return info, err
}

// latestRun is latestScores with the computed_at of that day's newest run
// (zero: no scores).
func latestRun(ctx context.Context, conn driver.Conn, model string, to time.Time) (ScoreInfo, time.Time, error) {
	info := ScoreInfo{Model: model}
	var asOf, run time.Time
	var version string
	var n uint64
	err := conn.QueryRow(ctx, queries.Get("score_latest.sql"), clickhouse.Named("model", model), clickhouse.Named("to_day", day(to))).Scan(&asOf, &version, &run, &n)
	if err != nil {
		return info, time.Time{}, fmt.Errorf("latest %s scores: %w", model, err)
	}
	if n == 0 {
		return info, time.Time{}, nil
	}
	info.AsOf, info.Version = day(asOf), version
	return info, run, nil
}

// Targets are an institutional target's three levels (R6.5).
type Targets struct {
	Threshold  float64 `json:"threshold"`
	Target     float64 `json:"target"`
	Excellence float64 `json:"excellence"`
}

// DefaultFundraisingTargets are the university's 2023 fundraising levels
// (seed 002): 2.7 / 2.8 / 3.1 million EUR.
var DefaultFundraisingTargets = Targets{Threshold: 2_700_000, Target: 2_800_000, Excellence: 3_100_000}

// ParseTargets reads "threshold,target,excellence" in EUR, e.g.
// "2700000,2800000,3100000" (CALORE_FUNDRAISING_TARGETS); "" gives the
// defaults. The levels must be positive and ascending.
func ParseTargets(s string) (Targets, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultFundraisingTargets, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Targets{}, fmt.Errorf("targets %q: want threshold,target,excellence (three amounts in EUR)", s)
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 {
			return Targets{}, fmt.Errorf("targets %q: %q is not a positive amount", s, p)
		}
		v[i] = f
	}
	if !(v[0] <= v[1] && v[1] <= v[2]) {
		return Targets{}, fmt.Errorf("targets %q: levels must ascend (threshold ≤ target ≤ excellence)", s)
	}
	return Targets{Threshold: v[0], Target: v[1], Excellence: v[2]}, nil
}
