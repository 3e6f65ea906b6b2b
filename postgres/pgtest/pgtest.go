// Package pgtest gives each integration test a PostgreSQL database of its
// own, migrated to the newest schema and dropped when the test ends, so tests
// run in parallel and re-run without manual cleanup.
package pgtest

import (
	"context"
	"log/slog"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres"
)

// DSN returns CALORE_PG_DSN, or skips (fails under CI=true) when unset.
func DSN(t testing.TB) string {
	t.Helper()
	return itest.Env(t, "CALORE_PG_DSN")
}

// NewEmpty creates an empty database and returns its DSN.
func NewEmpty(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect %s: %v", dsn, err)
	}
	defer admin.Close(ctx)
	name := itest.Name("test_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("pgtest: CALORE_PG_DSN must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// New creates a database, migrates it and returns a pool on it, closed and
// dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := NewEmpty(t)
	ctx := context.Background()
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := postgres.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return pool
}
