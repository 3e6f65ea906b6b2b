package importer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/calore-crm/calore"
)

// The activity kinds (donations, events, registrations, interactions,
// journey) hang off people, organisations and events that already exist:
// a row names its person by email (or by name), its organisation by VAT
// number or name, its event by name and day. A row whose person, event or
// organisation is not found is a conflict: import the contacts first (the
// same file can be imported as contacts and then as registrations, since
// columns a kind does not use are ignored). Each kind has a natural key, so
// re-importing a file finds its own rows again instead of adding them twice.

// who are the fields naming the person of an activity row.
var who = []Field{
	{Name: "email", Type: TypeEmail, Synonyms: contactSpec.Fields[2].Synonyms},
	{Name: "first_name", Type: TypeName, Synonyms: contactSpec.Fields[0].Synonyms},
	{Name: "last_name", Type: TypeName, Synonyms: contactSpec.Fields[1].Synonyms},
	{Name: "person_source_id", Type: TypeText, Synonyms: personCodeSynonyms},
}

// which are the fields naming the organisation of an activity row.
var which = []Field{
	{Name: "organisation", Type: TypeName, Synonyms: []string{"organisation", "organization", "company", "ragione sociale", "azienda", "ente", "denominazione"}},
	{Name: "organisation_vat", Type: TypeCode, Synonyms: []string{"vat", "vat number", "partita iva", "p iva", "piva"}},
	{Name: "organisation_source_id", Type: TypeText, Synonyms: orgCodeSynonyms},
}

func fields(groups ...[]Field) []Field {
	var out []Field
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

var donationSpec = Spec{Kind: Donations, Fields: fields(who, which, []Field{
	{Name: "amount", Type: TypeAmount, Synonyms: []string{"amount", "donation", "importo", "donazione", "somma", "valore"}},
	{Name: "currency", Type: TypeCode, Synonyms: []string{"currency", "valuta", "divisa"}},
	{Name: "donated_on", Type: TypeDate, Synonyms: []string{"date", "donation date", "donated on", "data", "data donazione", "data versamento"}},
	{Name: "periodicity", Type: TypeEnum, Values: []string{"one_off", "monthly", "quarterly", "yearly"}, Aliases: map[string]string{
		"one off": "one_off", "una tantum": "one_off", "singola": "one_off", "mensile": "monthly", "trimestrale": "quarterly", "annuale": "yearly", "annual": "yearly"},
		Synonyms: []string{"periodicity", "frequency", "periodicita", "frequenza", "ricorrenza"}},
	{Name: "purpose", Type: TypeEnum, Values: []string{"scholarship", "membership_fee", "research_project", "general", "other"}, Aliases: map[string]string{
		"borsa di studio": "scholarship", "borse di studio": "scholarship", "membership fee": "membership_fee", "quota associativa": "membership_fee",
		"research project": "research_project", "progetto di ricerca": "research_project", "ricerca": "research_project", "generale": "general",
		"liberale": "general", "altro": "other"},
		Synonyms: []string{"purpose", "destination", "finalita", "destinazione", "causale", "scopo"}},
	{Name: "purpose_detail", Type: TypeText, Synonyms: []string{"purpose detail", "detail", "dettaglio", "descrizione", "note"}},
	{Name: "campaign", Type: TypeText, Synonyms: []string{"campaign", "campagna"}},
	{Name: "campaign_source_id", Type: TypeText, Synonyms: campaignCodeSynonyms},
	sourceID([]string{"codice donazione", "donation id", "id donazione", "numero ricevuta", "receipt number", "transaction id", "id transazione"}),
})}

var eventSpec = Spec{Kind: Events, Fields: []Field{
	{Name: "name", Type: TypeText, Synonyms: []string{"name", "event", "event name", "title", "nome", "evento", "nome evento", "titolo"}},
	{Name: "kind", Type: TypeText, Synonyms: []string{"kind", "type", "event type", "tipo", "tipologia"}},
	{Name: "office", Type: TypeText, Synonyms: []string{"office", "ufficio", "area", "struttura"}},
	{Name: "starts_at", Type: TypeTime, Synonyms: []string{"starts at", "start", "date", "start date", "inizio", "data", "data inizio", "data evento"}},
	{Name: "ends_at", Type: TypeTime, Synonyms: []string{"ends at", "end", "end date", "fine", "data fine"}},
	{Name: "location", Type: TypeText, Synonyms: []string{"location", "place", "venue", "luogo", "sede", "aula"}},
	{Name: "is_online", Type: TypeBool, Synonyms: []string{"online", "is online", "virtual", "in remoto", "webinar"}},
	{Name: "capacity", Type: TypeInt, Synonyms: []string{"capacity", "seats", "capienza", "posti"}},
	sourceID(eventCodeSynonyms),
}}

var registrationSpec = Spec{Kind: Registrations, Fields: fields(who, []Field{
	{Name: "event", Type: TypeText, Synonyms: []string{"event", "event name", "evento", "nome evento", "titolo evento"}},
	{Name: "event_date", Type: TypeDate, Synonyms: []string{"event date", "data evento", "giorno evento"}},
	{Name: "status", Type: TypeEnum, Values: []string{"invited", "registered", "attended", "no_show", "cancelled"}, Aliases: map[string]string{
		"invitato": "invited", "invitata": "invited", "iscritto": "registered", "iscritta": "registered", "registrato": "registered", "registrata": "registered",
		"presente": "attended", "partecipato": "attended", "present": "attended", "assente": "no_show", "no show": "no_show", "absent": "no_show",
		"annullato": "cancelled", "annullata": "cancelled", "canceled": "cancelled", "disdetto": "cancelled"},
		Synonyms: []string{"status", "stato", "esito", "partecipazione"}},
	{Name: "invited_at", Type: TypeTime, Synonyms: []string{"invited at", "invited", "data invito"}},
	{Name: "registered_at", Type: TypeTime, Synonyms: []string{"registered at", "registration date", "data iscrizione", "data registrazione"}},
	{Name: "attended_at", Type: TypeTime, Synonyms: []string{"attended at", "check in", "check-in", "ingresso", "data presenza"}},
	{Name: "is_vip", Type: TypeBool, Synonyms: []string{"vip", "is vip"}},
	{Name: "event_source_id", Type: TypeText, Synonyms: eventCodeSynonyms},
	sourceID([]string{"codice iscrizione", "registration id", "id iscrizione"}),
})}

var interactionSpec = Spec{Kind: Interactions, Fields: fields(who, which, []Field{
	{Name: "channel", Type: TypeEnum, Values: []string{"email", "phone", "sms", "social", "chatbot", "meeting", "note", "event", "letter", "other"}, Aliases: map[string]string{
		"e-mail": "email", "mail": "email", "telefono": "phone", "telefonata": "phone", "call": "phone", "chiamata": "phone", "incontro": "meeting",
		"riunione": "meeting", "appuntamento": "meeting", "nota": "note", "evento": "event", "lettera": "letter", "altro": "other"},
		Synonyms: []string{"channel", "type", "canale", "tipo", "mezzo"}},
	{Name: "direction", Type: TypeEnum, Values: []string{"inbound", "outbound"}, Aliases: map[string]string{
		"in": "inbound", "entrata": "inbound", "ricevuta": "inbound", "out": "outbound", "uscita": "outbound", "inviata": "outbound"},
		Synonyms: []string{"direction", "direzione", "verso"}},
	{Name: "occurred_at", Type: TypeTime, Synonyms: []string{"occurred at", "date", "when", "data", "data ora", "quando"}},
	{Name: "subject", Type: TypeText, Synonyms: []string{"subject", "oggetto", "titolo"}},
	{Name: "notes", Type: TypeText, Synonyms: []string{"notes", "note", "testo", "descrizione", "details"}},
	{Name: "office", Type: TypeText, Synonyms: []string{"office", "ufficio", "struttura"}},
	sourceID([]string{"interaction id", "id interazione", "codice interazione"}),
})}

var journeySpec = Spec{Kind: Journey, Fields: fields(who, []Field{
	{Name: "programme", Type: TypeText, Synonyms: []string{"programme", "program", "course", "degree course", "corso", "corso di laurea", "corso di studi"}},
	{Name: "stage", Type: TypeEnum, Values: []string{"first_contact", "application", "admission", "enrolment"}, Aliases: map[string]string{
		"first contact": "first_contact", "primo contatto": "first_contact", "contatto": "first_contact", "lead": "first_contact",
		"candidatura": "application", "domanda": "application", "domanda di ammissione": "application",
		"ammissione": "admission", "ammesso": "admission", "ammessa": "admission", "admitted": "admission",
		"immatricolazione": "enrolment", "immatricolato": "enrolment", "immatricolata": "enrolment", "iscrizione": "enrolment", "enrollment": "enrolment", "enrolled": "enrolment"},
		Synonyms: []string{"stage", "step", "fase", "stato", "tappa"}},
	{Name: "reached_at", Type: TypeTime, Synonyms: []string{"reached at", "date", "when", "data", "data fase"}},
	{Name: "touchpoint", Type: TypeText, Synonyms: []string{"touchpoint", "touch point", "channel", "punto di contatto", "canale", "occasione"}},
	sourceID([]string{"application id", "codice domanda", "id domanda"}),
})}

var affiliationSpec = Spec{Kind: Affiliations, Fields: fields(who, which, []Field{
	{Name: "role", Type: TypeText, Synonyms: []string{"role", "job title", "title", "position", "ruolo", "qualifica", "posizione", "mansione", "incarico", "ruolo aziendale", "professione attuale"}},
	{Name: "department", Type: TypeText, Synonyms: []string{"department", "division", "dipartimento", "reparto", "divisione", "funzione aziendale"}},
	{Name: "seniority", Type: TypeEnum, Values: calore.Seniorities, Aliases: map[string]string{
		"stagista": "entry", "tirocinante": "entry", "intern": "entry", "neolaureato": "entry", "entry level": "entry", "graduate": "entry",
		"impiegato": "junior", "mid": "middle", "medio": "middle", "mid level": "middle", "quadro": "senior", "manager": "senior", "responsabile": "senior",
		"dirigente": "executive", "c level": "executive", "top manager": "executive", "direttore": "executive", "ceo": "executive", "amministratore delegato": "executive"},
		Synonyms: []string{"seniority", "level", "livello", "anzianita", "inquadramento", "seniority level"}},
	{Name: "is_referent", Type: TypeBool, Synonyms: []string{"referent", "is referent", "referente", "referente aziendale", "contact person"}},
	{Name: "start_date", Type: TypeDate, Synonyms: []string{"start date", "from", "since", "dal", "da", "data inizio", "inizio", "in carica dal", "data assunzione"}},
	{Name: "end_date", Type: TypeDate, Synonyms: []string{"end date", "to", "until", "al", "a", "fino al", "data fine", "fine", "data cessazione"}},
	sourceID([]string{"affiliation id", "codice incarico", "id incarico"}),
})}

// refs says which references an activity row resolves before the merge.
type refs struct {
	person, personRequired bool // who fields → person_id
	org, orgRequired       bool // which fields → organisation_id
	event                  bool // event + event_date → event_id (required)
	campaign               bool // campaign → campaign_id (optional)
}

// activity describes how one activity kind lands in its table.
type activity struct {
	spec      Spec
	table     string
	aggregate string
	refs      refs
	columns   []column          // merged under the policies
	defaults  map[string]string // column → SQL for a new row whose cell is empty ($1 is the source)
	key       []string          // natural key: SQL comparing stage s and table t
	stageKey  []string          // the same key over the stage alone, to find rows repeated in the file
	required  []string          // fields a row must have; "a|b" means either
	// uniqueKey: the table's natural key is a unique constraint
	// (registrations, journey stages), so a row with a source key still
	// finds the record of its natural key; elsewhere two records may share a
	// natural key when their source keys differ (two equal gifts on one day)
	uniqueKey bool
}

var activities = map[Kind]*activity{
	Affiliations: {
		spec: affiliationSpec, table: "affiliations", aggregate: "affiliation",
		refs: refs{person: true, personRequired: true, org: true, orgRequired: true},
		columns: []column{
			{field: "department", column: "department", kind: colText},
			{field: "seniority", column: "seniority", kind: colText},
			{field: "is_referent", column: "is_referent", kind: colBool},
			{field: "start_date", column: "start_date", kind: colNullable},
			{field: "end_date", column: "end_date", kind: colNullable},
		},
		// a person's role at an organisation; one without a role is "the"
		// affiliation with that organisation
		defaults: map[string]string{"role": "coalesce(s.role, '')"},
		key:      []string{"t.person_id = s.person_id", "t.organisation_id = s.organisation_id", "lower(t.role) = lower(coalesce(s.role, ''))"},
		stageKey: []string{"person_id", "organisation_id", "lower(coalesce(role, ''))"},
		required: []string{"organisation|organisation_vat|organisation_source_id"},
	},
	Donations: {
		spec: donationSpec, table: "donations", aggregate: "donation",
		refs: refs{person: true, org: true, campaign: true},
		columns: []column{
			{field: "amount", column: "amount", kind: colNullable},
			{field: "currency", column: "currency", kind: colText},
			{field: "donated_on", column: "donated_on", kind: colNullable},
			{field: "periodicity", column: "periodicity", kind: colText},
			{field: "purpose", column: "purpose", kind: colText},
			{field: "purpose_detail", column: "purpose_detail", kind: colText},
		},
		defaults: map[string]string{"currency": "'EUR'", "periodicity": "'one_off'", "purpose": "'general'"},
		key: []string{"t.person_id IS NOT DISTINCT FROM s.person_id", "t.organisation_id IS NOT DISTINCT FROM s.organisation_id",
			"t.donated_on = s.donated_on", "t.amount = s.amount", "t.currency = coalesce(s.currency, 'EUR')"},
		stageKey: []string{"person_id", "organisation_id", "donated_on", "amount", "coalesce(currency, 'EUR')"},
	},
	Events: {
		spec: eventSpec, table: "events", aggregate: "event",
		columns: []column{
			{field: "kind", column: "kind", kind: colText},
			{field: "office", column: "office", kind: colText},
			{field: "ends_at", column: "ends_at", kind: colNullable},
			{field: "location", column: "location", kind: colText},
			{field: "is_online", column: "is_online", kind: colBool},
			{field: "capacity", column: "capacity", kind: colNullable},
		},
		defaults: map[string]string{"name": "s.name", "starts_at": "s.starts_at"},
		key:      []string{"lower(t.name) = lower(s.name)", "t.starts_at = s.starts_at"},
		stageKey: []string{"lower(name)", "starts_at"},
		required: []string{"name", "starts_at"},
	},
	Registrations: {
		spec: registrationSpec, table: "registrations", aggregate: "registration",
		refs: refs{person: true, personRequired: true, event: true},
		columns: []column{
			{field: "status", column: "status", kind: colText},
			{field: "invited_at", column: "invited_at", kind: colNullable},
			{field: "registered_at", column: "registered_at", kind: colNullable},
			{field: "attended_at", column: "attended_at", kind: colNullable},
			{field: "is_vip", column: "is_vip", kind: colBool},
		},
		defaults: map[string]string{
			"status": "CASE WHEN s.attended_at IS NOT NULL THEN 'attended' WHEN s.registered_at IS NOT NULL OR s.invited_at IS NULL THEN 'registered' ELSE 'invited' END",
			"source": "$1"},
		key:      []string{"t.event_id = s.event_id", "t.person_id = s.person_id"},
		stageKey: []string{"event_id", "person_id"},
		required: []string{"event|event_source_id"}, uniqueKey: true,
	},
	Interactions: {
		spec: interactionSpec, table: "interactions", aggregate: "interaction",
		refs: refs{person: true, org: true},
		columns: []column{
			{field: "direction", column: "direction", kind: colText},
			{field: "notes", column: "notes", kind: colText},
			{field: "office", column: "office", kind: colText},
		},
		defaults: map[string]string{"channel": "s.channel", "occurred_at": "s.occurred_at", "subject": "coalesce(s.subject, '')"},
		key: []string{"t.person_id IS NOT DISTINCT FROM s.person_id", "t.organisation_id IS NOT DISTINCT FROM s.organisation_id",
			"t.channel = s.channel", "t.occurred_at = s.occurred_at", "t.subject = coalesce(s.subject, '')"},
		stageKey: []string{"person_id", "organisation_id", "channel", "occurred_at", "coalesce(subject, '')"},
		required: []string{"channel", "occurred_at"},
	},
	Journey: {
		spec: journeySpec, table: "journey_stages", aggregate: "journey_stage",
		refs: refs{person: true, personRequired: true},
		columns: []column{
			{field: "reached_at", column: "reached_at", kind: colNullable},
			{field: "touchpoint", column: "touchpoint", kind: colText},
		},
		defaults: map[string]string{"programme": "s.programme", "stage": "s.stage", "source": "$1"},
		key:      []string{"t.person_id = s.person_id", "lower(t.programme) = lower(s.programme)", "t.stage = s.stage"},
		stageKey: []string{"person_id", "lower(programme)", "stage"},
		required: []string{"programme", "stage", "reached_at"}, uniqueKey: true,
	},
}

// checkActivity applies the row rules of an activity kind; get returns a
// staged value by field name.
func checkActivity(a *activity, get func(string) any) string {
	var missing []string
	for _, f := range a.required {
		if !slices.ContainsFunc(strings.Split(f, "|"), func(f string) bool { return get(f) != nil }) {
			missing = append(missing, strings.ReplaceAll(f, "|", " or "))
		}
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", ")
	}
	if a.refs.person && get("email") == nil && get("person_source_id") == nil && (get("first_name") == nil || get("last_name") == nil) {
		if a.refs.personRequired || !a.refs.org || (get("organisation") == nil && get("organisation_vat") == nil && get("organisation_source_id") == nil) {
			return "no person code, no email and no first and last name: nothing to find the person by"
		}
	}
	if start, ok := get("start_date").(time.Time); ok {
		if end, ok := get("end_date").(time.Time); ok && end.Before(start) {
			return "the role ends before it starts"
		}
	}
	if start, ok := get("starts_at").(time.Time); ok {
		if end, ok := get("ends_at").(time.Time); ok && end.Before(start) {
			return "the event ends before it starts"
		}
	}
	if c, ok := get("capacity").(int32); ok && c < 0 {
		return "negative capacity"
	}
	if a.spec.Kind == Donations {
		if get("amount") == nil || get("donated_on") == nil {
			return "a donation needs an amount and a date"
		}
		if n, ok := get("amount").(pgtype.Numeric); ok && (n.Int == nil || n.Int.Sign() <= 0) {
			return "the amount of a donation must be more than zero"
		}
		if c, ok := get("currency").(string); ok && (len(c) != 3 || strings.ToUpper(c) != c || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
			return fmt.Sprintf("currency %q is not an ISO 4217 code such as EUR", c)
		}
	}
	return ""
}

type activityMerger struct {
	a     *activity
	opts  Options
	match map[string]bool
}

func newActivityMerger(a *activity, opts Options) (*activityMerger, error) {
	match, err := matchSet(opts.Match, "source_id", "email", "name")
	if err != nil {
		return nil, err
	}
	return &activityMerger{a: a, opts: opts, match: match}, nil
}

func (m *activityMerger) merge(ctx context.Context, tx pgx.Tx, logger *slog.Logger) (mergeResult, error) {
	a, st, src := m.a, stageTable, m.opts.Source
	if err := checkTable(ctx, tx, a.table); err != nil {
		return mergeResult{}, err
	}
	steps := []step{
		{what: "reference columns", sql: `ALTER TABLE ` + st + ` ADD COLUMN person_id bigint, ADD COLUMN organisation_id bigint, ADD COLUMN event_id bigint, ADD COLUMN campaign_id bigint`},
		{what: "changed set", sql: `CREATE TEMP TABLE import_changed (id bigint PRIMARY KEY, fields boolean NOT NULL) ON COMMIT DROP`},
	}
	if a.refs.person {
		steps = append(steps, personSteps(m.match, src, a.refs.personRequired)...)
	}
	if a.refs.org {
		if m.match["source_id"] {
			steps = append(steps, refByCode("organisations", "organisation_id", "organisation_source_id", "organisations have", src))
		}
		steps = append(steps,
			step{what: "find organisations", sql: `UPDATE ` + st + ` s
				SET organisation_id = CASE WHEN m.n = 1 THEN m.oid END,
				    conflict = CASE WHEN m.n > 1 THEN format('%s organisations match %s (ids %s)', m.n, coalesce(s.organisation_vat, s.organisation), m.ids) END
				FROM (SELECT s.row_no, min(coalesce(o.merged_into, o.id)) AS oid, count(DISTINCT coalesce(o.merged_into, o.id)) AS n,
				             string_agg(DISTINCT coalesce(o.merged_into, o.id)::text, ', ') AS ids
				        FROM ` + st + ` s JOIN organisations o ON
				             CASE WHEN s.organisation_vat IS NOT NULL
				                  THEN o.vat_norm IN (upper(regexp_replace(s.organisation_vat, '[^A-Za-z0-9]', '', 'g')),
				                                      'IT' || upper(regexp_replace(s.organisation_vat, '[^A-Za-z0-9]', '', 'g')),
				                                      regexp_replace(upper(regexp_replace(s.organisation_vat, '[^A-Za-z0-9]', '', 'g')), '^IT', ''))
				                  ELSE o.name_key = calore_org_key(s.organisation_ascii) AND o.status <> 'duplicate' END
				       WHERE s.conflict IS NULL AND s.organisation_id IS NULL AND (s.organisation_vat IS NOT NULL OR s.organisation IS NOT NULL)
				       GROUP BY s.row_no) m
				WHERE m.row_no = s.row_no AND s.conflict IS NULL`},
			step{what: "organisations not found", sql: `UPDATE ` + st + ` s
				SET conflict = format('no organisation %s: import the organisations first', coalesce('with code ' || s.organisation_source_id, s.organisation_vat, s.organisation))
				WHERE s.organisation_id IS NULL AND s.conflict IS NULL AND (s.organisation_source_id IS NOT NULL OR s.organisation_vat IS NOT NULL OR s.organisation IS NOT NULL)`},
		)
	}
	if a.refs.event {
		if m.match["source_id"] {
			steps = append(steps, refByCode("events", "event_id", "event_source_id", "events have", src))
		}
		steps = append(steps,
			step{what: "find events", sql: `UPDATE ` + st + ` s
				SET event_id = CASE WHEN m.n = 1 THEN m.eid END,
				    conflict = CASE WHEN m.n > 1 THEN format('%s events are called %s%s (ids %s): give the event date', m.n, s.event, coalesce(' on ' || s.event_date, ''), m.ids) END
				FROM (SELECT s.row_no, min(e.id) AS eid, count(*) AS n, array_to_string((array_agg(e.id ORDER BY e.id))[1:5], ', ') AS ids
				        FROM ` + st + ` s JOIN events e ON lower(e.name) = lower(s.event)
				             AND (s.event_date IS NULL OR (e.starts_at AT TIME ZONE 'Europe/Rome')::date = s.event_date)
				       WHERE s.conflict IS NULL AND s.event_id IS NULL
				       GROUP BY s.row_no) m
				WHERE m.row_no = s.row_no AND s.conflict IS NULL`},
			step{what: "events not found", sql: `UPDATE ` + st + ` s
				SET conflict = format('no event %s%s: import the events first', coalesce('with code ' || s.event_source_id, s.event), coalesce(' on ' || s.event_date, ''))
				WHERE s.event_id IS NULL AND s.conflict IS NULL`},
		)
	}
	if a.refs.campaign {
		if m.match["source_id"] {
			steps = append(steps, refByCode("campaigns", "campaign_id", "campaign_source_id", "campaigns have", src))
		}
		steps = append(steps,
			step{what: "find campaigns", sql: `UPDATE ` + st + ` s
				SET campaign_id = CASE WHEN m.n = 1 THEN m.cid END,
				    conflict = CASE WHEN m.n > 1 THEN format('%s campaigns are called %s (ids %s)', m.n, s.campaign, m.ids) END
				FROM (SELECT s.row_no, min(c.id) AS cid, count(*) AS n, array_to_string((array_agg(c.id ORDER BY c.id))[1:5], ', ') AS ids
				        FROM ` + st + ` s JOIN campaigns c ON lower(c.name) = lower(s.campaign)
				       WHERE s.conflict IS NULL AND s.campaign_id IS NULL GROUP BY s.row_no) m
				WHERE m.row_no = s.row_no AND s.conflict IS NULL`},
			step{what: "campaigns not found", sql: `UPDATE ` + st + ` s SET conflict = format('no campaign %s', coalesce('with code ' || s.campaign_source_id, s.campaign))
				WHERE s.campaign_id IS NULL AND s.conflict IS NULL AND (s.campaign IS NOT NULL OR s.campaign_source_id IS NOT NULL)`},
		)
	}
	key := strings.Join(a.key, " AND ")
	var matchArgs []any
	if a.spec.Kind == Interactions && m.opts.Offices != nil {
		steps = append(steps,
			step{what: "default office", sql: `UPDATE ` + st + ` SET office = $1 WHERE coalesce(office, '') = '' AND $1 <> ''`, args: []any{m.opts.DefaultOffice}},
			step{what: "offices not allowed", sql: `UPDATE ` + st + ` s
				SET conflict = CASE WHEN coalesce(s.office, '') = '' THEN 'no office: say which of your offices the interaction belongs to'
				                    ELSE format('office %s: your roles do not allow its interactions', s.office) END
				WHERE s.conflict IS NULL AND NOT coalesce(s.office, '') = ANY($1)`, args: []any{m.opts.Offices}},
		)
		key += " AND t.office = ANY($1)" // rows match only records the user may change
		matchArgs = []any{m.opts.Offices}
	}
	if !a.uniqueKey {
		// a row with a source key finds by natural key only records without one
		key += " AND (s.source_id IS NULL OR t.source_id = '')"
	}
	tbl := pgx.Identifier{a.table}.Sanitize()
	stageKey := a.stageKey
	if !a.uniqueKey {
		stageKey = append(slices.Clone(stageKey), "source_id")
	}
	steps = append(steps, repeatedCodes())
	if m.match["source_id"] {
		steps = append(steps, matchByCode(a.table, src))
	}
	steps = append(steps,
		// the record the row's natural key finds
		step{what: "match existing", sql: `UPDATE ` + st + ` s
			SET target_id = CASE WHEN m.n = 1 THEN m.tid END,
			    conflict = CASE WHEN m.n > 1 THEN format('%s existing %s records match this row (ids %s)', m.n, '` + a.aggregate + `', m.ids) END
			FROM (SELECT s.row_no, min(t.id) AS tid, count(*) AS n, array_to_string((array_agg(t.id ORDER BY t.id))[1:5], ', ') AS ids
			        FROM ` + st + ` s JOIN ` + tbl + ` t ON ` + key + `
			       WHERE s.conflict IS NULL AND s.target_id IS NULL GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no AND s.conflict IS NULL`, args: matchArgs},
		step{what: "repeated matches", sql: `UPDATE ` + st + ` s SET conflict = format('same record (id %s) as row %s: only the first row is imported', s.target_id, d.first)
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY target_id) AS first FROM ` + st + ` WHERE target_id IS NOT NULL AND conflict IS NULL) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`},
		// two new rows with one natural key: the first wins
		step{what: "repeated rows", sql: `UPDATE ` + st + ` s SET conflict = format('same %s as row %s: only the first row is imported', '` + a.aggregate + `', d.first)
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY ` + strings.Join(stageKey, ", ") + `) AS first
			        FROM ` + st + ` WHERE target_id IS NULL AND conflict IS NULL) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`},
		codesOfOthers(a.table, a.aggregate, src),
		step{what: "draw new ids", sql: `UPDATE ` + st + ` SET is_new = true, target_id = nextval(pg_get_serial_sequence('` + a.table + `', 'id'))
			WHERE target_id IS NULL AND conflict IS NULL`},
	)
	var extraCols, extraExprs []string
	for _, r := range []struct {
		on  bool
		col string
	}{{a.refs.person, "person_id"}, {a.refs.org, "organisation_id"}, {a.refs.event, "event_id"}, {a.refs.campaign, "campaign_id"}} {
		if r.on {
			extraCols, extraExprs = append(extraCols, r.col), append(extraExprs, "s."+r.col)
		}
	}
	var insertCols []column
	for _, c := range a.columns {
		if d, ok := a.defaults[c.column]; ok {
			extraCols, extraExprs = append(extraCols, pgx.Identifier{c.column}.Sanitize()), append(extraExprs, "coalesce(s."+pgx.Identifier{c.field}.Sanitize()+", "+d+")")
			continue
		}
		insertCols = append(insertCols, c)
	}
	for col, d := range a.defaults {
		if !hasColumn(a.columns, col) {
			extraCols, extraExprs = append(extraCols, pgx.Identifier{col}.Sanitize()), append(extraExprs, d)
		}
	}
	if _, ok := a.defaults["source"]; !ok {
		extraCols, extraExprs = append(extraCols, "source"), append(extraExprs, "CASE WHEN s.source_id IS NULL THEN '' ELSE $1 END")
	}
	extraCols, extraExprs = append(extraCols, "source_id"), append(extraExprs, "coalesce(s.source_id, '')")
	steps = append(steps,
		insertStep(a.table, insertSQL(a.table, insertCols, extraCols, extraExprs), m.opts.Source),
		step{what: "update " + a.table, sql: `WITH u AS (` + mergeSQL(a.table, a.columns, m.opts.Policies) + `)
			INSERT INTO import_changed SELECT id, true FROM u`},
		setCodes(a.table, src),
		step{what: "version " + a.table, sql: `UPDATE ` + tbl + ` t SET version = t.version + 1, updated_at = now()
			FROM import_changed c WHERE t.id = c.id AND NOT c.fields`},
	)
	if err := exec(ctx, tx, logger, steps...); err != nil {
		return mergeResult{}, err
	}
	if err := emit(ctx, tx, st, a.aggregate); err != nil {
		return mergeResult{}, err
	}
	return counts(ctx, tx)
}

// refByCode resolves the reference column ref of the rows naming a record of
// table by its source key (field code): the record with that code in the
// import's source, else the one record with that code in any source (an
// events file imported with another --source than its registrations). Two
// records of other sources with the code make the row a conflict.
func refByCode(table, ref, code, noun, source string) step {
	id := liveID(table)
	return step{what: "find " + table + " by code", args: []any{source}, sql: `UPDATE ` + stageTable + ` s
		SET ` + ref + ` = CASE WHEN m.n = 1 THEN m.rid END,
		    conflict = CASE WHEN m.n > 1 THEN format('%s ` + noun + ` the code %s (sources %s): import with --source naming one', m.n, s.` + code + `, m.sources) END
		FROM (SELECT s.row_no, min(` + id + `) AS rid, count(DISTINCT ` + id + `) AS n, string_agg(DISTINCT t.source, ', ') AS sources
		        FROM ` + stageTable + ` s JOIN ` + table + ` t ON t.source_id = s.` + code + ` AND t.source_id <> ''
		             AND (t.source = $1 OR NOT EXISTS (SELECT 1 FROM ` + table + ` o WHERE o.source_id = s.` + code + ` AND o.source_id <> '' AND o.source = $1))
		       WHERE s.conflict IS NULL AND s.` + code + ` IS NOT NULL
		       GROUP BY s.row_no) m
		WHERE m.row_no = s.row_no AND s.conflict IS NULL`}
}

// repeatedCodes leaves out a row whose source key an earlier row has.
func repeatedCodes() step {
	return step{what: "repeated source ids", sql: `UPDATE ` + stageTable + ` s SET conflict = format('source id %s is also in row %s: only the first row is imported', s.source_id, d.first)
		FROM (SELECT row_no, min(row_no) OVER (PARTITION BY source_id) AS first FROM ` + stageTable + ` WHERE source_id IS NOT NULL) d
		WHERE d.row_no = s.row_no AND d.first < d.row_no AND s.conflict IS NULL`}
}

// matchByCode matches rows to the records of table with their source key in
// the import's source, before any other rule.
func matchByCode(table, source string) step {
	return step{what: "match by source id", args: []any{source}, sql: `UPDATE ` + stageTable + ` s SET target_id = ` + liveID(table) + `
		FROM ` + table + ` t WHERE t.source = $1 AND t.source_id = s.source_id AND t.source_id <> '' AND s.conflict IS NULL AND s.target_id IS NULL`}
}

// codesOfOthers leaves out a row matched (by email, name or natural key) to
// one record, or new, while its source key belongs to another record.
func codesOfOthers(table, noun, source string) step {
	id := liveID(table)
	return step{what: "source ids of others", args: []any{source}, sql: `UPDATE ` + stageTable + ` s
		SET conflict = format('source id %s belongs to another ` + noun + ` (id %s)', s.source_id, ` + id + `)
		FROM ` + table + ` t WHERE t.source = $1 AND t.source_id = s.source_id AND t.source_id <> '' AND s.conflict IS NULL
		 AND ` + id + ` IS DISTINCT FROM s.target_id`}
}

// liveID is the id a record of table stands for: people and organisations
// merged into another stand for the survivor.
func liveID(table string) string {
	if table == "people" || table == "organisations" {
		return "coalesce(t.merged_into, t.id)"
	}
	return "t.id"
}

// setCodes gives the matched records without a source key the row's: a
// record keeps the first key it got (one per record).
func setCodes(table, source string) step {
	return step{what: "set source ids", args: []any{source}, sql: `WITH u AS (
		UPDATE ` + table + ` t SET source = $1, source_id = s.source_id
		  FROM ` + stageTable + ` s
		 WHERE t.id = s.target_id AND NOT s.is_new AND s.conflict IS NULL AND s.source_id IS NOT NULL AND t.source_id = ''
		RETURNING t.id)
		INSERT INTO import_changed SELECT id, false FROM u ON CONFLICT DO NOTHING`}
}

// personSteps resolve the person of each activity row: by code, email, then
// name (unique matches only); a row naming nobody the store has is a
// conflict (required: every row must name someone).
func personSteps(match map[string]bool, src string, required bool) []step {
	st := stageTable
	var steps []step
	if match["source_id"] {
		steps = append(steps, refByCode("people", "person_id", "person_source_id", "people have", src))
	}
	if match["email"] {
		steps = append(steps, step{what: "find people by email", sql: `UPDATE ` + st + ` s SET person_id = coalesce(p.merged_into, p.id)
			FROM person_emails pe JOIN people p ON p.id = pe.person_id
			WHERE pe.address_norm = s.email AND s.person_id IS NULL AND s.conflict IS NULL`})
	}
	if match["name"] {
		steps = append(steps, step{what: "find people by name", sql: `UPDATE ` + st + ` s
			SET person_id = CASE WHEN m.n = 1 THEN m.pid END,
			    conflict = CASE WHEN m.n > 1 THEN format('%s people are named %s (ids %s): an email would tell them apart', m.n, m.key, m.ids) END
			FROM (SELECT s.row_no, min(p.id) AS pid, count(*) AS n, min(p.name_key) AS key, array_to_string((array_agg(p.id ORDER BY p.id))[1:5], ', ') AS ids
			        FROM ` + st + ` s JOIN people p ON p.name_key = calore_name_key(s.first_name_ascii, s.last_name_ascii) AND p.status = 'active'
			       WHERE s.person_id IS NULL AND s.first_name_ascii <> '' AND s.last_name_ascii <> ''
			       GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no`})
	}
	cond := "(s.person_source_id IS NOT NULL OR s.email IS NOT NULL OR s.first_name IS NOT NULL OR s.last_name IS NOT NULL)"
	if required {
		cond = "true"
	}
	steps = append(steps, step{what: "people not found", sql: `UPDATE ` + st + ` s
		SET conflict = format('no person with %s: import the contacts first', concat_ws(' or ', 'code ' || s.person_source_id, 'email ' || s.email, 'name ' || nullif(concat_ws(' ', s.first_name, s.last_name), '')))
		WHERE s.person_id IS NULL AND s.conflict IS NULL AND ` + cond})
	return steps
}

func hasColumn(cols []column, name string) bool {
	for _, c := range cols {
		if c.column == name {
			return true
		}
	}
	return false
}

// insertStep passes the source as $1 only to statements that use it: an
// unused parameter has no type and PostgreSQL refuses it.
func insertStep(table, sql, source string) step {
	s := step{what: "insert " + table, sql: sql}
	if strings.Contains(sql, "$1") {
		s.args = []any{source}
	}
	return s
}

// checkTable refuses an activity kind whose table the database lacks.
func checkTable(ctx context.Context, tx pgx.Tx, table string) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
		return fmt.Errorf("look for table %s: %w", table, err)
	}
	if !ok {
		return calore.Errorf(calore.ErrInvalid, "the database has no %s table: run calore migrate", table)
	}
	return nil
}
