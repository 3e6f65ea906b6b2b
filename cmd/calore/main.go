// Command calore is Calore's one binary. `calore help` lists its subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/calore-crm/calore/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "calore:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `usage: calore <command> [arguments]

commands:
  migrate   bring PostgreSQL and ClickHouse to this binary's schema and create the Kafka topics
  version   print the binary's version and the schema version of each store
  import    load a CSV or XLSX file into the operational store, merging with what is there
  relay     publish the PostgreSQL outbox to Kafka
  sink      consume Kafka into the ClickHouse warehouse
  serve     HTTP: tracking endpoints, API, dashboards, /metrics
  user      back-office users and API tokens (add, token, revoke, list; docs/access.md)
  score     run the scoring jobs ([--as-of YYYY-MM-DD] [heat|donation|clusters|funnels|turnout …])
  rollup    refresh the dashboards' rollup tables now (sink and score also do; docs/dashboards.md)
  seed      load the synthetic university (--scale demo|full --seed N) into an empty store
  bi        Power BI: the bi database's status, a .pbids connection file (docs/powerbi.md)
  gdpr      erase PERSON_ID: the right to be forgotten, store, warehouse and bi (docs/gdpr.md)
  backup    DIR: dump the store and copy the warehouse, with a manifest (docs/deploy.md, Backups)
  restore   DIR: into a fresh store and warehouse, checked against the manifest
  help      this text

Configuration comes from CALORE_* environment variables (see README.md);
the defaults reach the local stack started by scripts/stack up.
`

// run is the whole program, apart from process concerns, so that tests can
// drive it: args without the program name, getenv for configuration.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch args[0] {
	case "migrate":
		return cmdMigrate(ctx, cfg, logger, stdout)
	case "version", "--version":
		return cmdVersion(ctx, cfg, stdout)
	case "import":
		return cmdImport(ctx, cfg, logger, args[1:], stdout, stderr)
	case "relay":
		return cmdRelay(ctx, cfg, logger, args[1:], stdout)
	case "sink":
		return cmdSink(ctx, cfg, logger, args[1:], stdout)
	case "score":
		return cmdScore(ctx, cfg, logger, args[1:], getenv, stdout, stderr)
	case "rollup":
		return cmdRollup(ctx, cfg, logger, args[1:], stdout)
	case "seed":
		return cmdSeed(ctx, cfg, logger, args[1:], stdout, stderr)
	case "serve":
		return cmdServe(ctx, cfg, logger, args[1:], stdout)
	case "user":
		return cmdUser(ctx, cfg, logger, args[1:], os.Stdin, stdout, stderr)
	case "bi":
		return cmdBI(ctx, cfg, args[1:], stdout, stderr)
	case "gdpr":
		return cmdGDPR(ctx, cfg, logger, args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(ctx, cfg, logger, args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(ctx, cfg, logger, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "calore: unknown command %q\n\n%s", args[0], usage)
		return errUsage
	}
}
