package postgres

// The stores of the records around people and organisations. Each is the
// generic table (table.go): every change runs in a transaction with its
// outbox event; Update and Delete take the version the caller read.

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

var interactions = &table[calore.Interaction]{
	aggregate: "interaction",
	name:      "interactions",
	meta:      func(r *calore.Interaction) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Interaction) []field {
		return []field{
			{col: "source", ptr: &r.Source},
			{col: "source_id", ptr: &r.SourceID},
			{col: "person_id", ptr: &r.PersonID},
			{col: "organisation_id", ptr: &r.OrganisationID},
			{col: "channel", ptr: &r.Channel},
			{col: "direction", ptr: &r.Direction},
			{col: "occurred_at", ptr: &r.OccurredAt},
			{col: "subject", ptr: &r.Subject},
			{col: "notes", ptr: &r.Notes},
			{col: "staff_user_id", ptr: &r.StaffUserID},
			{col: "office", ptr: &r.Office},
			{col: "event_id", ptr: &r.EventID},
			{col: "campaign_id", ptr: &r.CampaignID},
		}
	},
	validate:   func(r *calore.Interaction) error { return r.Validate() },
	filterCols: map[string]bool{"person_id": true, "organisation_id": true, "event_id": true, "campaign_id": true},
	ownerCol:   "office", // record scopes (scope.go): the office that recorded it
}

// CreateInteraction stores an interaction (R2.1) and writes "interaction.created".
func (s *Store) CreateInteraction(ctx context.Context, r *calore.Interaction) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return interactions.insert(ctx, tx, r) })
}

// Interaction reads one interaction; calore.ErrNotFound when there is none.
func (s *Store) Interaction(ctx context.Context, id int64) (*calore.Interaction, error) {
	return interactions.get(ctx, s.db, id)
}

// UpdateInteraction writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "interaction.updated".
func (s *Store) UpdateInteraction(ctx context.Context, r *calore.Interaction) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return interactions.update(ctx, tx, r) })
}

// DeleteInteraction removes the interaction read at version and writes "interaction.deleted".
func (s *Store) DeleteInteraction(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return interactions.delete(ctx, tx, id, version) })
}

// ListInteractions lists interaction records in id order.
func (s *Store) ListInteractions(ctx context.Context, f Filter) ([]*calore.Interaction, error) {
	return interactions.list(ctx, s.db, f)
}

var eventSeries = &table[calore.EventSeries]{
	aggregate: "event_series",
	name:      "event_series",
	meta:      func(r *calore.EventSeries) *calore.Meta { return &r.Meta },
	fields: func(r *calore.EventSeries) []field {
		return []field{
			{col: "name", ptr: &r.Name},
			{col: "office", ptr: &r.Office},
			{col: "recurrence", ptr: &r.Recurrence},
			{col: "template", ptr: &r.Template},
		}
	},
	validate:   func(r *calore.EventSeries) error { return r.Validate() },
	prepare:    func(r *calore.EventSeries) { r.Template = nonNilMap(r.Template) },
	filterCols: map[string]bool{},
}

// CreateEventSeries stores a series of recurring events and writes "event_series.created".
func (s *Store) CreateEventSeries(ctx context.Context, r *calore.EventSeries) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return eventSeries.insert(ctx, tx, r) })
}

// EventSeries reads one event_series; calore.ErrNotFound when there is none.
func (s *Store) EventSeries(ctx context.Context, id int64) (*calore.EventSeries, error) {
	return eventSeries.get(ctx, s.db, id)
}

// UpdateEventSeries writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "event_series.updated".
func (s *Store) UpdateEventSeries(ctx context.Context, r *calore.EventSeries) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return eventSeries.update(ctx, tx, r) })
}

// DeleteEventSeries removes the event_series read at version and writes "event_series.deleted".
func (s *Store) DeleteEventSeries(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return eventSeries.delete(ctx, tx, id, version) })
}

// ListEventSeries lists event_series records in id order.
func (s *Store) ListEventSeries(ctx context.Context, f Filter) ([]*calore.EventSeries, error) {
	return eventSeries.list(ctx, s.db, f)
}

var events = &table[calore.CalendarEvent]{
	aggregate: "event",
	name:      "events",
	meta:      func(r *calore.CalendarEvent) *calore.Meta { return &r.Meta },
	fields: func(r *calore.CalendarEvent) []field {
		return []field{
			{col: "source", ptr: &r.Source},
			{col: "source_id", ptr: &r.SourceID},
			{col: "parent_id", ptr: &r.ParentID},
			{col: "series_id", ptr: &r.SeriesID},
			{col: "name", ptr: &r.Name},
			{col: "kind", ptr: &r.Kind},
			{col: "office", ptr: &r.Office},
			{col: "starts_at", ptr: &r.StartsAt},
			{col: "ends_at", ptr: &r.EndsAt},
			{col: "location", ptr: &r.Location},
			{col: "is_online", ptr: &r.IsOnline},
			{col: "capacity", ptr: &r.Capacity},
		}
	},
	validate:   func(r *calore.CalendarEvent) error { return r.Validate() },
	filterCols: map[string]bool{},
}

// CreateEvent stores an event or sub-event (R2.2) and writes "event.created".
func (s *Store) CreateEvent(ctx context.Context, r *calore.CalendarEvent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return events.insert(ctx, tx, r) })
}

// Event reads one event; calore.ErrNotFound when there is none.
func (s *Store) Event(ctx context.Context, id int64) (*calore.CalendarEvent, error) {
	return events.get(ctx, s.db, id)
}

// UpdateEvent writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "event.updated".
func (s *Store) UpdateEvent(ctx context.Context, r *calore.CalendarEvent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return events.update(ctx, tx, r) })
}

// DeleteEvent removes the event read at version and writes "event.deleted".
func (s *Store) DeleteEvent(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return events.delete(ctx, tx, id, version) })
}

// ListEvents lists event records in id order.
func (s *Store) ListEvents(ctx context.Context, f Filter) ([]*calore.CalendarEvent, error) {
	return events.list(ctx, s.db, f)
}

var registrations = &table[calore.Registration]{
	aggregate: "registration",
	name:      "registrations",
	meta:      func(r *calore.Registration) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Registration) []field {
		return []field{
			{col: "source_id", ptr: &r.SourceID},
			{col: "event_id", ptr: &r.EventID},
			{col: "person_id", ptr: &r.PersonID},
			{col: "status", ptr: &r.Status},
			{col: "source", ptr: &r.Source},
			{col: "invited_at", ptr: &r.InvitedAt},
			{col: "registered_at", ptr: &r.RegisteredAt},
			{col: "attended_at", ptr: &r.AttendedAt},
			{col: "is_vip", ptr: &r.IsVIP},
		}
	},
	validate:   func(r *calore.Registration) error { return r.Validate() },
	filterCols: map[string]bool{"event_id": true, "person_id": true},
}

// CreateRegistration stores a registration (R2.2); one per person and event, a second is a conflict and writes "registration.created".
func (s *Store) CreateRegistration(ctx context.Context, r *calore.Registration) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return registrations.insert(ctx, tx, r) })
}

// Registration reads one registration; calore.ErrNotFound when there is none.
func (s *Store) Registration(ctx context.Context, id int64) (*calore.Registration, error) {
	return registrations.get(ctx, s.db, id)
}

// UpdateRegistration writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "registration.updated".
func (s *Store) UpdateRegistration(ctx context.Context, r *calore.Registration) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return registrations.update(ctx, tx, r) })
}

// DeleteRegistration removes the registration read at version and writes "registration.deleted".
func (s *Store) DeleteRegistration(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return registrations.delete(ctx, tx, id, version) })
}

// ListRegistrations lists registration records in id order.
func (s *Store) ListRegistrations(ctx context.Context, f Filter) ([]*calore.Registration, error) {
	return registrations.list(ctx, s.db, f)
}

var campaigns = &table[calore.Campaign]{
	aggregate: "campaign",
	name:      "campaigns",
	meta:      func(r *calore.Campaign) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Campaign) []field {
		return []field{
			{col: "source", ptr: &r.Source},
			{col: "source_id", ptr: &r.SourceID},
			{col: "name", ptr: &r.Name},
			{col: "channel", ptr: &r.Channel},
			{col: "sender_account", ptr: &r.SenderAccount},
			{col: "office", ptr: &r.Office},
			{col: "newsletter", ptr: &r.Newsletter},
			{col: "subject", ptr: &r.Subject},
			{col: "status", ptr: &r.Status, write: "coalesce(nullif(%s, ''), 'draft')"},
			{col: "scheduled_at", ptr: &r.ScheduledAt},
			{col: "sent_at", ptr: &r.SentAt},
			{col: "reminder_of", ptr: &r.ReminderOf},
		}
	},
	validate:   func(r *calore.Campaign) error { return r.Validate() },
	filterCols: map[string]bool{},
}

// CreateCampaign stores a campaign (R2.3) and writes "campaign.created".
func (s *Store) CreateCampaign(ctx context.Context, r *calore.Campaign) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return campaigns.insert(ctx, tx, r) })
}

// Campaign reads one campaign; calore.ErrNotFound when there is none.
func (s *Store) Campaign(ctx context.Context, id int64) (*calore.Campaign, error) {
	return campaigns.get(ctx, s.db, id)
}

// UpdateCampaign writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "campaign.updated".
func (s *Store) UpdateCampaign(ctx context.Context, r *calore.Campaign) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return campaigns.update(ctx, tx, r) })
}

// DeleteCampaign removes the campaign read at version and writes "campaign.deleted".
func (s *Store) DeleteCampaign(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return campaigns.delete(ctx, tx, id, version) })
}

// ListCampaigns lists campaign records in id order.
func (s *Store) ListCampaigns(ctx context.Context, f Filter) ([]*calore.Campaign, error) {
	return campaigns.list(ctx, s.db, f)
}

var campaignSends = &table[calore.CampaignSend]{
	aggregate: "campaign_send",
	name:      "campaign_sends",
	meta:      func(r *calore.CampaignSend) *calore.Meta { return &r.Meta },
	fields: func(r *calore.CampaignSend) []field {
		return []field{
			{col: "source", ptr: &r.Source},
			{col: "source_id", ptr: &r.SourceID},
			{col: "campaign_id", ptr: &r.CampaignID},
			{col: "person_id", ptr: &r.PersonID},
			{col: "address", ptr: &r.Address},
			{col: "status", ptr: &r.Status, write: "coalesce(nullif(%s, ''), 'queued')"},
			{col: "sent_at", ptr: &r.SentAt},
			{col: "opened_at", ptr: &r.OpenedAt},
			{col: "clicked_at", ptr: &r.ClickedAt},
			{col: "replied_at", ptr: &r.RepliedAt},
		}
	},
	validate:   func(r *calore.CampaignSend) error { return r.Validate() },
	filterCols: map[string]bool{"campaign_id": true, "person_id": true},
}

// CreateCampaignSend stores a per-recipient send (R2.3); one per person and campaign and writes "campaign_send.created".
func (s *Store) CreateCampaignSend(ctx context.Context, r *calore.CampaignSend) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return campaignSends.insert(ctx, tx, r) })
}

// CampaignSend reads one campaign_send; calore.ErrNotFound when there is none.
func (s *Store) CampaignSend(ctx context.Context, id int64) (*calore.CampaignSend, error) {
	return campaignSends.get(ctx, s.db, id)
}

// UpdateCampaignSend writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "campaign_send.updated".
func (s *Store) UpdateCampaignSend(ctx context.Context, r *calore.CampaignSend) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return campaignSends.update(ctx, tx, r) })
}

// DeleteCampaignSend removes the campaign_send read at version and writes "campaign_send.deleted".
func (s *Store) DeleteCampaignSend(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return campaignSends.delete(ctx, tx, id, version) })
}

// ListCampaignSends lists campaign_send records in id order.
func (s *Store) ListCampaignSends(ctx context.Context, f Filter) ([]*calore.CampaignSend, error) {
	return campaignSends.list(ctx, s.db, f)
}

var donations = &table[calore.Donation]{
	aggregate: "donation",
	name:      "donations",
	meta:      func(r *calore.Donation) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Donation) []field {
		return []field{
			{col: "source", ptr: &r.Source},
			{col: "source_id", ptr: &r.SourceID},
			{col: "person_id", ptr: &r.PersonID},
			{col: "organisation_id", ptr: &r.OrganisationID},
			{col: "amount", ptr: &r.Amount, write: "%s::numeric", read: "amount::text"},
			{col: "currency", ptr: &r.Currency, write: "coalesce(nullif(%s, ''), 'EUR')"},
			{col: "donated_on", ptr: &r.DonatedOn},
			{col: "periodicity", ptr: &r.Periodicity, write: "coalesce(nullif(%s, ''), 'one_off')"},
			{col: "purpose", ptr: &r.Purpose, write: "coalesce(nullif(%s, ''), 'general')"},
			{col: "purpose_detail", ptr: &r.PurposeDetail},
			{col: "campaign_id", ptr: &r.CampaignID},
		}
	},
	validate:    func(r *calore.Donation) error { return r.Validate() },
	filterCols:  map[string]bool{"person_id": true, "organisation_id": true, "campaign_id": true},
	ownerOffice: "fundraising", // record scopes (scope.go): access.OwnedBy[access.Donations]
}

// CreateDonation stores a donation (R2.4) and writes "donation.created".
func (s *Store) CreateDonation(ctx context.Context, r *calore.Donation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return donations.insert(ctx, tx, r) })
}

// Donation reads one donation; calore.ErrNotFound when there is none.
func (s *Store) Donation(ctx context.Context, id int64) (*calore.Donation, error) {
	return donations.get(ctx, s.db, id)
}

// UpdateDonation writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "donation.updated".
func (s *Store) UpdateDonation(ctx context.Context, r *calore.Donation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return donations.update(ctx, tx, r) })
}

// DeleteDonation removes the donation read at version and writes "donation.deleted".
func (s *Store) DeleteDonation(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return donations.delete(ctx, tx, id, version) })
}

// ListDonations lists donation records in id order.
func (s *Store) ListDonations(ctx context.Context, f Filter) ([]*calore.Donation, error) {
	return donations.list(ctx, s.db, f)
}

var collaborations = &table[calore.Collaboration]{
	aggregate: "collaboration",
	name:      "collaborations",
	meta:      func(r *calore.Collaboration) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Collaboration) []field {
		return []field{
			{col: "person_id", ptr: &r.PersonID},
			{col: "organisation_id", ptr: &r.OrganisationID},
			{col: "counterpart_id", ptr: &r.CounterpartID},
			{col: "kind", ptr: &r.Kind},
			{col: "role", ptr: &r.Role},
			{col: "start_date", ptr: &r.StartDate},
			{col: "end_date", ptr: &r.EndDate},
			{col: "notes", ptr: &r.Notes},
		}
	},
	validate:   func(r *calore.Collaboration) error { return r.Validate() },
	filterCols: map[string]bool{"person_id": true, "organisation_id": true},
}

// CreateCollaboration stores a collaboration (R2.5) and writes "collaboration.created".
func (s *Store) CreateCollaboration(ctx context.Context, r *calore.Collaboration) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return collaborations.insert(ctx, tx, r) })
}

// Collaboration reads one collaboration; calore.ErrNotFound when there is none.
func (s *Store) Collaboration(ctx context.Context, id int64) (*calore.Collaboration, error) {
	return collaborations.get(ctx, s.db, id)
}

// UpdateCollaboration writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "collaboration.updated".
func (s *Store) UpdateCollaboration(ctx context.Context, r *calore.Collaboration) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return collaborations.update(ctx, tx, r) })
}

// DeleteCollaboration removes the collaboration read at version and writes "collaboration.deleted".
func (s *Store) DeleteCollaboration(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return collaborations.delete(ctx, tx, id, version) })
}

// ListCollaborations lists collaboration records in id order.
func (s *Store) ListCollaborations(ctx context.Context, f Filter) ([]*calore.Collaboration, error) {
	return collaborations.list(ctx, s.db, f)
}

var partnerships = &table[calore.Partnership]{
	aggregate: "partnership",
	name:      "partnerships",
	meta:      func(r *calore.Partnership) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Partnership) []field {
		return []field{
			{col: "organisation_id", ptr: &r.OrganisationID},
			{col: "product", ptr: &r.Product},
			{col: "kind", ptr: &r.Kind, write: "coalesce(nullif(%s, ''), 'product')"},
			{col: "stage", ptr: &r.Stage, write: "coalesce(nullif(%s, ''), 'prospect')"},
			{col: "service_level", ptr: &r.ServiceLevel},
			{col: "start_date", ptr: &r.StartDate},
			{col: "end_date", ptr: &r.EndDate},
			{col: "renewal_date", ptr: &r.RenewalDate},
			{col: "reminder_days", ptr: &r.ReminderDays},
			{col: "account_manager_id", ptr: &r.AccountManagerID},
		}
	},
	validate:   func(r *calore.Partnership) error { return r.Validate() },
	filterCols: map[string]bool{"organisation_id": true},
}

// CreatePartnership stores a product or partnership of an organisation (R1.8) and writes "partnership.created".
func (s *Store) CreatePartnership(ctx context.Context, r *calore.Partnership) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return partnerships.insert(ctx, tx, r) })
}

// Partnership reads one partnership; calore.ErrNotFound when there is none.
func (s *Store) Partnership(ctx context.Context, id int64) (*calore.Partnership, error) {
	return partnerships.get(ctx, s.db, id)
}

// UpdatePartnership writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "partnership.updated".
func (s *Store) UpdatePartnership(ctx context.Context, r *calore.Partnership) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return partnerships.update(ctx, tx, r) })
}

// DeletePartnership removes the partnership read at version and writes "partnership.deleted".
func (s *Store) DeletePartnership(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return partnerships.delete(ctx, tx, id, version) })
}

// ListPartnerships lists partnership records in id order.
func (s *Store) ListPartnerships(ctx context.Context, f Filter) ([]*calore.Partnership, error) {
	return partnerships.list(ctx, s.db, f)
}

var researchContracts = &table[calore.ResearchContract]{
	aggregate: "research_contract",
	name:      "research_contracts",
	meta:      func(r *calore.ResearchContract) *calore.Meta { return &r.Meta },
	fields: func(r *calore.ResearchContract) []field {
		return []field{
			{col: "contract_number", ptr: &r.ContractNumber},
			{col: "organisation_id", ptr: &r.OrganisationID},
			{col: "title", ptr: &r.Title},
			{col: "status", ptr: &r.Status, write: "coalesce(nullif(%s, ''), 'active')"},
			{col: "start_date", ptr: &r.StartDate},
			{col: "end_date", ptr: &r.EndDate},
			{col: "scientific_lead", ptr: &r.ScientificLead},
			{col: "scientific_lead_id", ptr: &r.ScientificLeadID},
			{col: "department", ptr: &r.Department},
			{col: "value", ptr: &r.Value, write: "nullif(%s, '')::numeric", read: "coalesce(value::text, '')"},
			{col: "currency", ptr: &r.Currency, write: "coalesce(nullif(%s, ''), 'EUR')"},
		}
	},
	validate:   func(r *calore.ResearchContract) error { return r.Validate() },
	filterCols: map[string]bool{"organisation_id": true},
}

// CreateResearchContract stores a research contract (R1.8); a contract number already stored is a conflict and writes "research_contract.created".
func (s *Store) CreateResearchContract(ctx context.Context, r *calore.ResearchContract) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return researchContracts.insert(ctx, tx, r) })
}

// ResearchContract reads one research_contract; calore.ErrNotFound when there is none.
func (s *Store) ResearchContract(ctx context.Context, id int64) (*calore.ResearchContract, error) {
	return researchContracts.get(ctx, s.db, id)
}

// UpdateResearchContract writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "research_contract.updated".
func (s *Store) UpdateResearchContract(ctx context.Context, r *calore.ResearchContract) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return researchContracts.update(ctx, tx, r) })
}

// DeleteResearchContract removes the research_contract read at version and writes "research_contract.deleted".
func (s *Store) DeleteResearchContract(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return researchContracts.delete(ctx, tx, id, version) })
}

// ListResearchContracts lists research_contract records in id order.
func (s *Store) ListResearchContracts(ctx context.Context, f Filter) ([]*calore.ResearchContract, error) {
	return researchContracts.list(ctx, s.db, f)
}

var journeyStages = &table[calore.JourneyStage]{
	aggregate: "journey_stage",
	name:      "journey_stages",
	meta:      func(r *calore.JourneyStage) *calore.Meta { return &r.Meta },
	fields: func(r *calore.JourneyStage) []field {
		return []field{
			{col: "source_id", ptr: &r.SourceID},
			{col: "person_id", ptr: &r.PersonID},
			{col: "programme", ptr: &r.Programme},
			{col: "stage", ptr: &r.Stage},
			{col: "reached_at", ptr: &r.ReachedAt},
			{col: "touchpoint", ptr: &r.Touchpoint},
			{col: "source", ptr: &r.Source},
		}
	},
	validate:   func(r *calore.JourneyStage) error { return r.Validate() },
	filterCols: map[string]bool{"person_id": true},
}

// CreateJourneyStage stores a student journey stage (R1.9); one per person, programme and stage and writes "journey_stage.created".
func (s *Store) CreateJourneyStage(ctx context.Context, r *calore.JourneyStage) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return journeyStages.insert(ctx, tx, r) })
}

// JourneyStage reads one journey_stage; calore.ErrNotFound when there is none.
func (s *Store) JourneyStage(ctx context.Context, id int64) (*calore.JourneyStage, error) {
	return journeyStages.get(ctx, s.db, id)
}

// UpdateJourneyStage writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "journey_stage.updated".
func (s *Store) UpdateJourneyStage(ctx context.Context, r *calore.JourneyStage) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return journeyStages.update(ctx, tx, r) })
}

// DeleteJourneyStage removes the journey_stage read at version and writes "journey_stage.deleted".
func (s *Store) DeleteJourneyStage(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return journeyStages.delete(ctx, tx, id, version) })
}

// ListJourneyStages lists journey_stage records in id order.
func (s *Store) ListJourneyStages(ctx context.Context, f Filter) ([]*calore.JourneyStage, error) {
	return journeyStages.list(ctx, s.db, f)
}

var consents = &table[calore.Consent]{
	aggregate: "consent",
	name:      "consents",
	meta:      func(r *calore.Consent) *calore.Meta { return &r.Meta },
	fields: func(r *calore.Consent) []field {
		return []field{
			{col: "person_id", ptr: &r.PersonID},
			{col: "purpose", ptr: &r.Purpose},
			{col: "granted", ptr: &r.Granted},
			{col: "source", ptr: &r.Source},
			{col: "recorded_at", ptr: &r.RecordedAt},
			{col: "guardian_name", ptr: &r.GuardianName},
		}
	},
	validate:   func(r *calore.Consent) error { return r.Validate() },
	filterCols: map[string]bool{"person_id": true},
}

// CreateConsent stores a consent decision (R7.3) and writes "consent.created".
func (s *Store) CreateConsent(ctx context.Context, r *calore.Consent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return consents.insert(ctx, tx, r) })
}

// Consent reads one consent; calore.ErrNotFound when there is none.
func (s *Store) Consent(ctx context.Context, id int64) (*calore.Consent, error) {
	return consents.get(ctx, s.db, id)
}

// UpdateConsent writes r read at r.Version; a stale version wraps
// calore.ErrConflict. Writes "consent.updated".
func (s *Store) UpdateConsent(ctx context.Context, r *calore.Consent) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return consents.update(ctx, tx, r) })
}

// DeleteConsent removes the consent read at version and writes "consent.deleted".
func (s *Store) DeleteConsent(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return consents.delete(ctx, tx, id, version) })
}

// ListConsents lists consent records in id order.
func (s *Store) ListConsents(ctx context.Context, f Filter) ([]*calore.Consent, error) {
	return consents.list(ctx, s.db, f)
}
