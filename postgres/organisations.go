package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

var organisations = &table[calore.Organisation]{
	aggregate: "organisation",
	name:      "organisations",
	meta:      func(o *calore.Organisation) *calore.Meta { return &o.Meta },
	fields: func(o *calore.Organisation) []field {
		return []field{
			{col: "source", ptr: &o.Source},
			{col: "source_id", ptr: &o.SourceID},
			{col: "kind", ptr: &o.Kind},
			{col: "legal_name", ptr: &o.LegalName},
			{col: "legal_name_ascii", ptr: &o.LegalNameASCII},
			{col: "name_key", ptr: &o.NameKey, ro: true},
			{col: "vat_number", ptr: &o.VATNumber},
			{col: "tax_code", ptr: &o.TaxCode},
			{col: "ateco_codes", ptr: &o.ATECOCodes},
			{col: "sdgs", ptr: &o.SDGs},
			{col: "disciplines", ptr: &o.Disciplines},
			{col: "legal_status", ptr: &o.LegalStatus},
			{col: "size_class", ptr: &o.SizeClass},
			{col: "revenue", ptr: &o.Revenue, read: "coalesce(revenue::text, '')", write: "nullif(%s, '')::numeric"},
			{col: "revenue_year", ptr: &o.RevenueYear},
			{col: "territory", ptr: &o.Territory},
			{col: "country", ptr: &o.Country},
			{col: "region", ptr: &o.Region},
			{col: "province", ptr: &o.Province},
			{col: "city", ptr: &o.City},
			{col: "parent_id", ptr: &o.ParentID},
			{col: "account_manager_id", ptr: &o.AccountManagerID},
			{col: "functional_area", ptr: &o.FunctionalArea},
			{col: "labels", ptr: &o.Labels},
			{col: "extra", ptr: &o.Extra},
			{col: "status", ptr: &o.Status, write: "coalesce(nullif(%s, ''), 'active')"},
			// merged_into changes only through MergeOrganisations
			{col: "merged_into", ptr: &o.MergedInto, ro: true},
		}
	},
	validate: func(o *calore.Organisation) error {
		if err := o.Validate(); err != nil {
			return err
		}
		if o.Status == calore.StatusDuplicate && o.MergedInto == nil {
			return calore.FieldError("status", "only a merge makes an organisation a duplicate")
		}
		return nil
	},
	prepare: func(o *calore.Organisation) {
		o.LegalName = strings.TrimSpace(o.LegalName)
		if o.LegalNameASCII == "" {
			o.LegalNameASCII = ASCII(o.LegalName)
		}
		o.ATECOCodes, o.SDGs, o.Disciplines, o.Labels = nonNil(o.ATECOCodes), nonNil(o.SDGs), nonNil(o.Disciplines), nonNil(o.Labels)
		o.Extra = nonNilMap(o.Extra)
	},
	saveChildren: saveSites,
	loadChildren: loadSites,
	filterCols:   map[string]bool{},
}

// CreateOrganisation stores o with its sites and writes "organisation.created".
func (s *Store) CreateOrganisation(ctx context.Context, o *calore.Organisation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return organisations.insert(ctx, tx, o) })
}

// Organisation reads one organisation with its sites.
func (s *Store) Organisation(ctx context.Context, id int64) (*calore.Organisation, error) {
	return organisations.get(ctx, s.db, id)
}

// UpdateOrganisation writes o read at o.Version (sites replaced); a stale
// version wraps calore.ErrConflict. Status may move between active and
// archived; duplicate is set by MergeOrganisations only.
func (s *Store) UpdateOrganisation(ctx context.Context, o *calore.Organisation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return organisations.update(ctx, tx, o) })
}

// DeleteOrganisation removes an organisation read at version.
func (s *Store) DeleteOrganisation(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return organisations.delete(ctx, tx, id, version) })
}

// ListOrganisations lists organisations in id order.
func (s *Store) ListOrganisations(ctx context.Context, f Filter) ([]*calore.Organisation, error) {
	return organisations.list(ctx, s.db, f)
}

// saveSites replaces the sites of o; nil Sites leaves them untouched.
func saveSites(ctx context.Context, tx pgx.Tx, o *calore.Organisation) error {
	if o.Sites == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM organisation_sites WHERE organisation_id = $1`, o.ID); err != nil {
		return fmt.Errorf("save sites: %w", err)
	}
	for _, st := range o.Sites {
		if _, err := tx.Exec(ctx, `INSERT INTO organisation_sites (organisation_id, kind, street, postcode, city, province, region, country)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, o.ID, st.Kind, st.Street, st.Postcode, st.City, st.Province, st.Region, st.Country); err != nil {
			return fmt.Errorf("save site: %w", err)
		}
	}
	return nil
}

func loadSites(ctx context.Context, db DB, os []*calore.Organisation) error {
	byID := make(map[int64]*calore.Organisation, len(os))
	ids := make([]int64, len(os))
	for i, o := range os {
		byID[o.ID], ids[i] = o, o.ID
		o.Sites = []calore.Site{}
	}
	rows, err := db.Query(ctx, `SELECT organisation_id, id, kind, street, postcode, city, province, region, country
		FROM organisation_sites WHERE organisation_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return fmt.Errorf("load sites: %w", err)
	}
	var oid int64
	var st calore.Site
	if _, err := pgx.ForEachRow(rows, []any{&oid, &st.ID, &st.Kind, &st.Street, &st.Postcode, &st.City, &st.Province, &st.Region, &st.Country}, func() error {
		byID[oid].Sites = append(byID[oid].Sites, st)
		return nil
	}); err != nil {
		return fmt.Errorf("load sites: %w", err)
	}
	return nil
}

var affiliations = &table[calore.Affiliation]{
	aggregate: "affiliation",
	name:      "affiliations",
	meta:      func(a *calore.Affiliation) *calore.Meta { return &a.Meta },
	fields: func(a *calore.Affiliation) []field {
		return []field{
			{col: "source", ptr: &a.Source},
			{col: "source_id", ptr: &a.SourceID},
			{col: "person_id", ptr: &a.PersonID},
			{col: "organisation_id", ptr: &a.OrganisationID},
			{col: "role", ptr: &a.Role},
			{col: "department", ptr: &a.Department},
			{col: "seniority", ptr: &a.Seniority},
			{col: "is_referent", ptr: &a.IsReferent},
			{col: "start_date", ptr: &a.StartDate},
			{col: "end_date", ptr: &a.EndDate},
		}
	},
	validate:   func(a *calore.Affiliation) error { return a.Validate() },
	filterCols: map[string]bool{"person_id": true, "organisation_id": true},
}

// CreateAffiliation stores a person's role at an organisation.
func (s *Store) CreateAffiliation(ctx context.Context, a *calore.Affiliation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return affiliations.insert(ctx, tx, a) })
}

// Affiliation reads one affiliation.
func (s *Store) Affiliation(ctx context.Context, id int64) (*calore.Affiliation, error) {
	return affiliations.get(ctx, s.db, id)
}

// UpdateAffiliation writes a read at a.Version (ending a role sets EndDate).
func (s *Store) UpdateAffiliation(ctx context.Context, a *calore.Affiliation) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return affiliations.update(ctx, tx, a) })
}

// DeleteAffiliation removes an affiliation read at version.
func (s *Store) DeleteAffiliation(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return affiliations.delete(ctx, tx, id, version) })
}

// ListAffiliations lists affiliations by person or organisation.
func (s *Store) ListAffiliations(ctx context.Context, f Filter) ([]*calore.Affiliation, error) {
	return affiliations.list(ctx, s.db, f)
}
