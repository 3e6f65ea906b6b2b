package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// Bulk loading is for history that arrives whole — the synthetic university,
// a migration from another CRM — where a transaction and an outbox row per
// record would take hours. Records keep the ids they carry (references among
// them stay valid), go through the same preparation, validation and write
// expressions as the store's Create, and write NO outbox rows: the loader puts
// the matching change events into the warehouse itself (see package
// synthetic's loader). After loading, each table's id sequence is moved past
// the largest id, so later creates do not collide.

// Bulk is a bulk loader on one transaction.
type Bulk struct{ tx pgx.Tx }

// NewBulk returns a bulk loader writing in tx.
func NewBulk(tx pgx.Tx) *Bulk { return &Bulk{tx: tx} }

// copyRecords stages recs with COPY and inserts them with the table's write
// expressions, keeping their ids.
func copyRecords[T any](ctx context.Context, tx pgx.Tx, t *table[T], recs []T) error {
	if err := stageRecords(ctx, tx, t, recs); err != nil {
		return err
	}
	return insertStaged(ctx, tx, t)
}

func bulkColumns[T any](t *table[T]) (cols, exprs []string) {
	var zero T
	cols = []string{"id", "version", "created_at", "updated_at"}
	exprs = []string{"id", "version", "created_at", "updated_at"}
	for _, f := range t.fields(&zero) {
		if f.ro {
			continue
		}
		cols = append(cols, f.col)
		e := f.col
		if f.write != "" {
			e = fmt.Sprintf(f.write, f.col)
		}
		exprs = append(exprs, e)
	}
	return cols, exprs
}

// ensureStage creates the table's stage, once per transaction, and returns
// its name. A column with a write expression is staged as text: the
// expressions are written for the text the store binds (nullif on the empty string).
func ensureStage[T any](ctx context.Context, tx pgx.Tx, t *table[T]) (string, error) {
	var zero T
	sel := []string{"id", "version", "created_at", "updated_at"}
	for _, f := range t.fields(&zero) {
		switch {
		case f.ro:
		case f.write != "":
			sel = append(sel, f.col+"::text AS "+f.col)
		default:
			sel = append(sel, f.col)
		}
	}
	stage := "bulk_" + t.name
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA", stage, strings.Join(sel, ", "), t.name)); err != nil {
		return "", fmt.Errorf("bulk %s: stage: %w", t.aggregate, err)
	}
	return stage, nil
}

// stageRecords copies recs into the table's stage, a temporary table without
// constraints that lives until the transaction ends; it may be called many
// times before insertStaged.
func stageRecords[T any](ctx context.Context, tx pgx.Tx, t *table[T], recs []T) error {
	cols, _ := bulkColumns(t)
	stage, err := ensureStage(ctx, tx, t)
	if err != nil {
		return err
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		rec := &recs[i]
		i++
		if err := t.check(rec); err != nil {
			return nil, fmt.Errorf("bulk %s %d (record %d): %w", t.aggregate, t.meta(rec).ID, i, err)
		}
		m := t.meta(rec)
		if m.ID <= 0 || m.Version <= 0 {
			return nil, fmt.Errorf("bulk %s (record %d): id %d and version %d must be positive", t.aggregate, i, m.ID, m.Version)
		}
		row := []any{m.ID, m.Version, m.CreatedAt, m.UpdatedAt}
		for _, f := range t.fields(rec) {
			if !f.ro {
				row = append(row, f.ptr)
			}
		}
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, cols, src); err != nil {
		return fmt.Errorf("bulk %s: copy: %w", t.aggregate, err)
	}
	return nil
}

// insertStaged moves the stage into the table and empties the stage.
func insertStaged[T any](ctx context.Context, tx pgx.Tx, t *table[T]) error {
	cols, exprs := bulkColumns(t)
	stage, err := ensureStage(ctx, tx, t)
	if err != nil {
		return err
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s", t.name, strings.Join(cols, ", "), strings.Join(exprs, ", "), stage)
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("bulk %s: insert: %w", t.aggregate, translate(err))
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+stage); err != nil {
		return fmt.Errorf("bulk %s: empty stage: %w", t.aggregate, err)
	}
	return bumpSequence(ctx, tx, t.name)
}

func bumpSequence(ctx context.Context, tx pgx.Tx, tableName string) error {
	q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), greatest((SELECT max(id) FROM %s), 1))", tableName, tableName)
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("bulk %s: move id sequence: %w", tableName, err)
	}
	return nil
}

// copyRows copies plain rows into table.
func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("bulk %s: copy: %w", table, translate(err))
	}
	return nil
}

// People loads people with their emails, phones and sources.
func (b *Bulk) People(ctx context.Context, ps []calore.Person) error {
	if err := copyRecords(ctx, b.tx, people, ps); err != nil {
		return err
	}
	var emails, phones, sources [][]any
	for _, p := range ps {
		for _, e := range p.Emails {
			emails = append(emails, []any{p.ID, e.Type, e.Address, e.LastConfirmedAt, p.CreatedAt})
		}
		for _, ph := range p.Phones {
			phones = append(phones, []any{p.ID, ph.Type, ph.Number, p.CreatedAt})
		}
		for _, s := range p.Sources {
			at := s.FirstSeenAt
			if at.IsZero() {
				at = p.CreatedAt
			}
			sources = append(sources, []any{p.ID, s.Source, at})
		}
	}
	if err := copyRows(ctx, b.tx, "person_emails", []string{"person_id", "type", "address", "last_confirmed_at", "created_at"}, emails); err != nil {
		return err
	}
	if err := copyRows(ctx, b.tx, "person_phones", []string{"person_id", "type", "number", "created_at"}, phones); err != nil {
		return err
	}
	return copyRows(ctx, b.tx, "person_sources", []string{"person_id", "source", "first_seen_at"}, sources)
}

// Organisations loads organisations with their sites.
func (b *Bulk) Organisations(ctx context.Context, os []calore.Organisation) error {
	if err := copyRecords(ctx, b.tx, organisations, os); err != nil {
		return err
	}
	var sites [][]any
	for _, o := range os {
		for _, s := range o.Sites {
			sites = append(sites, []any{o.ID, s.Kind, s.Street, s.Postcode, s.City, s.Province, s.Region, s.Country})
		}
	}
	return copyRows(ctx, b.tx, "organisation_sites", []string{"organisation_id", "kind", "street", "postcode", "city", "province", "region", "country"}, sites)
}

// Affiliations loads person↔organisation affiliations.
func (b *Bulk) Affiliations(ctx context.Context, rs []calore.Affiliation) error {
	return copyRecords(ctx, b.tx, affiliations, rs)
}

// EventSeries loads recurring event series.
func (b *Bulk) EventSeries(ctx context.Context, rs []calore.EventSeries) error {
	return copyRecords(ctx, b.tx, eventSeries, rs)
}

// Events loads events; parents must come before their sub-events or in the same call.
func (b *Bulk) Events(ctx context.Context, rs []calore.CalendarEvent) error {
	return copyRecords(ctx, b.tx, events, rs)
}

// Registrations loads event registrations.
func (b *Bulk) Registrations(ctx context.Context, rs []calore.Registration) error {
	return copyRecords(ctx, b.tx, registrations, rs)
}

// Campaigns loads campaigns.
func (b *Bulk) Campaigns(ctx context.Context, rs []calore.Campaign) error {
	return copyRecords(ctx, b.tx, campaigns, rs)
}

// StageCampaignSends stages per-recipient sends, as often as needed, before
// their people and campaigns are loaded; InsertCampaignSends then stores them.
func (b *Bulk) StageCampaignSends(ctx context.Context, rs []calore.CampaignSend) error {
	return stageRecords(ctx, b.tx, campaignSends, rs)
}

// InsertCampaignSends stores the staged sends.
func (b *Bulk) InsertCampaignSends(ctx context.Context) error {
	return insertStaged(ctx, b.tx, campaignSends)
}

// Donations loads donations.
func (b *Bulk) Donations(ctx context.Context, rs []calore.Donation) error {
	return copyRecords(ctx, b.tx, donations, rs)
}

// Interactions loads interactions.
func (b *Bulk) Interactions(ctx context.Context, rs []calore.Interaction) error {
	return copyRecords(ctx, b.tx, interactions, rs)
}

// Collaborations loads collaborations.
func (b *Bulk) Collaborations(ctx context.Context, rs []calore.Collaboration) error {
	return copyRecords(ctx, b.tx, collaborations, rs)
}

// Partnerships loads partnerships (their latest state).
func (b *Bulk) Partnerships(ctx context.Context, rs []calore.Partnership) error {
	return copyRecords(ctx, b.tx, partnerships, rs)
}

// ResearchContracts loads research contracts.
func (b *Bulk) ResearchContracts(ctx context.Context, rs []calore.ResearchContract) error {
	return copyRecords(ctx, b.tx, researchContracts, rs)
}

// JourneyStages loads student journey stages.
func (b *Bulk) JourneyStages(ctx context.Context, rs []calore.JourneyStage) error {
	return copyRecords(ctx, b.tx, journeyStages, rs)
}
