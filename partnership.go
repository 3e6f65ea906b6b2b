package calore

import (
	"errors"
	"time"
)

// Partnership is a product or partnership an organisation has or may have
// with the university (R1.8), with the organisation's lifecycle stage for it
// (prospect → active client, R1.5) and renewal reminders.
type Partnership struct {
	Meta
	OrganisationID   int64      `json:"organisation_id"`
	Product          string     `json:"product"`
	Kind             string     `json:"kind"`  // product, partnership, sponsorship, membership; "" means product
	Stage            string     `json:"stage"` // prospect, negotiation, active, lapsed; "" means prospect
	ServiceLevel     string     `json:"service_level,omitempty"`
	StartDate        *time.Time `json:"start_date,omitempty"`
	EndDate          *time.Time `json:"end_date,omitempty"`
	RenewalDate      *time.Time `json:"renewal_date,omitempty"`
	ReminderDays     int        `json:"reminder_days"` // remind this many days before RenewalDate
	AccountManagerID *int64     `json:"account_manager_id,omitempty"`
}

// Validate checks a partnership.
func (p *Partnership) Validate() error {
	var errs []error
	errs = append(errs, required("organisation_id", p.OrganisationID))
	if p.Product == "" {
		errs = append(errs, FieldError("product", "required"))
	}
	if p.ReminderDays < 0 {
		errs = append(errs, FieldError("reminder_days", "negative"))
	}
	errs = append(errs, oneOf("kind", p.Kind, "", "product", "partnership", "sponsorship", "membership"),
		oneOf("stage", p.Stage, "", "prospect", "negotiation", "active", "lapsed"),
		ordered("end_date", p.StartDate, p.EndDate))
	return errors.Join(errs...)
}

// ResearchContract is a contract from the university's contracts system
// (R1.8), identified there by ContractNumber.
type ResearchContract struct {
	Meta
	ContractNumber   string     `json:"contract_number"`
	OrganisationID   *int64     `json:"organisation_id,omitempty"`
	Title            string     `json:"title,omitempty"`
	Status           string     `json:"status"` // draft, active, expired, closed, cancelled; "" means active
	StartDate        *time.Time `json:"start_date,omitempty"`
	EndDate          *time.Time `json:"end_date,omitempty"`
	ScientificLead   string     `json:"scientific_lead,omitempty"`
	ScientificLeadID *int64     `json:"scientific_lead_id,omitempty"`
	Department       string     `json:"department,omitempty"`
	Value            string     `json:"value,omitempty"`    // decimal text, "" when unknown
	Currency         string     `json:"currency,omitempty"` // "" means EUR
}

// Validate checks a research contract.
func (r *ResearchContract) Validate() error {
	var errs []error
	if r.ContractNumber == "" {
		errs = append(errs, FieldError("contract_number", "required"))
	}
	if r.Value != "" && !IsDecimal(r.Value) {
		errs = append(errs, FieldError("value", "%q is not a decimal number", r.Value))
	}
	if r.Currency != "" && !currencyRE.MatchString(r.Currency) {
		errs = append(errs, FieldError("currency", "%q is not an ISO 4217 code", r.Currency))
	}
	errs = append(errs, oneOf("status", r.Status, "", "draft", "active", "expired", "closed", "cancelled"),
		ordered("end_date", r.StartDate, r.EndDate))
	return errors.Join(errs...)
}
