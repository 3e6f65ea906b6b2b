package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestImportCommand runs `calore import` end to end on a migrated database:
// a dry run, the import, and the same file again.
func TestImportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewMigrated(t).App // the command runs as the application role
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "iscritti.csv")
	if err := os.WriteFile(file, []byte("Nome;Cognome;Email;Telefono\nMario;Rossi;mario@example.com;333 1234567\nAnna;;anna@;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mapping := filepath.Join(dir, "mapping.json")
	if err := os.WriteFile(mapping, []byte(`{"Telefono": "-"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"CALORE_PG_DSN": dsn, "CALORE_LOG_LEVEL": "warn"}[k]
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"dry run", []string{"import", "--kind", "contacts", "--dry-run", file},
			[]string{"dry run, nothing written", "1 created", "bad row 3, column C (Email): not an email address"}},
		{"import, flags after the file", []string{"import", file, "--kind=contacts", "--source", "portale", "--mapping", mapping},
			[]string{"(imported)", "1 created", "1 bad rows", `source "portale"`, "columns not imported: D (Telefono)"}},
		{"again", []string{"import", "--kind", "contacts", "--source", "portale", "--mapping", mapping, file},
			[]string{"0 created, 0 updated, 1 unchanged"}},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if err := run(ctx, tt.args, getenv, &out, &errOut); err != nil {
			t.Fatalf("%s: %v\n%s", tt.name, err, errOut.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out.String())
			}
		}
		if !strings.Contains(errOut.String(), "import: merging") {
			t.Errorf("%s: no progress lines on stderr:\n%s", tt.name, errOut.String())
		}
	}
	var phones int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM person_phones`).Scan(&phones); err != nil || phones != 0 {
		t.Errorf("phones %d, %v: the dry run or the mapped-out column wrote", phones, err)
	}

	for _, bad := range [][]string{
		{"import", file},                     // no kind
		{"import", "--kind", "people", file}, // unknown kind
		{"import", "--kind", "contacts"},     // no file
		{"import", "--kind", "contacts", "--policy", "city=replace", file},
		{"import", "--kind", "contacts", "--match", "phone", file},
	} {
		var out, errOut bytes.Buffer
		if err := run(ctx, bad, getenv, &out, &errOut); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
