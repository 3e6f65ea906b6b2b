package warehouse

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/internal/schema"
)

// The bi database: Power BI's and the notebooks' reporting objects
// (docs/powerbi.md). The `powerbi` user may open only that database
// (allow_databases), and ClickHouse 18.16 checks that right for every table a
// query touches, views included: a view in bi reading the warehouse's tables
// is refused to it (tried on 18.16.1, docs/powerbi.md). So bi holds its own
// copies: each src_* table is fed by a materialized view (src_*_feed) on the
// warehouse table it mirrors, so every insert into the warehouse reaches bi in
// the same insert, and is back-filled once when created. The reporting views
// read only those copies and dedup them (argMax over version, uniqExact of ids)
// exactly as the warehouse's own queries do, so copies made twice (a feed and
// its back-fill overlapping) never count twice.
//
// The files under bi/ form a second migration set, recorded in the bi
// database's own schema_migrations. They are templated with exactly two names,
// {{warehouse}} and {{bi}}, both checked to be plain identifiers.

//go:embed bi/*.sql
var biFiles embed.FS

var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// BIObjects lists the reporting views of the bi database, in the order of
// docs/powerbi.md. Tests check each against fixtures and the powerbi user.
var BIObjects = []string{
	"people", "organisations", "donations", "fundraising_days", "registrations", "events", "campaign_performance",
	"scores", "company_clusters", "funnels", "model_evaluations", "model_calibration",
	"model_features", "model_weights", "model_cards", "event_forecasts",
}

func loadBIMigrations(warehouseDB, biDB string) ([]migration, error) {
	for _, n := range []string{warehouseDB, biDB} {
		if !plainIdent.MatchString(n) {
			return nil, fmt.Errorf("bi migrations: %q is not a plain database name", n)
		}
	}
	if warehouseDB == biDB {
		return nil, fmt.Errorf("bi migrations: the bi database must differ from the warehouse database %q", warehouseDB)
	}
	r := strings.NewReplacer("{{warehouse}}", warehouseDB, "{{bi}}", biDB)
	return readMigrations(biFiles, "bi", "bi", func(name, text string) (string, error) {
		sql := r.Replace(text)
		if strings.Contains(sql, "{{") {
			return "", fmt.Errorf("bi migration %s: unknown template name", name)
		}
		return sql, nil
	})
}

// MigrateBI creates the bi database c.BIDatabase when missing and applies the
// bi migration set there, over the warehouse database c.Database (which must
// be migrated already). Like Migrate it applies every file not yet recorded and
// refuses a bi database migrated by a newer binary.
func MigrateBI(ctx context.Context, c config.ClickHouse, logger *slog.Logger) (schema.Result, error) {
	ms, err := loadBIMigrations(c.Database, c.BIDatabase)
	if err != nil {
		return schema.Result{}, err
	}
	admin, err := Open(ctx, c)
	if err != nil {
		return schema.Result{}, err
	}
	err = admin.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.BIDatabase)
	admin.Close()
	if err != nil {
		return schema.Result{}, fmt.Errorf("create bi database %s: %w", c.BIDatabase, err)
	}
	bc := c
	bc.Database = c.BIDatabase
	conn, err := Open(ctx, bc)
	if err != nil {
		return schema.Result{}, err
	}
	defer conn.Close()

	if other, err := biSource(ctx, conn); err != nil {
		return schema.Result{}, err
	} else if other != "" && other != c.Database {
		return schema.Result{}, fmt.Errorf("%w: bi database %s serves warehouse %s, not %s", ErrBIElsewhere, c.BIDatabase, other, c.Database)
	}

	if err := checkNotOlderThanWarehouse(ctx, conn, c.Database); err != nil {
		return schema.Result{}, err
	}

	return apply(ctx, conn, "clickhouse bi", ms, logger)
}

// ErrBIElsewhere: the bi database was built over another warehouse database.
// `calore migrate` reports it and leaves that bi database alone, so that a run
// against a test's warehouse never rewires the stack's bi.
var ErrBIElsewhere = errors.New("bi database belongs to another warehouse")

// biSource returns the warehouse database the bi database was built over
// (its `source` view), or "" for a bi database not built yet.
func biSource(ctx context.Context, conn driver.Conn) (string, error) {
	var n uint64
	if err := conn.QueryRow(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'source'`).Scan(&n); err != nil {
		return "", fmt.Errorf("read bi source: %w", err)
	}
	if n == 0 {
		return "", nil
	}
	var db string
	if err := conn.QueryRow(ctx, `SELECT warehouse_database FROM source`).Scan(&db); err != nil {
		return "", fmt.Errorf("read bi source: %w", err)
	}
	return db, nil
}

// checkNotOlderThanWarehouse refuses a bi database built before its
// warehouse database was (re)created: its copies still hold the old
// warehouse's rows, and the feeds (which follow tables by name) would mix new
// rows in. Dropping the bi database and migrating again rebuilds it.
func checkNotOlderThanWarehouse(ctx context.Context, conn driver.Conn, warehouseDB string) error {
	var n uint64
	if err := conn.QueryRow(ctx, `SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return fmt.Errorf("read bi schema: %w", err)
	}
	if n == 0 {
		return nil
	}
	var biBuilt, whBuilt time.Time
	var biRows, whRows uint64
	if err := conn.QueryRow(ctx, `SELECT min(applied_at), count() FROM schema_migrations`).Scan(&biBuilt, &biRows); err != nil {
		return fmt.Errorf("read bi schema: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT min(applied_at), count() FROM `+warehouseDB+`.schema_migrations`).Scan(&whBuilt, &whRows); err != nil {
		return fmt.Errorf("read warehouse schema of %s: %w", warehouseDB, err)
	}
	if biRows > 0 && whRows > 0 && whBuilt.After(biBuilt) {
		return fmt.Errorf("%w: warehouse %s was created at %s, after this bi database (%s): drop the bi database and run calore migrate again",
			ErrBIStale, warehouseDB, whBuilt.UTC().Format(time.DateTime), biBuilt.UTC().Format(time.DateTime))
	}
	return nil
}

// ErrBIStale: the bi database predates its warehouse database.
var ErrBIStale = errors.New("bi database is older than its warehouse")

// BISchemaStatus reports the bi database's schema version next to the newest
// this binary carries.
func BISchemaStatus(ctx context.Context, c config.ClickHouse) (schema.Status, error) {
	ms, err := loadBIMigrations(c.Database, c.BIDatabase)
	if err != nil {
		return schema.Status{}, err
	}
	bc := c
	bc.Database = c.BIDatabase
	conn, err := Open(ctx, bc)
	if err != nil {
		return schema.Status{}, err
	}
	defer conn.Close()
	current, err := currentVersion(ctx, conn)
	if err != nil {
		return schema.Status{}, err
	}
	return schema.Status{Store: "clickhouse bi", Current: current, Latest: ms[len(ms)-1].version}, nil
}
