package schemas

import (
	"fmt"
	"strings"
	"testing"
)

// TestFastPathAgreesWithSchemas: for many payload variants of every tracking
// type, the Go fast path never accepts what the JSON Schema refuses, and
// accepts the ordinary valid hits (else it would be no fast path).
func TestFastPathAgreesWithSchemas(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string][]string{
		"contact_id":     {"42", "0", "-1", `"42"`, "4.2", "1e3", "null", "99999999999999999999"},
		"campaign_id":    {"7", "0", "-7", `"7"`, "null"},
		"send_id":        {"9001", "0", "-1", "true"},
		"anonymous_id":   {`"b1f9"`, `""`, "12", `"` + strings.Repeat("x", 201) + `"`, `"` + strings.Repeat("é", 200) + `"`},
		"url":            {`"https://www.example.edu/"`, `""`, "null", `"` + strings.Repeat("u", 8193) + `"`},
		"name":           {`"form_submitted"`, `""`, "[]"},
		"referrer":       {`"https://www.example.edu/"`, "1"},
		"user_agent":     {`"Mozilla/5.0"`, `"` + strings.Repeat("a", 2049) + `"`},
		"ip_prefix":      {`"192.0.2.0"`, "{}"},
		"is_machine":     {"true", "false", `"yes"`, "0", "null"},
		"machine_reason": {`"apple-mpp"`, `"` + strings.Repeat("r", 101) + `"`},
		"props":          {`{"a":"b"}`, `{"a":1}`, `{}`, `[]`, `{"a":null}`},
	}
	base := map[string]string{"contact_id": "42", "campaign_id": "7", "send_id": "9001", "anonymous_id": `"b1f9"`,
		"url": `"https://www.example.edu/"`, "name": `"form_submitted"`, "is_machine": "false"}
	var payloads []string
	payloads = append(payloads, render(base, "", ""))
	for f, vals := range fields {
		payloads = append(payloads, render(base, f, "")) // field absent
		for _, v := range vals {
			payloads = append(payloads, render(base, f, v))
		}
	}
	// keys that encoding/json would match without regard to case, but the
	// schema does not
	payloads = append(payloads,
		`{"Campaign_ID":7,"SEND_ID":9001,"url":"https://www.example.edu/","name":"n","anonymous_id":"a"}`,
		`{"campaign_id":0,"CAMPAIGN_ID":7,"send_id":9001,"url":"u","name":"n","anonymous_id":"a"}`,
		`{"campaign_id":7,"\u017fend_id":9001,"url":"u","name":"n","anonymous_id":"a"}`,
		"{\"campaign_id\":7,\"\u017fend_id\":9001,\"url\":\"u\",\"name\":\"n\",\"anonymous_id\":\"a\"}",
		`{"campaign_id":7,"send_id":9001,"URL":"https://www.example.edu/","Name":"n","Anonymous_Id":"a"}`,
		`{"campaign_id":7,"send_id":9001,"url":"https://WWW.EXAMPLE.EDU/","name":"n","anonymous_id":"a","user_agent":"Mozilla/5.0 (X11)"}`,
		`{"\u0043ampaign_id":7,"send_id":9001,"url":"u","name":"n","anonymous_id":"a"}`,
		`{"campaign_id":7,"send_id":9001,"url":"https://www.example.edu/?a=1\u0026b=2","name":"n","anonymous_id":"a"}`,
		`{"campaign_id":7,"send_id":9001,"url":"u","name":"n","anonymous_id":"a","\u212aEY":"x"}`,
	)
	accepted := 0
	for _, typ := range TrackingTypes {
		sch := r.tracking[typ+"/1"]
		for _, p := range payloads {
			_, fast := trackingOK(typ, []byte(p))
			slow := validate(sch, typ, []byte(p)) == nil
			if fast && !slow {
				t.Errorf("%s: fast path accepts what the schema refuses: %s", typ, p)
			}
			if fast {
				accepted++
			}
		}
		if _, ok := trackingOK(typ, []byte(render(base, "", ""))); !ok {
			t.Errorf("%s: fast path refuses an ordinary hit", typ)
		}
	}
	if accepted == 0 {
		t.Error("fast path accepted nothing")
	}
}

// render writes base as a JSON object with field set to value ("" drops it).
func render(base map[string]string, field, value string) string {
	var parts []string
	for k, v := range base {
		if k == field {
			continue
		}
		parts = append(parts, fmt.Sprintf("%q:%s", k, v))
	}
	if field != "" && value != "" {
		parts = append(parts, fmt.Sprintf("%q:%s", field, value))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
