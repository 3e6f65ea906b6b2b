package postgres

// Record scopes (docs/access.md, "Record scopes"): the records of an
// office-owned kind (interactions, donations) that a caller may read and
// change. The scope is a condition of the store's own queries, so a list, a
// single read, an export, an update and a delete are narrowed alike: a
// record outside what the caller may read is not found, whatever the
// request's filters say.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// Scope is what a caller may do with office-owned records: the office values
// of the records it may read and change. The API builds it from the
// caller's roles (access.ScopeOf, the same fields), never from request
// input. The zero Scope allows no record.
type Scope struct {
	All   bool     // every record (an admin), also those of no known office
	Read  []string // offices whose records may be read
	Write []string // offices whose records may be created, changed, deleted
}

// scopeCond is the SQL condition (" AND …", or "" for no limit) keeping t's
// rows to those sc may read (or, with write, change), its argument numbered
// n. Nil sc is the store's own unscoped access (jobs, GDPR, tests).
func (t *table[T]) scopeCond(sc *Scope, write bool, n int) (string, []any) {
	if sc == nil || sc.All {
		return "", nil
	}
	offices := sc.Read
	if write {
		offices = sc.Write
	}
	if offices == nil {
		offices = []string{}
	}
	switch {
	case t.ownerCol != "":
		return fmt.Sprintf(" AND %s = ANY($%d)", t.ownerCol, n), []any{offices}
	case t.ownerOffice != "":
		return fmt.Sprintf(" AND $%d = ANY($%d::text[])", n, n+1), []any{t.ownerOffice, offices}
	}
	return " AND false", nil // a scope on records no office owns: nothing, rather than everything
}

// owner is the office rec belongs to.
func (t *table[T]) owner(rec *T) string {
	if t.ownerCol == "" {
		return t.ownerOffice
	}
	for _, f := range t.fields(rec) {
		if f.col == t.ownerCol {
			if s, ok := f.ptr.(*string); ok {
				return *s
			}
		}
	}
	return ""
}

// mayWrite checks that sc may write rec as it is to be stored: a record of
// no office only for All, one of an office sc may not write is forbidden.
func (t *table[T]) mayWrite(sc *Scope, rec *T) error {
	if sc == nil || sc.All {
		return nil
	}
	o := t.owner(rec)
	if o == "" {
		return calore.FieldError(t.ownerCol, "required: the office the %s belongs to, one of %v", t.aggregate, sc.Write)
	}
	for _, w := range sc.Write {
		if w == o {
			return nil
		}
	}
	return calore.Errorf(calore.ErrForbidden, "your roles do not allow %s records of the %s office", t.aggregate, o)
}

// CreateInteractionIn is CreateInteraction for a caller: the interaction's
// office must be one sc may write.
func (s *Store) CreateInteractionIn(ctx context.Context, sc Scope, r *calore.Interaction) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return interactions.insertIn(ctx, tx, &sc, r) })
}

// InteractionIn reads one interaction sc may read; calore.ErrNotFound when
// there is none, also when it exists outside sc (so its existence is not
// revealed).
func (s *Store) InteractionIn(ctx context.Context, sc Scope, id int64) (*calore.Interaction, error) {
	return interactions.getIn(ctx, s.db, &sc, id)
}

// UpdateInteractionIn is UpdateInteraction for a caller: outside what sc may
// read, calore.ErrNotFound; readable but not writable, or moved to an
// office sc may not write, calore.ErrForbidden.
func (s *Store) UpdateInteractionIn(ctx context.Context, sc Scope, r *calore.Interaction) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return interactions.updateIn(ctx, tx, &sc, r) })
}

// DeleteInteractionIn is DeleteInteraction for a caller, with the errors of
// UpdateInteractionIn.
func (s *Store) DeleteInteractionIn(ctx context.Context, sc Scope, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return interactions.deleteIn(ctx, tx, &sc, id, version) })
}

// SearchInteractionsIn is SearchInteractions within what sc may read.
func (s *Store) SearchInteractionsIn(ctx context.Context, sc Scope, q SearchQuery) ([]*calore.Interaction, int64, error) {
	return searchIn(ctx, s.db, interactions, &sc, q)
}

// CreateDonationIn is CreateDonation for a caller (donations belong to the
// fundraising office).
func (s *Store) CreateDonationIn(ctx context.Context, sc Scope, r *calore.Donation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return donations.insertIn(ctx, tx, &sc, r) })
}

// DonationIn reads one donation sc may read; calore.ErrNotFound otherwise.
func (s *Store) DonationIn(ctx context.Context, sc Scope, id int64) (*calore.Donation, error) {
	return donations.getIn(ctx, s.db, &sc, id)
}

// UpdateDonationIn is UpdateDonation for a caller.
func (s *Store) UpdateDonationIn(ctx context.Context, sc Scope, r *calore.Donation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return donations.updateIn(ctx, tx, &sc, r) })
}

// DeleteDonationIn is DeleteDonation for a caller.
func (s *Store) DeleteDonationIn(ctx context.Context, sc Scope, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return donations.deleteIn(ctx, tx, &sc, id, version) })
}

// SearchDonationsIn is SearchDonations within what sc may read.
func (s *Store) SearchDonationsIn(ctx context.Context, sc Scope, q SearchQuery) ([]*calore.Donation, int64, error) {
	return searchIn(ctx, s.db, donations, &sc, q)
}
