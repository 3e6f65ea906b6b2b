package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/erasure"
)

const gdprUsage = `usage: calore gdpr erase PERSON_ID [--reason TEXT] [--by USER] [--no-wait] [--timeout 5m]

  erase   anonymises the person (and the people merged into them) in PostgreSQL,
          emits person.erased, and waits until the sink has removed them from
          the warehouse and its bi copies, then prints the erasure receipt
          (docs/gdpr.md). The relay and the sink must be running.
`

// cmdGDPR is `calore gdpr`: the right to be forgotten (R7.3).
func cmdGDPR(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "erase" {
		fmt.Fprint(stderr, gdprUsage)
		return errUsage
	}
	args = args[1:]
	fs := flag.NewFlagSet("calore gdpr erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reason := fs.String("reason", "", "why (travels in the erasure event and the audit log: name nobody)")
	by := fs.String("by", "", "who asks (a username; recorded in the audit log)")
	noWait := fs.Bool("no-wait", false, "only anonymise and emit the erasure event")
	timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the sink's receipt")
	var idArg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		idArg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if idArg == "" && fs.NArg() > 0 {
		idArg = fs.Arg(0)
	}
	id, err := strconv.ParseInt(idArg, 10, 64)
	if err != nil || id < 1 {
		fmt.Fprint(stderr, gdprUsage)
		return errUsage
	}

	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewStore(pool)
	e, err := store.ErasePerson(ctx, id, postgres.ErasureRequest{By: *by, Reason: *reason})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "person %d erased in PostgreSQL (merged people: %v); erasure event %s\n", id, e.MergedIDs, e.EventID)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  postgres table\trows anonymised or removed")
	for _, name := range slices.Sorted(maps.Keys(e.Rows)) {
		fmt.Fprintf(tw, "  %s\t%d\n", name, e.Rows[name])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print: %w", err)
	}
	if *noWait {
		fmt.Fprintln(stdout, "not waiting: the relay publishes the event and the sink erases the warehouse; its receipt is in erasure_receipts")
		return nil
	}

	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return fmt.Errorf("the erasure event is written; waiting for its receipt: %w", err)
	}
	defer conn.Close()
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	start := time.Now()
	lastLog, published := start, false
	for {
		rs, err := erasure.ReadReceipt(wctx, conn, e.EventID)
		if err == nil && len(rs) > 0 {
			return printReceipt(stdout, e, rs, time.Since(start))
		}
		if err != nil && wctx.Err() == nil {
			logger.WarnContext(ctx, "read erasure receipt", "err", err)
		}
		if !published {
			if published, err = store.OutboxPublished(wctx, e.EventID); err != nil && wctx.Err() == nil {
				logger.WarnContext(ctx, "read outbox", "err", err)
			}
		}
		if time.Since(lastLog) >= 10*time.Second {
			state := "waiting for the relay to publish the event"
			if published {
				state = "published; waiting for the sink to erase the warehouse"
			}
			fmt.Fprintf(stderr, "gdpr erase: %s (%s)\n", state, time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("erasure event %s: no receipt from the sink after %s (is `calore relay` and `calore sink` running?): %w",
				e.EventID, *timeout, errNoReceipt)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var errNoReceipt = errors.New("erasure not confirmed")

func printReceipt(w io.Writer, e *postgres.Erasure, rs []erasure.Receipt, waited time.Duration) error {
	var removed uint64
	for _, r := range rs {
		removed += r.RowsBefore - min(r.RowsBefore, r.RowsAfter)
	}
	fmt.Fprintf(w, "erasure receipt %s (person %d, merged %v): erased at %s, warehouse done at %s (waited %s); %d rows removed or scrubbed\n",
		e.EventID, e.PersonID, e.MergedIDs, rs[0].ErasedAt.UTC().Format(time.RFC3339), rs[0].FinishedAt.UTC().Format(time.RFC3339),
		waited.Round(time.Millisecond), removed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  database\ttable\taction\trows before\trows after")
	for _, r := range rs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\n", r.Database, r.Table, r.Action, r.RowsBefore, r.RowsAfter)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print: %w", err)
	}
	return nil
}
