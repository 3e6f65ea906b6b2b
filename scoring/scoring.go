// Package scoring holds the jobs behind `calore score`: each reads features
// from the warehouse, applies a model of package models and writes versioned
// results to the warehouse (and the latest per person to the operational
// store). Jobs are idempotent per as-of day: a re-run replaces that day's rows.
package scoring

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore/models"
	"github.com/calore-crm/calore/warehouse"
)

//go:embed sql/*.sql heat.toml
var files embed.FS

// queries reads scoring's embedded SQL through the warehouse's one loader;
// the files stay beside the jobs until scoring's SQL moves into warehouse
// (docs/architecture.md).
var queries = warehouse.NewQueries("scoring", files)

func query(name string) string { return queries.Get(name) }

// Progress hears how far a job is.
type Progress func(step string, done, total int)

// Env is what jobs read from and write to.
type Env struct {
	Warehouse driver.Conn
	Store     *pgxpool.Pool // nil: jobs write to the warehouse only
	Logger    *slog.Logger
	Progress  Progress
	Heat      models.HeatConfig
	Now       func() time.Time
}

// Summary is what a job reports.
type Summary struct {
	Job   string
	AsOf  time.Time
	Rows  int           // rows written to the warehouse
	Took  time.Duration //
	Lines []string      // human-readable findings, e.g. the evaluation
}

// Job is one scoring job.
type Job interface {
	Name() string
	Run(ctx context.Context, env *Env, asOf time.Time) (Summary, error)
}

// Jobs lists every job, in the order `calore score` runs them: heat first,
// since donation potential reports it next to its own score.
func Jobs() []Job {
	return []Job{heatJob{}, donationJob{}, clusterJob{}, funnelJob{}, turnoutJob{}}
}

// Select returns the jobs named (all when names is empty).
func Select(names []string) ([]Job, error) {
	all := Jobs()
	if len(names) == 0 {
		return all, nil
	}
	var out []Job
	for _, n := range names {
		found := false
		for _, j := range all {
			if j.Name() == n {
				out = append(out, j)
				found = true
			}
		}
		if !found {
			var known []string
			for _, j := range all {
				known = append(known, j.Name())
			}
			sort.Strings(known)
			return nil, fmt.Errorf("unknown scoring job %q (jobs: %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// DefaultHeatConfig is the heat configuration shipped in scoring/heat.toml.
func DefaultHeatConfig() (models.HeatConfig, error) {
	f, err := files.Open("heat.toml")
	if err != nil {
		return models.HeatConfig{}, err
	}
	defer f.Close()
	return models.ParseHeatConfig(f)
}

func day(t time.Time) string      { return t.UTC().Format("2006-01-02") }
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func (e *Env) progress(step string, done, total int) {
	if e.Progress != nil {
		e.Progress(step, done, total)
	}
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}
