package calore

import (
	"encoding/json"
	"time"
)

// Event is the envelope of every message on Calore's Kafka topics, whether it
// comes from the PostgreSQL outbox (changes of domain records) or from the
// tracking endpoints (opens, clicks, web beacons). docs/events.md is the
// contract for outside producers.
type Event struct {
	ID            string          `json:"event_id"`       // UUID; unique; consumers drop repeats of an id
	Type          string          `json:"type"`           // "<aggregate>.<verb>", e.g. "person.updated", "email.open"
	SchemaVersion int             `json:"schema_version"` // version of Payload's schema for this Type, from 1
	Time          time.Time       `json:"time"`           // when it happened, RFC 3339 in UTC
	Aggregate     string          `json:"aggregate"`      // "person", "organisation", "tracking", …
	AggregateID   string          `json:"aggregate_id"`   // the record's id; also the Kafka key, for per-record order
	Payload       json.RawMessage `json:"payload"`        // the record or the hit, per Type
}

// Tracking event types (topic tracking).
const (
	EventEmailOpen   = "email.open"
	EventEmailClick  = "email.click"
	EventWebPageView = "web.pageview"
	EventWebCustom   = "web.event"
)

// TrackingHit is the payload of the tracking event types: one email open,
// link click, page view or custom web event. Machine hits (privacy proxies
// prefetching images, link scanners, bots) are kept and flagged, so reports can
// show both human and raw counts.
type TrackingHit struct {
	ContactID     int64  `json:"contact_id,omitempty"`     // 0 when not (yet) identified
	CampaignID    int64  `json:"campaign_id,omitempty"`    // email hits
	SendID        int64  `json:"send_id,omitempty"`        // email hits: the per-recipient send
	AnonymousID   string `json:"anonymous_id,omitempty"`   // web hits: the browser's id
	URL           string `json:"url,omitempty"`            // clicked link or visited page
	Name          string `json:"name,omitempty"`           // web.event: the custom event's name
	Referrer      string `json:"referrer,omitempty"`       // web hits
	UserAgent     string `json:"user_agent,omitempty"`     //
	IPPrefix      string `json:"ip_prefix,omitempty"`      // client IP truncated (IPv4 /24, IPv6 /48) before storage
	IsMachine     bool   `json:"is_machine"`               // flagged as a machine, not a person
	MachineReason string `json:"machine_reason,omitempty"` // why: "apple-mpp", "scanner-fast-click", "bot-ua", …

	Props map[string]string `json:"props,omitempty"` // web.event: the custom event's properties (values as strings)
}
