// Package pgtest gives each integration test a PostgreSQL database of its
// own, migrated to the newest schema and dropped when the test ends, so tests
// run in parallel and re-run without manual cleanup.
//
// As in production, two roles are at work when the stack provides them: the
// owner (CALORE_PG_MIGRATE_DSN) creates, migrates and drops the database; the
// application role (CALORE_PG_DSN: no superuser, DML only) is what the code
// under test connects as.
package pgtest

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres"
)

// DSN returns CALORE_PG_DSN, the application role, or skips (fails under
// CI=true) when unset.
func DSN(t testing.TB) string {
	t.Helper()
	return itest.Env(t, "CALORE_PG_DSN")
}

// OwnerDSN returns CALORE_PG_MIGRATE_DSN, the role that creates databases and
// migrates them, or CALORE_PG_DSN when it is unset (one role for both).
func OwnerDSN(t testing.TB) string {
	t.Helper()
	app := DSN(t)
	if v := os.Getenv("CALORE_PG_MIGRATE_DSN"); v != "" {
		return v
	}
	return app
}

// DB is a test database as its two roles see it.
type DB struct {
	Owner string // DSN of the owner: migrations, DDL
	App   string // DSN of the application role (Owner when there is one role)
}

// NewDB creates an empty database owned by the owner role and returns its
// DSNs; it is dropped when the test ends.
func NewDB(t testing.TB) DB {
	t.Helper()
	app, owner := DSN(t), OwnerDSN(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, owner)
	if err != nil {
		t.Fatalf("pgtest: connect %s: %v", redacted(owner), err)
	}
	defer admin.Close(ctx)
	name := itest.Name("test_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, owner)
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return DB{Owner: withDatabase(t, owner, name), App: withDatabase(t, app, name)}
}

// NewEmpty creates an empty database and returns the owner's DSN (one that
// can migrate it).
func NewEmpty(t testing.TB) string {
	t.Helper()
	return NewDB(t).Owner
}

// Migrate migrates db as its owner and grants the application role its DML,
// as `calore migrate` does.
func Migrate(t testing.TB, db DB) {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, db.Owner)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	owner, err := postgres.DSNUser(db.Owner)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	app, err := postgres.DSNUser(db.App)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if app != owner {
		if err := postgres.GrantApp(ctx, pool, app); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
}

// NewMigrated creates a database, migrates it and returns its DSNs.
func NewMigrated(t testing.TB) DB {
	t.Helper()
	db := NewDB(t)
	Migrate(t, db)
	return db
}

// New creates a database, migrates it and returns a pool on it as the
// application role, closed and dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db := NewMigrated(t)
	pool, err := postgres.Open(context.Background(), db.App)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func withDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("pgtest: a postgres DSN must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// redacted is dsn without its password, for messages.
func redacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// NewOwner is New as the owner role: for tests of the migrations themselves,
// which the application role may not run.
func NewOwner(t testing.TB) *pgxpool.Pool {
	t.Helper()
	db := NewMigrated(t)
	pool, err := postgres.Open(context.Background(), db.Owner)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
