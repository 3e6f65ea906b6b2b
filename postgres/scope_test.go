package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestScopedStore: the store's scoped methods keep to the scope they are
// given, whatever the query asks: interactions by their office, donations
// as the fundraising office's; the zero scope reaches nothing.
// Seen failing with scopeCond returning no condition and mayWrite allowing
// all: every scope read and changed every record.
func TestScopedStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	p := &calore.Person{Kind: calore.KindAlumnus, LastName: "Scoped"}
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	ids := map[string]int64{}
	for _, o := range []string{"alumni", "fundraising", ""} {
		i := &calore.Interaction{PersonID: &p.ID, Channel: calore.ChannelNote, OccurredAt: at, Notes: "of " + o, Office: o}
		if err := s.CreateInteraction(ctx, i); err != nil {
			t.Fatal(err)
		}
		ids[o] = i.ID
	}
	d := &calore.Donation{PersonID: &p.ID, Amount: "100.00", DonatedOn: at}
	if err := s.CreateDonation(ctx, d); err != nil {
		t.Fatal(err)
	}
	alumniRO := postgres.Scope{Read: []string{"alumni"}}
	alumniEd := postgres.Scope{Read: []string{"alumni"}, Write: []string{"alumni"}}
	fundraising := postgres.Scope{Read: []string{"alumni", "fundraising"}, Write: []string{"fundraising"}}
	all := postgres.Scope{All: true}
	office := func(o string) postgres.SearchQuery {
		return postgres.SearchQuery{Conds: []postgres.Cond{{Col: "office", Op: postgres.OpEq, Value: o}}}
	}
	cases := []struct {
		name  string
		sc    postgres.Scope
		q     postgres.SearchQuery
		total int64 // interactions found
		dons  int64 // donations found
	}{
		{"zero scope", postgres.Scope{}, postgres.SearchQuery{}, 0, 0},
		{"alumni", alumniRO, postgres.SearchQuery{}, 1, 0},
		{"alumni asking for fundraising", alumniRO, office("fundraising"), 0, 0},
		{"fundraising", fundraising, postgres.SearchQuery{}, 2, 1},
		{"fundraising narrowed to alumni", fundraising, office("alumni"), 1, 1},
		{"admin", all, postgres.SearchQuery{}, 3, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, total, err := s.SearchInteractionsIn(ctx, c.sc, c.q)
			if err != nil || total != c.total {
				t.Errorf("interactions: %d %v, want %d", total, err, c.total)
			}
			_, dons, err := s.SearchDonationsIn(ctx, c.sc, postgres.SearchQuery{})
			if err != nil || dons != c.dons {
				t.Errorf("donations: %d %v, want %d", dons, err, c.dons)
			}
		})
	}
	// single reads, changes and deletes
	if _, err := s.InteractionIn(ctx, alumniRO, ids["fundraising"]); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("alumni reads the fundraising note: %v", err)
	}
	if _, err := s.DonationIn(ctx, alumniEd, d.ID); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("alumni reads a donation: %v", err)
	}
	if _, err := s.InteractionIn(ctx, fundraising, ids[""]); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("fundraising reads an interaction of no office: %v", err)
	}
	change := func(sc postgres.Scope, id int64, office string) error {
		return s.UpdateInteractionIn(ctx, sc, &calore.Interaction{Meta: calore.Meta{ID: id, Version: 1}, PersonID: &p.ID,
			Channel: calore.ChannelNote, OccurredAt: at, Notes: "changed", Office: office})
	}
	for _, c := range []struct {
		name   string
		err    error
		wantIs error
	}{
		{"alumni editor changes fundraising", change(alumniEd, ids["fundraising"], "fundraising"), calore.ErrNotFound},
		{"alumni editor claims fundraising's note as alumni", change(alumniEd, ids["fundraising"], "alumni"), calore.ErrNotFound},
		{"fundraising changes an alumni note it reads", change(fundraising, ids["alumni"], "alumni"), calore.ErrForbidden},
		{"alumni editor moves its note to fundraising", change(alumniEd, ids["alumni"], "fundraising"), calore.ErrForbidden},
		{"alumni read-only changes its own office's", change(alumniRO, ids["alumni"], "alumni"), calore.ErrForbidden},
		{"alumni editor deletes fundraising", s.DeleteInteractionIn(ctx, alumniEd, ids["fundraising"], 1), calore.ErrNotFound},
		{"fundraising deletes alumni", s.DeleteInteractionIn(ctx, fundraising, ids["alumni"], 1), calore.ErrForbidden},
		{"alumni creates a fundraising note", s.CreateInteractionIn(ctx, alumniEd, &calore.Interaction{PersonID: &p.ID, Channel: calore.ChannelNote, OccurredAt: at, Office: "fundraising"}), calore.ErrForbidden},
		{"alumni creates a note of no office", s.CreateInteractionIn(ctx, alumniEd, &calore.Interaction{PersonID: &p.ID, Channel: calore.ChannelNote, OccurredAt: at}), calore.ErrInvalid},
		{"alumni changes a donation", s.UpdateDonationIn(ctx, alumniEd, &calore.Donation{Meta: calore.Meta{ID: d.ID, Version: 1}, PersonID: &p.ID, Amount: "1.00", DonatedOn: at}), calore.ErrNotFound},
	} {
		if !errors.Is(c.err, c.wantIs) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.wantIs)
		}
	}
	var notes string
	if err := pool.QueryRow(ctx, `SELECT string_agg(office || ':' || notes || ':' || version, ', ' ORDER BY id) FROM interactions`).Scan(&notes); err != nil {
		t.Fatal(err)
	}
	if want := "alumni:of alumni:1, fundraising:of fundraising:1, :of :1"; notes != want {
		t.Errorf("after the refused changes: %s, want %s", notes, want)
	}
	if got, err := s.Donation(ctx, d.ID); err != nil || got.Amount != "100.00" {
		t.Errorf("donation: %+v %v", got, err)
	}
	// the owner's changes pass
	if err := change(alumniEd, ids["alumni"], "alumni"); err != nil {
		t.Errorf("alumni editor changes its own: %v", err)
	}
	if err := s.DeleteInteractionIn(ctx, fundraising, ids["fundraising"], 1); err != nil {
		t.Errorf("fundraising deletes its own: %v", err)
	}
}
