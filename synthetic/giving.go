package synthetic

import "math"

// The giving model. An alumnus's chance of giving in calendar year y depends
// only on what the warehouse can see of the years before y:
//
//	logit p(y) = b0(y)
//	           + 4.0 × gave in y-1 (donor retention about 40%, as in alumni giving)
//	           + 0.8 × years with a gift in y-5 … y-2
//	           + 0.4 × events attended in y-1 (at most 5)
//	           + 1.8 × human open rate of the emails sent to them in y-1
//	           + 0.2 × emails clicked in y-1 (at most 5)
//	           + 0.25 × years since graduation / 10 (at most 4)
//	           + 1.5 × top alumnus of high economic profile
//	           + 0.6 × top alumnus of prestige
//	           + 0.8 × mentoring before y
//
// b0(y) is solved each year so that the expected number of donors equals
// Scale.DonorsPerYear. Behaviour itself (attendance, opens, clicks,
// mentoring) is driven by a latent affinity that the warehouse never sees, so
// behaviour is correlated year to year, and giving follows behaviour. The true
// p(y) of every alumnus and whether they gave are kept (Truth), so the Bayes
// AUC — the AUC of the true probabilities against what happened — bounds what
// any donation model can reach.
type givingFeatures struct {
	GaveLast    float64
	PriorYears  float64
	Attended    float64
	OpenRate    float64
	Clicks      float64
	Seniority   float64
	TopEconomic float64
	TopPrestige float64
	Mentor      float64
}

// GivingWeights are the model's coefficients, in the order of
// GivingFeatureNames; exported so the documentation and tests can cite them.
var GivingWeights = []float64{4.0, 0.8, 0.4, 1.8, 0.2, 0.25, 1.5, 0.6, 0.8}

// GivingFeatureNames name the features of the giving model.
var GivingFeatureNames = []string{"gave_last_year", "prior_gift_years", "events_attended", "open_rate", "clicks", "seniority_decades", "top_economic", "top_prestige", "mentor"}

func (f givingFeatures) vector() []float64 {
	return []float64{f.GaveLast, f.PriorYears, f.Attended, f.OpenRate, f.Clicks, f.Seniority, f.TopEconomic, f.TopPrestige, f.Mentor}
}

func (f givingFeatures) logit() float64 {
	var s float64
	for i, v := range f.vector() {
		s += GivingWeights[i] * v
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
