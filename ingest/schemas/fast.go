package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/calore-crm/calore"
)

// fastUnmarshal is json.Unmarshal by github.com/goccy/go-json, about three
// times faster than encoding/json here (bench/pipeline.md), for the fast
// paths only: what it refuses, and anything the fast path's checks refuse,
// goes the slow way (the JSON Schema, then encoding/json), which also words
// the error. A panic in it is an error, so that a poison message goes to the
// dead-letter topic instead of stopping the sink. FuzzFastUnmarshal holds
// its answers to encoding/json's.
func fastUnmarshal(data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fast JSON decoder: %v", p)
		}
	}()
	if !utf8.Valid(data) { // encoding/json would replace the bytes; leave it to it
		return errInvalidUTF8
	}
	return gojson.Unmarshal(data, v)
}

var errInvalidUTF8 = fmt.Errorf("invalid UTF-8")

// The sink checks up to hundreds of thousands of tracking hits a second, and
// generic JSON Schema validation costs more than everything else the sink
// does per message. trackingOK is a fast path with the rules of the tracking
// schemas (tracking_common.v1.json and the four type files) written in Go.
// It may only say "valid" when the schema would: whenever it is unsure (a
// null anywhere, a number that is not a plain int64, a field of another type)
// it answers false and Decode asks the schema itself, which also produces the
// error. TestFastPathAgreesWithSchemas holds the two together.

// fastHit needs no pointers to see which fields are present: every rule
// that requires a field also requires a value its zero value fails (≥ 1, not
// empty), and a field of the wrong JSON type fails json.Unmarshal.
type fastHit struct {
	calore.TrackingHit
	Props map[string]string `json:"props"`
}

var null = []byte("null")

// trackingOK reports whether payload certainly satisfies the schema of typ
// at schema_version 1, and if so returns it parsed.
func trackingOK(typ string, payload []byte) (*Hit, bool) {
	if bytes.Contains(payload, null) { // null is never valid; let the schema say where
		return nil, false
	}
	if !keysExact(payload) {
		return nil, false
	}
	var h fastHit
	if err := fastUnmarshal(payload, &h); err != nil {
		return nil, false
	}
	if !h.valid(typ) {
		return nil, false
	}
	out := &Hit{TrackingHit: h.TrackingHit}
	if h.Props != nil {
		b, err := json.Marshal(h.Props)
		if err != nil {
			return nil, false
		}
		out.Props = string(b)
	}
	return out, true
}

func (h *fastHit) valid(typ string) bool {
	if h.ContactID < 0 || h.CampaignID < 0 || h.SendID < 0 {
		return false
	}
	limits := []struct {
		s   string
		max int
	}{{h.AnonymousID, 200}, {h.URL, 8192}, {h.Name, 200}, {h.Referrer, 8192}, {h.UserAgent, 2048}, {h.IPPrefix, 64}, {h.MachineReason, 100}}
	for _, l := range limits {
		if len(l.s) > l.max && utf8.RuneCountInString(l.s) > l.max {
			return false
		}
	}
	if len(h.Props) > 50 {
		return false
	}
	visitor := h.AnonymousID != "" || h.ContactID >= 1
	switch typ {
	case calore.EventEmailOpen:
		return h.CampaignID >= 1 && h.SendID >= 1
	case calore.EventEmailClick:
		return h.CampaignID >= 1 && h.SendID >= 1 && h.URL != ""
	case calore.EventWebPageView:
		return h.URL != "" && visitor
	case calore.EventWebCustom:
		return h.Name != "" && visitor
	}
	return false
}

// hitKeys are the payload's keys as they appear in JSON.
var hitKeys = [][]byte{[]byte(`"contact_id"`), []byte(`"campaign_id"`), []byte(`"send_id"`), []byte(`"anonymous_id"`),
	[]byte(`"url"`), []byte(`"name"`), []byte(`"referrer"`), []byte(`"user_agent"`), []byte(`"ip_prefix"`),
	[]byte(`"is_machine"`), []byte(`"machine_reason"`), []byte(`"props"`)}

// Non-ASCII letters that Unicode case folding maps onto ASCII ones (ſ → s,
// the Kelvin sign → k).
var foldTraps = [][]byte{[]byte("\u017f"), []byte("\u212a")}

// keysExact reports that encoding/json, which matches keys without regard
// to case, will fill fields only from keys spelled exactly as the schema
// spells them (the schema is case-sensitive): no key that differs from one
// of hitKeys in case alone, and no letter hidden in a \u escape (Go itself
// escapes only <, >, & and the like). It errs on the side of false: a string
// value that looks like a key sends the hit down the schema path, nothing
// worse.
func keysExact(payload []byte) bool {
	for _, t := range foldTraps {
		if bytes.Contains(payload, t) {
			return false
		}
	}
	for rest := payload; ; {
		i := bytes.Index(rest, []byte(`\u`))
		if i < 0 {
			break
		}
		if i+6 > len(rest) {
			return false
		}
		r, err := strconv.ParseUint(string(rest[i+2:i+6]), 16, 32)
		if err != nil || r == 0x17f || r == 0x212a || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z') || r == '_' {
			return false
		}
		rest = rest[i+6:]
	}
	if !bytes.ContainsFunc(payload, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		return true
	}
	lower := make([]byte, len(payload))
	for i, c := range payload {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for _, k := range hitKeys {
		if bytes.Count(lower, k) != bytes.Count(payload, k) {
			return false
		}
	}
	return true
}
