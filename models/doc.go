// Package models is Calore's machine learning and statistics: pure
// computation, features in and scores out, with no database imports
// (engagement heat, donation potential, company clusters, turnout forecasts).
package models
