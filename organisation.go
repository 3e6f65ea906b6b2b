package calore

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Kinds of organisation (R1.5).
const (
	OrgCompany      = "company"
	OrgPublicBody   = "public_body"
	OrgResearchBody = "research_body"
	OrgFoundation   = "foundation"
	OrgSpinOff      = "spin_off"
	OrgStartUp      = "start_up"
	OrgAssociation  = "association"
	OrgOther        = "other"
)

// OrganisationKinds lists the valid Organisation.Kind values.
var OrganisationKinds = []string{OrgCompany, OrgPublicBody, OrgResearchBody, OrgFoundation,
	OrgSpinOff, OrgStartUp, OrgAssociation, OrgOther}

// Organisation is a company, public or research body, foundation, spin-off or
// start-up (R1.5). Lifecycle stages per product are Partnerships; referents
// and employees are Affiliations.
type Organisation struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source         string `json:"source,omitempty"`
	SourceID       string `json:"source_id,omitempty"`
	Kind           string `json:"kind"`
	LegalName      string `json:"legal_name"`
	LegalNameASCII string `json:"legal_name_ascii"` // filled by the store when empty
	NameKey        string `json:"name_key"`         // read-only, computed by the database
	VATNumber      string `json:"vat_number,omitempty"`
	TaxCode        string `json:"tax_code,omitempty"`

	ATECOCodes  []string `json:"ateco_codes"`
	SDGs        []int    `json:"sdgs"` // UN sustainable development goals, 1-17
	Disciplines []string `json:"disciplines"`
	LegalStatus string   `json:"legal_status,omitempty"`
	SizeClass   string   `json:"size_class,omitempty"` // micro, small, medium, large
	Revenue     string   `json:"revenue,omitempty"`    // EUR, decimal text, "" when unknown
	RevenueYear *int     `json:"revenue_year,omitempty"`

	Territory string `json:"territory,omitempty"`
	Country   string `json:"country,omitempty"`
	Region    string `json:"region,omitempty"`
	Province  string `json:"province,omitempty"`
	City      string `json:"city,omitempty"`
	Sites     []Site `json:"sites"`

	ParentID         *int64            `json:"parent_id,omitempty"` // when a division / business unit
	AccountManagerID *int64            `json:"account_manager_id,omitempty"`
	FunctionalArea   string            `json:"functional_area,omitempty"` // research, placement, both
	Labels           []string          `json:"labels"`
	Extra            map[string]string `json:"extra"`

	Status     string `json:"status"` // active, archived, duplicate
	MergedInto *int64 `json:"merged_into,omitempty"`
}

// Site kinds.
const (
	SiteLegal     = "legal"
	SiteOperating = "operating"
)

// Site is a legal or operating site of an organisation.
type Site struct {
	ID       int64  `json:"id,omitempty"`
	Kind     string `json:"kind"`
	Street   string `json:"street,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	City     string `json:"city,omitempty"`
	Province string `json:"province,omitempty"`
	Region   string `json:"region,omitempty"`
	Country  string `json:"country,omitempty"`
}

var decimalRE = regexp.MustCompile(`^-?[0-9]{1,16}(\.[0-9]{1,4})?$`)

// IsDecimal reports whether s is a plain decimal number ("1234.50").
func IsDecimal(s string) bool { return decimalRE.MatchString(s) }

// Validate checks the rules of an organisation that need no database.
func (o *Organisation) Validate() error {
	var errs []error
	if !slices.Contains(OrganisationKinds, o.Kind) {
		errs = append(errs, FieldError("kind", "%q is not one of %v", o.Kind, OrganisationKinds))
	}
	if o.LegalName == "" {
		errs = append(errs, FieldError("legal_name", "empty"))
	}
	if !IsASCII(o.LegalNameASCII) {
		errs = append(errs, FieldError("legal_name_ascii", "%q is not ASCII", o.LegalNameASCII))
	}
	for _, g := range o.SDGs {
		if g < 1 || g > 17 {
			errs = append(errs, FieldError("sdgs", "%d is not a goal between 1 and 17", g))
		}
	}
	if !slices.Contains([]string{"", "micro", "small", "medium", "large"}, o.SizeClass) {
		errs = append(errs, FieldError("size_class", "%q is not micro, small, medium or large", o.SizeClass))
	}
	if o.Revenue != "" && !IsDecimal(o.Revenue) {
		errs = append(errs, FieldError("revenue", "%q is not a decimal number", o.Revenue))
	}
	if !slices.Contains([]string{"", "research", "placement", "both"}, o.FunctionalArea) {
		errs = append(errs, FieldError("functional_area", "%q is not research, placement or both", o.FunctionalArea))
	}
	if o.Status != "" && !slices.Contains([]string{StatusActive, StatusArchived, StatusDuplicate}, o.Status) {
		errs = append(errs, FieldError("status", "%q is not active, archived or duplicate", o.Status))
	}
	if o.ParentID != nil && o.ID != 0 && *o.ParentID == o.ID {
		errs = append(errs, FieldError("parent_id", "an organisation cannot be its own parent"))
	}
	for i, s := range o.Sites {
		if s.Kind != SiteLegal && s.Kind != SiteOperating {
			errs = append(errs, FieldError(fmt.Sprintf("sites[%d].kind", i), "%q is not legal or operating", s.Kind))
		}
	}
	return errors.Join(errs...)
}

// Affiliation is a person's role at an organisation, past or current (R1.3
// employers, R1.6 referents with role history).
type Affiliation struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source         string     `json:"source,omitempty"`
	SourceID       string     `json:"source_id,omitempty"`
	PersonID       int64      `json:"person_id"`
	OrganisationID int64      `json:"organisation_id"`
	Role           string     `json:"role,omitempty"`
	Department     string     `json:"department,omitempty"`
	Seniority      string     `json:"seniority,omitempty"` // one of Seniorities, "" when unknown
	IsReferent     bool       `json:"is_referent"`
	StartDate      *time.Time `json:"start_date,omitempty"`
	EndDate        *time.Time `json:"end_date,omitempty"` // nil while current
}

// Seniorities are the levels of a role (Affiliation.Seniority).
var Seniorities = []string{"entry", "junior", "middle", "senior", "executive"}

// Validate checks an affiliation.
func (a *Affiliation) Validate() error {
	var errs []error
	if a.Seniority != "" && !slices.Contains(Seniorities, a.Seniority) {
		errs = append(errs, FieldError("seniority", "%q is not one of %v", a.Seniority, Seniorities))
	}
	if a.SourceID != "" && a.Source == "" {
		errs = append(errs, FieldError("source", "required with source_id"))
	}
	if a.PersonID <= 0 {
		errs = append(errs, FieldError("person_id", "required"))
	}
	if a.OrganisationID <= 0 {
		errs = append(errs, FieldError("organisation_id", "required"))
	}
	if a.StartDate != nil && a.EndDate != nil && a.EndDate.Before(*a.StartDate) {
		errs = append(errs, FieldError("end_date", "before start_date"))
	}
	return errors.Join(errs...)
}
