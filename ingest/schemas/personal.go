package schemas

// Personal data in change payloads (docs/gdpr.md, "Kafka"). `calore relay`
// seals these fields with the data key of the people they are about before
// publishing (ingest/pii); `calore sink` opens them before storing; `calore
// gdpr erase` destroys the keys, so that what stays in Kafka until the
// topics' retention removes it cannot be read any more.

// Personal says which fields of one aggregate's change payloads are
// personal data and whose.
type Personal struct {
	// People are the payload keys holding the ids of the people the fields
	// are about: "id" for a person, "person_id" for their interactions… With
	// several (a collaboration's person and counterpart), a field is sealed
	// with a key derived from all their keys: erasing any one of them makes
	// it unreadable. A payload naming nobody is published as it is.
	People []string
	// Seal are the fields sealed; Keep, when set, instead lists the only
	// fields left in clear (every other field is sealed, so that a field
	// added to the record later is sealed without a change here).
	Seal, Keep []string
}

// PersonalFields are the personal fields of change payloads, by aggregate.
// Aggregates not listed (organisation, campaign, event, registration,
// journey_stage, score, …) carry ids, statuses, dates and amounts only. The
// erasure event itself (person.erased) names nobody and is never sealed.
var PersonalFields = map[string]Personal{
	// What the store's erasure keeps (docs/gdpr.md) stays in clear; names,
	// emails, phones, birth date, address, alumni fields, tags, extra
	// fields, sources… are sealed.
	// "erased" marks an outbox row the store's erasure scrubbed.
	"person": {People: []string{"id"}, Keep: []string{
		"id", "kind", "status", "merged_into", "offices", "is_minor", "version", "created_at", "updated_at", "erased"}},
	"interaction":       {People: []string{"person_id"}, Seal: []string{"subject", "notes"}},
	"donation":          {People: []string{"person_id"}, Seal: []string{"purpose_detail"}},
	"collaboration":     {People: []string{"person_id", "counterpart_id"}, Seal: []string{"notes", "role"}},
	"research_contract": {People: []string{"scientific_lead_id"}, Seal: []string{"scientific_lead"}},
	"consent":           {People: []string{"person_id"}, Seal: []string{"guardian_name"}},
	"campaign_send":     {People: []string{"person_id"}, Seal: []string{"address"}},
	"affiliation":       {People: []string{"person_id"}, Seal: []string{"role", "department"}},
}

// Sealed returns the personal fields of change type typ ("person.updated"),
// and whether it has any. person.erased has none.
func Sealed(typ string) (Personal, bool) {
	agg, verb, ok := SplitChange(typ)
	if !ok || verb == "erased" {
		return Personal{}, false
	}
	p, ok := PersonalFields[agg]
	return p, ok
}
