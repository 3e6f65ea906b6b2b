package scoring

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
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
	entities string // the file of its entities' query, put in place of file's entities marker; "" none
	variant  int    // which variant of the file's columns (campaign: 0 human, 1 raw)
	variants int    // how many variants the file returns
}

// Funnels lists the funnels Calore computes.
var Funnels = []FunnelDef{
	{Name: "student_journey", Steps: []string{"first contact", "application", "admission", "enrolment"}, Segments: []string{"source", "programme", "country"}, file: "funnel_journey.sql", entities: "funnel_journey_entities.sql", variants: 1},
	{Name: "company_lifecycle", Steps: []string{"prospect", "contacted", "proposal", "client"}, Segments: []string{"size", "sector"}, file: "funnel_company.sql", entities: "funnel_company_entities.sql", variants: 1},
	{Name: "campaign", Steps: []string{"sent", "opened", "clicked", "registered", "attended"}, Segments: []string{"newsletter", "campaign"}, file: "funnel_campaign.sql", variant: 0, variants: 2},
	{Name: "campaign_raw", Steps: []string{"sent", "opened (raw)", "clicked (raw)", "registered", "attended"}, Segments: []string{"newsletter", "campaign"}, file: "funnel_campaign.sql", variant: 1, variants: 2},
}

// entitiesMarker is where a funnel's query takes the query of its entities.
const entitiesMarker = "/*entities*/"

// Entities returns the query of f's entities, one row per entity with the
// first time of each step over all history (the columns its funnel query
// reads), or "" when f's query computes them itself (the campaign funnels).
func (f FunnelDef) Entities() string {
	if f.entities == "" {
		return ""
	}
	return query(f.entities)
}

// Over returns f's query reading its entities from the query entities
// (the same columns as Entities returns, e.g. from a table that holds
// them); f's query as it is when f has no entities query.
func (f FunnelDef) Over(entities string) string {
	return strings.Replace(query(f.file), entitiesMarker, entities, 1)
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
// for each segment kind asked ("all" and/or those of f.Segments), in one
// query.
func RunFunnel(ctx context.Context, env *Env, f FunnelDef, kinds []string, from, to time.Time) ([]FunnelSegment, error) {
	return RunFunnelQuery(ctx, env, f, f.Over(f.Entities()), kinds, from, to)
}

// RunFunnelQuery is RunFunnel with another query in place of f's own: one
// that returns the same columns from the same parameters (@kinds, @from,
// @to), such as package kpi's reading of the dashboard rollups.
func RunFunnelQuery(ctx context.Context, env *Env, f FunnelDef, sql string, kinds []string, from, to time.Time) ([]FunnelSegment, error) {
	for _, k := range kinds {
		if k != "all" && !slices.Contains(f.Segments, k) {
			return nil, fmt.Errorf("funnel %s has no segment %q (segments: all, %v)", f.Name, k, f.Segments)
		}
	}
	out, err := runFunnelFile(ctx, env, f, sql, kinds, from, to)
	if err != nil {
		return nil, err
	}
	return named(out[f.variant], f), nil
}

// named gives a variant's steps the names of its funnel.
func named(segs []FunnelSegment, f FunnelDef) []FunnelSegment {
	for _, s := range segs {
		for i := range s.Steps {
			s.Steps[i].Name = f.Steps[i]
		}
	}
	return segs
}

// runFunnelFile runs f's query and returns the segments of every variant it
// computes (one per funnel sharing the file).
func runFunnelFile(ctx context.Context, env *Env, f FunnelDef, sql string, kinds []string, from, to time.Time) ([][]FunnelSegment, error) {
	args := []any{clickhouse.Named("kinds", kinds), clickhouse.Named("from", dateTime(from)), clickhouse.Named("to", dateTime(to))}
	n := len(f.Steps)
	out := make([][]FunnelSegment, f.variants)
	err := scanSQL(ctx, env, f.file, sql, args, func(r rowScanner) error {
		var kind, seg string
		var first uint64
		counts := make([][]uint64, f.variants)
		hours := make([][]float64, f.variants)
		dest := []any{&kind, &seg, &first}
		for v := range counts {
			counts[v], hours[v] = make([]uint64, n-1), make([]float64, n-1)
			for i := range counts[v] {
				dest = append(dest, &counts[v][i])
			}
			for i := range hours[v] {
				dest = append(dest, &hours[v][i])
			}
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		for v := range counts {
			fs := FunnelSegment{Kind: kind, Segment: seg}
			all := append([]uint64{first}, counts[v]...)
			for i, c := range all {
				st := FunnelStep{Step: i + 1, Name: f.Steps[i], Entered: int64(c), Conversion: 1}
				if i > 0 {
					st.Conversion = 0
					if all[i-1] > 0 {
						st.Conversion = float64(c) / float64(all[i-1])
					}
					if h := hours[v][i-1]; c > 0 && !math.IsNaN(h) {
						st.MedianHours = h
					}
				}
				fs.Steps = append(fs.Steps, st)
			}
			out[v] = append(out[v], fs)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("funnel %s: %w", f.Name, err)
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
	done := map[string]bool{} // a file computing several funnels runs once
	for i, f := range Funnels {
		if done[f.file] {
			continue
		}
		done[f.file] = true
		variants, err := runFunnelFile(ctx, env, f, f.Over(f.Entities()), append([]string{"all"}, f.Segments...), time.Unix(0, 0), asOf)
		if err != nil {
			b.Abort()
			return sum, err
		}
		for _, g := range Funnels {
			if g.file != f.file {
				continue
			}
			for _, s := range named(variants[g.variant], g) {
				for _, st := range s.Steps {
					if err := b.Append(g.Name, asOf, s.Kind, s.Segment, int32(st.Step), st.Name, st.Entered, st.Conversion, st.MedianHours, computed); err != nil {
						b.Abort()
						return sum, fmt.Errorf("write funnel %s: %w", g.Name, err)
					}
					sum.Rows++
				}
				if s.Kind == "all" {
					line := fmt.Sprintf("funnel %s:", g.Name)
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
		}
		env.progress("funnels", i+1, len(Funnels))
	}
	if err := b.Send(); err != nil {
		return sum, fmt.Errorf("write funnels: %w", err)
	}
	sum.Took = time.Since(start)
	return sum, nil
}
