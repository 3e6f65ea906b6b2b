package models

import (
	"math"
	"strings"
	"testing"
	"time"
)

const testHeat = `
half_life_days = 100
thresholds = [1, 4, 10]
[signals.event_attended]
weight = 4
[signals.email_open]
weight = 0.5
half_life_days = 50
[signals.donation]
weight = 8
`

func TestComputeHeat(t *testing.T) {
	cfg, err := ParseHeatConfig(strings.NewReader(testHeat))
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	days := func(n int) time.Time { return asOf.AddDate(0, 0, -n) }
	tests := []struct {
		name      string
		signals   []Signal
		score     float64
		level     int
		firstKind string
	}{
		{"nothing", nil, 0, 1, ""},
		{"one open today", []Signal{{Kind: "email_open", At: asOf}}, 0.5, 1, "email_open"},
		{"attended 100 days ago: half weight", []Signal{{Kind: "event_attended", At: days(100)}}, 2, 2, "event_attended"},
		{"opens decay on their own half-life", []Signal{{Kind: "email_open", At: days(50), Count: 4}}, 1, 2, "email_open"},
		{"donor who attends", []Signal{{Kind: "donation", At: asOf}, {Kind: "event_attended", At: asOf}}, 12, 4, "donation"},
		{"future and unknown signals ignored", []Signal{{Kind: "donation", At: asOf.AddDate(0, 0, 1)}, {Kind: "telepathy", At: asOf}}, 0, 1, ""},
		{"exactly on a threshold", []Signal{{Kind: "event_attended", At: asOf}}, 4, 3, "event_attended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cfg.ComputeHeat(tt.signals, asOf)
			if math.Abs(h.Score-tt.score) > 1e-9 || h.Level != tt.level {
				t.Errorf("score %v level %d, want %v level %d", h.Score, h.Level, tt.score, tt.level)
			}
			if tt.firstKind == "" && len(h.Contributions) != 0 || tt.firstKind != "" && (len(h.Contributions) == 0 || h.Contributions[0].Kind != tt.firstKind) {
				t.Errorf("contributions %+v, want %q first", h.Contributions, tt.firstKind)
			}
			var sum float64
			for _, c := range h.Contributions {
				sum += c.Score
			}
			if math.Abs(sum-h.Score) > 1e-9 {
				t.Errorf("contributions add to %v, score %v", sum, h.Score)
			}
		})
	}
}

func TestParseHeatConfigRejects(t *testing.T) {
	tests := []struct{ name, toml, want string }{
		{"thresholds not increasing", "half_life_days = 10\nthresholds = [5, 4, 10]\n[signals.x]\nweight = 1\n", "thresholds"},
		{"no half-life", "thresholds = [1, 2, 3]\n[signals.x]\nweight = 1\n", "half_life_days"},
		{"negative weight", "half_life_days = 10\nthresholds = [1, 2, 3]\n[signals.x]\nweight = -1\n", "signal x"},
		{"typo in a key", "half_life_days = 10\nthreshold = [1, 2, 3]\n[signals.x]\nweight = 1\n", "unknown keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHeatConfig(strings.NewReader(tt.toml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
