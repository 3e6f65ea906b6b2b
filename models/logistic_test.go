package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFitLogisticRecoversCoefficients draws data from a known logistic model
// and checks that the fit recovers it, and that its AUC is close to the AUC
// of the true probabilities (the best achievable).
func TestFitLogisticRecoversCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	trueB0, trueB := -1.0, []float64{1.5, -0.8, 0}
	X := make([][]float64, n)
	y := make([]bool, n)
	truth := make([]float64, n)
	for i := range X {
		X[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		eta := trueB0
		for j := range trueB {
			eta += trueB[j] * X[i][j]
		}
		truth[i] = sigmoid(eta)
		y[i] = rng.Float64() < truth[i]
	}
	m, err := FitLogistic(X, y, []string{"a", "b", "noise"}, LogisticOptions{L2: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	// coefficients are per standardised feature; the features have sd ≈ 1
	for j, want := range trueB {
		if got := m.Coef[j]; math.Abs(got-want) > 0.1 {
			t.Errorf("coef %s = %.3f, want %.3f ± 0.1", m.Features[j], got, want)
		}
	}
	p := make([]float64, n)
	for i := range X {
		p[i] = m.Predict(X[i])
	}
	got, err := Evaluate(p, y)
	if err != nil {
		t.Fatal(err)
	}
	best, err := Evaluate(truth, y)
	if err != nil {
		t.Fatal(err)
	}
	if got.ROCAUC < best.ROCAUC-0.01 {
		t.Errorf("fitted AUC %.4f, Bayes AUC %.4f", got.ROCAUC, best.ROCAUC)
	}
	c := m.Contributions([]float64{2, -2, 0})
	if c[0].Feature != "a" || c[1].Feature != "b" || c[0].LogOdds <= 0 {
		t.Errorf("contributions for a high-a, low-b person: %+v", c)
	}
}

func TestFitLogisticRejects(t *testing.T) {
	tests := []struct {
		name string
		X    [][]float64
		y    []bool
	}{
		{"no rows", nil, nil},
		{"ragged", [][]float64{{1, 2}, {1}}, []bool{true, false}},
		{"NaN", [][]float64{{1, math.NaN()}, {1, 2}}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := FitLogistic(tt.X, tt.y, []string{"x", "z"}, LogisticOptions{}); err == nil {
				t.Error("no error")
			}
		})
	}
}
