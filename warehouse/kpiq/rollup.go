package kpiq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/scoring"
)

// Rollups. The dashboards' heaviest widgets do not read the facts: a page
// would group millions of versioned rows (sends, hits, people, heat scores)
// by entity to keep each one's latest version. Refresh does that work once
// and writes small tables (rollup_*); the widgets' queries read the newest
// complete refresh, and the dashboards show when it finished ("figures as
// of"). A refresh writes every rollup table under a new refresh id (each
// table is partitioned by it), then records the refresh in
// rollup_refreshes: a refresh that stops half-way is never read. Old
// refreshes' partitions are dropped once two newer ones are complete.
//
// Who refreshes: `calore sink` every --rollup-every (when the warehouse
// changed), `calore score` after its jobs, and `calore rollup` on demand.
// docs/dashboards.md has the trade-off (freshness against page speed).

// rollupTables are the tables a refresh fills, in order, each from
// sql/<table>.sql (an INSERT … SELECT taking @refresh).
var rollupTables = []string{
	"rollup_campaign_days",
	"rollup_people",
	"rollup_heat",
	"rollup_event_regs",
	"rollup_journeys",
	"rollup_company_funnel",
	"rollup_score_runs",
	"rollup_org_changes",
}

// rollupSources are the tables the rollups read: a refresh is due when one
// of them changed.
var rollupSources = []string{
	"fact_sends", "tracking_events", "dim_campaigns", "dim_people", "person_scores",
	"fact_registrations", "dim_events", "fact_journey_stages", "change_log",
	"fact_interactions", "dim_organisations",
}

// RefreshInfo is one complete refresh of the rollups.
type RefreshInfo struct {
	ID         uint64            `json:"refresh_id"` // unix milliseconds of its start, unique
	StartedAt  time.Time         `json:"started_at"`
	FinishedAt time.Time         `json:"finished_at"` // the "figures as of" time
	Seconds    float64           `json:"seconds"`
	Rows       map[string]uint64 `json:"rows"` // rows written per rollup table
}

// keepRefreshes is how many complete refreshes keep their rows; older ones'
// partitions are dropped. More than one, so that a page reading the
// previous newest refresh while a new one lands still finds its rows.
const keepRefreshes = 2

// pruneAfter keeps the partitions of any refresh younger than this, so that
// a refresh still running elsewhere (another sink) does not lose its rows
// before it is recorded.
const pruneAfter = 30 * time.Minute

// Refresh recomputes every rollup table from the warehouse under a new
// refresh id, records the refresh and drops the partitions of old ones. It
// logs each table as it goes (the whole takes seconds on a large
// university).
func Refresh(ctx context.Context, conn driver.Conn, logger *slog.Logger) (RefreshInfo, error) {
	start := time.Now().UTC()
	info := RefreshInfo{StartedAt: start, Rows: map[string]uint64{}}
	// A new id, above every refresh's, complete or not: rows a stopped
	// refresh left behind must not count in this one.
	info.ID = uint64(start.UnixMilli())
	last, err := LatestRefresh(ctx, conn)
	if err != nil {
		return info, err
	}
	parts, err := rollupPartitions(ctx, conn)
	if err != nil {
		return info, err
	}
	for _, ids := range parts {
		for _, id := range ids {
			info.ID = max(info.ID, id+1)
		}
	}
	if last != nil {
		info.ID = max(info.ID, last.ID+1)
	}
	for i, table := range rollupTables {
		t0 := time.Now()
		sql, err := rollupSQL(table)
		if err != nil {
			return info, fmt.Errorf("refresh %d: %w", info.ID, err)
		}
		if err := conn.Exec(ctx, sql, clickhouse.Named("refresh", strconv.FormatUint(info.ID, 10))); err != nil {
			return info, fmt.Errorf("refresh %d: fill %s: %w", info.ID, table, err)
		}
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+table+" WHERE refresh_id = ?", info.ID).Scan(&n); err != nil {
			return info, fmt.Errorf("refresh %d: count %s: %w", info.ID, table, err)
		}
		info.Rows[table] = n
		logger.InfoContext(ctx, "rollup refresh", "table", table, "step", fmt.Sprintf("%d/%d", i+1, len(rollupTables)),
			"rows", n, "took", time.Since(t0).Round(time.Millisecond))
	}
	info.FinishedAt = time.Now().UTC()
	info.Seconds = info.FinishedAt.Sub(start).Seconds()
	counts, err := json.Marshal(info.Rows)
	if err != nil {
		return info, fmt.Errorf("refresh %d: row counts: %w", info.ID, err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO rollup_refreshes (refresh_id, started_at, finished_at, seconds, row_counts)")
	if err != nil {
		return info, fmt.Errorf("refresh %d: record: %w", info.ID, err)
	}
	if err := b.Append(info.ID, start, info.FinishedAt, info.Seconds, string(counts)); err != nil {
		b.Abort()
		return info, fmt.Errorf("refresh %d: record: %w", info.ID, err)
	}
	if err := b.Send(); err != nil {
		return info, fmt.Errorf("refresh %d: record: %w", info.ID, err)
	}
	if err := prune(ctx, conn, time.Now()); err != nil {
		// The refresh is complete and read; old rows only take room.
		logger.WarnContext(ctx, "rollup refresh: dropping old refreshes failed", "err", err)
	}
	logger.InfoContext(ctx, "rollup refresh done", "refresh_id", info.ID, "took", time.Since(start).Round(time.Millisecond))
	return info, nil
}

// rollupSQL is the INSERT … SELECT that fills table: sql/<table>.sql, with
// a funnel's entities query in place of its marker for the funnel tables.
func rollupSQL(table string) (string, error) {
	sql := queries.Get(table + ".sql")
	for name, rf := range rollupFunnels {
		if rf.table != table {
			continue
		}
		def, err := scoring.FunnelByName(name)
		if err != nil {
			return "", fmt.Errorf("entities of %s: %w", table, err)
		}
		sql = strings.Replace(sql, "/*entities*/", def.Entities(), 1)
	}
	return sql, nil
}

// prune drops, in every rollup table, the partitions of every refresh but
// the keepRefreshes newest complete ones that is older than the oldest of
// those or older than pruneAfter (a refresh still running elsewhere is
// younger).
func prune(ctx context.Context, conn driver.Conn, now time.Time) error {
	keep, err := newestRefreshes(ctx, conn)
	if err != nil {
		return err
	}
	if len(keep) < keepRefreshes {
		return nil
	}
	oldest := keep[len(keep)-1]
	young := uint64(now.Add(-pruneAfter).UnixMilli())
	parts, err := rollupPartitions(ctx, conn)
	if err != nil {
		return err
	}
	var errs []error
	for table, ids := range parts {
		for _, id := range ids {
			if slices.Contains(keep, id) || (id >= oldest && id >= young) {
				continue
			}
			if err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, id)); err != nil {
				errs = append(errs, fmt.Errorf("drop refresh %d of %s: %w", id, table, err))
			}
		}
	}
	return errors.Join(errs...)
}

// newestRefreshes returns the ids of the keepRefreshes newest complete
// refreshes, newest first.
func newestRefreshes(ctx context.Context, conn driver.Conn) ([]uint64, error) {
	rows, err := conn.Query(ctx, "SELECT refresh_id FROM rollup_refreshes ORDER BY refresh_id DESC LIMIT ?", keepRefreshes)
	if err != nil {
		return nil, fmt.Errorf("newest refreshes: %w", err)
	}
	defer rows.Close()
	var ids []uint64
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("newest refreshes: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("newest refreshes: %w", err)
	}
	return ids, nil
}

// rollupPartitions returns the refresh ids present in each rollup table
// (its partitions), complete or not.
func rollupPartitions(ctx context.Context, conn driver.Conn) (map[string][]uint64, error) {
	rows, err := conn.Query(ctx, `SELECT DISTINCT table, partition FROM system.parts
		WHERE database = currentDatabase() AND active AND has(?, table)`, rollupTables)
	if err != nil {
		return nil, fmt.Errorf("rollup partitions: %w", err)
	}
	defer rows.Close()
	out := map[string][]uint64{}
	for rows.Next() {
		var table, p string
		if err := rows.Scan(&table, &p); err != nil {
			return nil, fmt.Errorf("rollup partitions: %w", err)
		}
		id, err := strconv.ParseUint(strings.Trim(p, "'"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("rollup partition %q of %s: not a refresh id", p, table)
		}
		out[table] = append(out[table], id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rollup partitions: %w", err)
	}
	return out, nil
}

// LatestRefresh returns the newest complete refresh, or nil if the rollups
// were never refreshed.
func LatestRefresh(ctx context.Context, conn driver.Conn) (*RefreshInfo, error) {
	rows, err := conn.Query(ctx, `SELECT refresh_id, started_at, finished_at, seconds, row_counts
		FROM rollup_refreshes ORDER BY refresh_id DESC LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("latest rollup refresh: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var info RefreshInfo
	var counts string
	if err := rows.Scan(&info.ID, &info.StartedAt, &info.FinishedAt, &info.Seconds, &counts); err != nil {
		return nil, fmt.Errorf("latest rollup refresh: %w", err)
	}
	if err := json.Unmarshal([]byte(counts), &info.Rows); err != nil {
		return nil, fmt.Errorf("latest rollup refresh %d: row counts: %w", info.ID, err)
	}
	return &info, nil
}

// sourcesState is a fingerprint of the rollups' source tables (rows and the
// newest part of each): it changes with every insert, merge or mutation.
func sourcesState(ctx context.Context, conn driver.Conn) (string, error) {
	var rows uint64
	var newest time.Time
	var parts uint64
	err := conn.QueryRow(ctx, `SELECT sum(rows), max(modification_time), count() FROM system.parts
		WHERE database = currentDatabase() AND active AND has(?, table)`, rollupSources).Scan(&rows, &newest, &parts)
	if err != nil {
		return "", fmt.Errorf("state of the rollups' sources: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d", rows, parts, newest.Unix()), nil
}

// Refresher refreshes the rollups every Every while their sources change.
type Refresher struct {
	Conn   driver.Conn
	Every  time.Duration // between checks; 0 means one minute
	Logger *slog.Logger
}

// Run refreshes at once, then every r.Every when the sources changed since
// the last refresh it made, until ctx ends.
// A failed refresh is logged and tried again at the next tick.
func (r Refresher) Run(ctx context.Context) error {
	every := r.Every
	if every <= 0 {
		every = time.Minute
	}
	seen := ""
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		state, err := sourcesState(ctx, r.Conn)
		switch {
		case err != nil:
			r.Logger.WarnContext(ctx, "rollup refresher", "err", err)
		case state != seen: // never "" (sourcesState): the first check refreshes
			if _, err := Refresh(ctx, r.Conn, r.Logger); err != nil {
				r.Logger.ErrorContext(ctx, "rollup refresh failed; trying again at the next tick", "err", err)
			} else {
				seen = state
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
