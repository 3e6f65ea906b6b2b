package api

import (
	"context"
	"time"

	"github.com/calore-crm/calore/scoring"
)

// runFunnel runs scoring.RunFunnel for the segment kinds asked, in one query.
func runFunnel(ctx context.Context, env *scoring.Env, def scoring.FunnelDef, kinds []string, from, to time.Time) ([]scoring.FunnelSegment, error) {
	segs, err := scoring.RunFunnel(ctx, env, def, kinds, from, to)
	if err != nil {
		return nil, err
	}
	if segs == nil {
		segs = []scoring.FunnelSegment{}
	}
	return segs, nil
}
