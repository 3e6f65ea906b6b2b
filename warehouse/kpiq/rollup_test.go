package kpiq

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestRefreshReadsOnlyCompleteRefreshes checks that the widgets read the
// newest recorded refresh, never rows of a refresh that did not finish, and
// that old refreshes' partitions are dropped while the newest ones stay.
func TestRefreshReadsOnlyCompleteRefreshes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	if got, err := LatestRefresh(ctx, f.conn); err != nil || got != nil {
		t.Fatalf("latest refresh of an empty warehouse: %v, %v; want none", got, err)
	}
	geo := func() []Count {
		t.Helper()
		g, err := Geography(ctx, f.conn, year2025)
		if err != nil {
			t.Fatal(err)
		}
		return g.Countries
	}
	if got := geo(); len(got) != 0 {
		t.Fatalf("before any refresh: %+v, want nothing", got)
	}

	f.change("person", "created", 1, at("2020-01-01"), person("alumnus", "IT", "Lombardia", 2000))
	f.change("person", "created", 2, at("2020-01-01"), person("student", "FR", "", 0))
	f.load() // refreshes
	first, err := LatestRefresh(ctx, f.conn)
	if err != nil || first == nil {
		t.Fatalf("latest refresh: %v, %v", first, err)
	}
	if first.Rows["rollup_people"] != 2 || first.FinishedAt.Before(first.StartedAt) {
		t.Errorf("refresh %+v: want 2 rollup_people rows, finished after started", first)
	}
	if got := geo(); len(got) != 2 {
		t.Fatalf("after the refresh: %+v, want IT and FR", got)
	}

	// A refresh that wrote rows but stopped before recording itself.
	if err := f.conn.Exec(ctx, `INSERT INTO rollup_people (refresh_id, kind, country, region, people)
		SELECT toUInt64(?), 'alumnus', 'DE', '', 1000`, first.ID+1000); err != nil {
		t.Fatal(err)
	}
	if got := geo(); len(got) != 2 {
		t.Fatalf("with an unfinished refresh's rows: %+v, want only IT and FR", got)
	}

	// A change shows only after the next refresh.
	f.change("person", "deleted", 2, at("2021-01-01"), person("student", "FR", "", 0))
	f.insert()
	if got := geo(); len(got) != 2 {
		t.Fatalf("before the next refresh: %+v, want the refreshed figures", got)
	}
	f.refresh()
	if got := geo(); len(got) != 1 || got[0].Name != "IT" {
		t.Fatalf("after the next refresh: %+v, want IT alone", got)
	}
	second, err := LatestRefresh(ctx, f.conn)
	if err != nil || second == nil || second.ID <= first.ID+1000 {
		t.Fatalf("second refresh %+v (%v): want an id above every earlier one", second, err)
	}

	// Three complete refreshes: pruning (as if half an hour later) drops
	// the first's rows and the unfinished one's, keeps the two newest.
	f.refresh()
	if err := prune(ctx, f.conn, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	rows, err := f.conn.Query(ctx, "SELECT DISTINCT refresh_id FROM rollup_people ORDER BY refresh_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 2 || ids[0] != second.ID {
		t.Errorf("refreshes left after pruning: %v, want the two newest (from %d)", ids, second.ID)
	}
	if got := geo(); len(got) != 1 {
		t.Errorf("after pruning: %+v, want IT alone", got)
	}
}

// TestRefresherRefreshesWhenSourcesChange runs the sink's refresher: a
// refresh at start, none while nothing changes, one after an insert.
func TestRefresherRefreshesWhenSourcesChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Refresher{Conn: f.conn, Every: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}.Run(ctx)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("refresher: %v", err)
		}
	}()
	refreshes := func() uint64 {
		t.Helper()
		var n uint64
		if err := f.conn.QueryRow(context.Background(), "SELECT count() FROM rollup_refreshes").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the first refresh", func() bool { return refreshes() == 1 })
	time.Sleep(500 * time.Millisecond) // five ticks with nothing new
	if n := refreshes(); n != 1 {
		t.Fatalf("%d refreshes with no change, want 1", n)
	}
	f.change("person", "created", 1, at("2020-01-01"), person("alumnus", "IT", "Lombardia", 2000))
	f.insert()
	waitFor("a refresh after the insert", func() bool {
		g, err := Geography(context.Background(), f.conn, year2025)
		return err == nil && len(g.Countries) == 1 && g.Countries[0].Name == "IT"
	})
}
