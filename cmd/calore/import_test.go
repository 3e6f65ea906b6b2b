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
	// Sara Ricci three times, each with her own address: three people. Then a
	// row without an address: Giulia Verdi (one person of that name) is
	// updated; Sara Ricci (two people now) is a conflict naming them.
	namesakes := filepath.Join(dir, "namesakes.csv")
	if err := os.WriteFile(namesakes, []byte("Nome;Cognome;Email\nSara;Ricci;sara.ricci@example.com\nSara;Ricci;s.ricci@example.org\nGiulia;Verdi;giulia@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nameOnly := filepath.Join(dir, "name-only.csv")
	if err := os.WriteFile(nameOnly, []byte("Nome;Cognome;Città\nGiulia;Verdi;Pavia\nSara;Ricci;Lodi\n"), 0o600); err != nil {
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
		name    string
		args    []string
		want    []string
		wantErr string // rows left out without --allow-partial: the run fails, saying so
	}{
		{"dry run", []string{"import", "--kind", "contacts", "--dry-run", file},
			[]string{"dry run, nothing written", "1 created", "bad row 3, column C (Email): not an email address"},
			"1 of 2 rows left out (1 bad, 0 in conflict; listed above); dry run, nothing written"},
		{"import, flags after the file", []string{"import", file, "--kind=contacts", "--source", "portale", "--mapping", mapping},
			[]string{"(imported)", "1 created", "1 bad rows", `source "portale"`, "columns not imported: D (Telefono)"},
			"1 of 2 rows left out (1 bad, 0 in conflict; listed above); the other rows were imported"},
		{"again, partial accepted", []string{"import", "--kind", "contacts", "--source", "portale", "--mapping", mapping, "--allow-partial", file},
			[]string{"0 created, 0 updated, 1 unchanged"}, ""},
		{"namesakes with their own emails are different people", []string{"import", "--kind", "contacts", namesakes},
			[]string{"3 created, 0 updated, 0 unchanged, 0 conflicts, 0 bad rows"}, ""},
		{"a namesake without an email is matched by name", []string{"import", "--kind", "contacts", "--allow-partial", nameOnly},
			[]string{"0 created, 1 updated", "1 conflicts", "2 people are named sara ricci"}, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(ctx, tt.args, getenv, &out, &errOut)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Fatalf("%s: %v\n%s", tt.name, err, errOut.String())
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.wantErr)
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
