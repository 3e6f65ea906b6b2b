package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore/ingest"
)

// rehearsal is the order of the migration rehearsal (docs/import.md): the
// files of cmd/calore/testdata/rehearsal, a small university's export from
// its old systems (Italian headers, student numbers and event codes,
// namesakes, enumerations in the old system's words, attendance without
// times, newsletter history from MailUp). scripts/rehearsal runs the same.
var rehearsal = []struct {
	kind, file string
	flags      []string
}{
	{"contacts", "anagrafica.csv", []string{"--default-kind", "alumnus", "--allow-partial"}}, // one row has a broken address
	{"organisations", "aziende.csv", nil},
	{"affiliations", "impieghi.csv", nil},
	{"events", "eventi.csv", nil},
	{"registrations", "presenze.csv", nil},
	{"donations", "donazioni.csv", []string{"--mapping", "mapping-donazioni.json"}},
	{"campaign-activity", "newsletter.csv", nil},
}

var (
	reportLine = regexp.MustCompile(`: (\d+) rows; (\d+) created, (\d+) updated, (\d+) unchanged, (\d+) conflicts, (\d+) bad rows`)
	campLine   = regexp.MustCompile(`(\d+) campaigns created, (\d+) unsubscribes recorded, (\d+) opens and clicks`)
)

// TestMigrationRehearsal imports the rehearsal export end to end, twice, and checks
// that every good row reached the warehouse (each count equals what the
// import reported creating, which equals the file's rows less its bad ones),
// that nothing was dead-lettered, and that after `calore score` every
// alumnus has a heat and a donation score. Seen failing with the value
// mappings ignored (donations: bad rows for "membership", "research").
func TestMigrationRehearsal(t *testing.T) {
	t.Parallel()
	getenv, cfg := pipeline(t)
	dir := filepath.Join("testdata", "rehearsal")
	created := map[string]uint64{}
	var campaigns, hits uint64
	// the second pass imports the same export again: source keys and natural
	// keys find every record, nothing is created or changed, and the
	// warehouse counts stay those of the first pass
	for pass := 1; pass <= 2; pass++ {
		for _, f := range rehearsal {
			args := []string{"import", "--kind", f.kind, "--source", "esse3"}
			for i := 0; i < len(f.flags); i++ {
				args = append(args, f.flags[i])
				if f.flags[i] == "--mapping" {
					i++
					args = append(args, filepath.Join(dir, f.flags[i]))
				}
			}
			var out, errOut bytes.Buffer
			if err := run(context.Background(), append(args, filepath.Join(dir, f.file)), getenv, &out, &errOut); err != nil {
				t.Fatalf("import %s: %v\n%s%s", f.file, err, out.String(), errOut.String())
			}
			m := reportLine.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("import %s: no report line:\n%s", f.file, out.String())
			}
			n := func(i int) uint64 { v, _ := strconv.ParseUint(m[i], 10, 64); return v }
			rows, made, updated, unchanged, conflicts, bad := n(1), n(2), n(3), n(4), n(5), n(6)
			if conflicts != 0 || updated != 0 || (pass == 1 && unchanged != 0) || (pass == 2 && made != 0) {
				t.Errorf("import %s, pass %d: %d created, %d updated, %d unchanged, %d conflicts:\n%s", f.file, pass, made, updated, unchanged, conflicts, out.String())
			}
			if f.kind != "campaign-activity" && made+unchanged != rows-bad {
				t.Errorf("import %s: %d created and %d unchanged of %d rows with %d bad:\n%s", f.file, made, unchanged, rows, bad, out.String())
			}
			if want := map[bool]uint64{true: 1, false: 0}[f.kind == "contacts"]; bad != want {
				t.Errorf("import %s: %d bad rows, want %d (contacts: the one broken address):\n%s", f.file, bad, want, out.String())
			}
			t.Logf("pass %d: %s", pass, strings.SplitN(out.String(), "\n", 2)[0])
			c := campLine.FindStringSubmatch(out.String())
			if pass == 2 {
				if c != nil && (c[1] != "0" || c[2] != "0" || c[3] != strconv.FormatUint(hits, 10)) {
					t.Errorf("campaign activity again: %s", c[0])
				}
				continue
			}
			created[f.kind] = made
			if c != nil {
				campaigns, _ = strconv.ParseUint(c[1], 10, 64)
				hits, _ = strconv.ParseUint(c[3], 10, 64)
			}
		}
	}
	if hits == 0 || campaigns == 0 {
		t.Fatalf("the newsletter history gave %d campaigns and %d hits", campaigns, hits)
	}
	for _, c := range []struct {
		query string
		want  uint64
	}{
		{`SELECT uniqExact(id) FROM dim_people`, created["contacts"]},
		// namesakes, two without an address: each row is a person of their own
		{`SELECT uniqExact(id) FROM dim_people WHERE last_name = 'Bianchi' AND first_name = 'Marco'`, countWhere(t, "anagrafica.csv", "Marco", "Bianchi")},
		{`SELECT uniqExact(id) FROM dim_organisations`, created["organisations"]},
		{`SELECT uniqExact(aggregate_id) FROM change_log WHERE aggregate = 'affiliation'`, created["affiliations"]},
		{`SELECT uniqExact(id) FROM dim_events`, created["events"]},
		{`SELECT uniqExact(id) FROM fact_registrations`, created["registrations"]},
		{`SELECT count() FROM fact_registrations FINAL WHERE status = 'attended' AND attended = 0`, 0},
		{`SELECT uniqExact(id) FROM fact_donations`, created["donations"]},
		{`SELECT uniqExact(id) FROM dim_campaigns`, campaigns},
		{`SELECT uniqExact(id) FROM fact_sends`, created["campaign-activity"]},
		{`SELECT uniqExact(event_id) FROM tracking_events WHERE kind IN ('email.open', 'email.click')`, hits},
	} {
		waitCount(t, cfg, 90*time.Second, c.want, c.query)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"score", "--as-of", "2026-01-01", "--rollup=false", "heat", "donation"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("score: %v\n%s", err, out.String())
	}
	t.Logf("score:\n%s", out.String())
	alumni := chCount(t, cfg, `SELECT uniqExact(id) FROM dim_people WHERE kind = 'alumnus'`)
	if alumni != created["contacts"] {
		t.Errorf("%d alumni in the warehouse, %d imported", alumni, created["contacts"])
	}
	for _, model := range []string{"heat"} {
		q := fmt.Sprintf(`SELECT uniqExact(person_id) FROM person_scores WHERE model = '%s' AND as_of = '2026-01-01'
			AND person_id IN (SELECT id FROM dim_people WHERE kind = 'alumnus')`, model)
		if got := chCount(t, cfg, q); got != alumni {
			t.Errorf("%s scores for %d of %d alumni\n%s", model, got, alumni, out.String())
		}
	}
	// KNOWN LIMIT (issue 14 stays open on it): the donation model reads its
	// features point in time from the change log (issue 18), and every
	// imported record's first version is dated the day of the import, so
	// history imported today cannot train a model as of an earlier day: the
	// job is skipped and says why. Before the point-in-time features the
	// rehearsal scored every alumnus (hold-out ROC AUC 0.91). A cut-over rule
	// (records first loaded by the migration count as known since their
	// business dates) is the fix to build; this assertion then becomes
	// "donation scores for every alumnus" again.
	if !strings.Contains(out.String(), "donation: skipped (") || !strings.Contains(out.String(), "not enough data") {
		t.Errorf("the donation job on day-one history: want it skipped for lack of dated history, got\n%s", out.String())
	}
	if n := topicMessages(t, cfg, ingest.TopicDeadLetter); n != 0 {
		t.Errorf("dead-letter topic holds %d messages, want 0", n)
	}
}

// countWhere counts the rows of a rehearsal file with a first and last name.
func countWhere(t *testing.T, file, first, last string) uint64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rehearsal", file))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ";")
		if len(f) > 2 && f[1] == first && f[2] == last {
			n++
		}
	}
	return n
}
