// Package synthq holds the warehouse statements of the synthetic university's
// loader (synthetic/load): its two tables, the ground truth it writes
// (synthetic_propensity, read by the model evaluations) and the record of
// each load (synthetic_runs).
package synthq

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/warehouse"
)

//go:embed sql/*.sql
var files embed.FS

var queries = warehouse.NewQueries("synthq", files)

// EnsureTables creates synthetic_propensity and synthetic_runs when missing.
func EnsureTables(ctx context.Context, conn driver.Conn) error {
	for _, f := range []string{"propensity.sql", "runs.sql"} {
		if err := conn.Exec(ctx, queries.Get(f)); err != nil {
			return fmt.Errorf("seed table %s: %w", f, err)
		}
	}
	return nil
}

// Runs counts the loads recorded for scale, seed and people.
func Runs(ctx context.Context, conn driver.Conn, scale string, seed uint64, people int64) (uint64, error) {
	var n uint64
	if err := conn.QueryRow(ctx, queries.Get("run_count.sql"), scale, int64(seed), people).Scan(&n); err != nil {
		return 0, fmt.Errorf("read synthetic runs: %w", err)
	}
	return n, nil
}

// WriteTruth writes the dataset's ground truth, in batches of 500,000.
func WriteTruth(ctx context.Context, conn driver.Conn, ds *synthetic.Dataset) error {
	const batch = 500_000
	for start := 0; start < len(ds.Truth); start += batch {
		b, err := conn.PrepareBatch(ctx, `INSERT INTO synthetic_propensity (person_id, year, propensity, gave, known, seed, scale)`)
		if err != nil {
			return fmt.Errorf("truth batch: %w", err)
		}
		for _, t := range ds.Truth[start:min(start+batch, len(ds.Truth))] {
			if err := b.Append(t.PersonID, int32(t.Year), t.Propensity, flag(t.Gave), flag(t.Known), int64(ds.Seed), ds.Scale.Name); err != nil {
				b.Abort()
				return fmt.Errorf("truth append: %w", err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("truth insert: %w", err)
		}
	}
	return nil
}

// RecordRun records a finished load of people at scale s with seed.
func RecordRun(ctx context.Context, conn driver.Conn, s synthetic.Scale, seed uint64, people int) error {
	b, err := conn.PrepareBatch(ctx, `INSERT INTO synthetic_runs (scale, seed, as_of, people, finished_at)`)
	if err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	if err := b.Append(s.Name, int64(seed), s.AsOf, int64(people), time.Now().UTC()); err != nil {
		b.Abort()
		return fmt.Errorf("record run: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	return nil
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
