package calore

import (
	"errors"
	"regexp"
	"time"
)

// Donation periodicities and purposes (R2.4).
const (
	OneOff    = "one_off"
	Monthly   = "monthly"
	Quarterly = "quarterly"
	Yearly    = "yearly"

	PurposeScholarship     = "scholarship"
	PurposeMembershipFee   = "membership_fee"
	PurposeResearchProject = "research_project"
	PurposeGeneral         = "general"
	PurposeOther           = "other"
)

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// Donation is one gift from a person or an organisation (R2.4). Amount is
// decimal text ("250.00") so no float ever touches money.
type Donation struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source         string    `json:"source,omitempty"`
	SourceID       string    `json:"source_id,omitempty"`
	PersonID       *int64    `json:"person_id,omitempty"`
	OrganisationID *int64    `json:"organisation_id,omitempty"`
	Amount         string    `json:"amount"`
	Currency       string    `json:"currency"` // ISO 4217; "" means EUR
	DonatedOn      time.Time `json:"donated_on"`
	Periodicity    string    `json:"periodicity"` // "" means one_off
	Purpose        string    `json:"purpose"`     // "" means general
	PurposeDetail  string    `json:"purpose_detail,omitempty"`
	CampaignID     *int64    `json:"campaign_id,omitempty"`
}

// Validate checks a donation.
func (d *Donation) Validate() error {
	var errs []error
	if d.PersonID == nil && d.OrganisationID == nil && d.ID == 0 {
		errs = append(errs, FieldError("person_id", "a donation needs a donor"))
	}
	if !IsDecimal(d.Amount) || d.Amount[0] == '-' {
		errs = append(errs, FieldError("amount", "%q is not a positive decimal amount", d.Amount))
	}
	if d.Currency != "" && !currencyRE.MatchString(d.Currency) {
		errs = append(errs, FieldError("currency", "%q is not an ISO 4217 code", d.Currency))
	}
	if d.DonatedOn.IsZero() {
		errs = append(errs, FieldError("donated_on", "required"))
	}
	errs = append(errs, oneOf("periodicity", d.Periodicity, "", OneOff, Monthly, Quarterly, Yearly),
		oneOf("purpose", d.Purpose, "", PurposeScholarship, PurposeMembershipFee, PurposeResearchProject, PurposeGeneral, PurposeOther))
	return errors.Join(errs...)
}
