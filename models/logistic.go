package models

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Logistic is an L2-regularised logistic regression on standardised features,
// fitted by Newton-Raphson (iteratively reweighted least squares) with gonum.
// It is the donation-potential model's default: its coefficients explain each
// score (Contributions), which a fundraiser needs.
type Logistic struct {
	Features  []string  // names, in column order
	Mean, Std []float64 // standardisation learned from the training set
	Coef      []float64 // per standardised feature
	Intercept float64
	L2        float64 // ridge penalty used in the fit
	Iter      int     // Newton steps taken
}

// LogisticOptions tune the fit; zero values take defaults.
type LogisticOptions struct {
	L2      float64 // ridge penalty on the coefficients (not the intercept); default 1
	MaxIter int     // default 50
	Tol     float64 // stop when the largest coefficient change is below; default 1e-8
}

// FitLogistic fits y ~ X. X has one row per example and len(names) columns.
func FitLogistic(X [][]float64, y []bool, names []string, opt LogisticOptions) (*Logistic, error) {
	n, d := len(X), len(names)
	if n != len(y) {
		return nil, fmt.Errorf("fit logistic: %d rows for %d outcomes", n, len(y))
	}
	if pos := countTrue(y); pos == 0 || pos == n {
		return nil, fmt.Errorf("fit logistic: %d rows with %d positive outcomes: both classes are needed: %w", n, pos, ErrNotEnoughData)
	}
	if opt.L2 == 0 {
		opt.L2 = 1
	}
	if opt.MaxIter == 0 {
		opt.MaxIter = 50
	}
	if opt.Tol == 0 {
		opt.Tol = 1e-8
	}
	m := &Logistic{Features: names, Mean: make([]float64, d), Std: make([]float64, d), Coef: make([]float64, d), L2: opt.L2}
	for i, row := range X {
		if len(row) != d {
			return nil, fmt.Errorf("fit logistic: row %d has %d features, want %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fit logistic: row %d feature %s is %v", i, names[j], v)
			}
			m.Mean[j] += v
		}
	}
	for j := range m.Mean {
		m.Mean[j] /= float64(n)
	}
	for _, row := range X {
		for j, v := range row {
			m.Std[j] += (v - m.Mean[j]) * (v - m.Mean[j])
		}
	}
	for j := range m.Std {
		m.Std[j] = math.Sqrt(m.Std[j] / float64(n))
		if m.Std[j] == 0 {
			m.Std[j] = 1 // a constant feature: its coefficient stays ~0 under the penalty
		}
	}

	// design matrix with a leading intercept column
	p := d + 1
	Z := mat.NewDense(n, p, nil)
	for i, row := range X {
		Z.Set(i, 0, 1)
		for j, v := range row {
			Z.Set(i, j+1, (v-m.Mean[j])/m.Std[j])
		}
	}
	beta := mat.NewVecDense(p, nil)
	grad := mat.NewVecDense(p, nil)
	H := mat.NewSymDense(p, nil)
	step := mat.NewVecDense(p, nil)
	zi := make([]float64, p)
	for it := 0; it < opt.MaxIter; it++ {
		m.Iter = it + 1
		grad.Zero()
		H.Zero()
		for i := 0; i < n; i++ {
			mat.Row(zi, i, Z)
			eta := mat.Dot(mat.NewVecDense(p, zi), beta)
			mu := sigmoid(eta)
			o := 0.0
			if y[i] {
				o = 1
			}
			w := math.Max(mu*(1-mu), 1e-12)
			for a := 0; a < p; a++ {
				grad.SetVec(a, grad.AtVec(a)+(o-mu)*zi[a])
				for b := a; b < p; b++ {
					H.SetSym(a, b, H.At(a, b)+w*zi[a]*zi[b])
				}
			}
		}
		for a := 1; a < p; a++ { // ridge, not on the intercept
			grad.SetVec(a, grad.AtVec(a)-opt.L2*beta.AtVec(a))
			H.SetSym(a, a, H.At(a, a)+opt.L2)
		}
		var chol mat.Cholesky
		if ok := chol.Factorize(H); !ok {
			return nil, errors.New("fit logistic: Hessian not positive definite (raise L2)")
		}
		if err := chol.SolveVecTo(step, grad); err != nil {
			return nil, fmt.Errorf("fit logistic: newton step: %w", err)
		}
		beta.AddVec(beta, step)
		if mat.Norm(step, math.Inf(1)) < opt.Tol {
			break
		}
	}
	m.Intercept = beta.AtVec(0)
	for j := 0; j < d; j++ {
		m.Coef[j] = beta.AtVec(j + 1)
	}
	return m, nil
}

// Predict returns the probability of the positive outcome for x.
func (m *Logistic) Predict(x []float64) float64 {
	eta := m.Intercept
	for j, v := range x {
		eta += m.Coef[j] * (v - m.Mean[j]) / m.Std[j]
	}
	return sigmoid(eta)
}

// Contribution is one feature's share of a score, on the log-odds scale
// relative to an average person.
type Contribution struct {
	Feature string
	Value   float64 // the person's raw value
	LogOdds float64 // coefficient × standardised value
}

// Contributions returns each feature's push on x's score, largest first.
func (m *Logistic) Contributions(x []float64) []Contribution {
	out := make([]Contribution, len(x))
	for j, v := range x {
		out[j] = Contribution{Feature: m.Features[j], Value: v, LogOdds: m.Coef[j] * (v - m.Mean[j]) / m.Std[j]}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].LogOdds > out[b].LogOdds })
	return out
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func countTrue(y []bool) int {
	n := 0
	for _, v := range y {
		if v {
			n++
		}
	}
	return n
}
