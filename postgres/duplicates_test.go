package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

func pairs(cs []calore.DuplicateCandidate) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%d-%d %.2f %s", c.LowID, c.HighID, c.Score, strings.Join(c.Reasons, "+")))
	}
	return strings.Join(out, "; ")
}

func TestFindDuplicatePeople(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.NewStore(pgtest.New(t))
	mk := func(first, last, birth string, grad int, phone string) *calore.Person {
		p := newPerson(first, last)
		if birth != "" {
			p.BirthDate = ptr(day(birth))
		}
		if grad != 0 {
			p.GraduationYear = ptr(grad)
		}
		if phone != "" {
			p.Phones = []calore.Phone{{Type: calore.PhoneMobile, Number: phone}}
		}
		if err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := mk("Mario", "Rossi", "1980-02-01", 2004, "")
	b := mk("MARIO", "ROSSI", "1980-11-30", 0, "")
	c := mk("Mario", "Rosi", "", 2004, "")
	mk("Mario", "Rossi", "1990-01-01", 2010, "") // same name, but born and graduated apart
	e := mk("Giulia", "Verdi", "", 0, "+39 333 1234567")
	f := mk("G.", "Verdi", "", 0, "0039-333-1234567 ")
	f2 := mk("Luca", "Neri", "", 0, "+39 333 1234567")
	_ = f2

	got, err := s.FindDuplicatePeople(ctx, postgres.DuplicateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("%d-%d 0.90 same name+same name and birth year", a.ID, b.ID),
		fmt.Sprintf("%d-%d 0.80 same phone number", e.ID, f2.ID),
	}
	for _, w := range want {
		if !strings.Contains(pairs(got), w) {
			t.Errorf("duplicates %q lack %q", pairs(got), w)
		}
	}
	// "+39…" and "0039…" normalise differently: not (yet) the same number
	if strings.Contains(pairs(got), fmt.Sprintf("%d-%d", e.ID, f.ID)) {
		t.Errorf("duplicates %q pair %d and %d", pairs(got), e.ID, f.ID)
	}
	if len(got) != 2 {
		t.Errorf("found %d pairs, want 2: %s", len(got), pairs(got))
	}

	// one person's pairs also include similar names (pg_trgm)
	got, err = s.FindDuplicatePeople(ctx, postgres.DuplicateQuery{ID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	similar := fmt.Sprintf("%d-%d 0.70 similar name and same birth or graduation year", a.ID, c.ID)
	if p, w := pairs(got), want[0]+"; "+similar; p != w {
		t.Errorf("duplicates of %d: %q, want %q", a.ID, p, w)
	}
	if got, err = s.FindDuplicatePeople(ctx, postgres.DuplicateQuery{ID: c.ID}); err != nil || pairs(got) != similar {
		t.Errorf("duplicates of %d: %q, %v; want %q", c.ID, pairs(got), err, similar)
	}

	if err := s.RejectDuplicate(ctx, "person", c.ID, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, err = s.FindDuplicatePeople(ctx, postgres.DuplicateQuery{ID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if p := pairs(got); p != want[0] {
		t.Errorf("duplicates of %d after rejecting %d: %q, want %q", a.ID, c.ID, p, want[0])
	}
}

func TestMergePeople(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	fx := newFixtures(t, s) // fx.person is a third person, untouched
	confirmed := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

	winner := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Mario", LastName: "Rossi", GraduationYear: ptr(2004), Tags: []string{"donor"},
		Emails:  []calore.Email{{Type: calore.EmailInstitutional, Address: "mario.rossi@alumni.polimi.it"}},
		Sources: []calore.PersonSource{{Source: "portal:alumni", FirstSeenAt: confirmed}}}
	loser := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Mario", LastName: "Rossi", City: "Milano", BirthDate: ptr(day("1980-02-01")), Tags: []string{"mentor", "donor"},
		Emails:  []calore.Email{{Type: calore.EmailPersonal, Address: "mario@example.com", LastConfirmedAt: &confirmed}},
		Phones:  []calore.Phone{{Type: calore.PhoneMobile, Number: "+39 333 1234567"}},
		Sources: []calore.PersonSource{{Source: "portal:alumni", FirstSeenAt: confirmed.AddDate(-1, 0, 0)}, {Source: "file:gala.csv"}}}
	for _, p := range []*calore.Person{winner, loser} {
		if err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	donation := &calore.Donation{PersonID: &loser.ID, Amount: "100", DonatedOn: day("2025-01-10")}
	interaction := &calore.Interaction{PersonID: &loser.ID, Channel: calore.ChannelPhone, OccurredAt: confirmed}
	regWinner := &calore.Registration{EventID: fx.event, PersonID: winner.ID, Status: calore.RegInvited}
	regLoser := &calore.Registration{EventID: fx.event, PersonID: loser.ID, Status: calore.RegAttended}
	consent := &calore.Consent{PersonID: loser.ID, Purpose: "newsletter", Granted: true, RecordedAt: confirmed}
	aff := &calore.Affiliation{PersonID: loser.ID, OrganisationID: fx.org, Role: "engineer"}
	for _, err := range []error{s.CreateDonation(ctx, donation), s.CreateInteraction(ctx, interaction), s.CreateRegistration(ctx, regWinner),
		s.CreateRegistration(ctx, regLoser), s.CreateConsent(ctx, consent), s.CreateAffiliation(ctx, aff)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	before := len(outboxRows(t, pool))

	// refused merges change nothing
	for _, tt := range []struct {
		name          string
		winner, loser int64
		opt           postgres.MergeOptions
		kind          error
	}{
		{"into itself", winner.ID, winner.ID, postgres.MergeOptions{}, calore.ErrInvalid},
		{"stale loser version", winner.ID, loser.ID, postgres.MergeOptions{LoserVersion: 7}, calore.ErrConflict},
		{"unknown winner", 999999, loser.ID, postgres.MergeOptions{}, calore.ErrNotFound},
	} {
		if _, err := s.MergePeople(ctx, tt.winner, tt.loser, tt.opt); !errors.Is(err, tt.kind) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.kind)
		}
	}

	m, err := s.MergePeople(ctx, winner.ID, loser.ID, postgres.MergeOptions{WinnerVersion: 1, LoserVersion: 1, By: &fx.user, Reason: "same name and email owner confirmed"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.Moved["person_emails"] != 1 || m.Moved["donations.person_id"] != 1 || m.Moved["registrations.person_id"] != 0 || m.Moved["consents.person_id"] != 1 {
		t.Errorf("merge = %+v", m)
	}
	w, err := s.Person(ctx, winner.ID)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Person(ctx, loser.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := expect(
		"winner emails", len(w.Emails), 2,
		"winner preferred email", w.PreferredEmail, "mario@example.com",
		"winner city (filled)", w.City, "Milano",
		"winner birth date (filled)", w.BirthDate.Format(time.DateOnly), "1980-02-01",
		"winner graduation (kept)", *w.GraduationYear, 2004,
		"winner tags (united)", w.Tags, "[donor mentor]",
		"winner sources", len(w.Sources), 2,
		"winner first seen via portal (earliest)", w.Sources[0].FirstSeenAt.UTC().Format(time.DateOnly), "2024-06-01",
		"winner phones", len(w.Phones), 1,
		"winner version", w.Version, 2,
		"loser status", l.Status, "duplicate",
		"loser merged into", *l.MergedInto, winner.ID,
		"loser emails", len(l.Emails), 0,
	); err != nil {
		t.Error(err)
	}
	d, _ := s.Donation(ctx, donation.ID)
	i, _ := s.Interaction(ctx, interaction.ID)
	r, _ := s.Registration(ctx, regLoser.ID)
	a, _ := s.Affiliation(ctx, aff.ID)
	if err := expect("donation donor", *d.PersonID, winner.ID, "donation version", d.Version, 2,
		"interaction person", *i.PersonID, winner.ID, "affiliation person", a.PersonID, winner.ID,
		"colliding registration stays with the loser", r.PersonID, loser.ID); err != nil {
		t.Error(err)
	}
	rw, _ := s.Registration(ctx, regWinner.ID)
	if err := expect("the winner's registration took the attendance", rw.Status, "attended", "combined", m.Moved["registrations.combined"], 1); err != nil {
		t.Error(err)
	}
	// an editor holding the donation from before the merge cannot undo the move
	stale := *donation
	stale.Amount = "120"
	if err := s.UpdateDonation(ctx, &stale); !errors.Is(err, calore.ErrConflict) {
		t.Errorf("stale donation update after merge: err = %v", err)
	}

	var types []string
	for _, ev := range outboxRows(t, pool)[before:] {
		types = append(types, ev.Type+":"+ev.AggregateID)
		if ev.Type == "person.merged" {
			var p calore.Person
			if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Status != "duplicate" || *p.MergedInto != winner.ID {
				t.Errorf("person.merged payload %s (%v)", ev.Payload, err)
			}
		}
	}
	for _, w := range []string{"person.merged:" + itoa(loser.ID), "person.updated:" + itoa(winner.ID), "donation.updated:" + itoa(donation.ID),
		"interaction.updated:" + itoa(interaction.ID), "consent.updated:" + itoa(consent.ID), "affiliation.updated:" + itoa(aff.ID)} {
		if !slices.Contains(types, w) {
			t.Errorf("outbox after merge %v lacks %s", types, w)
		}
	}

	history, err := s.Merges(ctx, "person", loser.ID)
	if err != nil || len(history) != 1 || history[0].WinnerID != winner.ID || *history[0].MergedBy != fx.user {
		t.Fatalf("Merges = %+v, %v", history, err)
	}
	var snap calore.Person
	if err := s.MergedLoser(ctx, m.ID, &snap); err != nil || snap.Emails[0].Address != "mario@example.com" || snap.Status != "active" {
		t.Errorf("loser snapshot %+v, %v", snap, err)
	}
	if _, err := s.MergePeople(ctx, fx.person, loser.ID, postgres.MergeOptions{}); !errors.Is(err, calore.ErrConflict) {
		t.Errorf("merging an already merged person: err = %v", err)
	}
	// a later merge of the winner re-points the earlier loser
	if _, err := s.MergePeople(ctx, fx.person, winner.ID, postgres.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	l, _ = s.Person(ctx, loser.ID)
	if *l.MergedInto != fx.person {
		t.Errorf("first loser merged into %d, want %d", *l.MergedInto, fx.person)
	}
	dups, err := s.FindDuplicatePeople(ctx, postgres.DuplicateQuery{})
	if err != nil || len(dups) != 0 {
		t.Errorf("duplicates after merging: %s, %v", pairs(dups), err)
	}
}

func TestDuplicateOrganisationsAndMerge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	mk := func(o *calore.Organisation) *calore.Organisation {
		t.Helper()
		if err := s.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	a := mk(&calore.Organisation{Kind: calore.OrgCompany, LegalName: "Acme S.p.A.", VATNumber: "IT01234567890", Labels: []string{"strategic"}})
	b := mk(&calore.Organisation{Kind: calore.OrgCompany, LegalName: "ACME SPA", VATNumber: "it 01234567890", City: "Milano", Labels: []string{"PNRR partner"},
		Sites: []calore.Site{{Kind: calore.SiteLegal, City: "Milano"}}})
	c := mk(&calore.Organisation{Kind: calore.OrgCompany, LegalName: "Fondazione Bianchi", City: "Torino"})
	d := mk(&calore.Organisation{Kind: calore.OrgFoundation, LegalName: "Fondazione Bianchini", City: "torino"})
	div := mk(&calore.Organisation{Kind: calore.OrgCompany, LegalName: "Acme Robotics", ParentID: &b.ID})
	mk(&calore.Organisation{Kind: calore.OrgCompany, LegalName: "Politecnico Spin-off", City: "Torino"})

	got, err := s.FindDuplicateOrganisations(ctx, postgres.DuplicateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d-%d 0.95 same VAT number+same legal name", a.ID, b.ID)
	if p := pairs(got); p != want {
		t.Errorf("duplicates = %q, want %q", p, want)
	}
	got, err = s.FindDuplicateOrganisations(ctx, postgres.DuplicateQuery{ID: d.ID})
	if want := fmt.Sprintf("%d-%d 0.60 similar legal name in the same city", c.ID, d.ID); err != nil || pairs(got) != want {
		t.Errorf("duplicates of %d = %q, %v; want %q", d.ID, pairs(got), err, want)
	}

	part := &calore.Partnership{OrganisationID: b.ID, Product: "career day"}
	if err := s.CreatePartnership(ctx, part); err != nil {
		t.Fatal(err)
	}
	m, err := s.MergeOrganisations(ctx, a.ID, b.ID, postgres.MergeOptions{Reason: "same VAT"})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Organisation(ctx, a.ID)
	l, _ := s.Organisation(ctx, b.ID)
	p, _ := s.Partnership(ctx, part.ID)
	dv, _ := s.Organisation(ctx, div.ID)
	if err := expect("moved", m.Moved["partnerships.organisation_id"], 1,
		"winner city", w.City, "Milano", "winner labels", w.Labels, "[PNRR partner strategic]", "winner sites", len(w.Sites), 1,
		"loser status", l.Status, "duplicate", "loser merged into", *l.MergedInto, a.ID,
		"partnership", p.OrganisationID, a.ID, "division parent", *dv.ParentID, a.ID); err != nil {
		t.Error(err)
	}
	got, err = s.FindDuplicateOrganisations(ctx, postgres.DuplicateQuery{ID: a.ID})
	if err != nil || len(got) != 0 {
		t.Errorf("duplicates of the winner after the merge: %s, %v", pairs(got), err)
	}
	var merged int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE event_type = 'organisation.merged' AND aggregate_id = $1`, itoa(b.ID)).Scan(&merged); err != nil || merged != 1 {
		t.Errorf("organisation.merged events: %d, %v", merged, err)
	}
}
