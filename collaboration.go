package calore

import (
	"errors"
	"time"
)

// Collaboration is a mentoring, sponsorship or partnership of a person and/or
// an organisation (R2.5); CounterpartID is the other person, e.g. the mentee.
type Collaboration struct {
	Meta
	PersonID       *int64     `json:"person_id,omitempty"`
	OrganisationID *int64     `json:"organisation_id,omitempty"`
	CounterpartID  *int64     `json:"counterpart_id,omitempty"`
	Kind           string     `json:"kind"` // mentoring, sponsorship, partnership, guest_lecture, internship_host, other
	Role           string     `json:"role,omitempty"`
	StartDate      *time.Time `json:"start_date,omitempty"`
	EndDate        *time.Time `json:"end_date,omitempty"`
	Notes          string     `json:"notes,omitempty"`
}

// Validate checks a collaboration.
func (c *Collaboration) Validate() error {
	var errs []error
	if c.PersonID == nil && c.OrganisationID == nil {
		errs = append(errs, FieldError("person_id", "a collaboration needs a person or an organisation"))
	}
	errs = append(errs, oneOf("kind", c.Kind, "mentoring", "sponsorship", "partnership", "guest_lecture", "internship_host", "other"),
		ordered("end_date", c.StartDate, c.EndDate))
	return errors.Join(errs...)
}
