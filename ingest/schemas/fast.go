package schemas

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/calore-crm/calore"
)

// The sink checks up to hundreds of thousands of tracking hits a second, and
// generic JSON Schema validation costs more than everything else the sink
// does per message. trackingOK is a fast path with the rules of the tracking
// schemas (tracking_common.v1.json and the four type files) written in Go.
// It may only say "valid" when the schema would: whenever it is unsure (a
// null anywhere, a number that is not a plain int64, a field of another type)
// it answers false and Decode asks the schema itself, which also produces the
// error. TestFastPathAgreesWithSchemas holds the two together.

type fastHit struct {
	ContactID     *int64            `json:"contact_id"`
	CampaignID    *int64            `json:"campaign_id"`
	SendID        *int64            `json:"send_id"`
	AnonymousID   *string           `json:"anonymous_id"`
	URL           *string           `json:"url"`
	Name          *string           `json:"name"`
	Referrer      *string           `json:"referrer"`
	UserAgent     *string           `json:"user_agent"`
	IPPrefix      *string           `json:"ip_prefix"`
	IsMachine     *bool             `json:"is_machine"`
	MachineReason *string           `json:"machine_reason"`
	Props         map[string]string `json:"props"`
}

var null = []byte("null")

// trackingOK reports whether payload certainly satisfies the schema of typ
// at schema_version 1, and if so returns it parsed.
func trackingOK(typ string, payload []byte) (*Hit, bool) {
	if bytes.Contains(payload, null) { // null is never valid; let the schema say where
		return nil, false
	}
	var h fastHit
	if err := json.Unmarshal(payload, &h); err != nil {
		return nil, false
	}
	if !h.valid(typ) {
		return nil, false
	}
	out := &Hit{TrackingHit: calore.TrackingHit{
		ContactID: deref(h.ContactID), CampaignID: deref(h.CampaignID), SendID: deref(h.SendID),
		AnonymousID: deref(h.AnonymousID), URL: deref(h.URL), Name: deref(h.Name), Referrer: deref(h.Referrer),
		UserAgent: deref(h.UserAgent), IPPrefix: deref(h.IPPrefix), IsMachine: deref(h.IsMachine),
		MachineReason: deref(h.MachineReason),
	}}
	if h.Props != nil {
		b, err := json.Marshal(h.Props)
		if err != nil {
			return nil, false
		}
		out.Props = string(b)
	}
	return out, true
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (h *fastHit) valid(typ string) bool {
	for _, n := range []*int64{h.ContactID, h.CampaignID, h.SendID} {
		if n != nil && *n < 0 {
			return false
		}
	}
	limits := []struct {
		s   *string
		max int
	}{{h.AnonymousID, 200}, {h.URL, 8192}, {h.Name, 200}, {h.Referrer, 8192}, {h.UserAgent, 2048}, {h.IPPrefix, 64}, {h.MachineReason, 100}}
	for _, l := range limits {
		if l.s != nil && len(*l.s) > l.max && utf8.RuneCountInString(*l.s) > l.max {
			return false
		}
	}
	if len(h.Props) > 50 {
		return false
	}
	pos := func(n *int64) bool { return n != nil && *n >= 1 }
	nonEmpty := func(s *string) bool { return s != nil && *s != "" }
	visitor := nonEmpty(h.AnonymousID) || pos(h.ContactID)
	switch typ {
	case calore.EventEmailOpen:
		return pos(h.CampaignID) && pos(h.SendID)
	case calore.EventEmailClick:
		return pos(h.CampaignID) && pos(h.SendID) && nonEmpty(h.URL)
	case calore.EventWebPageView:
		return nonEmpty(h.URL) && visitor
	case calore.EventWebCustom:
		return nonEmpty(h.Name) && visitor
	}
	return false
}
