package calore

import (
	"errors"
	"time"
)

// Campaign is an email, SMS or social campaign (R2.3). A reminder to those
// who did not open has ReminderOf.
type Campaign struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source        string     `json:"source,omitempty"`
	SourceID      string     `json:"source_id,omitempty"`
	Name          string     `json:"name"`
	Channel       string     `json:"channel"` // email, sms, social
	SenderAccount string     `json:"sender_account,omitempty"`
	Office        string     `json:"office,omitempty"`
	Newsletter    string     `json:"newsletter,omitempty"`
	Subject       string     `json:"subject,omitempty"`
	Status        string     `json:"status"` // draft, scheduled, sending, sent, cancelled
	ScheduledAt   *time.Time `json:"scheduled_at,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	ReminderOf    *int64     `json:"reminder_of,omitempty"`
}

// Validate checks a campaign; an empty Status means draft.
func (c *Campaign) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, FieldError("name", "required"))
	}
	errs = append(errs, oneOf("channel", c.Channel, "email", "sms", "social"),
		oneOf("status", c.Status, "", "draft", "scheduled", "sending", "sent", "cancelled"))
	if c.Status == "scheduled" && c.ScheduledAt == nil {
		errs = append(errs, FieldError("scheduled_at", "a scheduled campaign needs a time"))
	}
	return errors.Join(errs...)
}

// CampaignSend is one recipient of a campaign and what they did with it
// (R2.3, R3.1); one per person and campaign. Opens and clicks keep the first
// time; the warehouse has every hit.
type CampaignSend struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source     string     `json:"source,omitempty"`
	SourceID   string     `json:"source_id,omitempty"`
	CampaignID int64      `json:"campaign_id"`
	PersonID   int64      `json:"person_id"`
	Address    string     `json:"address,omitempty"`
	Status     string     `json:"status"` // queued, sent, delivered, bounced, failed
	SentAt     *time.Time `json:"sent_at,omitempty"`
	OpenedAt   *time.Time `json:"opened_at,omitempty"`
	ClickedAt  *time.Time `json:"clicked_at,omitempty"`
	RepliedAt  *time.Time `json:"replied_at,omitempty"`
}

// Validate checks a send; an empty Status means queued.
func (s *CampaignSend) Validate() error {
	return errors.Join(required("campaign_id", s.CampaignID), required("person_id", s.PersonID),
		oneOf("status", s.Status, "", "queued", "sent", "delivered", "bounced", "failed"))
}
