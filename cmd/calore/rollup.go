package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/kpiq"
)

// cmdRollup refreshes the dashboards' rollup tables once and prints what
// it wrote.
func cmdRollup(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("calore rollup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	info, err := kpiq.Refresh(ctx, conn, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rollup refresh %d: %s, figures as of %s\n", info.ID,
		time.Duration(info.Seconds*float64(time.Second)).Round(time.Millisecond), info.FinishedAt.Format(time.RFC3339))
	tables := make([]string, 0, len(info.Rows))
	for t := range info.Rows {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(stdout, "  %-24s %d rows\n", t, info.Rows[t])
	}
	return nil
}
