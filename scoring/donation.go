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
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/models"
	"github.com/calore-crm/calore/warehouse"
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

type rowScanner interface{ Scan(dest ...any) error }

// scan runs an embedded query and hands each row to fn.
func scan(ctx context.Context, env *Env, name string, args []any, fn func(rowScanner) error) error {
	return scanSQL(ctx, env, name, query(name), args, fn)
}

// scanSQL is scan of a query's text; name says which query in errors.
func scanSQL(ctx context.Context, env *Env, name, sql string, args []any, fn func(rowScanner) error) error {
	return warehouse.Scan(ctx, env.Warehouse, name, sql, args, func(r driver.Rows) error { return fn(r) })
}

func split(ex []donorExample) ([][]float64, []bool) {
	X := make([][]float64, len(ex))
	y := make([]bool, len(ex))
	for i, e := range ex {
		X[i], y[i] = e.X, e.GaveNext
	}
	return X, y
}

// DonorModel is a fitted donation model: a probability per feature vector
// and the features that pushed it up (largest first).
type DonorModel interface {
	Predict(x []float64) float64
	Contributions(x []float64) []models.Contribution
}

// DonorWindows are the as-of dates of the rolling-origin protocol: features
// as of each date, labels the 12 months after it.
type DonorWindows struct {
	Earlier    time.Time // T-48 months: a second training origin, used when it has both outcomes
	Train      time.Time // T-36 months: candidates are fitted here (with Earlier)
	Validation time.Time // T-24 months: family and penalty are chosen here
	Test       time.Time // T-12 months: untouched until the champion is fixed
}

func donorWindows(asOf time.Time) DonorWindows {
	return DonorWindows{Earlier: asOf.AddDate(-4, 0, 0), Train: asOf.AddDate(-3, 0, 0), Validation: asOf.AddDate(-2, 0, 0), Test: asOf.AddDate(-1, 0, 0)}
}

// Baseline is a single-signal ranking evaluated on the test window beside
// the model: ROC AUC, PR AUC and top-decile lift (ties broken evenly).
type Baseline struct {
	Name   string  `json:"name"`
	ROCAUC float64 `json:"roc_auc"`
	PRAUC  float64 `json:"pr_auc"`
	Lift   float64 `json:"lift_top10"`
}

// DonorEvaluation is the model card of one run: the windows, the
// candidates' validation scores, and the champion — refitted on the train
// and validation windows — evaluated once on the test window. Model is that
// very model: it is the one that scores everyone as of T.
type DonorEvaluation struct {
	Version    string
	Family     string
	Windows    DonorWindows
	Eval       models.Evaluation  // test window
	Validation map[string]float64 // ROC AUC on the validation window of each candidate
	Baselines  []Baseline         // test window
	BayesAUC   float64            // NaN when the warehouse has no synthetic truth; same people as Eval
	BayesN     int
	Model      DonorModel
	Weights    map[string]float64 // coefficients (logistic) or importances (forest)
	Origins    []time.Time        // the training origins used (Earlier when it had both outcomes, Train)
	WeightKind string             // "coefficients" or "importances"
	TrainN     int
}

// donorCandidate is one model family and setting tried on validation.
type donorCandidate struct {
	name, family string
	fit          func(X [][]float64, y []bool) (DonorModel, map[string]float64, error)
}

func donorCandidates() []donorCandidate {
	var out []donorCandidate
	for _, l2 := range []float64{0.1, 1, 10, 100, 300, 1000} {
		out = append(out, donorCandidate{name: fmt.Sprintf("logistic-l2=%g", l2), family: "logistic", fit: func(X [][]float64, y []bool) (DonorModel, map[string]float64, error) {
			m, err := models.FitLogistic(X, y, DonorFeatureNames, models.LogisticOptions{L2: l2})
			if err != nil {
				return nil, nil, fmt.Errorf("fit logistic (L2 %g): %w", l2, err)
			}
			w := map[string]float64{"intercept": m.Intercept}
			for i, f := range m.Features {
				w[f] = m.Coef[i]
			}
			return m, w, nil
		}})
	}
	for _, depth := range []int{4, 6} {
		out = append(out, donorCandidate{name: fmt.Sprintf("forest-depth=%d", depth), family: "forest", fit: func(X [][]float64, y []bool) (DonorModel, map[string]float64, error) {
			m, err := models.FitForest(X, y, DonorFeatureNames, models.ForestOptions{Trees: 100, MaxDepth: depth, MinLeaf: 10, Seed: 1})
			if err != nil {
				return nil, nil, fmt.Errorf("fit forest (depth %d): %w", depth, err)
			}
			w := map[string]float64{}
			for i, f := range m.Features {
				w[f] = m.Importances[i]
			}
			return m, w, nil
		}})
	}
	return out
}

func hasBoth(y []bool) bool {
	var pos int
	for _, v := range y {
		if v {
			pos++
		}
	}
	return pos > 0 && pos < len(y)
}

func predictAll(m DonorModel, X [][]float64) []float64 {
	p := make([]float64, len(X))
	for i, x := range X {
		p[i] = m.Predict(x)
	}
	return p
}

// EvaluateDonorModel runs the rolling-origin protocol for as-of asOf: fit
// every candidate on the train window, choose the one with the best ROC AUC
// on the validation window, refit it on train + validation and evaluate it,
// once, on the test window, next to the baselines and (on synthetic data)
// the Bayes AUC of the same people.
func EvaluateDonorModel(ctx context.Context, env *Env, asOf time.Time) (DonorEvaluation, error) {
	w := donorWindows(asOf)
	ev := DonorEvaluation{Windows: w, BayesAUC: math.NaN(), Validation: map[string]float64{}}
	train, err := DonorExamples(ctx, env, w.Train)
	if err != nil {
		return ev, err
	}
	// an expanding window: the origin a year earlier joins the training
	// set when it has givers and non-givers (a young warehouse may not)
	earlier, err := DonorExamples(ctx, env, w.Earlier)
	if err != nil {
		return ev, err
	}
	if _, ye := split(earlier); hasBoth(ye) {
		train = append(earlier, train...)
		ev.Origins = append(ev.Origins, w.Earlier)
	}
	ev.Origins = append(ev.Origins, w.Train)
	env.progress("donation: features", 1, 4)
	val, err := DonorExamples(ctx, env, w.Validation)
	if err != nil {
		return ev, err
	}
	env.progress("donation: features", 2, 4)
	test, err := DonorExamples(ctx, env, w.Test)
	if err != nil {
		return ev, err
	}
	env.progress("donation: features", 3, 4)
	Xtr, ytr := split(train)
	Xva, yva := split(val)
	Xte, yte := split(test)
	best, bestAUC := -1, -1.0
	cands := donorCandidates()
	for i, c := range cands {
		env.progress("donation: candidates", i, len(cands)+1) // the fits take most of the job's time
		m, _, err := c.fit(Xtr, ytr)
		if err != nil {
			return ev, fmt.Errorf("donation model, train window %s: %w", day(w.Train), err)
		}
		e, err := models.Evaluate(predictAll(m, Xva), yva)
		if err != nil {
			return ev, fmt.Errorf("donation model, validation window %s: %w", day(w.Validation), err)
		}
		ev.Validation[c.name] = e.ROCAUC
		if e.ROCAUC > bestAUC {
			best, bestAUC = i, e.ROCAUC
		}
	}
	champ := cands[best]
	ev.Version, ev.Family = "donation-"+champ.name, champ.family
	Xall, yall := append(append([][]float64{}, Xtr...), Xva...), append(append([]bool{}, ytr...), yva...)
	ev.TrainN = len(Xall)
	env.progress("donation: candidates", len(cands), len(cands)+1)
	ev.Model, ev.Weights, err = champ.fit(Xall, yall)
	if err != nil {
		return ev, fmt.Errorf("refit donation champion %s: %w", champ.name, err)
	}
	ev.WeightKind = "coefficients"
	if champ.family != "logistic" {
		ev.WeightKind = "importances"
	}
	env.progress("donation: candidates", len(cands)+1, len(cands)+1)
	if ev.Eval, err = models.Evaluate(predictAll(ev.Model, Xte), yte); err != nil {
		return ev, fmt.Errorf("donation model, test window %s: %w", day(w.Test), err)
	}
	if ev.Baselines, err = donorBaselines(ctx, env, w.Test, test); err != nil {
		return ev, err
	}
	ids := make(map[int64]bool, len(test))
	for _, e := range test {
		ids[e.PersonID] = true
	}
	if auc, n, ok, err := bayesAUC(ctx, env, w.Test.Year(), ids); err != nil {
		return ev, err
	} else if ok {
		ev.BayesAUC, ev.BayesN = auc, n
	}
	return ev, nil
}

// donorBaselines ranks the test window's alumni by one signal each: heat
// level as of the test date, "gave in the last 12 months", and the count of
// past gift years.
func donorBaselines(ctx context.Context, env *Env, at time.Time, test []donorExample) ([]Baseline, error) {
	heat, err := HeatScores(ctx, env, at)
	if err != nil {
		return nil, fmt.Errorf("heat baseline: %w", err)
	}
	y := make([]bool, len(test))
	h, gave, years := make([]float64, len(test)), make([]float64, len(test)), make([]float64, len(test))
	gl, gy := feature("gave_last_year"), feature("gift_years")
	for i, e := range test {
		y[i] = e.GaveNext
		lvl := 1
		if s, ok := heat[e.PersonID]; ok {
			lvl = s.Level
		}
		h[i] = float64(lvl) / 4
		gave[i] = e.X[gl]
		years[i] = e.X[gy] / 5
	}
	var out []Baseline
	for _, b := range []struct {
		name string
		p    []float64
	}{{"heat level", h}, {"gave in the last 12 months", gave}, {"count of past gift years", years}} {
		e, err := models.Evaluate(b.p, y)
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", b.name, err)
		}
		out = append(out, Baseline{Name: b.name, ROCAUC: e.ROCAUC, PRAUC: e.PRAUC, Lift: e.LiftTop10})
	}
	return out, nil
}

// bayesAUC is the ROC AUC of the generator's true propensities for year,
// on the people in ids (the test window's alumni).
func bayesAUC(ctx context.Context, env *Env, year int, ids map[int64]bool) (float64, int, bool, error) {
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
		if ids[id] {
			p, y = append(p, prop), append(y, gave == 1)
		}
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
	case "gift_years":
		return fmt.Sprintf("gave in %.0f of the last 5 years", c.Value)
	case "consecutive_years":
		return fmt.Sprintf("gave %.0f years in a row", c.Value)
	case "years_since_gift":
		if c.Value >= 6 {
			return "never gave"
		}
		if c.Value < 1 {
			return fmt.Sprintf("last gift %.0f months ago", math.Max(1, math.Round(12*c.Value)))
		}
		return fmt.Sprintf("last gift %.1f years ago", c.Value)
	case "log_largest_gift":
		return fmt.Sprintf("largest gift about %.0f EUR", math.Pow(10, c.Value)-1)
	case "log_total_given":
		return fmt.Sprintf("gave about %.0f EUR in 5 years", math.Pow(10, c.Value)-1)
	case "recurring":
		return "gives by a recurring gift"
	case "events_12m":
		return fmt.Sprintf("attended %.0f events in the last 12 months", c.Value)
	case "events_24m":
		return fmt.Sprintf("attended %.0f events in the last 24 months", c.Value)
	case "opens_12m":
		return fmt.Sprintf("opened %.0f of our emails in the last 12 months", c.Value)
	case "clicks_12m":
		return fmt.Sprintf("clicked %.0f emails in the last 12 months", c.Value)
	case "open_rate":
		return fmt.Sprintf("opened %.0f%% of our emails in the last 12 months", 100*c.Value)
	case "giving_page_visits":
		return fmt.Sprintf("visited our giving pages %.0f times in the last 12 months", c.Value)
	case "web_visits":
		return fmt.Sprintf("visited our website %.0f times in the last 12 months", c.Value)
	case "age_known", "age_decades", "age_peak":
		return "age"
	case "seniority_decades":
		return fmt.Sprintf("graduated %.0f years ago", 10*c.Value)
	case "career_level":
		return []string{"no current role on record", "a current job on record", "manager or lead", "director or head", "chief executive or founder"}[min(4, max(0, int(c.Value)))]
	case "top_economic":
		return "top alumnus: high economic profile"
	case "top_prestige":
		return "top alumnus: prestige"
	case "top_visibility":
		return "top alumnus: visibility"
	case "mentor":
		return "mentors students"
	case "staff_interactions":
		return fmt.Sprintf("%.0f contacts with our staff in the last 12 months", c.Value)
	case "engagement_modes":
		return fmt.Sprintf("engaged in %.0f ways in the last 12 months", c.Value)
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
	ev, err := EvaluateDonorModel(ctx, env, asOf)
	if err != nil {
		return sum, err
	}
	// the model that scores is the one the test window evaluated: the
	// champion fitted on the train and validation windows, not a refit
	final := ev.Model
	now, err := DonorExamples(ctx, env, asOf)
	if err != nil {
		return sum, err
	}
	env.progress("donation: features", 4, 4)
	if err := writeEvaluation(ctx, env, asOf, ev); err != nil {
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
	for k, v := range ev.Validation {
		cands = append(cands, fmt.Sprintf("%s %.4f", k, v))
	}
	sort.Strings(cands)
	w := ev.Windows
	var origins []string
	for _, o := range ev.Origins {
		origins = append(origins, day(o))
	}
	l := []string{
		fmt.Sprintf("donation model %s (champion on validation): fitted on features as of %s and %s, tested on %s (%d alumni, %d gave)",
			ev.Version, strings.Join(origins, ", "), day(w.Validation), day(w.Test), ev.Eval.N, ev.Eval.Positives),
		fmt.Sprintf("  test window: ROC AUC %.4f, PR AUC %.4f, lift in top decile %.2f, Brier %.5f", ev.Eval.ROCAUC, ev.Eval.PRAUC, ev.Eval.LiftTop10, ev.Eval.Brier),
		"  candidates (validation ROC AUC, fitted on " + strings.Join(origins, ", ") + "): " + strings.Join(cands, ", "),
	}
	for _, b := range ev.Baselines {
		l = append(l, fmt.Sprintf("  baseline %s: ROC AUC %.4f, PR AUC %.4f, lift %.2f", b.Name, b.ROCAUC, b.PRAUC, b.Lift))
	}
	if !math.IsNaN(ev.BayesAUC) {
		l = append(l, fmt.Sprintf("  Bayes ROC AUC of the generator's true propensities, same %d alumni, %d: %.4f (model %.4f, gap %.4f)",
			ev.BayesN, w.Test.Year(), ev.BayesAUC, ev.Eval.ROCAUC, ev.BayesAUC-ev.Eval.ROCAUC))
	}
	return l
}

// donorCard is the details column of the evaluation row: everything needed
// to know what was measured and which model scores.
type donorCard struct {
	Protocol     string             `json:"protocol"`
	Family       string             `json:"family"`
	Champion     string             `json:"champion"`
	Windows      map[string]string  `json:"windows"`
	Features     []string           `json:"features"`
	Coefficients map[string]float64 `json:"coefficients,omitempty"`
	Importances  map[string]float64 `json:"importances,omitempty"`
	Validation   map[string]float64 `json:"validation"`
	Baselines    []Baseline         `json:"baselines"`
	TrainN       int                `json:"train_examples"`
	BayesN       int                `json:"bayes_examples"`
}

func writeEvaluation(ctx context.Context, env *Env, asOf time.Time, ev DonorEvaluation) error {
	cal, err := json.Marshal(ev.Eval.Calibrated)
	if err != nil {
		return err
	}
	w := ev.Windows
	card := donorCard{
		Protocol: "rolling origin: candidates fitted on train, chosen on validation, champion refitted on train+validation and tested once on test; it scores as of as_of",
		Family:   ev.Family, Champion: ev.Version,
		Windows:  map[string]string{"train": day(ev.Origins[0]), "train_last": day(w.Train), "validation": day(w.Validation), "test": day(w.Test), "label": "a gift in the 12 months after each date"},
		Features: DonorFeatureNames, Validation: ev.Validation, Baselines: ev.Baselines, TrainN: ev.TrainN, BayesN: ev.BayesN,
	}
	if ev.WeightKind == "coefficients" {
		card.Coefficients = ev.Weights
	} else {
		card.Importances = ev.Weights
	}
	details, err := json.Marshal(card)
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
	if err := b.Append("donation", ev.Version, asOf, ev.Origins[0], w.Test, int64(ev.Eval.N), int64(ev.Eval.Positives),
		ev.Eval.ROCAUC, ev.Eval.PRAUC, ev.Eval.LiftTop10, ev.Eval.Brier, bayes, string(cal), string(details), env.now()); err != nil {
		b.Abort()
		return fmt.Errorf("write evaluation: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("write evaluation: %w", err)
	}
	return nil
}
