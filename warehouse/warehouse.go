// Package warehouse is Calore's ClickHouse warehouse: connection over the
// native protocol (clickhouse-go/v2), embedded migrations and, in later files,
// the fact and dimension tables the sink fills and the queries the scoring
// jobs, dashboards and Power BI views read.
//
// Compatibility: every statement must run on the Debian ClickHouse 18.16 server
// and on current ClickHouse (see docs/warehouse.md). clickhouse-go's HTTP
// protocol and async inserts do not work with 18.16; INSERTs always name their
// columns.
package warehouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/config"
)

// Open connects to ClickHouse over the native protocol and checks that the
// server answers.
func Open(ctx context.Context, c config.ClickHouse) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:     c.Addr,
		Protocol: clickhouse.Native,
		Auth: clickhouse.Auth{
			Database: c.Database,
			Username: c.User,
			Password: c.Password,
		},
		DialTimeout:     5 * time.Second,
		MaxOpenConns:    16,
		MaxIdleConns:    8,
		ConnMaxLifetime: time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %v: %w", c.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ping clickhouse %v/%s as %s: %w", c.Addr, c.Database, c.User, err)
	}
	return conn, nil
}

// EnsureDatabase creates the warehouse database c.Database when it does not
// exist yet, connecting to the server's "default" database to do so (Open
// fails on a database that does not exist). Config validation keeps the name
// plain, so it can be spliced into the statement.
func EnsureDatabase(ctx context.Context, c config.ClickHouse) error {
	admin := c
	admin.Database = "default"
	conn, err := Open(ctx, admin)
	if err != nil {
		return fmt.Errorf("create warehouse database %s: %w", c.Database, err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.Database); err != nil {
		return fmt.Errorf("create warehouse database %s: %w", c.Database, err)
	}
	return nil
}
