package models

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// Evaluation is how well predicted probabilities matched binary outcomes.
type Evaluation struct {
	N          int     // scored examples
	Positives  int     // examples whose outcome was true
	ROCAUC     float64 // area under the ROC curve; 0.5 = chance
	PRAUC      float64 // area under the precision-recall curve (average precision)
	LiftTop10  float64 // positive rate in the top decile by score / overall positive rate
	Brier      float64 // mean squared error of the probabilities; lower is better
	Calibrated []CalibrationBin
}

// CalibrationBin compares mean predicted probability with the observed rate
// among examples whose prediction fell in [Lo, Hi).
type CalibrationBin struct {
	Lo, Hi    float64
	N         int
	Predicted float64 // mean predicted probability
	Observed  float64 // share of positives
}

// Evaluate scores predictions p against outcomes y. It needs at least one
// positive and one negative outcome.
func Evaluate(p []float64, y []bool) (Evaluation, error) {
	if len(p) != len(y) {
		return Evaluation{}, fmt.Errorf("evaluate: %d predictions for %d outcomes", len(p), len(y))
	}
	ev := Evaluation{N: len(p)}
	for i, pi := range p {
		if math.IsNaN(pi) || pi < 0 || pi > 1 {
			return Evaluation{}, fmt.Errorf("evaluate: prediction %d is %v, not a probability", i, pi)
		}
		if y[i] {
			ev.Positives++
		}
	}
	if ev.Positives == 0 || ev.Positives == ev.N {
		return Evaluation{}, fmt.Errorf("evaluate: outcomes need both positives and negatives: %w", ErrNotEnoughData)
	}

	// gonum's ROC wants scores in ascending order with their classes
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	sp := make([]float64, len(p))
	sy := make([]bool, len(p))
	for i, j := range idx {
		sp[i], sy[i] = p[j], y[j]
	}
	tpr, fpr, _ := stat.ROC(nil, sp, sy, nil)
	ev.ROCAUC = integrate.Trapezoidal(fpr, tpr)

	// average precision walks the examples from the highest score down
	var tp, sumPrec float64
	for rank := 0; rank < ev.N; rank++ {
		if sy[ev.N-1-rank] {
			tp++
			sumPrec += tp / float64(rank+1)
		}
	}
	ev.PRAUC = sumPrec / float64(ev.Positives)
	base := float64(ev.Positives) / float64(ev.N)
	ev.LiftTop10 = (topPositives(sp, sy, max(1, ev.N/10)) / float64(max(1, ev.N/10))) / base

	var brier float64
	for i := range p {
		o := 0.0
		if y[i] {
			o = 1
		}
		brier += (p[i] - o) * (p[i] - o)
	}
	ev.Brier = brier / float64(ev.N)
	ev.Calibrated = calibration(p, y, 10)
	return ev, nil
}

// calibration bins predictions into n equal-width bins, skipping empty ones.
func calibration(p []float64, y []bool, n int) []CalibrationBin {
	bins := make([]CalibrationBin, n)
	for b := range bins {
		bins[b].Lo, bins[b].Hi = float64(b)/float64(n), float64(b+1)/float64(n)
	}
	for i, pi := range p {
		b := min(int(pi*float64(n)), n-1)
		bins[b].N++
		bins[b].Predicted += pi
		if y[i] {
			bins[b].Observed++
		}
	}
	out := bins[:0]
	for _, b := range bins {
		if b.N == 0 {
			continue
		}
		b.Predicted /= float64(b.N)
		b.Observed /= float64(b.N)
		out = append(out, b)
	}
	return out
}

// topPositives is the expected number of positives among the top k scores
// (sp ascending, sy their outcomes), ties at the cut shared evenly: a score
// that ties many people (a yes/no signal) is not credited with a lucky order.
func topPositives(sp []float64, sy []bool, k int) float64 {
	var got float64
	taken := 0
	for hi := len(sp); hi > 0 && taken < k; {
		lo := hi - 1
		for lo > 0 && sp[lo-1] == sp[hi-1] {
			lo--
		}
		n, pos := hi-lo, 0
		for i := lo; i < hi; i++ {
			if sy[i] {
				pos++
			}
		}
		use := min(n, k-taken)
		got += float64(pos) * float64(use) / float64(n)
		taken += use
		hi = lo
	}
	return got
}
