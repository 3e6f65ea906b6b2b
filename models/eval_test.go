package models

import (
	"math"
	"testing"
)

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name              string
		p                 []float64
		y                 []bool
		auc, ap, lift, br float64
	}{
		{
			name: "perfect ranking",
			p:    []float64{0.9, 0.8, 0.2, 0.1},
			y:    []bool{true, true, false, false},
			auc:  1, ap: 1, lift: 2, br: (0.01 + 0.04 + 0.04 + 0.01) / 4,
		},
		{
			name: "inverted ranking",
			p:    []float64{0.1, 0.2, 0.8, 0.9},
			y:    []bool{true, true, false, false},
			// positives at ranks 3 and 4: AP = (1/3 + 2/4)/2
			auc: 0, ap: (1.0/3 + 2.0/4) / 2, lift: 0, br: (0.81 + 0.64 + 0.64 + 0.81) / 4,
		},
		{
			name: "one of four pairs misordered",
			p:    []float64{0.9, 0.5, 0.6, 0.1},
			y:    []bool{true, true, false, false},
			// pairs (pos,neg): (0.9,0.6) ok (0.9,0.1) ok (0.5,0.6) wrong (0.5,0.1) ok → 3/4
			auc: 0.75, ap: (1 + 2.0/3) / 2, lift: 2, br: (0.01 + 0.25 + 0.36 + 0.01) / 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Evaluate(tt.p, tt.y)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"ROC AUC", ev.ROCAUC, tt.auc}, {"PR AUC", ev.PRAUC, tt.ap}, {"lift", ev.LiftTop10, tt.lift}, {"Brier", ev.Brier, tt.br}} {
				if math.Abs(c.got-c.want) > 1e-9 {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestEvaluateRejects(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		y    []bool
	}{
		{"length mismatch", []float64{0.1}, []bool{true, false}},
		{"one class", []float64{0.1, 0.2}, []bool{true, true}},
		{"not a probability", []float64{1.5, 0.2}, []bool{true, false}},
		{"NaN", []float64{math.NaN(), 0.2}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Evaluate(tt.p, tt.y); err == nil {
				t.Error("no error")
			}
		})
	}
}
