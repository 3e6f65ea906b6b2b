package scoring

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/calore-crm/calore/models"
)

// The turnout job (R5.5): expected attendance of upcoming events = people
// registered so far × the show-up rate of past events of the same kind (all
// kinds together when a kind has fewer than minPastEvents). Its error is
// measured on the events of the 12 months before as-of, each forecast with
// the rates known before that event.
type turnoutJob struct{}

func (turnoutJob) Name() string { return "turnout" }

const minPastEvents = 3

// EventTurnout is one event's registrations and, once it happened, attendance.
type EventTurnout struct {
	ID         int64
	Kind       string
	StartsAt   time.Time
	Registered uint64
	Attended   uint64
}

// Forecast is one event's predicted attendance.
type Forecast struct {
	Event    EventTurnout
	Rate     float64
	Expected float64
	Actual   int64 // -1 for events after as-of
}

// TurnoutEvents reads every event with registrations, by start time.
func TurnoutEvents(ctx context.Context, env *Env) ([]EventTurnout, error) {
	var out []EventTurnout
	err := scan(ctx, env, "turnout_events.sql", nil, func(r rowScanner) error {
		var e EventTurnout
		if err := r.Scan(&e.ID, &e.Kind, &e.StartsAt, &e.Registered, &e.Attended); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// showUp is the attended/registered rate of the events that started before
// t, for kind (falling back to every kind).
func showUp(events []EventTurnout, kind string, t time.Time) float64 {
	var reg, att, n, regAll, attAll uint64
	for _, e := range events {
		if !e.StartsAt.Before(t) {
			break
		}
		regAll += e.Registered
		attAll += e.Attended
		if e.Kind == kind {
			reg += e.Registered
			att += e.Attended
			n++
		}
	}
	switch {
	case n >= minPastEvents && reg > 0:
		return float64(att) / float64(reg)
	case regAll > 0:
		return float64(attAll) / float64(regAll)
	}
	return 0
}

// ForecastTurnout forecasts the events after asOf and back-tests those of
// the 12 months before it.
func ForecastTurnout(events []EventTurnout, asOf time.Time) (upcoming, backtest []Forecast) {
	for _, e := range events {
		switch {
		case !e.StartsAt.Before(asOf):
			rate := showUp(events, e.Kind, asOf)
			upcoming = append(upcoming, Forecast{Event: e, Rate: rate, Expected: rate * float64(e.Registered), Actual: -1})
		case !e.StartsAt.Before(asOf.AddDate(-1, 0, 0)):
			rate := showUp(events, e.Kind, e.StartsAt)
			backtest = append(backtest, Forecast{Event: e, Rate: rate, Expected: rate * float64(e.Registered), Actual: int64(e.Attended)})
		}
	}
	return upcoming, backtest
}

// lastEditionRate is the naive forecast's rate: the show-up rate of the
// most recent event of the same kind that started before t (the overall
// rate of the past when the kind has none).
func lastEditionRate(events []EventTurnout, kind string, t time.Time) float64 {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.StartsAt.Before(t) && e.Kind == kind && e.Registered > 0 {
			return float64(e.Attended) / float64(e.Registered)
		}
	}
	return showUp(events, "", t)
}

// NaiveBacktest forecasts the back-test's events with last edition's rate.
func NaiveBacktest(events []EventTurnout, backtest []Forecast) []Forecast {
	out := make([]Forecast, len(backtest))
	for i, f := range backtest {
		rate := lastEditionRate(events, f.Event.Kind, f.Event.StartsAt)
		out[i] = Forecast{Event: f.Event, Rate: rate, Expected: rate * float64(f.Event.Registered), Actual: f.Actual}
	}
	return out
}

// TurnoutKindError is the back-test error of one event kind, the forecast's
// and the naive baseline's.
type TurnoutKindError struct {
	Kind     string  `json:"kind"`
	Events   int     `json:"events"`
	MAE      float64 `json:"mae"`
	NaiveMAE float64 `json:"naive_mae"`
	Bias     float64 `json:"bias"`
}

// TurnoutErrors compares the forecast with the naive baseline, per kind
// (sorted) and overall (kind "all").
func TurnoutErrors(fs, naive []Forecast) []TurnoutKindError {
	by := map[string][]int{}
	var kinds []string
	for i, f := range fs {
		if _, ok := by[f.Event.Kind]; !ok {
			kinds = append(kinds, f.Event.Kind)
		}
		by[f.Event.Kind] = append(by[f.Event.Kind], i)
	}
	sort.Strings(kinds)
	pick := func(xs []Forecast, idx []int) []Forecast {
		out := make([]Forecast, len(idx))
		for j, i := range idx {
			out[j] = xs[i]
		}
		return out
	}
	var out []TurnoutKindError
	all := make([]int, len(fs))
	for i := range all {
		all[i] = i
	}
	for _, k := range append(kinds, "all") {
		idx := by[k]
		if k == "all" {
			idx = all
		}
		mae, _, bias := ForecastError(pick(fs, idx))
		nmae, _, _ := ForecastError(pick(naive, idx))
		out = append(out, TurnoutKindError{Kind: k, Events: len(idx), MAE: mae, NaiveMAE: nmae, Bias: bias})
	}
	return out
}

// ForecastError summarises a back-test: mean absolute error in people, mean
// absolute percentage error over events with attendance, and the bias.
func ForecastError(fs []Forecast) (mae, mape, bias float64) {
	var nPct int
	for _, f := range fs {
		d := f.Expected - float64(f.Actual)
		mae += math.Abs(d)
		bias += d
		if f.Actual > 0 {
			mape += math.Abs(d) / float64(f.Actual)
			nPct++
		}
	}
	if len(fs) > 0 {
		mae /= float64(len(fs))
		bias /= float64(len(fs))
	}
	if nPct > 0 {
		mape /= float64(nPct)
	}
	return mae, mape, bias
}

func (j turnoutJob) Run(ctx context.Context, env *Env, asOf time.Time) (Summary, error) {
	start := time.Now()
	sum := Summary{Job: j.Name(), AsOf: asOf}
	events, err := TurnoutEvents(ctx, env)
	if err != nil {
		return sum, err
	}
	upcoming, backtest := ForecastTurnout(events, asOf)
	computed := env.now()
	b, err := env.Warehouse.PrepareBatch(ctx, `INSERT INTO event_forecasts (as_of, event_id, kind, starts_at, registered, show_up_rate, forecast, actual, computed_at)`)
	if err != nil {
		return sum, fmt.Errorf("write forecasts: %w", err)
	}
	for _, f := range append(upcoming, backtest...) {
		if err := b.Append(asOf, f.Event.ID, f.Event.Kind, f.Event.StartsAt, int64(f.Event.Registered), f.Rate, f.Expected, f.Actual, computed); err != nil {
			b.Abort()
			return sum, fmt.Errorf("write forecast of event %d: %w", f.Event.ID, err)
		}
		sum.Rows++
	}
	if err := b.Send(); err != nil {
		return sum, fmt.Errorf("write forecasts: %w", err)
	}
	mae, mape, bias := ForecastError(backtest)
	byKind := TurnoutErrors(backtest, NaiveBacktest(events, backtest))
	if len(backtest) > 0 {
		if err := writeCard(ctx, env, "turnout", "turnout-kind-rate", asOf, asOf.AddDate(-1, 0, 0), asOf, models.Evaluation{N: len(backtest)},
			map[string]any{"backtest": "events of the 12 months before as_of, each forecast with the rates known before it", "baseline": "last edition's show-up rate (same kind)", "mape": mape, "by_kind": byKind}); err != nil {
			return sum, err
		}
	}
	sum.Took = time.Since(start)
	sum.Lines = append(sum.Lines,
		fmt.Sprintf("turnout: %d upcoming events forecast; back-test on %d events of the 12 months before %s: MAE %.1f people, MAPE %.1f%%, bias %+.1f",
			len(upcoming), len(backtest), day(asOf), mae, 100*mape, bias))
	for _, k := range byKind {
		sum.Lines = append(sum.Lines, fmt.Sprintf("  back-test %s (%d events): MAE %.1f, naive (last edition's rate) %.1f", k.Kind, k.Events, k.MAE, k.NaiveMAE))
	}
	for _, f := range upcoming {
		sum.Lines = append(sum.Lines, fmt.Sprintf("  event %d (%s, %s): %d registered × %.2f → %.0f expected",
			f.Event.ID, f.Event.Kind, f.Event.StartsAt.Format("2006-01-02"), f.Event.Registered, f.Rate, f.Expected))
	}
	return sum, nil
}
