package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestAppRoleHasLeastPrivilege connects as the application role (CALORE_PG_DSN)
// to a database the owner role (CALORE_PG_MIGRATE_DSN) migrated and granted, as
// `calore migrate` does: the role is no superuser, reads and writes rows,
// listens and notifies, and is refused every statement an attacker holding its
// password would want (DDL, the password hashes, a shell through COPY). A table
// a later migration creates is usable without another grant (default
// privileges). Seen failing with CALORE_PG_DSN set to the superuser, and the
// last case with the ALTER DEFAULT PRIVILEGES lines of grant_app.sql removed.
func TestAppRoleHasLeastPrivilege(t *testing.T) {
	t.Parallel()
	itest.Env(t, "CALORE_PG_MIGRATE_DSN")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := pgtest.NewMigrated(t)
	app, err := pgx.Connect(ctx, db.App)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)

	var super, createDB, createRole, bypassRLS bool
	if err := app.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user`).
		Scan(&super, &createDB, &createRole, &bypassRLS); err != nil {
		t.Fatal(err)
	}
	if super || createDB || createRole || bypassRLS {
		t.Errorf("application role: superuser %v, createdb %v, createrole %v, bypassrls %v; want none", super, createDB, createRole, bypassRLS)
	}

	allowed := []string{
		`SELECT count(*) FROM people`,
		`UPDATE people SET version = version WHERE false`,
		`DELETE FROM people WHERE false`,
		`LISTEN calore_probe`,
		`NOTIFY calore_probe`,
		`SELECT max(version_id) FROM goose_db_version`, // calore version
	}
	for _, q := range allowed {
		if _, err := app.Exec(ctx, q); err != nil {
			t.Errorf("application role refused %q: %v", q, err)
		}
	}

	denied := []struct{ name, sql string }{
		{"create a table", `CREATE TABLE probe (x int)`},
		{"truncate a table", `TRUNCATE saved_dashboards`},
		{"drop a table", `DROP TABLE saved_dashboards`},
		{"alter a table", `ALTER TABLE people ADD COLUMN probe int`},
		{"create a function", `CREATE FUNCTION probe() RETURNS int LANGUAGE sql AS 'SELECT 1'`},
		{"read the password hashes", `SELECT rolpassword FROM pg_authid`},
		{"run a program", `COPY (SELECT 1) TO PROGRAM 'true'`},
		{"read a server file", `SELECT pg_read_file('postgresql.conf')`},
		{"create a role", `CREATE ROLE probe`},
		{"create a database", `CREATE DATABASE probe_` + strings.ToLower(itest.Name(""))},
		{"rewrite the migration history", `DELETE FROM goose_db_version`},
	}
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			// no transaction (CREATE DATABASE refuses one): a probe that gets
			// through changes a database dropped at the end of the test
			if _, err := app.Exec(ctx, d.sql); err == nil {
				t.Errorf("the application role may %s: %s", d.name, d.sql)
			}
		})
	}

	t.Run("a later migration's table", func(t *testing.T) {
		owner, err := postgres.Open(ctx, db.Owner)
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close()
		if _, err := owner.Exec(ctx, `CREATE TABLE later_migration (id bigserial PRIMARY KEY, x int)`); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Exec(ctx, `INSERT INTO later_migration (x) VALUES (1)`); err != nil {
			t.Errorf("the application role cannot write a table created after the grant: %v", err)
		}
	})
}
