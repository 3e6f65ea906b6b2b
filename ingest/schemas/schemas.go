// Package schemas holds the JSON Schemas of Calore's message contract
// (docs/events.md) and checks messages against them: the envelope
// (calore.Event), the tracking payloads (calore.TrackingHit) and the change
// payloads (a domain record as JSON). The sink runs every message through
// Decode; whatever it refuses goes to the dead-letter topic with the reason.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/calore-crm/calore"
)

//go:embed *.json
var files embed.FS

// Reasons a message is refused; they travel in the dead-letter header
// calore-error-reason.
const (
	ReasonBadJSON     = "bad-json"         // not a JSON object at all
	ReasonEnvelope    = "bad-envelope"     // JSON, but not a valid envelope
	ReasonUnknownType = "unknown-type"     // a type (or type and schema_version) nobody defined
	ReasonSchema      = "schema-violation" // the payload breaks its type's schema
)

// Error is a refused message: why (one of the Reason constants) and the detail.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// TrackingAggregate is the aggregate of every tracking event type.
const TrackingAggregate = "tracking"

// ChangeAggregates are the domain records whose changes travel on the changes
// topic, as "<aggregate>.<verb>".
var ChangeAggregates = []string{
	"person", "organisation", "campaign", "event", // dimensions
	"interaction", "donation", "registration", "campaign_send", "journey_stage", // facts
	"affiliation", "partnership", "collaboration", "research_contract", "consent", "event_series", "user", "score", // change_log only
}

// ChangeVerbs are the verbs of change types. "erased" is a GDPR erasure
// (person.erased, docs/gdpr.md): the sink deletes the person from the
// warehouse instead of storing rows.
var ChangeVerbs = []string{"created", "updated", "deleted", "merged", "erased"}

// TrackingTypes are the tracking event types.
var TrackingTypes = []string{calore.EventEmailOpen, calore.EventEmailClick, calore.EventWebPageView, calore.EventWebCustom}

// Registry holds the compiled schemas. It is safe for concurrent use.
type Registry struct {
	envelope *jsonschema.Schema
	tracking map[string]*jsonschema.Schema // "<type>/<version>"
	change   map[int]*jsonschema.Schema    // by schema_version
}

// New compiles the embedded schemas.
func New() (*Registry, error) {
	c := jsonschema.NewCompiler()
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, fmt.Errorf("list embedded schemas: %w", err)
	}
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", n, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", n, err)
		}
		if err := c.AddResource(n, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", n, err)
		}
	}
	compile := func(n string) (*jsonschema.Schema, error) {
		s, err := c.Compile(n)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", n, err)
		}
		return s, nil
	}
	r := &Registry{tracking: map[string]*jsonschema.Schema{}, change: map[int]*jsonschema.Schema{}}
	if r.envelope, err = compile("envelope.v1.json"); err != nil {
		return nil, err
	}
	for _, t := range TrackingTypes {
		s, err := compile(t + ".v1.json")
		if err != nil {
			return nil, err
		}
		r.tracking[t+"/1"] = s
	}
	if r.change[1], err = compile("change.v1.json"); err != nil {
		return nil, err
	}
	return r, nil
}

// Files returns the embedded schema files by name, for documentation and
// tests.
func Files() fs.FS { return files }

// IsTracking reports whether typ is a tracking event type.
func IsTracking(typ string) bool { return slices.Contains(TrackingTypes, typ) }

// SplitChange returns the aggregate and verb of a change type, and whether
// typ is a known change type.
func SplitChange(typ string) (aggregate, verb string, ok bool) {
	aggregate, verb, found := strings.Cut(typ, ".")
	if !found || !slices.Contains(ChangeAggregates, aggregate) || !slices.Contains(ChangeVerbs, verb) {
		return "", "", false
	}
	return aggregate, verb, true
}

// Decode parses one Kafka message value into an event and checks it against
// the contract: a valid envelope, a known type and schema_version, a payload
// that satisfies its schema, and an aggregate that matches the type. A
// refusal is an *Error.
func (r *Registry) Decode(value []byte) (calore.Event, error) {
	ev, _, err := r.DecodeHit(value)
	return ev, err
}

// Hit is a tracking payload already parsed by DecodeHit: the hit and its
// props as JSON ("" when absent).
type Hit struct {
	calore.TrackingHit
	Props string
}

// DecodeHit is Decode that also returns the parsed payload of a tracking
// event when the fast path parsed it (nil otherwise, e.g. for changes), so
// that the caller need not parse it again.
func (r *Registry) DecodeHit(value []byte) (calore.Event, *Hit, error) {
	ev, hit, err := r.decode(value)
	return ev, hit, err
}

func (r *Registry) decode(value []byte) (calore.Event, *Hit, error) {
	ev, err := r.decodeEnvelope(value)
	if err != nil {
		return ev, nil, err
	}
	var payloadSchema *jsonschema.Schema
	if IsTracking(ev.Type) {
		payloadSchema = r.tracking[trackingKey(ev.Type, ev.SchemaVersion)]
		if ev.Aggregate != TrackingAggregate {
			return ev, nil, &Error{ReasonEnvelope, fmt.Errorf("type %s needs aggregate %q, not %q", ev.Type, TrackingAggregate, ev.Aggregate)}
		}
	} else if agg, _, ok := SplitChange(ev.Type); ok {
		payloadSchema = r.change[ev.SchemaVersion]
		if ev.Aggregate != agg {
			return ev, nil, &Error{ReasonEnvelope, fmt.Errorf("type %s needs aggregate %q, not %q", ev.Type, agg, ev.Aggregate)}
		}
	} else {
		return ev, nil, &Error{ReasonUnknownType, fmt.Errorf("unknown event type %q", ev.Type)}
	}
	if payloadSchema == nil {
		return ev, nil, &Error{ReasonUnknownType, fmt.Errorf("type %s has no schema_version %d", ev.Type, ev.SchemaVersion)}
	}
	if ev.SchemaVersion == 1 && IsTracking(ev.Type) {
		if hit, ok := trackingOK(ev.Type, ev.Payload); ok {
			return ev, hit, nil
		}
	}
	if err := validate(payloadSchema, ev.Type, ev.Payload); err != nil {
		return ev, nil, err
	}
	return ev, nil, nil
}

// validate checks a payload against its JSON Schema.
func validate(sch *jsonschema.Schema, typ string, payload []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return &Error{ReasonEnvelope, fmt.Errorf("payload: %w", err)}
	}
	if err := sch.Validate(doc); err != nil {
		return &Error{ReasonSchema, fmt.Errorf("%s payload: %w", typ, flatten(err))}
	}
	return nil
}

func trackingKey(typ string, version int) string {
	if version == 1 {
		return typ + "/1" // the common case without fmt
	}
	return fmt.Sprintf("%s/%d", typ, version)
}

// decodeEnvelope parses the envelope. The common case, a well-formed
// envelope, is checked in Go with the same rules as envelope.v1.json (the
// tests hold the two to the same answers); anything the Go check refuses is
// run through the schema itself, so the error names the schema's rule.
func (r *Registry) decodeEnvelope(value []byte) (calore.Event, error) {
	var ev calore.Event
	if err := fastUnmarshal(value, &ev); err == nil && envelopeOK(&ev) {
		ev.Time = ev.Time.UTC()
		return ev, nil
	}
	ev = calore.Event{}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(value))
	if err != nil {
		return ev, &Error{ReasonBadJSON, err}
	}
	if _, ok := doc.(map[string]any); !ok {
		return ev, &Error{ReasonBadJSON, errors.New("message is not a JSON object")}
	}
	if err := r.envelope.Validate(doc); err != nil {
		return ev, &Error{ReasonEnvelope, flatten(err)}
	}
	// Valid by the schema yet refused by the Go check (or by encoding/json,
	// e.g. a time the schema's pattern allows but Go cannot parse).
	if err := json.Unmarshal(value, &ev); err != nil {
		return ev, &Error{ReasonEnvelope, err}
	}
	if !envelopeOK(&ev) {
		return ev, &Error{ReasonEnvelope, errors.New("envelope refused")}
	}
	ev.Time = ev.Time.UTC()
	return ev, nil
}

// envelopeOK applies envelope.v1.json's rules to a decoded envelope.
// encoding/json leaves Time zero when "time" is absent and fails on a time
// that is not RFC 3339.
func envelopeOK(ev *calore.Event) bool {
	return isUUID(ev.ID) && isType(ev.Type) && ev.SchemaVersion >= 1 && !ev.Time.IsZero() &&
		ev.Aggregate != "" && ev.AggregateID != "" && len(ev.Payload) > 0 && ev.Payload[0] == '{'
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isType matches ^[a-z][a-z_]*\.[a-z][a-z_]*$.
func isType(s string) bool {
	agg, verb, ok := strings.Cut(s, ".")
	return ok && isName(agg) && isName(verb)
}

func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// flatten turns a validation error tree into one line fit for a Kafka header.
func flatten(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	p := message.NewPrinter(language.English)
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, "/"+strings.Join(e.InstanceLocation, "/")+": "+e.ErrorKind.LocalizedString(p))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return errors.New(strings.Join(leaves, "; "))
}
