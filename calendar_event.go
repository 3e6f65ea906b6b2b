package calore

import (
	"errors"
	"time"
)

// CalendarEvent is an event the university runs (R2.2): an open day, a
// conference, a gala. A sub-event or parallel session has ParentID; an
// edition of a recurring event has SeriesID. (Event, in event.go, is the
// message envelope, hence the name.) Outbox aggregate "event".
type CalendarEvent struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source   string     `json:"source,omitempty"`
	SourceID string     `json:"source_id,omitempty"`
	ParentID *int64     `json:"parent_id,omitempty"`
	SeriesID *int64     `json:"series_id,omitempty"`
	Name     string     `json:"name"`
	Kind     string     `json:"kind,omitempty"` // open_day, conference, gala, webinar, ...
	Office   string     `json:"office,omitempty"`
	StartsAt time.Time  `json:"starts_at"`
	EndsAt   *time.Time `json:"ends_at,omitempty"`
	Location string     `json:"location,omitempty"`
	IsOnline bool       `json:"is_online"`
	Capacity *int       `json:"capacity,omitempty"`
}

// Validate checks an event.
func (e *CalendarEvent) Validate() error {
	var errs []error
	if e.Name == "" {
		errs = append(errs, FieldError("name", "required"))
	}
	if e.StartsAt.IsZero() {
		errs = append(errs, FieldError("starts_at", "required"))
	}
	errs = append(errs, ordered("ends_at", &e.StartsAt, e.EndsAt))
	if e.ParentID != nil && e.ID != 0 && *e.ParentID == e.ID {
		errs = append(errs, FieldError("parent_id", "an event cannot be its own parent"))
	}
	if e.Capacity != nil && *e.Capacity < 0 {
		errs = append(errs, FieldError("capacity", "negative"))
	}
	return errors.Join(errs...)
}

// EventSeries groups the recurring editions of an event; Template is the
// configuration a new edition copies.
type EventSeries struct {
	Meta
	Name       string            `json:"name"`
	Office     string            `json:"office,omitempty"`
	Recurrence string            `json:"recurrence,omitempty"` // weekly, monthly, termly, yearly, irregular
	Template   map[string]string `json:"template"`
}

// Validate checks a series.
func (s *EventSeries) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, FieldError("name", "required"))
	}
	errs = append(errs, oneOf("recurrence", s.Recurrence, "", "weekly", "monthly", "termly", "yearly", "irregular"))
	return errors.Join(errs...)
}

// Registration statuses (R2.2).
const (
	RegInvited    = "invited"
	RegRegistered = "registered"
	RegAttended   = "attended"
	RegNoShow     = "no_show"
	RegCancelled  = "cancelled"
)

// Registration is one person's invitation, registration and attendance at an
// event; one per person and event.
type Registration struct {
	Meta
	// SourceID: the record's key in its Source system (docs/import.md).
	SourceID     string     `json:"source_id,omitempty"`
	EventID      int64      `json:"event_id"`
	PersonID     int64      `json:"person_id"`
	Status       string     `json:"status"`
	Source       string     `json:"source,omitempty"` // open_day_app, eventbrite, form, import, manual
	InvitedAt    *time.Time `json:"invited_at,omitempty"`
	RegisteredAt *time.Time `json:"registered_at,omitempty"`
	AttendedAt   *time.Time `json:"attended_at,omitempty"`
	IsVIP        bool       `json:"is_vip"`
}

// Validate checks a registration.
func (r *Registration) Validate() error {
	return errors.Join(required("event_id", r.EventID), required("person_id", r.PersonID),
		oneOf("status", r.Status, RegInvited, RegRegistered, RegAttended, RegNoShow, RegCancelled))
}
