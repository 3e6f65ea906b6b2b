package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// crud is the store API of one kind of record, for roundTrip.
type crud[T any] struct {
	aggregate string
	meta      func(*T) *calore.Meta
	create    func(context.Context, *T) error
	get       func(context.Context, int64) (*T, error)
	update    func(context.Context, *T) error
	del       func(context.Context, int64, int) error
	list      func(context.Context, postgres.Filter) ([]*T, error)
	filter    postgres.Filter // a filter that must find the record
}

// roundTrip creates rec, reads it back (check), updates it (mutate, then
// check again), tries a stale update and a stale delete (conflicts), lists
// it, deletes it and checks the outbox events of the record.
func (c crud[T]) roundTrip(t *testing.T, db postgres.DB, rec *T, check func(*T) error, mutate func(*T), checkMutated func(*T) error) {
	t.Helper()
	ctx := context.Background()
	if err := c.create(ctx, rec); err != nil {
		t.Fatalf("create: %v", err)
	}
	id := c.meta(rec).ID
	if id == 0 || c.meta(rec).Version != 1 {
		t.Fatalf("created with id %d version %d", id, c.meta(rec).Version)
	}
	got, err := c.get(ctx, id)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if err := check(got); err != nil {
		t.Errorf("read back: %v", err)
	}
	stale := *got
	mutate(got)
	if err := c.update(ctx, got); err != nil {
		t.Fatalf("update: %v", err)
	}
	if v := c.meta(got).Version; v != 2 {
		t.Errorf("version after update = %d, want 2", v)
	}
	again, err := c.get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkMutated(again); err != nil {
		t.Errorf("after update: %v", err)
	}
	err = c.update(ctx, &stale)
	if want := fmt.Sprintf("%s %d changed since version 1", c.aggregate, id); !errors.Is(err, calore.ErrConflict) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("stale update: err = %v, want a conflict saying %q", err, want)
	}
	if c.meta(&stale).Version != 1 {
		t.Errorf("a refused update changed the caller's version to %d", c.meta(&stale).Version)
	}
	list, err := c.list(ctx, c.filter)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	found := false
	for _, r := range list {
		found = found || c.meta(r).ID == id
	}
	if !found {
		t.Errorf("list %+v did not find %d", c.filter, id)
	}
	if err := c.del(ctx, id, 1); !errors.Is(err, calore.ErrConflict) {
		t.Errorf("stale delete: err = %v, want a conflict", err)
	}
	if err := c.del(ctx, id, 2); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.get(ctx, id); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("get after delete: err = %v, want not found", err)
	}
	if err := c.update(ctx, again); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("update after delete: err = %v, want not found", err)
	}
	var types []string
	for _, ev := range outboxRows(t, db) {
		if ev.Aggregate == c.aggregate && ev.AggregateID == fmt.Sprint(id) {
			types = append(types, ev.Type)
		}
	}
	want := c.aggregate + ".created " + c.aggregate + ".updated " + c.aggregate + ".deleted"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("outbox events %q, want %q", got, want)
	}
}

func expect(pairs ...any) error {
	var errs []error
	for i := 0; i+2 < len(pairs); i += 3 {
		if fmt.Sprint(pairs[i+1]) != fmt.Sprint(pairs[i+2]) {
			errs = append(errs, fmt.Errorf("%s = %v, want %v", pairs[i], pairs[i+1], pairs[i+2]))
		}
	}
	return errors.Join(errs...)
}

// fixtures are records the other records point at.
type fixtures struct {
	person, org, user, event, campaign int64
}

func newFixtures(t *testing.T, s *postgres.Store) fixtures {
	t.Helper()
	ctx := context.Background()
	p := newPerson("Ada", "Lovelace", "ada@example.com")
	o := &calore.Organisation{Kind: calore.OrgCompany, LegalName: "Analytical Engines S.p.A."}
	u := &calore.User{Username: "fixture"}
	ev := &calore.CalendarEvent{Name: "Open day", StartsAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)}
	c := &calore.Campaign{Name: "Frontiere 12", Channel: "email"}
	for _, err := range []error{s.CreatePerson(ctx, p), s.CreateOrganisation(ctx, o), s.CreateUser(ctx, u), s.CreateEvent(ctx, ev), s.CreateCampaign(ctx, c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return fixtures{p.ID, o.ID, u.ID, ev.ID, c.ID}
}

func TestEntityRoundTrips(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	s := postgres.NewStore(pool)
	fx := newFixtures(t, s)
	at := time.Date(2026, 2, 1, 15, 4, 5, 0, time.UTC)

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"organisation", func(t *testing.T) {
			crud[calore.Organisation]{"organisation", func(r *calore.Organisation) *calore.Meta { return &r.Meta },
				s.CreateOrganisation, s.Organisation, s.UpdateOrganisation, s.DeleteOrganisation, s.ListOrganisations, postgres.Filter{}}.
				roundTrip(t, pool, &calore.Organisation{Kind: calore.OrgStartUp, LegalName: "Ünal Robotik A.Ş.", VATNumber: "it 0123 456", SDGs: []int{9, 4},
					Revenue: "1250000.5", RevenueYear: ptr(2024), FunctionalArea: "both", Labels: []string{"strategic"}, AccountManagerID: &fx.user,
					Sites: []calore.Site{{Kind: calore.SiteLegal, City: "Milano"}, {Kind: calore.SiteOperating, City: "Torino"}}},
					func(r *calore.Organisation) error {
						return expect("ascii", r.LegalNameASCII, "Unal Robotik A.S.", "key", r.NameKey, "unal robotik a s", "key twin", r.NameKey, calore.OrganisationKey(r.LegalNameASCII),
							"revenue", r.Revenue, "1250000.50", "sdgs", r.SDGs, "[9 4]", "sites", len(r.Sites), 2, "status", r.Status, "active")
					},
					func(r *calore.Organisation) { r.Status = calore.StatusArchived; r.Sites = r.Sites[:1] },
					func(r *calore.Organisation) error {
						return expect("status", r.Status, "archived", "sites", len(r.Sites), 1)
					})
		}},
		{"affiliation", func(t *testing.T) {
			crud[calore.Affiliation]{"affiliation", func(r *calore.Affiliation) *calore.Meta { return &r.Meta },
				s.CreateAffiliation, s.Affiliation, s.UpdateAffiliation, s.DeleteAffiliation, s.ListAffiliations, postgres.Filter{OrganisationID: fx.org}}.
				roundTrip(t, pool, &calore.Affiliation{PersonID: fx.person, OrganisationID: fx.org, Role: "CTO", IsReferent: true, StartDate: ptr(day("2020-01-01"))},
					func(r *calore.Affiliation) error {
						return expect("role", r.Role, "CTO", "start", r.StartDate.Format(time.DateOnly), "2020-01-01")
					},
					func(r *calore.Affiliation) { r.EndDate = ptr(day("2024-06-30")) },
					func(r *calore.Affiliation) error { return expect("end", r.EndDate.Format(time.DateOnly), "2024-06-30") })
		}},
		{"interaction", func(t *testing.T) {
			crud[calore.Interaction]{"interaction", func(r *calore.Interaction) *calore.Meta { return &r.Meta },
				s.CreateInteraction, s.Interaction, s.UpdateInteraction, s.DeleteInteraction, s.ListInteractions, postgres.Filter{PersonID: fx.person}}.
				roundTrip(t, pool, &calore.Interaction{PersonID: &fx.person, Channel: calore.ChannelMeeting, OccurredAt: at, StaffUserID: &fx.user, Office: "alumni", Subject: "lunch"},
					func(r *calore.Interaction) error {
						return expect("channel", r.Channel, "meeting", "at", r.OccurredAt.UTC(), at)
					},
					func(r *calore.Interaction) { r.Notes = "wants to mentor" },
					func(r *calore.Interaction) error { return expect("notes", r.Notes, "wants to mentor") })
		}},
		{"event series", func(t *testing.T) {
			crud[calore.EventSeries]{"event_series", func(r *calore.EventSeries) *calore.Meta { return &r.Meta },
				s.CreateEventSeries, s.EventSeries, s.UpdateEventSeries, s.DeleteEventSeries, s.ListEventSeries, postgres.Filter{}}.
				roundTrip(t, pool, &calore.EventSeries{Name: "Alumni gala", Recurrence: "yearly", Template: map[string]string{"location": "Aula Magna"}},
					func(r *calore.EventSeries) error { return expect("template", r.Template["location"], "Aula Magna") },
					func(r *calore.EventSeries) { r.Office = "alumni" },
					func(r *calore.EventSeries) error { return expect("office", r.Office, "alumni") })
		}},
		{"event", func(t *testing.T) {
			crud[calore.CalendarEvent]{"event", func(r *calore.CalendarEvent) *calore.Meta { return &r.Meta },
				s.CreateEvent, s.Event, s.UpdateEvent, s.DeleteEvent, s.ListEvents, postgres.Filter{}}.
				roundTrip(t, pool, &calore.CalendarEvent{ParentID: &fx.event, Name: "Session B: robotics", StartsAt: at, EndsAt: ptr(at.Add(time.Hour)), Capacity: ptr(80)},
					func(r *calore.CalendarEvent) error {
						return expect("parent", *r.ParentID, fx.event, "capacity", *r.Capacity, 80)
					},
					func(r *calore.CalendarEvent) { r.IsOnline = true },
					func(r *calore.CalendarEvent) error { return expect("online", r.IsOnline, true) })
		}},
		{"registration", func(t *testing.T) {
			crud[calore.Registration]{"registration", func(r *calore.Registration) *calore.Meta { return &r.Meta },
				s.CreateRegistration, s.Registration, s.UpdateRegistration, s.DeleteRegistration, s.ListRegistrations, postgres.Filter{EventID: fx.event}}.
				roundTrip(t, pool, &calore.Registration{EventID: fx.event, PersonID: fx.person, Status: calore.RegRegistered, Source: "eventbrite", RegisteredAt: &at},
					func(r *calore.Registration) error {
						return expect("status", r.Status, "registered", "source", r.Source, "eventbrite")
					},
					func(r *calore.Registration) { r.Status, r.AttendedAt = calore.RegAttended, ptr(at.Add(48*time.Hour)) },
					func(r *calore.Registration) error { return expect("status", r.Status, "attended") })
		}},
		{"campaign", func(t *testing.T) {
			crud[calore.Campaign]{"campaign", func(r *calore.Campaign) *calore.Meta { return &r.Meta },
				s.CreateCampaign, s.Campaign, s.UpdateCampaign, s.DeleteCampaign, s.ListCampaigns, postgres.Filter{}}.
				roundTrip(t, pool, &calore.Campaign{Name: "Reminder", Channel: "email", ReminderOf: &fx.campaign, SenderAccount: "alumni@polimi.it"},
					func(r *calore.Campaign) error {
						return expect("status", r.Status, "draft", "reminder of", *r.ReminderOf, fx.campaign)
					},
					func(r *calore.Campaign) { r.Status, r.ScheduledAt = "scheduled", &at },
					func(r *calore.Campaign) error { return expect("status", r.Status, "scheduled") })
		}},
		{"campaign send", func(t *testing.T) {
			crud[calore.CampaignSend]{"campaign_send", func(r *calore.CampaignSend) *calore.Meta { return &r.Meta },
				s.CreateCampaignSend, s.CampaignSend, s.UpdateCampaignSend, s.DeleteCampaignSend, s.ListCampaignSends, postgres.Filter{CampaignID: fx.campaign}}.
				roundTrip(t, pool, &calore.CampaignSend{CampaignID: fx.campaign, PersonID: fx.person, Address: "ada@example.com"},
					func(r *calore.CampaignSend) error { return expect("status", r.Status, "queued") },
					func(r *calore.CampaignSend) {
						r.Status, r.SentAt, r.OpenedAt = "delivered", &at, ptr(at.Add(time.Minute))
					},
					func(r *calore.CampaignSend) error {
						return expect("status", r.Status, "delivered", "opened", r.OpenedAt != nil, true)
					})
		}},
		{"donation", func(t *testing.T) {
			crud[calore.Donation]{"donation", func(r *calore.Donation) *calore.Meta { return &r.Meta },
				s.CreateDonation, s.Donation, s.UpdateDonation, s.DeleteDonation, s.ListDonations, postgres.Filter{PersonID: fx.person}}.
				roundTrip(t, pool, &calore.Donation{PersonID: &fx.person, Amount: "250", DonatedOn: day("2025-12-01"), Purpose: calore.PurposeScholarship, CampaignID: &fx.campaign},
					func(r *calore.Donation) error {
						return expect("amount", r.Amount, "250.00", "currency", r.Currency, "EUR", "periodicity", r.Periodicity, "one_off", "on", r.DonatedOn.Format(time.DateOnly), "2025-12-01")
					},
					func(r *calore.Donation) { r.Periodicity, r.Amount = calore.Monthly, "19.99" },
					func(r *calore.Donation) error {
						return expect("periodicity", r.Periodicity, "monthly", "amount", r.Amount, "19.99")
					})
		}},
		{"collaboration", func(t *testing.T) {
			crud[calore.Collaboration]{"collaboration", func(r *calore.Collaboration) *calore.Meta { return &r.Meta },
				s.CreateCollaboration, s.Collaboration, s.UpdateCollaboration, s.DeleteCollaboration, s.ListCollaborations, postgres.Filter{PersonID: fx.person}}.
				roundTrip(t, pool, &calore.Collaboration{PersonID: &fx.person, Kind: "mentoring", Role: "mentor"},
					func(r *calore.Collaboration) error { return expect("kind", r.Kind, "mentoring") },
					func(r *calore.Collaboration) { r.EndDate = ptr(day("2026-06-30")) },
					func(r *calore.Collaboration) error { return expect("end", r.EndDate != nil, true) })
		}},
		{"partnership", func(t *testing.T) {
			crud[calore.Partnership]{"partnership", func(r *calore.Partnership) *calore.Meta { return &r.Meta },
				s.CreatePartnership, s.Partnership, s.UpdatePartnership, s.DeletePartnership, s.ListPartnerships, postgres.Filter{OrganisationID: fx.org}}.
				roundTrip(t, pool, &calore.Partnership{OrganisationID: fx.org, Product: "career day stand", RenewalDate: ptr(day("2027-01-31")), ReminderDays: 45},
					func(r *calore.Partnership) error {
						return expect("stage", r.Stage, "prospect", "kind", r.Kind, "product", "reminder", r.ReminderDays, 45)
					},
					func(r *calore.Partnership) { r.Stage = "active" },
					func(r *calore.Partnership) error { return expect("stage", r.Stage, "active") })
		}},
		{"research contract", func(t *testing.T) {
			crud[calore.ResearchContract]{"research_contract", func(r *calore.ResearchContract) *calore.Meta { return &r.Meta },
				s.CreateResearchContract, s.ResearchContract, s.UpdateResearchContract, s.DeleteResearchContract, s.ListResearchContracts, postgres.Filter{OrganisationID: fx.org}}.
				roundTrip(t, pool, &calore.ResearchContract{ContractNumber: "RC-2025-0042", OrganisationID: &fx.org, ScientificLead: "Prof. Rossi", Value: "150000"},
					func(r *calore.ResearchContract) error {
						return expect("status", r.Status, "active", "value", r.Value, "150000.00")
					},
					func(r *calore.ResearchContract) { r.Status = "expired" },
					func(r *calore.ResearchContract) error { return expect("status", r.Status, "expired") })
		}},
		{"journey stage", func(t *testing.T) {
			crud[calore.JourneyStage]{"journey_stage", func(r *calore.JourneyStage) *calore.Meta { return &r.Meta },
				s.CreateJourneyStage, s.JourneyStage, s.UpdateJourneyStage, s.DeleteJourneyStage, s.ListJourneyStages, postgres.Filter{PersonID: fx.person}}.
				roundTrip(t, pool, &calore.JourneyStage{PersonID: fx.person, Programme: "MSc Computer Science", Stage: calore.StageApplication, ReachedAt: at},
					func(r *calore.JourneyStage) error { return expect("stage", r.Stage, "application") },
					func(r *calore.JourneyStage) { r.Touchpoint = "open day" },
					func(r *calore.JourneyStage) error { return expect("touchpoint", r.Touchpoint, "open day") })
		}},
		{"consent", func(t *testing.T) {
			crud[calore.Consent]{"consent", func(r *calore.Consent) *calore.Meta { return &r.Meta },
				s.CreateConsent, s.Consent, s.UpdateConsent, s.DeleteConsent, s.ListConsents, postgres.Filter{PersonID: fx.person}}.
				roundTrip(t, pool, &calore.Consent{PersonID: fx.person, Purpose: "newsletter", Granted: true, Source: "web form", RecordedAt: at},
					func(r *calore.Consent) error { return expect("granted", r.Granted, true) },
					func(r *calore.Consent) { r.GuardianName = "Anne Isabella Milbanke" },
					func(r *calore.Consent) error { return expect("guardian", r.GuardianName, "Anne Isabella Milbanke") })
		}},
		{"user", func(t *testing.T) {
			crud[calore.User]{"user", func(r *calore.User) *calore.Meta { return &r.Meta },
				s.CreateUser, s.User, s.UpdateUser, s.DeleteUser, s.ListUsers, postgres.Filter{}}.
				roundTrip(t, pool, &calore.User{Username: "intern1", ExpiresAt: ptr(at.Add(30 * 24 * time.Hour)), Roles: []calore.Role{{Office: "orientation", Role: calore.RoleEditor}}},
					func(r *calore.User) error { return expect("roles", r.Roles, "[{orientation editor}]") },
					func(r *calore.User) {
						r.Roles = append(r.Roles, calore.Role{Office: "career", Role: calore.RoleReadOnly})
					},
					func(r *calore.User) error {
						return expect("roles", r.Roles, "[{career read_only} {orientation editor}]")
					})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t)
		})
	}
}
