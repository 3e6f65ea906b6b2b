// Package fulluni gives benchmarks the full synthetic university (about
// 630,000 people): loaded once into databases of its own (PostgreSQL and
// ClickHouse database calore_full, Kafka prefix full.) by the real `calore`
// binary, scored as of 2026-01-01, and kept between runs (`calore seed` is a
// no-op when the same university is already there). The scoring and
// dashboard benchmarks share it, whichever runs first loads it.
package fulluni

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// DB is the name of the full university's databases.
const DB = "calore_full"

// DemoDB is the name of the demo university's databases (LoadDemo).
const DemoDB = "calore_demo"

// AsOf is the day the full university is scored as of.
const AsOf = "2026-01-01"

// University is the loaded full university.
type University struct {
	DB  string   // its PostgreSQL and ClickHouse databases
	Bin string   // a `calore` binary built for this run
	Env []string // the environment that points it at the university's databases
}

// Result is one run of the binary.
type Result struct {
	Took   time.Duration
	RSSMiB float64 // peak resident memory of the process
	Out    string
}

// Load returns the full university, creating its databases, migrating,
// seeding and (when it has no scores yet) scoring it as needed; it logs
// what it did and how long it took.
func Load(tb testing.TB) University {
	tb.Helper()
	return load(tb, "full", DB, true)
}

// LoadDemo is Load of the demo university (31,500 people, `calore seed
// --scale demo`) in databases of its own (DemoDB), not scored (the
// model-quality benchmarks score it themselves): a few minutes to load the
// first time.
func LoadDemo(tb testing.TB) University {
	tb.Helper()
	return load(tb, "demo", DemoDB, false)
}

func load(tb testing.TB, scale, db string, score bool) University {
	tb.Helper()
	u := University{DB: db, Env: env(tb, db), Bin: filepath.Join(tb.TempDir(), "calore")}
	if out, err := exec.Command("go", "build", "-o", u.Bin, "github.com/calore-crm/calore/cmd/calore").CombinedOutput(); err != nil {
		tb.Fatalf("build calore: %v\n%s", err, out)
	}
	u.Run(tb, "migrate")
	seed := u.Run(tb, "seed", "--scale", scale, "--seed", "1")
	tb.Logf("%s university: seed (%s, peak RSS %.0f MiB):\n%s", scale, seed.Took.Round(time.Second), seed.RSSMiB, seed.Out)
	if score && !scored(tb, db) {
		s := u.Run(tb, "score", "--as-of", AsOf)
		tb.Logf("%s university: scored as of %s (%s)", scale, AsOf, s.Took.Round(time.Second))
	}
	return u
}

// Run runs the binary on the university and fails tb if it fails.
func (u University) Run(tb testing.TB, args ...string) Result {
	tb.Helper()
	cmd := exec.Command(u.Bin, args...)
	cmd.Env = u.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		tb.Fatalf("calore %v: %v\n%s", args, err, out.String())
	}
	r := Result{Took: time.Since(start), Out: out.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.RSSMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return r
}

// env returns the environment of the university's databases, creating them
// when missing.
func env(tb testing.TB, db string) []string {
	tb.Helper()
	dsn := itest.Env(tb, "CALORE_PG_DSN") // the application role
	owner := os.Getenv("CALORE_PG_MIGRATE_DSN")
	if owner == "" {
		owner = dsn
	}
	ch := warehousetest.Config(tb)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, owner) // creates the database, so owns it and migrates it
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		tb.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
			tb.Fatal(err)
		}
	}
	conn, err := warehouse.Open(ctx, ch)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		tb.Fatal(err)
	}
	onDB := func(dsn string) string {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		u.Path = "/" + db
		return u.String()
	}
	e := append(os.Environ(), "CALORE_PG_DSN="+onDB(dsn), "CALORE_PG_MIGRATE_DSN="+onDB(owner), "CALORE_CLICKHOUSE_DATABASE="+db, "CALORE_LOG_LEVEL=warn")
	if db == DB {
		return append(e, "CALORE_KAFKA_TOPIC_PREFIX=full.")
	}
	return append(e, "CALORE_CLICKHOUSE_BI_DATABASE="+db+"_bi", "CALORE_KAFKA_TOPIC_PREFIX="+db+".")
}

// scored tells whether the university has person scores.
func scored(tb testing.TB, db string) bool {
	tb.Helper()
	c := warehousetest.Config(tb)
	c.Database = db
	conn, err := warehouse.Open(context.Background(), c)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM person_scores").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n > 0
}
