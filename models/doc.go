// Package models is Calore's machine learning and statistics: pure
// computation, features in and scores out, with no database imports
// (engagement heat, donation potential, company clusters, turnout forecasts).
package models

import "errors"

// ErrNotEnoughData marks a model that cannot be built from the rows it was
// given (too few items to cluster, a single outcome class to evaluate): the
// scoring job is skipped, not failed, and says why.
var ErrNotEnoughData = errors.New("not enough data")
