package calore

import (
	"errors"
	"time"
)

// Interaction channels (R2.1).
const (
	ChannelEmail   = "email"
	ChannelPhone   = "phone"
	ChannelSMS     = "sms"
	ChannelSocial  = "social"
	ChannelChatbot = "chatbot"
	ChannelMeeting = "meeting"
	ChannelNote    = "note"
	ChannelEvent   = "event"
	ChannelLetter  = "letter"
	ChannelOther   = "other"
)

// Interaction is one contact with a person and/or an organisation (R2.1):
// who on staff, which office, through which channel.
type Interaction struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source         string    `json:"source,omitempty"`
	SourceID       string    `json:"source_id,omitempty"`
	PersonID       *int64    `json:"person_id,omitempty"`
	OrganisationID *int64    `json:"organisation_id,omitempty"`
	Channel        string    `json:"channel"`
	Direction      string    `json:"direction,omitempty"` // inbound, outbound
	OccurredAt     time.Time `json:"occurred_at"`
	Subject        string    `json:"subject,omitempty"`
	Notes          string    `json:"notes,omitempty"`
	StaffUserID    *int64    `json:"staff_user_id,omitempty"`
	Office         string    `json:"office,omitempty"`
	EventID        *int64    `json:"event_id,omitempty"`
	CampaignID     *int64    `json:"campaign_id,omitempty"`
}

// Validate checks an interaction.
func (i *Interaction) Validate() error {
	var errs []error
	if i.PersonID == nil && i.OrganisationID == nil {
		errs = append(errs, FieldError("person_id", "an interaction needs a person or an organisation"))
	}
	errs = append(errs,
		oneOf("channel", i.Channel, ChannelEmail, ChannelPhone, ChannelSMS, ChannelSocial, ChannelChatbot, ChannelMeeting, ChannelNote, ChannelEvent, ChannelLetter, ChannelOther),
		oneOf("direction", i.Direction, "", "inbound", "outbound"))
	if i.OccurredAt.IsZero() {
		errs = append(errs, FieldError("occurred_at", "required"))
	}
	return errors.Join(errs...)
}
