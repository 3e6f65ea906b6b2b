package scoring

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/calore-crm/calore/models"
)

type heatJob struct{}

func (heatJob) Name() string { return "heat" }

// heatLabels name the levels for people reading a dashboard.
var heatLabels = map[int]string{1: "cold", 2: "cool", 3: "warm", 4: "hot"}

type person struct {
	ID             int64
	Kind           string
	GraduationYear int64
	TopCategory    string
	Relevance      int64
}

func currentPeople(ctx context.Context, env *Env) ([]person, error) {
	rows, err := env.Warehouse.Query(ctx, query("people_current.sql"))
	if err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	defer rows.Close()
	var out []person
	for rows.Next() {
		var p person
		if err := rows.Scan(&p.ID, &p.Kind, &p.GraduationYear, &p.TopCategory, &p.Relevance); err != nil {
			return nil, fmt.Errorf("read people: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// heatReasons is what a heat row explains: each signal's share, and the
// person's relevance (R1.4), a separate axis kept next to heat.
type heatReasons struct {
	Contributions []models.HeatContribution `json:"contributions"`
	Relevance     int64                     `json:"relevance,omitempty"`
}

// HeatScores computes heat as of asOf for every person with signals; people
// without any have score 0 and level 1.
func HeatScores(ctx context.Context, env *Env, asOf time.Time) (map[int64]models.Heat, error) {
	kinds := make([]string, 0, len(env.Heat.Signals))
	hls := make([]float64, 0, len(env.Heat.Signals))
	for k, s := range env.Heat.Signals {
		hl := s.HalfLifeDays
		if hl == 0 {
			hl = env.Heat.HalfLifeDays
		}
		kinds, hls = append(kinds, k), append(hls, hl)
	}
	rows, err := env.Warehouse.Query(ctx, query("heat_signals.sql"),
		clickhouse.Named("as_of", dateTime(asOf)), clickhouse.Named("kinds", kinds),
		clickhouse.Named("half_lives", hls), clickhouse.Named("default_half_life", env.Heat.HalfLifeDays))
	if err != nil {
		return nil, fmt.Errorf("read heat signals: %w", err)
	}
	defer rows.Close()
	contrib := map[int64][]models.HeatContribution{}
	for rows.Next() {
		var (
			id      int64
			signal  string
			n       uint64
			decayed float64
		)
		if err := rows.Scan(&id, &signal, &n, &decayed); err != nil {
			return nil, fmt.Errorf("read heat signals: %w", err)
		}
		k, ok := env.Heat.Signals[signal]
		if !ok {
			continue // a signal the configuration gives no weight
		}
		contrib[id] = append(contrib[id], models.HeatContribution{Kind: signal, Count: float64(n), Score: k.Weight * decayed})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read heat signals: %w", err)
	}
	out := make(map[int64]models.Heat, len(contrib))
	for id, cs := range contrib {
		out[id] = env.Heat.FromContributions(cs)
	}
	return out, nil
}

func (j heatJob) Run(ctx context.Context, env *Env, asOf time.Time) (Summary, error) {
	start := time.Now()
	sum := Summary{Job: j.Name(), AsOf: asOf}
	people, err := currentPeople(ctx, env)
	if err != nil {
		return sum, err
	}
	env.progress("heat: signals", 0, 1)
	heat, err := HeatScores(ctx, env, asOf)
	if err != nil {
		return sum, err
	}
	env.progress("heat: signals", 1, 1)
	version := heatVersion(env.Heat)
	w := newScoreWriter(env, "heat", version, asOf)
	levels := map[int]int{}
	for i, p := range people {
		h, ok := heat[p.ID]
		if !ok {
			h = models.Heat{Level: 1}
		}
		levels[h.Level]++
		reasons, err := json.Marshal(heatReasons{Contributions: h.Contributions, Relevance: p.Relevance})
		if err != nil {
			return sum, err
		}
		if err := w.add(ctx, scoreRow{PersonID: p.ID, Score: h.Score, Level: int32(h.Level), Label: heatLabels[h.Level], Reasons: string(reasons)}); err != nil {
			return sum, err
		}
		if i%50_000 == 0 {
			env.progress("heat: people", i, len(people))
		}
	}
	if err := w.close(ctx); err != nil {
		return sum, err
	}
	env.progress("heat: people", len(people), len(people))
	if err := w.storeHeat(ctx); err != nil {
		return sum, err
	}
	sum.Rows = w.n
	sum.Lines = append(sum.Lines, fmt.Sprintf("heat %s as of %s: %d people; level 1 %d, 2 %d, 3 %d, 4 %d", version, day(asOf), len(people), levels[1], levels[2], levels[3], levels[4]))
	// does heat earn its levels? heat as of 3 months before against the
	// quarter that followed
	bt, err := BacktestHeat(ctx, env, asOf)
	switch {
	case errors.Is(err, models.ErrNotEnoughData):
		sum.Lines = append(sum.Lines, "  heat back-test: not enough data (nobody or everybody engaged in the last quarter)")
	case err != nil:
		return sum, err
	default:
		if err := writeCard(ctx, env, "heat", version, asOf, bt.At, bt.At, bt.Eval, map[string]any{
			"backtest": "heat as of trained_on ranks who engaged (any heat signal) in the quarter up to as_of", "levels": bt.Levels}); err != nil {
			return sum, err
		}
		sum.Lines = append(sum.Lines, fmt.Sprintf("  heat back-test: heat as of %s ranks who engaged in the next quarter with ROC AUC %.4f, lift in the top decile %.2f (%d people, %d engaged)",
			day(bt.At), bt.Eval.ROCAUC, bt.Eval.LiftTop10, bt.Eval.N, bt.Eval.Positives))
		for _, l := range bt.Levels {
			sum.Lines = append(sum.Lines, fmt.Sprintf("    level %d: %d people, %.1f%% engaged next quarter (lift %.2f)", l.Level, l.People, 100*l.Rate, l.Lift))
		}
	}
	sum.Took = time.Since(start)
	return sum, nil
}

func heatVersion(c models.HeatConfig) string {
	b, _ := json.Marshal(c) // map keys marshal sorted: the same configuration gives the same version
	return fmt.Sprintf("heat-%x", sha256.Sum256(b))[:13]
}
