package calore

import (
	"errors"
	"time"
)

// Student journey stages (R1.9), in funnel order.
const (
	StageFirstContact = "first_contact"
	StageApplication  = "application"
	StageAdmission    = "admission"
	StageEnrolment    = "enrolment"
)

// JourneyStages lists the stages in funnel order.
var JourneyStages = []string{StageFirstContact, StageApplication, StageAdmission, StageEnrolment}

// JourneyStage records that a person reached a stage of the journey towards
// a programme, and through which touch point; one per person, programme and
// stage.
type JourneyStage struct {
	Meta
	// SourceID: the record's key in its Source system (docs/import.md).
	SourceID   string    `json:"source_id,omitempty"`
	PersonID   int64     `json:"person_id"`
	Programme  string    `json:"programme"`
	Stage      string    `json:"stage"`
	ReachedAt  time.Time `json:"reached_at"`
	Touchpoint string    `json:"touchpoint,omitempty"`
	Source     string    `json:"source,omitempty"`
}

// Validate checks a journey stage.
func (j *JourneyStage) Validate() error {
	var errs []error
	errs = append(errs, required("person_id", j.PersonID), oneOf("stage", j.Stage, JourneyStages...))
	if j.Programme == "" {
		errs = append(errs, FieldError("programme", "required"))
	}
	if j.ReachedAt.IsZero() {
		errs = append(errs, FieldError("reached_at", "required"))
	}
	return errors.Join(errs...)
}
