package synthq

import (
	"context"
	"testing"
	"time"

	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestTruthAndRuns writes a hand-made ground truth and a run, and reads
// them back: the run is found for its scale, seed and people only.
func TestTruthAndRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := warehousetest.New(t)
	for range 2 { // twice: the tables may already exist
		if err := EnsureTables(ctx, conn); err != nil {
			t.Fatal(err)
		}
	}
	s := synthetic.Scale{Name: "tiny", AsOf: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}
	ds := &synthetic.Dataset{Scale: s, Seed: 7, Truth: []synthetic.Truth{
		{PersonID: 1, Year: 2024, Propensity: 0.25, Gave: true, Known: true},
		{PersonID: 1, Year: 2025, Propensity: 0.5},
		{PersonID: 2, Year: 2025, Propensity: 0.125, Gave: true},
	}}
	if err := WriteTruth(ctx, conn, ds); err != nil {
		t.Fatal(err)
	}
	if err := RecordRun(ctx, conn, s, 7, 2); err != nil {
		t.Fatal(err)
	}
	var rows, gave, known uint64
	var sum float64
	if err := conn.QueryRow(ctx, `SELECT count(), sum(gave), sum(known), sum(propensity) FROM synthetic_propensity WHERE seed = 7 AND scale = 'tiny'`).Scan(&rows, &gave, &known, &sum); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || gave != 2 || known != 1 || sum != 0.875 {
		t.Errorf("truth: %d rows, %d gave, %d known, sum %v", rows, gave, known, sum)
	}
	for _, c := range []struct {
		scale  string
		seed   uint64
		people int64
		want   uint64
	}{{"tiny", 7, 2, 1}, {"tiny", 8, 2, 0}, {"tiny", 7, 3, 0}, {"full", 7, 2, 0}} {
		if n, err := Runs(ctx, conn, c.scale, c.seed, c.people); err != nil || n != c.want {
			t.Errorf("runs of %s/%d/%d: %d %v, want %d", c.scale, c.seed, c.people, n, err, c.want)
		}
	}
}
