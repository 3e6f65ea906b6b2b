// Package scoring holds the jobs behind `calore score`: read features from the
// warehouse and the store, apply a package models model, write versioned scores.
package scoring
