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
