package warehouse

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/internal/schema"
)

// ClickHouse migrations are a small embedded runner, not goose: goose's
// ClickHouse dialect wraps each migration in a database/sql transaction and
// deletes versions with `ALTER TABLE … DELETE … SETTINGS mutations_sync`, a
// setting ClickHouse 18.16 does not have. Here each file under migrations/ is
// one statement (ClickHouse DDL is not transactional, so one file = one step
// that either happened or not), named NNNN_what.sql, applied in version order
// and recorded in schema_migrations. Statements use IF NOT EXISTS so that a
// run interrupted between a statement and its record can simply be repeated.
//
// Migrations run in the connection's database and never name one, so tests can
// migrate a database of their own.

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int64
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	return readMigrations(migrationFiles, "migrations", "clickhouse", nil)
}

// readMigrations reads the migration files of dir in fsys, in version order:
// each named "<positive version>_<name>.sql", no version twice. render, if
// not nil, turns a file's text into its SQL. set names the set in errors
// ("clickhouse", "bi").
func readMigrations(fsys fs.FS, dir, set string, render func(name, text string) (string, error)) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s migrations: %w", set, err)
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("%s migration %s: name must start with a positive version and '_'", set, name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("%s migrations %s and %s share version %d", set, other, name, v)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read %s migration %s: %w", set, name, err)
		}
		sql := string(b)
		if render != nil {
			if sql, err = render(name, sql); err != nil {
				return nil, err
			}
		}
		ms = append(ms, migration{version: v, name: name, sql: sql})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    Int64,
    name       String,
    applied_at DateTime DEFAULT now()
)
ENGINE = MergeTree()
ORDER BY version`

func currentVersion(ctx context.Context, conn driver.Conn) (int64, error) {
	if err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("create clickhouse schema_migrations: %w", err)
	}
	var v int64
	if err := conn.QueryRow(ctx, `SELECT toInt64(max(version)) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read clickhouse schema version: %w", err)
	}
	return v, nil
}

// SchemaStatus reports the schema version of the warehouse database next to
// the newest version this binary carries.
func SchemaStatus(ctx context.Context, conn driver.Conn) (schema.Status, error) {
	ms, err := loadMigrations()
	if err != nil {
		return schema.Status{}, err
	}
	current, err := currentVersion(ctx, conn)
	if err != nil {
		return schema.Status{}, err
	}
	return schema.Status{Store: "clickhouse", Current: current, Latest: ms[len(ms)-1].version}, nil
}

// Migrate applies, in version order, every embedded migration the database
// has not applied yet — also one numbered below the newest applied, so that
// migrations written on parallel branches all land. It refuses a database
// holding a migration this binary does not know (a newer binary migrated it).
func Migrate(ctx context.Context, conn driver.Conn, logger *slog.Logger) (schema.Result, error) {
	ms, err := loadMigrations()
	if err != nil {
		return schema.Result{}, err
	}
	return apply(ctx, conn, "clickhouse", ms, logger)
}

// apply runs, in version order, every migration of ms the connection's
// database has not applied, refusing a database that holds a newer one. It
// serves the warehouse's set and the bi set alike; store names them in
// messages and results.
func apply(ctx context.Context, conn driver.Conn, store string, ms []migration, logger *slog.Logger) (schema.Result, error) {
	current, err := currentVersion(ctx, conn)
	if err != nil {
		return schema.Result{}, err
	}
	st := schema.Status{Store: store, Current: current, Latest: ms[len(ms)-1].version}
	if err := st.CheckNotNewer(); err != nil {
		return schema.Result{}, err
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return schema.Result{}, err
	}
	res := schema.Result{Store: store, From: current, To: current}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		logger.InfoContext(ctx, "applying migration", "store", store, "file", m.name)
		if err := conn.Exec(ctx, m.sql); err != nil {
			return res, fmt.Errorf("%s migration %s: %w", store, m.name, err)
		}
		if err := record(ctx, conn, m); err != nil {
			return res, fmt.Errorf("record %s migration %s: %w", store, m.name, err)
		}
		res.Applied = append(res.Applied, m.name)
		res.To = max(res.To, m.version)
	}
	return res, nil
}

func appliedVersions(ctx context.Context, conn driver.Conn) (map[int64]bool, error) {
	rows, err := conn.Query(ctx, `SELECT DISTINCT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read applied clickhouse migrations: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read applied clickhouse migrations: %w", err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

// record inserts the migration's row. It goes through a native batch: an
// INSERT … VALUES with bound arguments hangs against ClickHouse 18.16.
func record(ctx context.Context, conn driver.Conn, m migration) error {
	b, err := conn.PrepareBatch(ctx, `INSERT INTO schema_migrations (version, name)`)
	if err != nil {
		return err
	}
	if err := b.Append(m.version, m.name); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}
