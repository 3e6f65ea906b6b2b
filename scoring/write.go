package scoring

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
)

// scoreRow is one person's score from one model.
type scoreRow struct {
	PersonID       int64
	Score          float64
	Level          int32
	Label          string
	ExpectedAmount float64
	SuggestedAsk   float64
	Reasons        string // JSON
}

// scoreWriter batches rows into the warehouse's person_scores and keeps them
// for the operational store's latest-score table.
type scoreWriter struct {
	env      *Env
	model    string
	version  string
	asOf     time.Time
	computed time.Time
	batch    driver.Batch
	pending  int
	n        int
	all      []scoreRow
}

const scoreBatch = 100_000

func newScoreWriter(env *Env, model, version string, asOf time.Time) *scoreWriter {
	return &scoreWriter{env: env, model: model, version: version, asOf: asOf, computed: env.now()}
}

func (w *scoreWriter) add(ctx context.Context, r scoreRow) error {
	if w.batch == nil {
		b, err := w.env.Warehouse.PrepareBatch(ctx, `INSERT INTO person_scores (model, model_version, as_of, person_id, score, level, label, expected_amount, suggested_ask, reasons, computed_at)`)
		if err != nil {
			return fmt.Errorf("write %s scores: %w", w.model, err)
		}
		w.batch = b
	}
	if err := w.batch.Append(w.model, w.version, w.asOf, r.PersonID, r.Score, r.Level, r.Label, r.ExpectedAmount, r.SuggestedAsk, r.Reasons, w.computed); err != nil {
		return fmt.Errorf("write %s score of person %d: %w", w.model, r.PersonID, err)
	}
	w.pending++
	if r.Score != 0 || r.Level != 1 || w.model != "heat" {
		// the store keeps no heat row for someone without a single signal
		// (level 1, score 0): signals only age, so nobody returns to that
		w.all = append(w.all, r)
	}
	if w.pending >= scoreBatch {
		return w.flush()
	}
	return nil
}

func (w *scoreWriter) flush() error {
	if w.batch == nil {
		return nil
	}
	if err := w.batch.Send(); err != nil {
		return fmt.Errorf("write %s scores: %w", w.model, err)
	}
	w.n += w.pending
	w.batch, w.pending = nil, 0
	return nil
}

func (w *scoreWriter) close(ctx context.Context) error { return w.flush() }

func (w *scoreWriter) storeHeat(ctx context.Context) error { return w.store(ctx, "pg_upsert_heat.sql") }
func (w *scoreWriter) storeDonor(ctx context.Context) error {
	return w.store(ctx, "pg_upsert_donor.sql")
}

// store upserts the rows as the latest scores in the operational store
// (people the store does not hold, e.g. erased ones, are skipped).
func (w *scoreWriter) store(ctx context.Context, upsert string) error {
	if w.env.Store == nil || len(w.all) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, w.env.Store, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, query("pg_stage_scores.sql")); err != nil {
			return fmt.Errorf("stage %s scores: %w", w.model, err)
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(w.all) {
				return nil, nil
			}
			r := w.all[i]
			i++
			return []any{r.PersonID, r.Score, r.Level, r.Label, r.ExpectedAmount, r.SuggestedAsk, r.Reasons}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"score_stage"}, []string{"person_id", "score", "level", "label", "expected_amount", "suggested_ask", "reasons"}, src); err != nil {
			return fmt.Errorf("copy %s scores: %w", w.model, err)
		}
		if _, err := tx.Exec(ctx, query(upsert), w.version, day(w.asOf)); err != nil {
			return fmt.Errorf("store latest %s scores: %w", w.model, err)
		}
		return nil
	})
}

// Compact merges the person_scores partition of asOf's month at once, so
// that each person keeps one row per model and day: the newest run's (the
// table is a ReplacingMergeTree by computed_at, which ClickHouse would merge
// some time; the dashboards' prospect list then reads a quarter of the rows
// after four runs of a day). Nothing reads older runs of a day.
func Compact(ctx context.Context, conn driver.Conn, asOf time.Time) error {
	part := asOf.Year()*100 + int(asOf.Month())
	if err := conn.Exec(ctx, fmt.Sprintf("OPTIMIZE TABLE person_scores PARTITION %d FINAL", part)); err != nil {
		return fmt.Errorf("compact person_scores partition %d: %w", part, err)
	}
	return nil
}
