// Package warehousetest gives each integration test a ClickHouse database of
// its own, migrated to the newest schema and dropped when the test ends.
package warehousetest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse"
)

// Config returns the warehouse configuration from CALORE_CLICKHOUSE_*, or
// skips (fails under CI=true) when CALORE_CLICKHOUSE_ADDR is unset.
func Config(t testing.TB) config.ClickHouse {
	t.Helper()
	itest.Env(t, "CALORE_CLICKHOUSE_ADDR")
	c, err := config.FromEnv(itest.Getenv)
	if err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	return c.ClickHouse
}

// NewEmpty creates an empty database and returns the configuration that
// reaches it.
func NewEmpty(t testing.TB) config.ClickHouse {
	t.Helper()
	c := Config(t)
	ctx := context.Background()
	admin, err := warehouse.Open(ctx, c)
	if err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	name := itest.Name("test_")
	if err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("warehousetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("warehousetest: drop database %s: %v", name, err)
		}
	})
	c.Database = name
	return c
}

// New creates a database, migrates it and returns a connection to it.
func New(t testing.TB) driver.Conn {
	t.Helper()
	c := NewEmpty(t)
	ctx := context.Background()
	conn, err := warehouse.Open(ctx, c)
	if err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	return conn
}

// WithBI gives the warehouse database of c a bi database of its own (its name
// with "_bi" appended), migrated with the bi set over it and dropped when the
// test ends (before the warehouse database). It returns c with BIDatabase
// set. The stack's `powerbi` user can open only the database named `bi`, so
// a test reads its own bi database as the writer.
func WithBI(t testing.TB, c config.ClickHouse) config.ClickHouse {
	t.Helper()
	ctx := context.Background()
	c.BIDatabase = c.Database + "_bi"
	t.Cleanup(func() {
		admin, err := warehouse.Open(context.Background(), c)
		if err != nil {
			t.Errorf("warehousetest: %v", err)
			return
		}
		defer admin.Close()
		if err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.BIDatabase); err != nil {
			t.Errorf("warehousetest: drop database %s: %v", c.BIDatabase, err)
		}
	})
	if _, err := warehouse.MigrateBI(ctx, c, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	return c
}

// NewBI creates a migrated warehouse database and its migrated bi database,
// and returns a writer connection to the warehouse and the configuration
// (Database, BIDatabase) that reaches both.
func NewBI(t testing.TB) (driver.Conn, config.ClickHouse) {
	t.Helper()
	c := NewEmpty(t)
	ctx := context.Background()
	conn, err := warehouse.Open(ctx, c)
	if err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := warehouse.Migrate(ctx, conn, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("warehousetest: %v", err)
	}
	return conn, WithBI(t, c)
}

// OpenBI opens the bi database of c (from NewBI or WithBI) as the writer
// user, closed when the test ends: tests read the bi objects with it.
func OpenBI(t testing.TB, c config.ClickHouse) driver.Conn {
	t.Helper()
	bc := c
	bc.Database = c.BIDatabase
	conn, err := warehouse.Open(context.Background(), bc)
	if err != nil {
		t.Fatalf("warehousetest: open bi database %s: %v", c.BIDatabase, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
