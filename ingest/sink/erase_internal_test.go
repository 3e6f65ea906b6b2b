package sink

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/calore-crm/calore/warehouse"
)

func TestFilterRows(t *testing.T) {
	e := newEraser(nil, nil)
	e.erased = map[int64]bool{42: true}
	id := uuid.New()
	donation := warehouse.RecordTables["donation"].Table
	sends := warehouse.RecordTables["campaign_send"].Table
	people := warehouse.RecordTables["person"].Table
	row := func(tb *warehouse.Table, vals map[string]any) warehouse.Row {
		v := make([]any, len(tb.Columns))
		for i, c := range tb.Columns {
			v[i] = vals[c]
		}
		return warehouse.Row{Table: tb, Values: v}
	}
	d := decoded{rows: []warehouse.Row{
		{Table: warehouse.TrackingEvents, Values: []any{id, nil, "email.open", int64(42)}},                                                         // dropped
		{Table: warehouse.TrackingEvents, Values: []any{id, nil, "email.open", int64(43)}},                                                         // kept
		{Table: warehouse.ChangeLog, Values: []any{id, "person.updated", "person", "42", uint16(1), nil, uint64(1), `{"id":42}`}},                  // dropped
		{Table: warehouse.ChangeLog, Values: []any{id, "donation.created", "donation", "9", uint16(1), nil, uint64(1), `{"id":9,"person_id":42}`}}, // dropped
		{Table: warehouse.ChangeLog, Values: []any{id, "research_contract.updated", "research_contract", "3", uint16(1), nil, uint64(1),
			`{"id":3,"scientific_lead_id":42,"scientific_lead":"Zebulon Q"}`}}, // scrubbed
		row(people, map[string]any{"id": int64(42), "payload": `{"id":42}`}),                                                                                                     // dropped
		row(sends, map[string]any{"id": int64(5), "person_id": int64(42), "payload": `{}`}),                                                                                      // dropped
		row(sends, map[string]any{"id": int64(6), "person_id": int64(43), "payload": `{}`}),                                                                                      // kept
		row(donation, map[string]any{"id": int64(9), "person_id": int64(42), "amount": decimal.New(10, 0), "payload": `{"id":9,"person_id":42,"purpose_detail":"for Zebulon"}`}), // scrubbed
	}, rowMsg: []int{0, 1, 2, 3, 4, 5, 6, 7, 8}}
	dropped, scrubbed := e.filter(&d)
	if dropped != 5 || scrubbed != 2 || len(d.rows) != 4 {
		t.Fatalf("dropped %d scrubbed %d kept %d", dropped, scrubbed, len(d.rows))
	}
	if want := []int{1, 4, 7, 8}; !equal(d.rowMsg, want) {
		t.Errorf("rowMsg %v, want %v", d.rowMsg, want)
	}
	if p := d.rows[1].Values[7].(string); strings.Contains(p, "Zebulon") || strings.Contains(p, "42") {
		t.Errorf("contract payload %s", p)
	}
	don := d.rows[3]
	if don.Values[len(don.Values)-1].(string) != `{"id":9,"person_id":null,"purpose_detail":""}` {
		t.Errorf("donation payload %v", don.Values[len(don.Values)-1])
	}
	for i, c := range donation.Columns {
		if c == "person_id" && don.Values[i] != int64(0) {
			t.Errorf("donation person_id %v", don.Values[i])
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseErasure(t *testing.T) {
	ok := `{"event_id":"0b6f8f0e-3c7e-4d55-9f43-5a1d1c0b2a11","type":"person.erased","schema_version":1,"time":"2026-03-14T09:30:00Z","aggregate":"person","aggregate_id":"42","payload":{"id":42,"person_id":42,"merged_ids":[7],"requested_by":"dpo","reason":"","at":"2026-03-14T09:30:00Z"}}`
	e, good := parseErasure([]byte(ok))
	if !good || e.PersonID != 42 || len(e.IDs()) != 2 {
		t.Errorf("parse: %+v %v", e, good)
	}
	for _, bad := range []string{
		strings.Replace(ok, `"aggregate_id":"42"`, `"aggregate_id":"43"`, 1),
		strings.Replace(ok, `"type":"person.erased"`, `"type":"person.updated"`, 1),
		strings.Replace(ok, `"merged_ids":[7]`, `"merged_ids":[-1]`, 1),
		`not json person.erased`,
	} {
		if _, good := parseErasure([]byte(bad)); good {
			t.Errorf("accepted %s", bad)
		}
	}
}
