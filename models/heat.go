package models

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/BurntSushi/toml"
)

// HeatConfig says how engagement heat ("calore", R5.1) is computed: each
// signal (an attended event, a human email open, a donation…) adds its weight,
// decayed by its age with a half-life; the sum maps to a level 1-4 through
// three thresholds. The default lives in scoring/heat.toml.
type HeatConfig struct {
	HalfLifeDays float64             `toml:"half_life_days"` // default decay of every signal
	Thresholds   [3]float64          `toml:"thresholds"`     // score ≥ T[0] → 2, ≥ T[1] → 3, ≥ T[2] → 4; else 1
	Signals      map[string]HeatKind `toml:"signals"`        // by signal kind
}

// HeatKind is one signal kind's weight and, optionally, its own half-life.
type HeatKind struct {
	Weight       float64 `toml:"weight"`
	HalfLifeDays float64 `toml:"half_life_days"` // 0 = the config's default
}

// ParseHeatConfig reads a TOML heat configuration and validates it.
func ParseHeatConfig(r io.Reader) (HeatConfig, error) {
	var c HeatConfig
	md, err := toml.NewDecoder(r).Decode(&c)
	if err != nil {
		return c, fmt.Errorf("heat config: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return c, fmt.Errorf("heat config: unknown keys %v", und)
	}
	return c, c.Validate()
}

// Validate reports every problem of the configuration.
func (c HeatConfig) Validate() error {
	var errs []error
	if c.HalfLifeDays <= 0 {
		errs = append(errs, fmt.Errorf("half_life_days = %v, want > 0", c.HalfLifeDays))
	}
	if !(0 < c.Thresholds[0] && c.Thresholds[0] < c.Thresholds[1] && c.Thresholds[1] < c.Thresholds[2]) {
		errs = append(errs, fmt.Errorf("thresholds %v must be positive and increasing", c.Thresholds))
	}
	if len(c.Signals) == 0 {
		errs = append(errs, errors.New("no signals"))
	}
	for k, s := range c.Signals {
		if s.Weight < 0 || s.HalfLifeDays < 0 {
			errs = append(errs, fmt.Errorf("signal %s: weight and half-life must not be negative", k))
		}
	}
	return errors.Join(errs...)
}

// Signal is one thing a person did, at a time.
type Signal struct {
	Kind string
	At   time.Time
	// Count lets a caller pass n occurrences at once (e.g. opens per day); 0 = 1.
	Count float64
}

// Heat is a person's engagement as of a date.
type Heat struct {
	Score         float64
	Level         int                // 1 (cold) to 4 (hot)
	Contributions []HeatContribution // by kind, largest first: why this level
}

// HeatContribution is one signal kind's share of a score.
type HeatContribution struct {
	Kind  string
	Count float64 // occurrences counted
	Score float64 // their decayed, weighted sum
}

// ComputeHeat scores signals as of asOf. Signals after asOf and of kinds the
// configuration does not know are ignored (unknown kinds are reported by the
// caller's validation, not here, so that one odd row cannot stop a batch).
func (c HeatConfig) ComputeHeat(signals []Signal, asOf time.Time) Heat {
	by := map[string]*HeatContribution{}
	for _, s := range signals {
		k, ok := c.Signals[s.Kind]
		if !ok || s.At.After(asOf) {
			continue
		}
		n := s.Count
		if n == 0 {
			n = 1
		}
		hl := k.HalfLifeDays
		if hl == 0 {
			hl = c.HalfLifeDays
		}
		age := asOf.Sub(s.At).Hours() / 24
		v := n * k.Weight * math.Exp2(-age/hl)
		hc := by[s.Kind]
		if hc == nil {
			hc = &HeatContribution{Kind: s.Kind}
			by[s.Kind] = hc
		}
		hc.Count += n
		hc.Score += v
	}
	cs := make([]HeatContribution, 0, len(by))
	for _, hc := range by {
		cs = append(cs, *hc)
	}
	return c.FromContributions(cs)
}

// FromContributions totals per-kind contributions (already weighted and
// decayed, e.g. by the warehouse) into a Heat, largest contribution first.
func (c HeatConfig) FromContributions(cs []HeatContribution) Heat {
	h := Heat{Contributions: cs}
	for _, hc := range cs {
		h.Score += hc.Score
	}
	sort.Slice(h.Contributions, func(a, b int) bool {
		if h.Contributions[a].Score != h.Contributions[b].Score {
			return h.Contributions[a].Score > h.Contributions[b].Score
		}
		return h.Contributions[a].Kind < h.Contributions[b].Kind
	})
	h.Level = c.Level(h.Score)
	return h
}

// Level maps a score to 1-4.
func (c HeatConfig) Level(score float64) int {
	level := 1
	for _, t := range c.Thresholds {
		if score >= t {
			level++
		}
	}
	return level
}
