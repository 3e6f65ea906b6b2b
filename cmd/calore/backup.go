package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
)

// A backup directory holds:
//
//	manifest.json               versions, and rows and a checksum per table
//	postgres.dump               pg_dump --format=custom of the store (owner DSN)
//	clickhouse/<table>.native   SELECT * FROM <table> FORMAT Native, per warehouse table
//
// The warehouse is copied, not rebuilt: tracking hits, scores, model
// evaluations and the rollups exist only there. The bi database is not
// copied: its tables are filled by materialized views from the warehouse
// tables, so the restore's inserts fill it again.

const backupFormat = 1

// backupManifest is manifest.json.
type backupManifest struct {
	Format     int              `json:"format"`
	Calore     string           `json:"calore_version"`
	Created    time.Time        `json:"created"`
	Postgres   backupStore      `json:"postgres"`
	ClickHouse backupStore      `json:"clickhouse"`
	Took       string           `json:"took"`
	Files      map[string]int64 `json:"files"` // bytes per file
	// DDL is SHOW CREATE TABLE of each warehouse table, for the tables
	// that migrate does not create (e.g. the seed's synthetic_propensity);
	// the restore creates those before loading them.
	DDL map[string]string `json:"clickhouse_ddl"`
	// From is the warehouse database the DDL names.
	From string `json:"clickhouse_database"`
}

type backupStore struct {
	Server string        `json:"server"`
	Schema string        `json:"schema"` // the schema version, as `calore version` prints it
	Tables []tableDigest `json:"tables"`
}

// tableDigest is what the drill compares: rows (for ClickHouse
// ReplacingMergeTree tables, rows as FINAL sees them, which background
// merges do not change) and an order-free checksum of their content.
type tableDigest struct {
	Name     string `json:"name"`
	Rows     uint64 `json:"rows"`
	Checksum string `json:"checksum"`
}

// cmdBackup is `calore backup DIR`.
func cmdBackup(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: calore backup DIR   (DIR must not exist or be empty)")
		return errUsage
	}
	dir := args[0]
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("backup: %s is not empty", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "clickhouse"), 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, tool := range []string{"pg_dump", "clickhouse-client"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("backup needs %s on PATH (Debian: postgresql-client, clickhouse-client): %w", tool, err)
		}
	}
	start := time.Now()
	m := backupManifest{Format: backupFormat, Calore: version, Created: start.UTC(), Files: map[string]int64{},
		DDL: map[string]string{}, From: cfg.ClickHouse.Database}
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "backup: "+format+"\n", a...)
	}

	// PostgreSQL
	dump := filepath.Join(dir, "postgres.dump")
	t0 := time.Now()
	if err := runPG(ctx, cfg.PostgresMigrateDSN, "pg_dump", nil, "--format=custom", "--file="+dump); err != nil {
		return fmt.Errorf("backup postgres: %w", err)
	}
	var err error
	if m.Postgres, err = pgDigest(ctx, cfg); err != nil {
		return fmt.Errorf("backup postgres: %w", err)
	}
	m.Files["postgres.dump"] = fileSize(dump)
	progress("postgres: %d tables, %d bytes in %s", len(m.Postgres.Tables), m.Files["postgres.dump"], time.Since(t0).Round(time.Millisecond))

	// ClickHouse
	ch, err := chClient(cfg, dir)
	if err != nil {
		return err
	}
	defer ch.cleanup()
	if m.ClickHouse, err = chDigest(ctx, cfg); err != nil {
		return fmt.Errorf("backup clickhouse: %w", err)
	}
	if m.DDL, err = chDDL(ctx, cfg, m.ClickHouse.Tables); err != nil {
		return fmt.Errorf("backup clickhouse: %w", err)
	}
	for _, t := range m.ClickHouse.Tables {
		t0 := time.Now()
		name := "clickhouse/" + t.Name + ".native"
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("backup clickhouse %s: %w", t.Name, err)
		}
		err = ch.run(ctx, fmt.Sprintf("SELECT * FROM %s.`%s` FORMAT Native", cfg.ClickHouse.Database, t.Name), nil, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("backup clickhouse %s: %w", t.Name, err)
		}
		m.Files[name] = fileSize(filepath.Join(dir, name))
		progress("clickhouse %s: %d rows, %d bytes in %s", t.Name, t.Rows, m.Files[name], time.Since(t0).Round(time.Millisecond))
	}
	// counted again after the copy: a table written meanwhile makes the
	// manifest disagree with its file, so refuse (stop the writers first)
	again, err := chDigest(ctx, cfg)
	if err != nil {
		return fmt.Errorf("backup clickhouse: %w", err)
	}
	if !slices.Equal(again.Tables, m.ClickHouse.Tables) {
		return errors.New("backup clickhouse: the warehouse changed during the backup; stop relay, sink, serve and score and run it again")
	}
	m.Took = time.Since(start).Round(time.Millisecond).String()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("backup manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("backup manifest: %w", err)
	}
	logger.InfoContext(ctx, "backup written", "dir", dir, "took", m.Took)
	fmt.Fprintf(stdout, "backup: %s: postgres %d tables, clickhouse %d tables, in %s\n", dir, len(m.Postgres.Tables), len(m.ClickHouse.Tables), m.Took)
	return nil
}

// cmdRestore is `calore restore DIR`: into a fresh (empty) store and
// warehouse, then checks every table's rows and checksum against the
// manifest.
func cmdRestore(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: calore restore DIR   (into an empty PostgreSQL database and ClickHouse database)")
		return errUsage
	}
	dir := args[0]
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var m backupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("restore: manifest.json: %w", err)
	}
	if m.Format != backupFormat {
		return fmt.Errorf("restore: backup format %d, this binary reads %d", m.Format, backupFormat)
	}
	for name, size := range m.Files {
		if got := fileSize(filepath.Join(dir, name)); got != size {
			return fmt.Errorf("restore: %s has %d bytes, the manifest says %d", name, got, size)
		}
	}
	for _, tool := range []string{"pg_restore", "clickhouse-client"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("restore needs %s on PATH: %w", tool, err)
		}
	}
	progress := func(format string, a ...any) {
		fmt.Fprintf(stderr, "restore: "+format+"\n", a...)
	}
	start := time.Now()

	// PostgreSQL: only into an empty database
	pg, err := pgx.Connect(ctx, cfg.PostgresMigrateDSN)
	if err != nil {
		return fmt.Errorf("restore postgres: %w", err)
	}
	var n int
	err = pg.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`).Scan(&n)
	pg.Close(ctx)
	if err != nil {
		return fmt.Errorf("restore postgres: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("restore postgres: the database holds %d tables; restore needs a fresh database (createdb, owned by the CALORE_PG_MIGRATE_DSN role)", n)
	}
	t0 := time.Now()
	if err := runPG(ctx, cfg.PostgresMigrateDSN, "pg_restore", nil, "--no-owner", "--exit-on-error", "--single-transaction", filepath.Join(dir, "postgres.dump")); err != nil {
		return fmt.Errorf("restore postgres: %w", err)
	}
	progress("postgres: restored in %s", time.Since(t0).Round(time.Millisecond))

	// the warehouse's schema (and the bi views, the grants, the topics)
	var mout bytes.Buffer
	if err := cmdMigrate(ctx, cfg, logger, &mout); err != nil {
		return fmt.Errorf("restore: migrate: %w", err)
	}
	chNow, err := chDigest(ctx, cfg)
	if err != nil {
		return fmt.Errorf("restore clickhouse: %w", err)
	}
	if chNow.Schema != m.ClickHouse.Schema {
		return fmt.Errorf("restore clickhouse: the backup was taken at %q, this binary migrates to %q: restore with the binary that took it", m.ClickHouse.Schema, chNow.Schema)
	}
	exists := map[string]bool{}
	for _, t := range chNow.Tables {
		if t.Rows > 0 {
			return fmt.Errorf("restore clickhouse: %s already holds %d rows; restore needs an empty warehouse database", t.Name, t.Rows)
		}
		exists[t.Name] = true
	}
	if err := chCreateMissing(ctx, cfg, m, exists); err != nil {
		return fmt.Errorf("restore clickhouse: %w", err)
	}
	ch, err := chClient(cfg, dir)
	if err != nil {
		return err
	}
	defer ch.cleanup()
	for _, t := range m.ClickHouse.Tables {
		t0 := time.Now()
		if m.Files["clickhouse/"+t.Name+".native"] == 0 {
			progress("clickhouse %s: empty", t.Name)
			continue
		}
		f, err := os.Open(filepath.Join(dir, "clickhouse", t.Name+".native"))
		if err != nil {
			return fmt.Errorf("restore clickhouse %s: %w", t.Name, err)
		}
		err = ch.run(ctx, fmt.Sprintf("INSERT INTO %s.`%s` FORMAT Native", cfg.ClickHouse.Database, t.Name), f, io.Discard)
		f.Close()
		if err != nil {
			return fmt.Errorf("restore clickhouse %s: %w", t.Name, err)
		}
		progress("clickhouse %s: %d rows in %s", t.Name, t.Rows, time.Since(t0).Round(time.Millisecond))
	}

	// check
	pgNow, err := pgDigest(ctx, cfg)
	if err != nil {
		return fmt.Errorf("restore check: %w", err)
	}
	if chNow, err = chDigest(ctx, cfg); err != nil {
		return fmt.Errorf("restore check: %w", err)
	}
	var bad []string
	bad = append(bad, diffDigests("postgres", m.Postgres.Tables, pgNow.Tables)...)
	bad = append(bad, diffDigests("clickhouse", m.ClickHouse.Tables, chNow.Tables)...)
	if len(bad) > 0 {
		return fmt.Errorf("restore check failed:\n  %s", strings.Join(bad, "\n  "))
	}
	fmt.Fprintf(stdout, "restore: %s: postgres %d tables, clickhouse %d tables, every row count and checksum as in the manifest, in %s\n",
		dir, len(pgNow.Tables), len(chNow.Tables), time.Since(start).Round(time.Millisecond))
	return nil
}

// diffDigests lists the tables whose rows or checksum differ.
func diffDigests(store string, want, got []tableDigest) []string {
	have := map[string]tableDigest{}
	for _, t := range got {
		have[t.Name] = t
	}
	var bad []string
	for _, w := range want {
		g, ok := have[w.Name]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s %s: missing", store, w.Name))
		case g != w:
			bad = append(bad, fmt.Sprintf("%s %s: %d rows (checksum %s), backup had %d (%s)", store, w.Name, g.Rows, g.Checksum, w.Rows, w.Checksum))
		}
	}
	return bad
}

// pgDigest lists every table of the store with its rows and a checksum.
func pgDigest(ctx context.Context, cfg config.Config) (backupStore, error) {
	pool, err := postgres.Open(ctx, cfg.PostgresMigrateDSN)
	if err != nil {
		return backupStore{}, err
	}
	defer pool.Close()
	var st backupStore
	if err := pool.QueryRow(ctx, `SELECT version()`).Scan(&st.Server); err != nil {
		return st, fmt.Errorf("postgres version: %w", err)
	}
	status, err := postgres.SchemaStatus(ctx, pool)
	if err != nil {
		return st, err
	}
	st.Schema = fmt.Sprint(status)
	rows, err := pool.Query(ctx, `SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return st, fmt.Errorf("list postgres tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return st, fmt.Errorf("list postgres tables: %w", err)
	}
	for _, name := range names {
		// name is quoted by format('%I'); the checksum is the md5 of the
		// sorted rows' text
		t := tableDigest{Name: name}
		if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(md5(string_agg(r::text, E'\n' ORDER BY r::text)), '') FROM `+name+` r`).Scan(&t.Rows, &t.Checksum); err != nil {
			return st, fmt.Errorf("digest %s: %w", name, err)
		}
		st.Tables = append(st.Tables, t)
	}
	return st, nil
}

// chDigest lists the warehouse's tables that hold data (MergeTree family;
// views hold none, schema_migrations is written by migrate) with rows and
// an order-free checksum.
func chDigest(ctx context.Context, cfg config.Config) (backupStore, error) {
	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return backupStore{}, err
	}
	defer conn.Close()
	var st backupStore
	if err := conn.QueryRow(ctx, `SELECT version()`).Scan(&st.Server); err != nil {
		return st, fmt.Errorf("clickhouse version: %w", err)
	}
	status, err := warehouse.SchemaStatus(ctx, conn)
	if err != nil {
		return st, err
	}
	st.Schema = fmt.Sprint(status)
	rows, err := conn.Query(ctx, `SELECT name, engine FROM system.tables
		WHERE database = ? AND engine LIKE '%MergeTree' AND name != 'schema_migrations' AND NOT startsWith(name, '.') ORDER BY name`, cfg.ClickHouse.Database)
	if err != nil {
		return st, fmt.Errorf("list clickhouse tables: %w", err)
	}
	type table struct{ name, engine string }
	var tables []table
	for rows.Next() {
		var t table
		if err := rows.Scan(&t.name, &t.engine); err != nil {
			rows.Close()
			return st, fmt.Errorf("list clickhouse tables: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("list clickhouse tables: %w", err)
	}
	for _, t := range tables {
		crows, err := conn.Query(ctx, `SELECT name FROM system.columns WHERE database = ? AND table = ?`, cfg.ClickHouse.Database, t.name)
		if err != nil {
			return st, fmt.Errorf("columns of %s: %w", t.name, err)
		}
		var cols []string
		for crows.Next() {
			var c string
			if err := crows.Scan(&c); err != nil {
				crows.Close()
				return st, fmt.Errorf("columns of %s: %w", t.name, err)
			}
			cols = append(cols, "`"+c+"`")
		}
		crows.Close()
		final := ""
		if strings.Contains(t.engine, "Replacing") || strings.Contains(t.engine, "Collapsing") {
			final = " FINAL"
		}
		d := tableDigest{Name: t.name}
		var sum uint64
		// one hash per row from its text form (every type has one), summed
		q := fmt.Sprintf("SELECT count(), sum(cityHash64(%s)) FROM %s.`%s`%s", strings.Join(toStrings(cols), ", "), cfg.ClickHouse.Database, t.name, final)
		if err := conn.QueryRow(ctx, q).Scan(&d.Rows, &sum); err != nil {
			return st, fmt.Errorf("digest %s: %w", t.name, err)
		}
		d.Checksum = fmt.Sprintf("%016x", sum)
		st.Tables = append(st.Tables, d)
	}
	return st, nil
}

// chDDL is SHOW CREATE TABLE of each table.
func chDDL(ctx context.Context, cfg config.Config, tables []tableDigest) (map[string]string, error) {
	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ddl := map[string]string{}
	for _, t := range tables {
		var stmt string
		if err := conn.QueryRow(ctx, fmt.Sprintf("SHOW CREATE TABLE %s.`%s`", cfg.ClickHouse.Database, t.Name)).Scan(&stmt); err != nil {
			return nil, fmt.Errorf("show create table %s: %w", t.Name, err)
		}
		ddl[t.Name] = stmt
	}
	return ddl, nil
}

// chCreateMissing creates the backed-up tables that migrate did not
// (exists), from their DDL, in the target database.
func chCreateMissing(ctx context.Context, cfg config.Config, m backupManifest, exists map[string]bool) error {
	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, t := range m.ClickHouse.Tables {
		if exists[t.Name] {
			continue
		}
		stmt, ok := m.DDL[t.Name]
		if !ok {
			return fmt.Errorf("table %s: not created by migrate and no DDL in the manifest", t.Name)
		}
		for _, from := range []string{m.From + ".`" + t.Name + "`", m.From + "." + t.Name} {
			stmt = strings.Replace(stmt, "TABLE "+from, "TABLE "+cfg.ClickHouse.Database+".`"+t.Name+"`", 1)
		}
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create %s: %w", t.Name, err)
		}
	}
	return nil
}

func toStrings(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "toString(" + c + ")"
	}
	return out
}

// runPG runs a PostgreSQL client tool against dsn, the password passed in
// PGPASSWORD rather than on the command line.
func runPG(ctx context.Context, dsn, tool string, stdin io.Reader, args ...string) error {
	env := os.Environ()
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
			dsn = u.String()
		}
	}
	cmd := exec.CommandContext(ctx, tool, append(args, "--dbname="+dsn)...)
	cmd.Env, cmd.Stdin = env, stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// chCLI runs clickhouse-client with the connection in a private config
// file (the password kept off the command line).
type chCLI struct {
	conf, host, port string
}

func chClient(cfg config.Config, dir string) (*chCLI, error) {
	if len(cfg.ClickHouse.Addr) == 0 {
		return nil, errors.New("clickhouse: no address (CALORE_CLICKHOUSE_ADDR)")
	}
	host, port, ok := strings.Cut(cfg.ClickHouse.Addr[0], ":")
	if !ok {
		port = "9000"
	}
	f, err := os.CreateTemp(dir, ".clickhouse-client-*.xml")
	if err != nil {
		return nil, fmt.Errorf("clickhouse client config: %w", err)
	}
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	_, err = fmt.Fprintf(f, "<config><user>%s</user><password>%s</password></config>\n", esc(cfg.ClickHouse.User), esc(cfg.ClickHouse.Password))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("clickhouse client config: %w", err)
	}
	return &chCLI{conf: f.Name(), host: host, port: port}, nil
}

func (c *chCLI) cleanup() { _ = os.Remove(c.conf) }

func (c *chCLI) run(ctx context.Context, query string, stdin io.Reader, stdout io.Writer) error {
	cmd := exec.CommandContext(ctx, "clickhouse-client", "--config-file="+c.conf, "--host="+c.host, "--port="+c.port, "--query="+query)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("clickhouse-client: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}
