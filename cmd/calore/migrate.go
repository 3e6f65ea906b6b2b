package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
)

// cmdMigrate migrates PostgreSQL (as the owner role, granting the
// application role its DML), then ClickHouse, then creates the Kafka topics. Each step says what it did, or "nothing to do".
func cmdMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
	// the owner role migrates (CALORE_PG_MIGRATE_DSN); the application role
	// (CALORE_PG_DSN), when it is another, gets DML on what the owner made
	pool, err := postgres.Open(ctx, cfg.PostgresMigrateDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	pres, err := postgres.Migrate(ctx, pool, logger)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, pres)
	owner, err := postgres.DSNUser(cfg.PostgresMigrateDSN)
	if err != nil {
		return fmt.Errorf("CALORE_PG_MIGRATE_DSN: %w", err)
	}
	app, err := postgres.DSNUser(cfg.PostgresDSN)
	if err != nil {
		return fmt.Errorf("CALORE_PG_DSN: %w", err)
	}
	if app != owner {
		if err := postgres.GrantApp(ctx, pool, app); err != nil {
			return err
		}
		logger.Info("postgres: application role granted DML", "role", app, "owner", owner)
	}

	if err := warehouse.EnsureDatabase(ctx, cfg.ClickHouse); err != nil {
		return err
	}
	ch, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer ch.Close()
	cres, err := warehouse.Migrate(ctx, ch, logger)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, cres)
	switch bres, err := warehouse.MigrateBI(ctx, cfg.ClickHouse, logger); {
	case errors.Is(err, warehouse.ErrBIElsewhere):
		fmt.Fprintf(stdout, "clickhouse bi: skipped (%v; set CALORE_CLICKHOUSE_BI_DATABASE)\n", err)
	case err != nil:
		return err
	default:
		fmt.Fprintln(stdout, bres)
	}

	k, err := ingest.NewKafka(cfg)
	if err != nil {
		return err
	}
	kres, err := ingest.EnsureTopics(ctx, k,
		ingest.TopicSpec{Prefix: cfg.KafkaTopicPrefix, Partitions: cfg.KafkaPartitions, Replication: cfg.KafkaReplication},
		ingest.Topics...)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, kres)
	return nil
}

// cmdVersion prints the binary's version and each store's schema version. A
// store that does not answer is reported and makes the command fail.
func cmdVersion(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	fmt.Fprintf(stdout, "calore %s\n", version)
	var errs []error
	if pool, err := postgres.Open(ctx, cfg.PostgresDSN); err != nil {
		errs = append(errs, err)
	} else {
		st, err := postgres.SchemaStatus(ctx, pool)
		pool.Close()
		if err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintln(stdout, st)
		}
	}
	if ch, err := warehouse.Open(ctx, cfg.ClickHouse); err != nil {
		errs = append(errs, err)
	} else {
		st, err := warehouse.SchemaStatus(ctx, ch)
		ch.Close()
		if err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintln(stdout, st)
		}
	}
	return errors.Join(errs...)
}
