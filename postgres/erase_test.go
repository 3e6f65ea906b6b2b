package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// eraseFixture is a person with a duplicate merged into them and one other
// person, each with donations and the usual records.
type eraseFixture struct {
	target, dup, other *calore.Person
	needles            []string // the target's and duplicate's identifiers
}

func newEraseFixture(t *testing.T, s *postgres.Store) eraseFixture {
	t.Helper()
	ctx := context.Background()
	target := newPerson("Zebulon", "Quillfeather", "zebulon.quillfeather@example.org")
	target.BirthDate, target.City, target.Tags = ptr(day("1971-02-03")), "Cremona", []string{"gala-vip"}
	target.Phones = []calore.Phone{{Type: calore.PhoneMobile, Number: "+39 347 555 0199"}}
	target.Extra = map[string]string{"linkedin": "zquillfeather"}
	dup := newPerson("Zeb", "Quillfeather", "zq.old@example.net")
	other := newPerson("Ada", "Lovelace", "ada@example.edu")
	for _, p := range []*calore.Person{target, dup, other} {
		if err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	camp := &calore.Campaign{Name: "Spring appeal", Channel: calore.ChannelEmail}
	if err := s.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*calore.Person{target, dup, other} {
		for _, amount := range []string{"100.00", "25.50"} {
			if err := s.CreateDonation(ctx, &calore.Donation{PersonID: &p.ID, Amount: amount, DonatedOn: day("2025-06-01"),
				PurposeDetail: "in honour of " + p.FirstName + " " + p.LastName}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateInteraction(ctx, &calore.Interaction{PersonID: &p.ID, Channel: calore.ChannelPhone,
			OccurredAt: day("2025-05-01"), Subject: "call with " + p.LastName, Notes: "spoke to " + p.FirstName}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCampaignSend(ctx, &calore.CampaignSend{CampaignID: camp.ID, PersonID: p.ID, Address: p.Emails[0].Address}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateConsent(ctx, &calore.Consent{PersonID: p.ID, Purpose: "newsletter", Granted: true,
			RecordedAt: day("2025-01-01"), GuardianName: "guardian of " + p.LastName}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateResearchContract(ctx, &calore.ResearchContract{ContractNumber: "RC-1", ScientificLead: "Zebulon Quillfeather",
		ScientificLeadID: &target.ID}); err != nil {
		t.Fatal(err)
	}
	// an outbox row unrelated by id that names the target's email
	if err := s.Audit(ctx, &calore.AuditEntry{Action: "read", Entity: "search", Detail: map[string]string{"q": "zebulon.quillfeather@example.org"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MergePeople(ctx, target.ID, dup.ID, postgres.MergeOptions{Reason: "same as Zeb Quillfeather"}); err != nil {
		t.Fatal(err)
	}
	return eraseFixture{target: target, dup: dup, other: other, needles: []string{
		"Zebulon", "Quillfeather", "zebulon.quillfeather@example.org", "zq.old@example.net", "347 555 0199", "3473550199", "zquillfeather", "Cremona",
	}}
}

func TestErasePerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	fx := newEraseFixture(t, s)
	if _, err := pool.Exec(ctx, `INSERT INTO person_scores (person_id, heat_level) VALUES ($1, 3), ($2, 2)`, fx.target.ID, fx.other.ID); err != nil {
		t.Fatal(err)
	}
	total := func() (sum string, n int) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT sum(amount)::text, count(*) FROM donations`).Scan(&sum, &n); err != nil {
			t.Fatal(err)
		}
		return sum, n
	}
	sumBefore, nBefore := total()
	otherBefore, err := s.Person(ctx, fx.other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if hits := pgtest.FindText(t, pool, fx.needles...); len(hits) == 0 {
		t.Fatal("fixture: the search finds nothing before the erasure")
	}

	e, err := s.ErasePerson(ctx, fx.target.ID, postgres.ErasureRequest{By: "dpo", Reason: "request 2026-17"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.MergedIDs) != 1 || e.MergedIDs[0] != fx.dup.ID || e.EventID == "" {
		t.Errorf("erasure = %+v", e)
	}
	if hits := pgtest.FindText(t, pool, fx.needles...); len(hits) > 0 {
		t.Errorf("identifiers left after the erasure: %v", hits)
	}
	if sum, n := total(); sum != sumBefore || n != nBefore {
		t.Errorf("donations %s (%d) after, %s (%d) before", sum, n, sumBefore, nBefore)
	}
	var donorRows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM donations WHERE person_id = ANY($1)`, []int64{fx.target.ID, fx.dup.ID}).Scan(&donorRows); err != nil {
		t.Fatal(err)
	}
	if donorRows != 4 {
		t.Errorf("donations of the erased people: %d, want 4 (kept with the id)", donorRows)
	}
	otherAfter, err := s.Person(ctx, fx.other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if otherAfter.Version != otherBefore.Version || otherAfter.FirstName != "Ada" || otherAfter.PreferredEmail != "ada@example.edu" {
		t.Errorf("other person changed: %+v", otherAfter)
	}
	for _, q := range []string{
		`SELECT count(*) FROM interactions WHERE person_id = $1 AND notes = 'spoke to Ada'`,
		`SELECT count(*) FROM campaign_sends WHERE person_id = $1 AND address = 'ada@example.edu'`,
		`SELECT count(*) FROM person_scores WHERE person_id = $1`,
	} {
		var n int
		if err := pool.QueryRow(ctx, q, fx.other.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s: %d, want 1", q, n)
		}
	}
	var scores int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM person_scores WHERE person_id = $1`, fx.target.ID).Scan(&scores); err != nil || scores != 0 {
		t.Errorf("person_scores of the erased person: %d (%v)", scores, err)
	}
	p, err := s.Person(ctx, fx.target.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.FirstName != "" || p.BirthDate != nil || len(p.Emails) != 0 || len(p.Phones) != 0 || len(p.Tags) != 0 || len(p.Extra) != 0 || p.Kind != calore.KindAlumnus {
		t.Errorf("erased person: %+v", p)
	}

	evs := outboxRows(t, pool)
	last := evs[len(evs)-1]
	if last.Type != postgres.EventPersonErased || last.Aggregate != "person" || last.ID != e.EventID {
		t.Fatalf("last outbox event: %+v", last)
	}
	var pl postgres.ErasurePayload
	if err := json.Unmarshal(last.Payload, &pl); err != nil {
		t.Fatal(err)
	}
	if pl.PersonID != fx.target.ID || pl.ID != fx.target.ID || len(pl.MergedIDs) != 1 || pl.RequestedBy != "dpo" || pl.Reason != "request 2026-17" {
		t.Errorf("erasure payload: %s", last.Payload)
	}
	trail, err := s.AuditTrail(ctx, "person", last.AggregateID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(trail); n == 0 || trail[n-1].Detail["kind"] != "gdpr-erase" || trail[n-1].Detail["event_id"] != e.EventID {
		t.Errorf("audit trail: %+v", trail)
	}

	// erasing the merged duplicate is refused; an unknown person is not found
	if _, err := s.ErasePerson(ctx, fx.dup.ID, postgres.ErasureRequest{}); !errors.Is(err, calore.ErrInvalid) {
		t.Errorf("erase duplicate: %v, want ErrInvalid", err)
	}
	if _, err := s.ErasePerson(ctx, 1<<40, postgres.ErasureRequest{}); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("erase unknown: %v, want ErrNotFound", err)
	}
	// a second erasure is harmless and emits another event
	if _, err := s.ErasePerson(ctx, fx.target.ID, postgres.ErasureRequest{At: time.Now()}); err != nil {
		t.Errorf("second erasure: %v", err)
	}
}
