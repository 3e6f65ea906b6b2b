package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/calore-crm/calore/models"
)

// The donation-potential job (R5.2). For an as-of date T it builds, from the
// warehouse, the giving features of every alumnus as of a date, and:
//
//  1. trains on features as of T-24 months with the label "gave in the 12
//     months after", and evaluates on features as of T-12 months against
//     what happened in the 12 months up to T (a temporal hold-out);
//  2. refits on the T-12 months window and scores everyone as of T;
//  3. writes the evaluation (ROC AUC, PR AUC, lift, Brier, calibration, and —
//     on synthetic data — the Bayes AUC the generator's true propensities
//     reach) and per alumnus the probability, tier, expected amount,
//     suggested ask and top three reasons.
type donationJob struct{}

func (donationJob) Name() string { return "donation" }

// DonorFeatureNames are the donation model's features, in column order.
var DonorFeatureNames = []string{"gave_last_year", "prior_gift_years", "events_attended", "open_rate", "clicks", "seniority_decades", "top_economic", "top_prestige", "mentor"}

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

// DonorExamples reads the features of every eligible alumnus as of asOf.
func DonorExamples(ctx context.Context, env *Env, asOf time.Time) ([]donorExample, error) {
	at := clickhouse.Named("as_of", dateTime(asOf))
	type alum struct {
		grad int64
		top  string
	}
	alumni := map[int64]alum{}
	var ids []int64
	if err := scan(ctx, env, "donor_alumni.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var a alum
		if err := r.Scan(&id, &a.grad, &a.top); err != nil {
			return err
		}
		alumni[id] = a
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, err
	}
	type gifts struct {
		gaveLast, gaveNext uint8
		prior              uint64
		last, total        float64
		n                  uint64
	}
	gs := map[int64]gifts{}
	if err := scan(ctx, env, "donor_gifts.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var g gifts
		if err := r.Scan(&id, &g.gaveLast, &g.prior, &g.gaveNext, &g.last, &g.n, &g.total); err != nil {
			return err
		}
		gs[id] = g
		return nil
	}); err != nil {
		return nil, err
	}
	attended := map[int64]uint64{}
	if err := scan(ctx, env, "donor_attendance.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var n uint64
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		attended[id] = n
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

	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	out := make([]donorExample, 0, len(ids))
	year := asOf.UTC().Year()
	for _, id := range ids {
		a, g, m := alumni[id], gs[id], ms[id]
		openRate := 0.0
		if m.sends > 0 {
			openRate = math.Min(1, float64(m.opens)/float64(m.sends))
		}
		x := []float64{
			float64(g.gaveLast),
			float64(g.prior),
			math.Min(float64(attended[id]), 5),
			openRate,
			math.Min(float64(m.clicks), 5),
			math.Min(float64(int64(year)-a.grad), 40) / 10,
			b2f(a.top == "economic"),
			b2f(a.top == "prestige"),
			b2f(mentors[id]),
		}
		out = append(out, donorExample{PersonID: id, X: x, GaveNext: g.gaveNext == 1, LastAmount: g.last, Gifts: g.n, Total: g.total, Top: a.top})
	}
	return out, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

type rowScanner interface{ Scan(dest ...any) error }

// scan runs an embedded query and hands each row to fn.
func scan(ctx context.Context, env *Env, name string, args []any, fn func(rowScanner) error) error {
	return scanSQL(ctx, env, name, query(name), args, fn)
}

// scanSQL is scan of a query's text; name says which query in errors.
func scanSQL(ctx context.Context, env *Env, name, sql string, args []any, fn func(rowScanner) error) error {
	rows, err := env.Warehouse.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

func split(ex []donorExample) ([][]float64, []bool) {
	X := make([][]float64, len(ex))
	y := make([]bool, len(ex))
	for i, e := range ex {
		X[i], y[i] = e.X, e.GaveNext
	}
	return X, y
}

// DonorEvaluation is the hold-out evaluation of one model version.
type DonorEvaluation struct {
	Version    string
	TrainedOn  time.Time // features as of; labels the 12 months after
	EvaluedOn  time.Time
	Eval       models.Evaluation
	BayesAUC   float64 // NaN when the warehouse has no synthetic truth
	BayesN     int
	Model      *models.Logistic
	Candidates map[string]float64 // ROC AUC of each L2 penalty tried
}

// EvaluateDonorModel trains on features as of asOf-24 months and evaluates
// on asOf-12 months; it picks the ridge penalty by the hold-out AUC.
func EvaluateDonorModel(ctx context.Context, env *Env, asOf time.Time) (DonorEvaluation, []donorExample, error) {
	ev := DonorEvaluation{TrainedOn: asOf.AddDate(-2, 0, 0), EvaluedOn: asOf.AddDate(-1, 0, 0), BayesAUC: math.NaN(), Candidates: map[string]float64{}}
	train, err := DonorExamples(ctx, env, ev.TrainedOn)
	if err != nil {
		return ev, nil, err
	}
	env.progress("donation: features", 1, 3)
	test, err := DonorExamples(ctx, env, ev.EvaluedOn)
	if err != nil {
		return ev, nil, err
	}
	env.progress("donation: features", 2, 3)
	Xtr, ytr := split(train)
	Xte, yte := split(test)
	best := -1.0
	for _, l2 := range []float64{0.01, 1, 100} {
		m, err := models.FitLogistic(Xtr, ytr, DonorFeatureNames, models.LogisticOptions{L2: l2})
		if err != nil {
			return ev, nil, fmt.Errorf("fit donation model (L2 %g): %w", l2, err)
		}
		p := make([]float64, len(Xte))
		for i, x := range Xte {
			p[i] = m.Predict(x)
		}
		e, err := models.Evaluate(p, yte)
		if err != nil {
			return ev, nil, fmt.Errorf("evaluate donation model: %w", err)
		}
		ev.Candidates[fmt.Sprintf("logistic-l2=%g", l2)] = e.ROCAUC
		if e.ROCAUC > best {
			best, ev.Eval, ev.Model = e.ROCAUC, e, m
			ev.Version = fmt.Sprintf("donation-logistic-l2=%g", l2)
		}
	}
	if auc, n, ok, err := bayesAUC(ctx, env, ev.EvaluedOn.Year()); err != nil {
		return ev, nil, err
	} else if ok {
		ev.BayesAUC, ev.BayesN = auc, n
	}
	return ev, test, nil
}

func bayesAUC(ctx context.Context, env *Env, year int) (float64, int, bool, error) {
	var n uint64
	if err := env.Warehouse.QueryRow(ctx, query("truth_available.sql")).Scan(&n); err != nil {
		return 0, 0, false, fmt.Errorf("look for synthetic truth: %w", err)
	}
	if n == 0 {
		return 0, 0, false, nil
	}
	var p []float64
	var y []bool
	if err := scan(ctx, env, "truth.sql", []any{clickhouse.Named("year", year)}, func(r rowScanner) error {
		var id int64
		var prop float64
		var gave uint8
		if err := r.Scan(&id, &prop, &gave); err != nil {
			return err
		}
		p, y = append(p, prop), append(y, gave == 1)
		return nil
	}); err != nil {
		return 0, 0, false, err
	}
	if len(p) == 0 {
		return 0, 0, false, nil
	}
	e, err := models.Evaluate(p, y)
	if err != nil {
		return 0, 0, false, nil // e.g. no donor that year: no bound to report
	}
	return e.ROCAUC, len(p), true, nil
}

// Tier thresholds on the probability of a gift in the next 12 months.
var tierFloors = []struct {
	tier  string
	level int32
	floor float64
}{{"A", 1, 0.30}, {"B", 2, 0.10}, {"C", 3, 0.03}, {"D", 4, 0}}

func tierOf(p float64) (string, int32) {
	for _, t := range tierFloors {
		if p >= t.floor {
			return t.tier, t.level
		}
	}
	return "D", 4
}

// reasonText turns a feature's contribution into words a fundraiser reads.
func reasonText(c models.Contribution) string {
	switch c.Feature {
	case "gave_last_year":
		return "gave in the last 12 months"
	case "prior_gift_years":
		return fmt.Sprintf("gave in %.0f of the 4 years before", c.Value)
	case "events_attended":
		return fmt.Sprintf("attended %.0f events in the last 12 months", c.Value)
	case "open_rate":
		return fmt.Sprintf("opened %.0f%% of our emails in the last 12 months", 100*c.Value)
	case "clicks":
		return fmt.Sprintf("clicked %.0f emails in the last 12 months", c.Value)
	case "seniority_decades":
		return fmt.Sprintf("graduated %.0f years ago", 10*c.Value)
	case "top_economic":
		return "top alumnus: high economic profile"
	case "top_prestige":
		return "top alumnus: prestige"
	case "mentor":
		return "mentors students"
	}
	return c.Feature
}

type donorReason struct {
	Text    string  `json:"text"`
	Feature string  `json:"feature"`
	LogOdds float64 `json:"log_odds"`
}

// askFor suggests an amount to ask: a quarter more than the last gift,
// rounded up to a round figure, or the typical gift of the person's
// segment for someone who never gave.
func askFor(e donorExample, typical map[string]float64) (expected, ask float64) {
	base := typical[e.Top]
	if base == 0 {
		base = typical[""]
	}
	if e.Gifts > 0 {
		base = e.Total / float64(e.Gifts)
	}
	ask = roundUp(math.Max(base, 1.25*e.LastAmount))
	return base, ask
}

// roundUp rounds up to 1, 2 or 5 times a power of ten.
func roundUp(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// typicalGifts is the median gift per top-alumni segment ("" = everyone).
func typicalGifts(ex []donorExample) map[string]float64 {
	by := map[string][]float64{}
	for _, e := range ex {
		if e.Gifts == 0 {
			continue
		}
		avg := e.Total / float64(e.Gifts)
		by[e.Top] = append(by[e.Top], avg)
		by[""] = append(by[""], avg)
	}
	out := map[string]float64{}
	for k, v := range by {
		sort.Float64s(v)
		out[k] = v[len(v)/2]
	}
	return out
}

func (j donationJob) Run(ctx context.Context, env *Env, asOf time.Time) (Summary, error) {
	start := time.Now()
	sum := Summary{Job: j.Name(), AsOf: asOf}
	ev, recent, err := EvaluateDonorModel(ctx, env, asOf)
	if err != nil {
		return sum, err
	}
	// refit on the most recent complete window, then score as of asOf
	X, y := split(recent)
	final, err := models.FitLogistic(X, y, DonorFeatureNames, models.LogisticOptions{L2: ev.Model.L2})
	if err != nil {
		return sum, fmt.Errorf("refit donation model: %w", err)
	}
	now, err := DonorExamples(ctx, env, asOf)
	if err != nil {
		return sum, err
	}
	env.progress("donation: features", 3, 3)
	if err := writeEvaluation(ctx, env, asOf, ev, final); err != nil {
		return sum, err
	}
	typical := typicalGifts(now)
	w := newScoreWriter(env, "donation", ev.Version, asOf)
	tiers := map[string]int{}
	var expectedTotal float64
	for i, e := range now {
		p := final.Predict(e.X)
		tier, level := tierOf(p)
		tiers[tier]++
		base, ask := askFor(e, typical)
		var reasons []donorReason
		for _, c := range final.Contributions(e.X) {
			if len(reasons) == 3 || c.LogOdds <= 0 {
				break
			}
			reasons = append(reasons, donorReason{Text: reasonText(c), Feature: c.Feature, LogOdds: math.Round(c.LogOdds*1000) / 1000})
		}
		rj, err := json.Marshal(reasons)
		if err != nil {
			return sum, err
		}
		expected := p * base
		expectedTotal += expected
		if err := w.add(ctx, scoreRow{PersonID: e.PersonID, Score: p, Level: level, Label: tier, ExpectedAmount: math.Round(expected*100) / 100, SuggestedAsk: ask, Reasons: string(rj)}); err != nil {
			return sum, err
		}
		if i%50_000 == 0 {
			env.progress("donation: scores", i, len(now))
		}
	}
	if err := w.close(ctx); err != nil {
		return sum, err
	}
	env.progress("donation: scores", len(now), len(now))
	if err := w.storeDonor(ctx); err != nil {
		return sum, err
	}
	sum.Rows, sum.Took = w.n, time.Since(start)
	sum.Lines = append(sum.Lines, ev.Lines()...)
	sum.Lines = append(sum.Lines, fmt.Sprintf("donation scores as of %s: %d alumni; tier A %d, B %d, C %d, D %d; expected gifts next 12 months %.0f EUR",
		day(asOf), len(now), tiers["A"], tiers["B"], tiers["C"], tiers["D"], expectedTotal))
	return sum, nil
}

// Lines is the evaluation as a person reads it.
func (ev DonorEvaluation) Lines() []string {
	var cands []string
	for k, v := range ev.Candidates {
		cands = append(cands, fmt.Sprintf("%s %.4f", k, v))
	}
	sort.Strings(cands)
	l := []string{
		fmt.Sprintf("donation model %s: trained on features as of %s, evaluated on %s (%d alumni, %d gave)",
			ev.Version, day(ev.TrainedOn), day(ev.EvaluedOn), ev.Eval.N, ev.Eval.Positives),
		fmt.Sprintf("  ROC AUC %.4f, PR AUC %.4f, lift in top decile %.2f, Brier %.5f", ev.Eval.ROCAUC, ev.Eval.PRAUC, ev.Eval.LiftTop10, ev.Eval.Brier),
		"  candidates (hold-out ROC AUC): " + strings.Join(cands, ", "),
	}
	if !math.IsNaN(ev.BayesAUC) {
		l = append(l, fmt.Sprintf("  Bayes ROC AUC of the generator's true propensities for %d: %.4f (model %.4f, gap %.4f)",
			ev.EvaluedOn.Year(), ev.BayesAUC, ev.Eval.ROCAUC, ev.BayesAUC-ev.Eval.ROCAUC))
	}
	return l
}

func writeEvaluation(ctx context.Context, env *Env, asOf time.Time, ev DonorEvaluation, final *models.Logistic) error {
	cal, err := json.Marshal(ev.Eval.Calibrated)
	if err != nil {
		return err
	}
	coef := map[string]float64{"intercept": final.Intercept}
	for i, f := range final.Features {
		coef[f] = final.Coef[i]
	}
	details, err := json.Marshal(map[string]any{"coefficients": coef, "candidates": ev.Candidates, "bayes_examples": ev.BayesN})
	if err != nil {
		return err
	}
	bayes := ev.BayesAUC
	if math.IsNaN(bayes) {
		bayes = 0
	}
	b, err := env.Warehouse.PrepareBatch(ctx, `INSERT INTO model_evaluations (model, model_version, as_of, trained_on, evaluated_on, examples, positives, roc_auc, pr_auc, lift_top10, brier, bayes_auc, calibration, details, computed_at)`)
	if err != nil {
		return fmt.Errorf("write evaluation: %w", err)
	}
	if err := b.Append("donation", ev.Version, asOf, ev.TrainedOn, ev.EvaluedOn, int64(ev.Eval.N), int64(ev.Eval.Positives),
		ev.Eval.ROCAUC, ev.Eval.PRAUC, ev.Eval.LiftTop10, ev.Eval.Brier, bayes, string(cal), string(details), env.now()); err != nil {
		b.Abort()
		return fmt.Errorf("write evaluation: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("write evaluation: %w", err)
	}
	return nil
}
