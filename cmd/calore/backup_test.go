package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/synthetic/load"
	"github.com/calore-crm/calore/warehouse"
)

// TestBackupRestoreDrill loads a small synthetic university (store and
// warehouse, tracking hits included) and scores it, backs it up with
// `calore backup`, restores it with `calore restore` into a fresh PostgreSQL
// database and a fresh ClickHouse database, and compares every table's rows
// and checksum of the two stacks, the scores among them.
//
// Seen failing with the warehouse copy switched off (restore skipping the
// INSERT of the .native files): every warehouse table then differs.
func TestBackupRestoreDrill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	getenv, cfg := migrated(t)
	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ch, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	s := synthetic.Scale{Name: "drill", Alumni: 400, NewsletterContacts: 300, Journalists: 10, Organisations: 20,
		Referents: 60, ProspectsPerYear: 40, Years: 2, DonorsPerYear: 15, EventsPerYear: 4, AppealsPerYear: 1,
		WebVisitsPerAlumni: 1, AsOf: synthetic.DefaultAsOf}
	if _, err := load.Run(ctx, pool, ch, s, 7, nil); err != nil {
		t.Fatalf("load: %v", err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"score", "--as-of", "2026-01-01"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("score: %v\n%s", err, errOut.String())
	}

	dir := filepath.Join(t.TempDir(), "backup")
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"backup", dir}, getenv, &out, &errOut); err != nil {
		t.Fatalf("backup: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "backup: clickhouse tracking_events:") {
		t.Errorf("no progress line for tracking_events:\n%s", errOut.String())
	}

	// the "wiped" stack: a fresh database on each server
	fresh := testEnv(t)
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"restore", dir}, fresh, &out, &errOut); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	cfg2, err := config.FromEnv(fresh)
	if err != nil {
		t.Fatal(err)
	}

	// compared here, apart from the restore's own check against the manifest
	for _, c := range []struct {
		store   string
		digest  func(context.Context, config.Config) (backupStore, error)
		nonzero []string // tables that must hold rows, or the drill proves nothing
	}{
		{"postgres", pgDigest, []string{"public.people", "public.donations", "public.registrations"}},
		{"clickhouse", chDigest, []string{"tracking_events", "person_scores", "fact_donations", "dim_people"}},
	} {
		before, err := c.digest(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		after, err := c.digest(ctx, cfg2)
		if err != nil {
			t.Fatal(err)
		}
		if len(before.Tables) == 0 || len(before.Tables) != len(after.Tables) {
			t.Errorf("%s: %d tables before, %d after", c.store, len(before.Tables), len(after.Tables))
		}
		for _, bad := range diffDigests(c.store, before.Tables, after.Tables) {
			t.Error(bad)
		}
		rows := map[string]uint64{}
		for _, tb := range before.Tables {
			rows[tb.Name] = tb.Rows
		}
		for _, name := range c.nonzero {
			if rows[name] == 0 {
				t.Errorf("%s %s: no rows in the loaded stack", c.store, name)
			}
		}
		t.Logf("%s: %d tables compared: %v", c.store, len(before.Tables), rows)
	}

	// restoring again into the now loaded stack is refused
	if err := run(ctx, []string{"restore", dir}, fresh, &out, &errOut); err == nil || !strings.Contains(err.Error(), "fresh database") {
		t.Errorf("restore into a loaded store: %v, want a refusal", err)
	}
}
