package api

import (
	"context"
	"fmt"
	"time"

	"github.com/calore-crm/calore/scoring"
)

// runFunnel runs scoring.RunFunnel for the segment kinds asked. RunFunnel is
// moving from one segment kind per call to several in one query; this
// accepts either form until the scoring change lands everywhere.
func runFunnel(ctx context.Context, env *scoring.Env, def scoring.FunnelDef, kinds []string, from, to time.Time) ([]scoring.FunnelSegment, error) {
	out := []scoring.FunnelSegment{}
	var run any = scoring.RunFunnel
	switch fn := run.(type) {
	case func(context.Context, *scoring.Env, scoring.FunnelDef, []string, time.Time, time.Time) ([]scoring.FunnelSegment, error):
		segs, err := fn(ctx, env, def, kinds, from, to)
		return append(out, segs...), err
	case func(context.Context, *scoring.Env, scoring.FunnelDef, string, time.Time, time.Time) ([]scoring.FunnelSegment, error):
		for _, k := range kinds {
			segs, err := fn(ctx, env, def, k, from, to)
			if err != nil {
				return nil, err
			}
			out = append(out, segs...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("funnel %s: scoring.RunFunnel has an unknown signature", def.Name)
}
