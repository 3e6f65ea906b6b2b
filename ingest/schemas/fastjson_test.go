package schemas

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/calore-crm/calore"
)

// FuzzFastUnmarshal holds the fast decoder to encoding/json: whatever it
// decodes without error (an envelope, a tracking payload), encoding/json
// decodes too, to the same value. Where they differ the fast path must
// refuse, so that the message goes the slow way.
func FuzzFastUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"0b7e4bb5-7c4f-4c5e-9b1a-2f0d8d3c9a11","type":"email.open","schema_version":1,"time":"2026-01-01T10:00:00Z","aggregate":"tracking","aggregate_id":"contact:1","payload":{"contact_id":1,"send_id":2}}`,
		`{"contact_id":1,"campaign_id":2,"send_id":3,"url":"https://x.example/a?b=1","is_machine":true,"props":{"a":"b"}}`,
		`{"event_id":"x","time":"2026-13-01T00:00:00Z","payload":[1,2,{"a":null}]}`,
		`{"contact_id":1e3,"url":"\ud800","props":{"k":"\u00e9"}}`,
		`{"contact_id":1,"contact_id":2}`,
		"{\"url\":\"\xff\"}",
		`[]`, `null`, `{"payload":}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, target := range []func() any{func() any { return new(calore.Event) }, func() any { return new(fastHit) }} {
			fast, std := target(), target()
			if err := fastUnmarshal(data, fast); err != nil {
				continue
			}
			if err := json.Unmarshal(data, std); err != nil {
				t.Fatalf("fast decoder accepted %q (%T), encoding/json refused it: %v", data, fast, err)
			}
			if !reflect.DeepEqual(fast, std) {
				t.Fatalf("%q (%T): fast %+v, encoding/json %+v", data, fast, fast, std)
			}
		}
	})
}
