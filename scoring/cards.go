package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/calore-crm/calore/models"
)

// writeCard writes a model card row to model_evaluations: the evaluation's
// figures and details (JSON) saying what was measured.
func writeCard(ctx context.Context, env *Env, model, version string, asOf, trainedOn, evaluatedOn time.Time, ev models.Evaluation, details any) error {
	cal, err := json.Marshal(ev.Calibrated)
	if err != nil {
		return err
	}
	if ev.Calibrated == nil {
		cal = []byte("[]")
	}
	d, err := json.Marshal(details)
	if err != nil {
		return err
	}
	b, err := env.Warehouse.PrepareBatch(ctx, `INSERT INTO model_evaluations (model, model_version, as_of, trained_on, evaluated_on, examples, positives, roc_auc, pr_auc, lift_top10, brier, bayes_auc, calibration, details, computed_at)`)
	if err != nil {
		return fmt.Errorf("write %s card: %w", model, err)
	}
	if err := b.Append(model, version, asOf, trainedOn, evaluatedOn, int64(ev.N), int64(ev.Positives),
		ev.ROCAUC, ev.PRAUC, ev.LiftTop10, ev.Brier, 0.0, string(cal), string(d), env.now()); err != nil {
		b.Abort()
		return fmt.Errorf("write %s card: %w", model, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("write %s card: %w", model, err)
	}
	return nil
}

// HeatLevelRate is one heat level's share of people engaged in the quarter
// after the back-test date, and its lift over everyone's share.
type HeatLevelRate struct {
	Level   int     `json:"level"`
	People  int     `json:"people"`
	Engaged int     `json:"engaged"`
	Rate    float64 `json:"rate"`
	Lift    float64 `json:"lift"`
}

// HeatBacktest is how well heat as of T-3 months ranked who engaged (any
// signal heat counts: attendance, human opens and clicks, web visits, gifts,
// contacts…) in the quarter up to T.
type HeatBacktest struct {
	At     time.Time
	Eval   models.Evaluation // heat score as the ranking; N = people with any signal before T
	Levels []HeatLevelRate
}

// BacktestHeat ranks by heat as of asOf-3 months and checks against the
// signals of the quarter up to asOf. The people counted are those with any
// signal before asOf (heat cannot speak of anyone else). Engagement in the
// quarter = more signals counted as of asOf than as of the back-test date.
func BacktestHeat(ctx context.Context, env *Env, asOf time.Time) (HeatBacktest, error) {
	bt := HeatBacktest{At: asOf.AddDate(0, -3, 0)}
	then, err := HeatScores(ctx, env, bt.At)
	if err != nil {
		return bt, fmt.Errorf("heat back-test: %w", err)
	}
	now, err := HeatScores(ctx, env, asOf)
	if err != nil {
		return bt, fmt.Errorf("heat back-test: %w", err)
	}
	count := func(h models.Heat) float64 {
		var n float64
		for _, c := range h.Contributions {
			n += c.Count
		}
		return n
	}
	ids := make([]int64, 0, len(now))
	for id := range now {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	var maxScore float64
	for _, h := range then {
		maxScore = max(maxScore, h.Score)
	}
	p, y := make([]float64, len(ids)), make([]bool, len(ids))
	levels := map[int]*HeatLevelRate{}
	var engaged int
	for i, id := range ids {
		h, ok := then[id]
		if !ok {
			h = models.Heat{Level: 1}
		}
		y[i] = count(now[id]) > count(h)
		if maxScore > 0 {
			p[i] = h.Score / maxScore
		}
		l := levels[h.Level]
		if l == nil {
			l = &HeatLevelRate{Level: h.Level}
			levels[h.Level] = l
		}
		l.People++
		if y[i] {
			l.Engaged++
			engaged++
		}
	}
	if bt.Eval, err = models.Evaluate(p, y); err != nil {
		return bt, fmt.Errorf("heat back-test: %w", err)
	}
	base := float64(engaged) / float64(len(ids))
	for lv := 1; lv <= 4; lv++ {
		if l := levels[lv]; l != nil {
			l.Rate = float64(l.Engaged) / float64(l.People)
			l.Lift = l.Rate / base
			bt.Levels = append(bt.Levels, *l)
		}
	}
	return bt, nil
}
