package scoring

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Funnels (R5.4) are computed in ClickHouse: per entity (a person's journey
// in one programme, an organisation, a send) the first time each step was
// reached, a step counting only when reached after the one before it; then
// per segment how many reached each step and the median time between steps.
// The queries take the period of the first step [from, to) and a segment
// kind, so the API and dashboards run them with their own filters; the
// funnels job writes a snapshot over all history to funnel_snapshots.

// FunnelDef is one funnel.
type FunnelDef struct {
	Name     string
	Steps    []string
	Segments []string // segment kinds besides "all"
	file     string
	human    int // campaign funnel: 1 human opens and clicks, 0 raw
}

// Funnels lists the funnels Calore computes.
var Funnels = []FunnelDef{
	{Name: "student_journey", Steps: []string{"first contact", "application", "admission", "enrolment"}, Segments: []string{"source", "programme", "country"}, file: "funnel_journey.sql"},
	{Name: "company_lifecycle", Steps: []string{"prospect", "contacted", "proposal", "client"}, Segments: []string{"size", "sector"}, file: "funnel_company.sql"},
	{Name: "campaign", Steps: []string{"sent", "opened", "clicked", "registered", "attended"}, Segments: []string{"newsletter", "campaign"}, file: "funnel_campaign.sql", human: 1},
	{Name: "campaign_raw", Steps: []string{"sent", "opened (raw)", "clicked (raw)", "registered", "attended"}, Segments: []string{"newsletter", "campaign"}, file: "funnel_campaign.sql", human: 0},
}

// FunnelByName returns a funnel definition.
func FunnelByName(name string) (FunnelDef, error) {
	for _, f := range Funnels {
		if f.Name == name {
			return f, nil
		}
	}
	return FunnelDef{}, fmt.Errorf("unknown funnel %q", name)
}

// FunnelStep is one step of a funnel for one segment.
type FunnelStep struct {
	Step        int     `json:"step"` // from 1
	Name        string  `json:"name"`
	Entered     int64   `json:"entered"`
	Conversion  float64 `json:"conversion"`   // share of the previous step's entities that reached this one (1 for step 1)
	MedianHours float64 `json:"median_hours"` // median time from the previous step (quantileExact: the upper middle value of an even count); 0 for step 1 or when none converted
}

// FunnelSegment is a funnel for one segment value.
type FunnelSegment struct {
	Kind    string       `json:"kind"`
	Segment string       `json:"segment"`
	Steps   []FunnelStep `json:"steps"`
}

// RunFunnel computes f for entities whose first step falls in [from, to),
// by segment kind ("all" or one of f.Segments).
func RunFunnel(ctx context.Context, env *Env, f FunnelDef, segmentKind string, from, to time.Time) ([]FunnelSegment, error) {
	if segmentKind != "all" {
		ok := false
		for _, s := range f.Segments {
			ok = ok || s == segmentKind
		}
		if !ok {
			return nil, fmt.Errorf("funnel %s has no segment %q (segments: all, %v)", f.Name, segmentKind, f.Segments)
		}
	}
	args := []any{clickhouse.Named("segment_kind", segmentKind), clickhouse.Named("from", dateTime(from)), clickhouse.Named("to", dateTime(to))}
	if f.file == "funnel_campaign.sql" {
		args = append(args, clickhouse.Named("human", f.human))
	}
	n := len(f.Steps)
	var out []FunnelSegment
	err := scan(ctx, env, f.file, args, func(r rowScanner) error {
		var seg string
		counts := make([]uint64, n)
		hours := make([]float64, n-1)
		dest := []any{&seg}
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		for i := range hours {
			dest = append(dest, &hours[i])
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		fs := FunnelSegment{Kind: segmentKind, Segment: seg}
		for i, c := range counts {
			st := FunnelStep{Step: i + 1, Name: f.Steps[i], Entered: int64(c), Conversion: 1}
			if i > 0 {
				st.Conversion = 0
				if counts[i-1] > 0 {
					st.Conversion = float64(c) / float64(counts[i-1])
				}
				if h := hours[i-1]; c > 0 && !math.IsNaN(h) {
					st.MedianHours = h
				}
			}
			fs.Steps = append(fs.Steps, st)
		}
		out = append(out, fs)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("funnel %s by %s: %w", f.Name, segmentKind, err)
	}
	return out, nil
}

type funnelJob struct{}

func (funnelJob) Name() string { return "funnels" }

func (j funnelJob) Run(ctx context.Context, env *Env, asOf time.Time) (Summary, error) {
	start := time.Now()
	sum := Summary{Job: j.Name(), AsOf: asOf}
	computed := env.now()
	b, err := env.Warehouse.PrepareBatch(ctx, `INSERT INTO funnel_snapshots (funnel, as_of, segment_kind, segment, step, step_name, entered, conversion, median_hours, computed_at)`)
	if err != nil {
		return sum, fmt.Errorf("write funnels: %w", err)
	}
	total := 0
	for _, f := range Funnels {
		total += 1 + len(f.Segments)
	}
	done := 0
	for _, f := range Funnels {
		for _, kind := range append([]string{"all"}, f.Segments...) {
			segs, err := RunFunnel(ctx, env, f, kind, time.Unix(0, 0), asOf)
			if err != nil {
				b.Abort()
				return sum, err
			}
			for _, s := range segs {
				for _, st := range s.Steps {
					if err := b.Append(f.Name, asOf, kind, s.Segment, int32(st.Step), st.Name, st.Entered, st.Conversion, st.MedianHours, computed); err != nil {
						b.Abort()
						return sum, fmt.Errorf("write funnel %s: %w", f.Name, err)
					}
					sum.Rows++
				}
				if kind == "all" {
					line := fmt.Sprintf("funnel %s:", f.Name)
					for _, st := range s.Steps {
						if st.Step == 1 {
							line += fmt.Sprintf(" %s %d", st.Name, st.Entered)
						} else {
							line += fmt.Sprintf(" → %s %d (%.1f%%, median %.1f h)", st.Name, st.Entered, 100*st.Conversion, st.MedianHours)
						}
					}
					sum.Lines = append(sum.Lines, line)
				}
			}
			done++
			env.progress("funnels", done, total)
		}
	}
	if err := b.Send(); err != nil {
		return sum, fmt.Errorf("write funnels: %w", err)
	}
	sum.Took = time.Since(start)
	return sum, nil
}
