package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestOutboxSameTransaction runs the store on an outer transaction: the
// person and its event are visible inside it and both vanish on rollback;
// after a commit both are there.
func TestOutboxSameTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	for _, commit := range []bool{false, true} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) // no-op once committed or rolled back; frees the connection on t.Fatal
		p := newPerson("Grace", "Hopper", "grace@example.com")
		if err := postgres.NewStore(tx).CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		var inside int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE aggregate_type = 'person' AND aggregate_id = $1`, itoa(p.ID)).Scan(&inside); err != nil {
			t.Fatal(err)
		}
		if inside != 1 {
			t.Errorf("inside the transaction the outbox holds %d events of the person, want 1", inside)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		var people, events int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM outbox)`).Scan(&people, &events); err != nil {
			t.Fatal(err)
		}
		want := 0
		if commit {
			want = 1
		}
		if people != want || events != want {
			t.Errorf("commit=%v: %d people, %d outbox rows; want %d of each", commit, people, events, want)
		}
	}
	// a change that fails leaves no event either: the email is taken
	s := postgres.NewStore(pool)
	if err := s.CreatePerson(ctx, newPerson("Grace", "Murray", "GRACE@example.com")); !errors.Is(err, calore.ErrConflict) {
		t.Fatalf("taken email: err = %v", err)
	}
	rows := outboxRows(t, pool)
	if len(rows) != 1 || !strings.Contains(string(rows[0].Payload), `"preferred_email": "grace@example.com"`) {
		t.Errorf("outbox after a failed create: %d rows, first %s", len(rows), rows[0].Payload)
	}
}

// TestConcurrentEditors: two staff read the same person; the first save wins,
// the second gets a conflict naming the record and overwrites nothing (R7.4).
func TestConcurrentEditors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.NewStore(pgtest.New(t))
	p := newPerson("Alan", "Turing")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Person(ctx, p.ID)
	b, _ := s.Person(ctx, p.ID)
	a.City = "Manchester"
	if err := s.UpdatePerson(ctx, a); err != nil {
		t.Fatal(err)
	}
	b.City = "Cambridge"
	err := s.UpdatePerson(ctx, b)
	var ce *calore.Error
	if !errors.Is(err, calore.ErrConflict) || !errors.As(err, &ce) || ce.Message != "person "+itoa(p.ID)+" changed since version 1" {
		t.Fatalf("second editor: err = %v", err)
	}
	got, _ := s.Person(ctx, p.ID)
	if got.City != "Manchester" || got.Version != 2 {
		t.Errorf("after the refused update: city %q version %d", got.City, got.Version)
	}
	// re-reading and saving again works
	b, _ = s.Person(ctx, p.ID)
	b.City = "Cambridge"
	if err := s.UpdatePerson(ctx, b); err != nil || b.Version != 3 {
		t.Errorf("update after re-reading: %v, version %d", err, b.Version)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestStoreErrorKinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.NewStore(pgtest.New(t))
	fx := newFixtures(t, s)
	tests := []struct {
		name string
		err  error
		kind error
	}{
		{"invalid person", s.CreatePerson(ctx, &calore.Person{Kind: "wizard"}), calore.ErrInvalid},
		{"unknown person", func() error { _, err := s.Person(ctx, 999999); return err }(), calore.ErrNotFound},
		{"registration twice", func() error {
			r := calore.Registration{EventID: fx.event, PersonID: fx.person, Status: calore.RegInvited}
			if err := s.CreateRegistration(ctx, &r); err != nil {
				return err
			}
			r2 := calore.Registration{EventID: fx.event, PersonID: fx.person, Status: calore.RegRegistered}
			return s.CreateRegistration(ctx, &r2)
		}(), calore.ErrConflict},
		{"missing referenced record", s.CreateRegistration(ctx, &calore.Registration{EventID: 987654, PersonID: fx.person, Status: calore.RegInvited}), calore.ErrInvalid},
		{"username taken", s.CreateUser(ctx, &calore.User{Username: "fixture"}), calore.ErrConflict},
		{"bad list filter", func() error { _, err := s.ListEvents(ctx, postgres.Filter{PersonID: 1}); return err }(), calore.ErrInvalid},
		{"delete unknown", s.DeleteDonation(ctx, 424242, 1), calore.ErrNotFound},
		{"delete an organisation with divisions", func() error {
			div := calore.Organisation{Kind: calore.OrgCompany, LegalName: "Division", ParentID: &fx.org}
			if err := s.CreateOrganisation(ctx, &div); err != nil {
				return err
			}
			return s.DeleteOrganisation(ctx, fx.org, 1)
		}(), calore.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.kind) {
				t.Errorf("err = %v, want kind %v", tt.err, tt.kind)
			}
		})
	}
}

// TestPreferredEmail checks the preferred email of the store, of
// calore.PreferredEmail and of the view person_preferred_email agree.
func TestPreferredEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.AddDate(1, 0, 0)
	e := func(addr string, at *time.Time) calore.Email {
		return calore.Email{Type: calore.EmailSecondary, Address: addr, LastConfirmedAt: at}
	}
	tests := []struct {
		name   string
		emails []calore.Email
		want   string
	}{
		{"none", nil, ""},
		{"one never confirmed", []calore.Email{e("a@x.org", nil)}, "a@x.org"},
		{"none confirmed: first added", []calore.Email{e("a@x.org", nil), e("b@x.org", nil)}, "a@x.org"},
		{"confirmed beats unconfirmed", []calore.Email{e("a@x.org", nil), e("b@x.org", &t1)}, "b@x.org"},
		{"most recent confirmation", []calore.Email{e("a@x.org", &t2), e("b@x.org", &t1), e("c@x.org", nil)}, "a@x.org"},
		{"later confirmation wins", []calore.Email{e("a@x.org", &t1), e("b@x.org", &t2)}, "b@x.org"},
		{"tie: first added", []calore.Email{e("a@x.org", &t2), e("b@x.org", &t2)}, "a@x.org"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := calore.PreferredEmail(tt.emails); got != tt.want {
				t.Errorf("calore.PreferredEmail = %q, want %q", got, tt.want)
			}
			p := newPerson("Test", "Person"+itoa(int64(i)))
			for _, em := range tt.emails {
				em.Address = itoa(int64(i)) + em.Address // unique across cases
				p.Emails = append(p.Emails, em)
			}
			if err := s.CreatePerson(ctx, p); err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.want != "" {
				want = itoa(int64(i)) + tt.want
			}
			got, err := s.Person(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			var view string
			if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT address FROM person_preferred_email WHERE person_id = $1), '')`, p.ID).Scan(&view); err != nil {
				t.Fatal(err)
			}
			if got.PreferredEmail != want || view != want {
				t.Errorf("store %q, view %q, want %q", got.PreferredEmail, view, want)
			}
		})
	}
}

// TestKeyTwins checks that the Go keys equal the generated SQL columns.
func TestKeyTwins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	names := [][2]string{{"Mario", "Rossi"}, {"  Anna Maria ", "D'Angelo-Bianchi"}, {"", "Rossi"}, {"X", "--"}, {"jose", "GARCIA 2"}, {"a.b", "c_d"}}
	for _, n := range names {
		var got string
		if err := pool.QueryRow(ctx, `SELECT calore_name_key($1, $2)`, n[0], n[1]).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := calore.NameKey(n[0], n[1]); got != want {
			t.Errorf("calore_name_key(%q, %q) = %q, calore.NameKey %q", n[0], n[1], got, want)
		}
	}
	for _, n := range []string{"Acme S.p.A.", "ACME SPA", "Acme Co. Ltd", "Spa", "Bianchi & Figli s.r.l.", "Politecnico di Milano", "s p a", "Foo AS"} {
		var got string
		if err := pool.QueryRow(ctx, `SELECT calore_org_key($1)`, n).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := calore.OrganisationKey(n); got != want {
			t.Errorf("calore_org_key(%q) = %q, calore.OrganisationKey %q", n, got, want)
		}
	}
	for _, a := range []string{" Mario.Rossi@Example.COM", "x@y.z "} {
		var got string
		if err := pool.QueryRow(ctx, `SELECT lower(btrim($1))`, a).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := calore.NormaliseEmail(a); got != want {
			t.Errorf("email %q: SQL %q, Go %q", a, got, want)
		}
	}
}

func TestUsersAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := postgres.NewStore(pgtest.New(t))
	now := time.Now()
	intern := &calore.User{Username: "intern", ExpiresAt: ptr(now.Add(5 * 24 * time.Hour))}
	expired := &calore.User{Username: "gone", ExpiresAt: ptr(now.Add(-time.Hour))}
	staff := &calore.User{Username: "staff"}
	for _, u := range []*calore.User{intern, expired, staff} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	soon, err := s.ExpiringUsers(ctx, now.Add(7*24*time.Hour))
	if err != nil || len(soon) != 1 || soon[0].Username != "intern" {
		t.Errorf("ExpiringUsers = %v, %v; want the intern only", soon, err)
	}
	if intern.Active(now) != true || expired.Active(now) != false {
		t.Errorf("Active: intern %v, expired %v", intern.Active(now), expired.Active(now))
	}
	for _, a := range []calore.AuditEntry{
		{UserID: &staff.ID, Action: "read", Entity: "person", EntityID: "7"},
		{UserID: &staff.ID, Action: "export", Entity: "person", EntityID: "7", Detail: map[string]string{"format": "csv"}},
	} {
		if err := s.Audit(ctx, &a); err != nil || a.ID == 0 {
			t.Fatalf("audit: %v", err)
		}
	}
	trail, err := s.AuditTrail(ctx, "person", "7")
	if err != nil || len(trail) != 2 || trail[1].Detail["format"] != "csv" {
		t.Errorf("AuditTrail = %+v, %v", trail, err)
	}
	if err := s.Audit(ctx, &calore.AuditEntry{Action: "peek"}); !errors.Is(err, calore.ErrInvalid) {
		t.Errorf("bad action: err = %v", err)
	}
}

// TestParallelUpdates: eight editors save the version they all read at the
// same time; exactly one wins, the others get conflicts.
func TestParallelUpdates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	d := &calore.Donation{PersonID: nil, OrganisationID: nil, Amount: "1", DonatedOn: day("2025-01-01")}
	o := &calore.Organisation{Kind: calore.OrgFoundation, LegalName: "Fondazione"}
	if err := s.CreateOrganisation(ctx, o); err != nil {
		t.Fatal(err)
	}
	d.OrganisationID = &o.ID
	if err := s.CreateDonation(ctx, d); err != nil {
		t.Fatal(err)
	}
	const editors = 8
	errs := make(chan error, editors)
	for i := range editors {
		go func() {
			mine := *d
			mine.Amount = strconv.Itoa(100 + i)
			errs <- s.UpdateDonation(ctx, &mine)
		}()
	}
	won, conflicts := 0, 0
	for range editors {
		switch err := <-errs; {
		case err == nil:
			won++
		case errors.Is(err, calore.ErrConflict):
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	got, err := s.Donation(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || conflicts != editors-1 || got.Version != 2 {
		t.Errorf("%d won, %d conflicts, version %d; want 1, %d, 2", won, conflicts, got.Version, editors-1)
	}
}
