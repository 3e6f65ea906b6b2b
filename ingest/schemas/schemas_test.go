package schemas_test

import (
	"errors"
	"testing"

	"github.com/calore-crm/calore/ingest/schemas"
)

func TestDecode(t *testing.T) {
	r, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	const id = `"event_id":"0b6f8f0e-3c7e-4d55-9f43-5a1d1c0b2a11"`
	tests := []struct {
		name   string
		msg    string
		reason string // "" = accepted
	}{
		{"email open", `{` + id + `,"type":"email.open","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{"contact_id":42,"campaign_id":7,"send_id":9001,"is_machine":false}}`, ""},
		{"email click", `{` + id + `,"type":"email.click","schema_version":1,"time":"2026-03-14T09:30:00.123456Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{"contact_id":42,"campaign_id":7,"send_id":9001,"url":"https://www.example.edu/give","is_machine":true,"machine_reason":"scanner-fast-click"}}`, ""},
		{"page view, anonymous", `{` + id + `,"type":"web.pageview","schema_version":1,"time":"2026-03-14T09:30:00+01:00","aggregate":"tracking","aggregate_id":"anon:abc","payload":{"anonymous_id":"abc","url":"https://www.example.edu/"}}`, ""},
		{"custom web event", `{` + id + `,"type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:3","payload":{"contact_id":3,"name":"form_submitted"}}`, ""},
		{"person updated", `{` + id + `,"type":"person.updated","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"person","aggregate_id":"42","payload":{"id":42,"first_name":"Ada"}}`, ""},
		{"custom web event with props", `{` + id + `,"type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"video_play","props":{"video":"intro"}}}`, ""},
		{"props must be strings", `{` + id + `,"type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"video_play","props":{"seconds":12}}}`, schemas.ReasonSchema},
		{"upper-case uuid", `{"event_id":"0B6F8F0E-3C7E-4D55-9F43-5A1D1C0B2A11","type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"n"}}`, ""},
		{"uuid without hyphens", `{"event_id":"0b6f8f0e3c7e4d559f435a1d1c0b2a11","type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"n"}}`, schemas.ReasonEnvelope},
		{"capitalised type", `{` + id + `,"type":"Web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"n"}}`, schemas.ReasonEnvelope},
		{"no time", `{` + id + `,"type":"web.event","schema_version":1,"aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"n"}}`, schemas.ReasonEnvelope},
		{"schema version 0", `{` + id + `,"type":"web.event","schema_version":0,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"anonymous_id":"x","name":"n"}}`, schemas.ReasonEnvelope},
		{"payload an array", `{` + id + `,"type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":[1]}`, schemas.ReasonEnvelope},
		{"empty aggregate id", `{` + id + `,"type":"web.event","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"","payload":{"anonymous_id":"x","name":"n"}}`, schemas.ReasonEnvelope},
		{"not json", `{"event_id":`, schemas.ReasonBadJSON},
		{"json array", `[1,2]`, schemas.ReasonBadJSON},
		{"no event id", `{"type":"email.open","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{}}`, schemas.ReasonEnvelope},
		{"bad time", `{` + id + `,"type":"email.open","schema_version":1,"time":"yesterday","aggregate":"tracking","aggregate_id":"contact:42","payload":{"campaign_id":7,"send_id":1}}`, schemas.ReasonEnvelope},
		{"tracking type on a record aggregate", `{` + id + `,"type":"email.open","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"person","aggregate_id":"42","payload":{"campaign_id":7,"send_id":1}}`, schemas.ReasonEnvelope},
		{"unknown type", `{` + id + `,"type":"email.bounce","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{}}`, schemas.ReasonUnknownType},
		{"unknown version", `{` + id + `,"type":"email.open","schema_version":7,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{"campaign_id":7,"send_id":1}}`, schemas.ReasonUnknownType},
		{"click without url", `{` + id + `,"type":"email.click","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{"campaign_id":7,"send_id":1}}`, schemas.ReasonSchema},
		{"contact id as string", `{` + id + `,"type":"email.open","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"contact:42","payload":{"contact_id":"42","campaign_id":7,"send_id":1}}`, schemas.ReasonSchema},
		{"page view without visitor", `{` + id + `,"type":"web.pageview","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"tracking","aggregate_id":"anon:x","payload":{"url":"https://www.example.edu/"}}`, schemas.ReasonSchema},
		{"person with sealed fields", `{` + id + `,"type":"person.updated","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"person","aggregate_id":"42","payload":{"id":42,"first_name":{"enc":"v1:7:AAAA"},"notes":{"enc":"v1:7.9:QUJD+/x"}}}`, ""},
		{"sealed field, bad form", `{` + id + `,"type":"person.updated","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"person","aggregate_id":"42","payload":{"id":42,"first_name":{"enc":"v2:7:AAAA"}}}`, schemas.ReasonSchema},
		{"sealed field with more", `{` + id + `,"type":"person.updated","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"person","aggregate_id":"42","payload":{"id":42,"first_name":{"enc":"v1:7:AAAA","plain":"Ada"}}}`, schemas.ReasonSchema},
		{"record without id", `{` + id + `,"type":"donation.created","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"donation","aggregate_id":"5","payload":{"amount":"10.00"}}`, schemas.ReasonSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := r.Decode([]byte(tt.msg))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if ev.ID == "" || ev.Time.IsZero() || len(ev.Payload) == 0 {
					t.Errorf("decoded event incomplete: %+v", ev)
				}
				return
			}
			var se *schemas.Error
			if !errors.As(err, &se) || se.Reason != tt.reason {
				t.Fatalf("err = %v, want reason %s", err, tt.reason)
			}
		})
	}
}
