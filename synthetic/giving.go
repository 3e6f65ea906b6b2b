package synthetic

import "math"

// The giving model (version 2). An alumnus's chance of giving in calendar
// year y depends on what happened before y — but not in the shape of any
// scoring model, and partly through drivers the warehouse never sees:
//
//	logit p(y) = b0(y)
//	  habit     + 2.2 gave in y-1 + 1.6 gave by a recurring (monthly) gift in y-1
//	            + 1.2 tanh(consecutive years with a gift up to y-1 / 2)
//	            + 0.35 years with a gift in y-5 … y-2
//	  contact   + 0.9 ln(1 + events attended in y-1 + ½ those in y-2)
//	            + 0.9 √(human email opens in y-1 / 20, at most 1)
//	  wealth    + 0.9 wealth × sigmoid(2 affinity)          (hidden × hidden)
//	  age       + 1.0 exp(-((age - 62) / 14)²)              (a peak, not a line)
//	  intent    + 0.6 intent(y-1)                           (hidden, year to year)
//	  mentoring + 0.6 mentoring before y × [age > 45]       (an interaction)
//
// Hidden drivers and what the warehouse sees of them:
//   - affinity (a person's attachment, fixed): drives attendance, opens,
//     clicks, web visits, mentoring;
//   - wealth (fixed): seen only through the current role's seniority
//     (affiliations, noisy, for 55% of alumni), the top-alumni economic
//     category and the size of past gifts;
//   - intent (a yearly AR(1) shock: intent(y) = 0.6 intent(y-1) + 0.8 ε):
//     seen only through visits to the giving page in that year;
//   - age: seen through the birth date, recorded for 70% of alumni.
//
// b0(y) is solved each year so that the expected number of donors equals
// Scale.DonorsPerYear. The true p(y) of every alumnus and whether they gave
// are kept (Truth): the Bayes AUC — the AUC of the true probabilities
// against what happened — bounds what any donation model can reach. The
// scoring code never reads this package; it sees the warehouse only.
type givingFeatures struct {
	GaveLast, RecurringLast, Consecutive, PriorYears float64
	Attended1, Attended2, Opens                      float64
	Wealth, Affinity, Age, Intent                    float64
	Mentor                                           float64
}

// GivingModelVersion names the giving model the generator uses.
const GivingModelVersion = "2: non-linear, interactions, hidden wealth and intent"

func (f givingFeatures) logit() float64 {
	s := 2.2*f.GaveLast + 1.6*f.RecurringLast + 1.2*math.Tanh(f.Consecutive/2) + 0.35*f.PriorYears
	s += 0.9*math.Log1p(f.Attended1+0.5*f.Attended2) + 0.9*math.Sqrt(math.Min(f.Opens/20, 1))
	s += 0.9 * f.Wealth * sigmoid(2*f.Affinity)
	s += 1.0 * math.Exp(-math.Pow((f.Age-62)/14, 2))
	s += 0.6 * f.Intent
	if f.Age > 45 {
		s += 0.6 * f.Mentor
	}
	return s
}

// solveIntercept finds b0 such that Σ sigmoid(b0 + logits[i]) = target.
func solveIntercept(logits []float64, target float64) float64 {
	lo, hi := -30.0, 10.0
	for it := 0; it < 100; it++ {
		mid := (lo + hi) / 2
		var sum float64
		for _, l := range logits {
			sum += sigmoid(mid + l)
		}
		if sum > target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return (lo + hi) / 2
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
