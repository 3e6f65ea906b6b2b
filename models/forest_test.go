package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// xorData: the outcome depends on an interaction (a XOR b) that no
// additive model can represent; c is noise.
func xorData(n int, seed uint64) ([][]float64, []bool) {
	rng := rand.New(rand.NewPCG(seed, 1))
	X := make([][]float64, n)
	y := make([]bool, n)
	for i := range X {
		a, b, c := rng.Float64(), rng.Float64(), rng.Float64()
		X[i] = []float64{a, b, c}
		p := 0.05
		if (a > 0.5) != (b > 0.5) {
			p = 0.4
		}
		y[i] = rng.Float64() < p
	}
	return X, y
}

// TestForestFindsInteraction: on an interaction the logistic regression
// cannot see (AUC about 0.5), the golearn forest ranks well, its
// probabilities are calibrated on average, and the noise feature is the
// least important.
func TestForestFindsInteraction(t *testing.T) {
	names := []string{"a", "b", "noise"}
	X, y := xorData(6000, 1)
	Xt, yt := xorData(6000, 2)
	f, err := FitForest(X, y, names, ForestOptions{Trees: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := FitLogistic(X, y, names, LogisticOptions{L2: 1})
	if err != nil {
		t.Fatal(err)
	}
	pf, pl := make([]float64, len(Xt)), make([]float64, len(Xt))
	var mean, rate float64
	for i, x := range Xt {
		pf[i], pl[i] = f.Predict(x), l.Predict(x)
		mean += pf[i]
		if yt[i] {
			rate++
		}
	}
	ef, _ := Evaluate(pf, yt)
	el, _ := Evaluate(pl, yt)
	// The Bayes AUC of this problem is 0.751. golearn draws its bootstrap
	// and feature choices from Go's global random source, which cannot be
	// seeded, so the forest's AUC varies from run to run (0.63-0.70 seen);
	// the bound holds the forest clearly above the additive model.
	t.Logf("forest ROC AUC %.3f, logistic %.3f", ef.ROCAUC, el.ROCAUC)
	if ef.ROCAUC < 0.6 || el.ROCAUC > 0.56 || ef.ROCAUC < el.ROCAUC+0.05 {
		t.Errorf("forest ROC AUC %.3f (want ≥ 0.60 and 0.05 above the logistic's), logistic %.3f (want ≤ 0.56)", ef.ROCAUC, el.ROCAUC)
	}
	if d := math.Abs(mean-rate) / rate; d > 0.25 {
		t.Errorf("forest predicts %.0f positives on average, %.0f happened", mean, rate)
	}
	if f.Importances[2] >= f.Importances[0] || f.Importances[2] >= f.Importances[1] {
		t.Errorf("importances %v: noise should be least", f.Importances)
	}
	// contributions: a person in the high-rate quadrant owes it to a and b
	c := f.Contributions([]float64{0.9, 0.1, 0.5})
	if c[0].Feature == "noise" || c[0].LogOdds <= 0 {
		t.Errorf("contributions %+v", c)
	}
}
