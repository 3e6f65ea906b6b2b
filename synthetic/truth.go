package synthetic

import (
	"fmt"

	"github.com/calore-crm/calore/models"
)

// BayesAUC is the ROC AUC of the giving model's true probabilities against
// what happened in year: no model of the same outcome can do better in
// expectation.
func (ds *Dataset) BayesAUC(year int) (models.Evaluation, error) {
	var p []float64
	var y []bool
	for _, t := range ds.Truth {
		if t.Year == year && t.Known {
			p = append(p, t.Propensity)
			y = append(y, t.Gave)
		}
	}
	ev, err := models.Evaluate(p, y)
	if err != nil {
		return ev, fmt.Errorf("bayes auc for %d: %w", year, err)
	}
	return ev, nil
}
