package calore

import (
	"errors"
	"time"
)

// Consent purposes (R7.3).
var ConsentPurposes = []string{"newsletter", "marketing", "profiling", "fundraising", "events", "images", "third_parties"}

// Consent is one decision of a person on one purpose (R7.3), kept as history:
// the latest per purpose is in force. A minor's consent names the guardian.
type Consent struct {
	Meta
	PersonID     int64     `json:"person_id"`
	Purpose      string    `json:"purpose"`
	Granted      bool      `json:"granted"`
	Source       string    `json:"source,omitempty"`
	RecordedAt   time.Time `json:"recorded_at"`
	GuardianName string    `json:"guardian_name,omitempty"`
}

// Validate checks a consent.
func (c *Consent) Validate() error {
	var errs []error
	errs = append(errs, required("person_id", c.PersonID), oneOf("purpose", c.Purpose, ConsentPurposes...))
	if c.RecordedAt.IsZero() {
		errs = append(errs, FieldError("recorded_at", "required"))
	}
	return errors.Join(errs...)
}
