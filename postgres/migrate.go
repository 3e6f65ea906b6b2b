package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/calore-crm/calore/internal/schema"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

func provider(pool *pgxpool.Pool, logger *slog.Logger) (*goose.Provider, func() error, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("postgres migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, fmt.Errorf("postgres migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true), goose.WithSlog(logger),
		// migrations written on parallel branches may land below the newest applied one
		goose.WithAllowOutofOrder(true))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("postgres migrations: %w", err)
	}
	return p, db.Close, nil
}

// SchemaStatus reports the schema version of the database next to the newest
// version this binary carries.
func SchemaStatus(ctx context.Context, pool *pgxpool.Pool) (schema.Status, error) {
	p, closeDB, err := provider(pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return schema.Status{}, err
	}
	defer closeDB()
	// goose would create its table on a database never migrated: a
	// status is read-only, and the application role may not create tables
	var migrated bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&migrated); err != nil {
		return schema.Status{}, fmt.Errorf("read postgres schema version: %w", err)
	}
	if !migrated {
		return schema.Status{Store: "postgres", Current: 0, Latest: latest(p)}, nil
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return schema.Status{}, fmt.Errorf("read postgres schema version: %w", err)
	}
	return schema.Status{Store: "postgres", Current: current, Latest: latest(p)}, nil
}

// Migrate brings the database to the newest schema this binary carries. It
// refuses a database whose schema is newer than the binary.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (schema.Result, error) {
	p, closeDB, err := provider(pool, logger)
	if err != nil {
		return schema.Result{}, err
	}
	defer closeDB()
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return schema.Result{}, fmt.Errorf("read postgres schema version: %w", err)
	}
	st := schema.Status{Store: "postgres", Current: current, Latest: latest(p)}
	if err := st.CheckNotNewer(); err != nil {
		return schema.Result{}, err
	}
	results, err := p.Up(ctx)
	res := schema.Result{Store: "postgres", From: current, To: current}
	for _, r := range results {
		if r.Error == nil {
			res.Applied = append(res.Applied, r.Source.Path)
			res.To = r.Source.Version
		}
	}
	if err != nil {
		return res, fmt.Errorf("migrate postgres: %w", err)
	}
	return res, nil
}

func latest(p *goose.Provider) int64 {
	var v int64
	for _, s := range p.ListSources() {
		v = max(v, s.Version)
	}
	return v
}

// GrantApp gives role, the application's (CALORE_PG_DSN's user), what the
// processes need on the database pool reaches as its owner: DML on every
// table and the use of every sequence, now and (default privileges) for the
// tables later migrations create. `calore migrate` calls it after Migrate
// when the application connects as another role than the migrations.
func GrantApp(ctx context.Context, pool *pgxpool.Pool, role string) error {
	if role == "" {
		return errors.New("grant postgres privileges: no role")
	}
	q := strings.ReplaceAll(query("grant_app.sql"), "APP_ROLE", pgx.Identifier{role}.Sanitize())
	if _, err := pool.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("grant postgres privileges to %s: %w", role, err)
	}
	return nil
}

// DSNUser is the user a postgres:// DSN connects as.
func DSNUser(dsn string) (string, error) {
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", fmt.Errorf("parse postgres dsn: %w", err)
	}
	return c.User, nil
}
