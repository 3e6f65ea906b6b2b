package importer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// personColumns are the people columns a contacts file feeds, with their
// merge behaviour. kind is inserted apart (it has no empty value).
var personColumns = []column{
	{field: "first_name", column: "first_name", kind: colText, twin: true},
	{field: "last_name", column: "last_name", kind: colText, twin: true},
	{field: "kind", column: "kind", kind: colText},
	{field: "minor", column: "is_minor", kind: colBool},
	{field: "language", column: "language", kind: colText},
	{field: "nationality", column: "nationality", kind: colText},
	{field: "country", column: "country", kind: colText},
	{field: "region", column: "region", kind: colText},
	{field: "province", column: "province", kind: colText},
	{field: "city", column: "city", kind: colText},
	{field: "birth_date", column: "birth_date", kind: colNullable},
	{field: "graduation_year", column: "graduation_year", kind: colNullable},
	{field: "degree_course", column: "degree_course", kind: colText},
	{field: "macro_category", column: "macro_category", kind: colText},
	{field: "top_category", column: "top_category", kind: colText},
	{field: "relevance", column: "relevance", kind: colNullable},
	{field: "tags", column: "tags", kind: colArray},
}

// emailFields are the contact fields holding addresses, with the type each
// gets in person_emails.
var emailFields = []struct{ field, typ string }{
	{"email", calore.EmailPersonal},
	{"email_institutional", calore.EmailInstitutional},
	{"email_2", calore.EmailSecondary},
}

type contactMerger struct {
	opts  Options
	match map[string]bool
}

func newContactMerger(opts Options) (*contactMerger, error) {
	match, err := matchSet(opts.Match, "source_id", "email", "name")
	if err != nil {
		return nil, err
	}
	if opts.DefaultPersonKind == "" {
		opts.DefaultPersonKind = calore.KindOther
	}
	if !slices.Contains(calore.PersonKinds, opts.DefaultPersonKind) {
		return nil, calore.FieldError("default-kind", "%q is not one of %v", opts.DefaultPersonKind, calore.PersonKinds)
	}
	return &contactMerger{opts: opts, match: match}, nil
}

// Namesakes are normal in a registry of 200,000 alumni. A row is matched by
// name only to people its addresses cannot contradict: a row without any
// address to the one person of that name; a row whose addresses nobody has
// to the one person of that name who has no address at all. A row with an
// address and namesakes who all have other addresses is a new person; the
// duplicates queue proposes such namesakes as suspected duplicates
// (postgres.FindDuplicates, rule "same name"). Likewise two new rows with one
// name are one person only when neither has an address (noEmail).
const noEmail = `AND NOT EXISTS (SELECT 1 FROM import_emails ne WHERE ne.row_no = s.row_no)`

func (m *contactMerger) merge(ctx context.Context, tx pgx.Tx, logger *slog.Logger) (mergeResult, error) {
	keepTypes := []string{} // email types not added to existing people (not nil: NULL would match nothing)
	for _, e := range emailFields {
		if m.opts.Policies.For(e.field) == Keep {
			keepTypes = append(keepTypes, e.typ)
		}
	}
	addPhones := m.opts.Policies.For("phone") != Keep
	insertCols := slices.DeleteFunc(slices.Clone(personColumns), func(c column) bool { return c.field == "kind" })

	steps := []step{
		{what: "name keys", sql: `UPDATE ` + stageTable + ` SET match_key = nullif(calore_name_key(first_name_ascii, last_name_ascii), '')
			WHERE coalesce(first_name_ascii, '') <> '' AND coalesce(last_name_ascii, '') <> ''`},
		{what: "analyze staging", sql: `ANALYZE ` + stageTable},
		{what: "stage emails", sql: `CREATE TEMP TABLE import_emails ON COMMIT DROP AS
			SELECT DISTINCT ON (s.row_no, v.address) s.row_no, v.address, v.type
			  FROM ` + stageTable + ` s, LATERAL (VALUES (s.email, 'personal', 1), (s.email_institutional, 'institutional', 2), (s.email_2, 'secondary', 3)) v(address, type, ord)
			 WHERE v.address IS NOT NULL
			 ORDER BY s.row_no, v.address, v.ord`},
		{what: "index staged emails", sql: `CREATE INDEX ON import_emails (address)`},
		{what: "index staged email rows", sql: `CREATE INDEX ON import_emails (row_no)`},
		{what: "changed set", sql: `CREATE TEMP TABLE import_changed (id bigint PRIMARY KEY, fields boolean NOT NULL) ON COMMIT DROP`},
		// the same address twice in the file: the first row wins
		{what: "repeated emails", sql: `UPDATE ` + stageTable + ` s SET conflict = format('email %s is also in row %s: only the first row is imported', d.address, d.first)
			FROM (SELECT row_no, address, min(row_no) OVER (PARTITION BY address) AS first FROM import_emails) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no AND s.conflict IS NULL`},
		repeatedCodes(),
	}
	if m.match["source_id"] {
		steps = append(steps, matchByCode("people", m.opts.Source))
	}
	if m.match["email"] {
		steps = append(steps, step{what: "match by email", sql: `UPDATE ` + stageTable + ` s
			SET target_id = CASE WHEN m.n = 1 THEN m.pid END,
			    conflict = CASE WHEN m.n > 1 THEN format('its emails belong to %s different people (ids %s)', m.n, m.ids) END
			FROM (SELECT e.row_no, min(coalesce(p.merged_into, p.id)) AS pid, count(DISTINCT coalesce(p.merged_into, p.id)) AS n,
			             string_agg(DISTINCT coalesce(p.merged_into, p.id)::text, ', ') AS ids
			        FROM import_emails e JOIN person_emails pe ON pe.address_norm = e.address JOIN people p ON p.id = pe.person_id
			       GROUP BY e.row_no) m
			WHERE m.row_no = s.row_no AND s.conflict IS NULL AND s.target_id IS NULL`})
	}
	if m.match["name"] {
		steps = append(steps, step{what: "match by name", sql: `UPDATE ` + stageTable + ` s
			SET target_id = CASE WHEN m.n = 1 THEN m.pid END,
			    conflict = CASE WHEN m.n > 1 THEN format('%s people are named %s (ids %s): an email would tell them apart', m.n, s.match_key, m.ids) END
			FROM (SELECT s.row_no, min(p.id) AS pid, count(*) AS n, array_to_string((array_agg(p.id ORDER BY p.id))[1:5], ', ') AS ids
			        FROM ` + stageTable + ` s JOIN people p ON p.name_key = s.match_key AND p.status = 'active'
			       WHERE s.target_id IS NULL AND s.conflict IS NULL
			         AND (NOT EXISTS (SELECT 1 FROM import_emails ne WHERE ne.row_no = s.row_no)
			              OR NOT EXISTS (SELECT 1 FROM person_emails pe WHERE pe.person_id = p.id))
			         AND (s.source_id IS NULL OR p.source_id = '' OR p.source <> $1) -- another code of the same source: a namesake
			       GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no`, args: []any{m.opts.Source}})
	}
	steps = append(steps,
		// several rows matching one person: the first row wins
		step{what: "codes disagree", args: []any{m.opts.Source}, sql: `UPDATE ` + stageTable + ` s
			SET conflict = format('its email belongs to person %s, whose %s code is %s, not %s', p.id, p.source, p.source_id, s.source_id)
			FROM people p WHERE p.id = s.target_id AND s.conflict IS NULL AND s.source_id IS NOT NULL AND p.source = $1 AND p.source_id NOT IN ('', s.source_id)`},
		step{what: "repeated matches", sql: `UPDATE ` + stageTable + ` s SET conflict = format('matches the same person (id %s) as row %s: only the first row is imported', s.target_id, d.first)
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY target_id) AS first FROM ` + stageTable + ` WHERE target_id IS NOT NULL AND conflict IS NULL) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`},
		// an address already belonging to someone else (possible when email matching is off,
		// or when the name matched another person)
		step{what: "emails of others", sql: `UPDATE ` + stageTable + ` s SET conflict = format('email %s belongs to another person (id %s)', e.address, coalesce(p.merged_into, p.id))
			FROM import_emails e JOIN person_emails pe ON pe.address_norm = e.address JOIN people p ON p.id = pe.person_id
			WHERE e.row_no = s.row_no AND s.conflict IS NULL AND coalesce(p.merged_into, p.id) IS DISTINCT FROM s.target_id`},
	)
	if m.match["name"] {
		// two new people with one name in the file: the first row wins
		steps = append(steps, step{what: "repeated names", sql: `UPDATE ` + stageTable + ` s SET conflict = format('same name (%s) as row %s, which creates that person: only the first row is imported', s.match_key, d.first)
			FROM (SELECT s.row_no, min(s.row_no) OVER (PARTITION BY s.match_key) AS first FROM ` + stageTable + ` s
			       WHERE s.target_id IS NULL AND s.conflict IS NULL AND s.match_key IS NOT NULL AND s.source_id IS NULL ` + noEmail + `) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`})
	}
	steps = append(steps,
		// a person needs a name (calore.Person.Validate): an address alone
		// can update someone, not create them
		step{what: "nameless new people", sql: `UPDATE ` + stageTable + ` SET conflict = 'no person has this email, and a new person needs a first or a last name'
			WHERE target_id IS NULL AND conflict IS NULL AND first_name IS NULL AND last_name IS NULL`},
		codesOfOthers("people", "person", m.opts.Source),
		step{what: "draw new ids", sql: `UPDATE ` + stageTable + ` SET is_new = true, target_id = nextval(pg_get_serial_sequence('people', 'id'))
			WHERE target_id IS NULL AND conflict IS NULL`},
		step{what: "insert people", sql: insertSQL("people", insertCols, []string{"kind", "source", "source_id"},
			[]string{"coalesce(s.kind, $1)", "CASE WHEN s.source_id IS NULL THEN '' ELSE $2 END", "coalesce(s.source_id, '')"}),
			args: []any{m.opts.DefaultPersonKind, m.opts.Source}},
		step{what: "update people", sql: `WITH u AS (` + mergeSQL("people", personColumns, m.opts.Policies) + `)
			INSERT INTO import_changed SELECT id, true FROM u`},
		setCodes("people", m.opts.Source),
		step{what: "add emails", sql: `WITH ins AS (
			INSERT INTO person_emails (person_id, type, address)
			SELECT DISTINCT ON (e.address) s.target_id, e.type, e.address
			  FROM import_emails e JOIN ` + stageTable + ` s USING (row_no)
			 WHERE s.conflict IS NULL AND (s.is_new OR e.type <> ALL ($1::text[]))
			 ORDER BY e.address, e.row_no
			ON CONFLICT (address_norm) DO NOTHING
			RETURNING person_id)
			INSERT INTO import_changed SELECT DISTINCT person_id, false FROM ins ON CONFLICT DO NOTHING`, args: []any{keepTypes}},
		// the new numbers are picked first, into a table of their own: a
		// NOT EXISTS inside the INSERT would rescan person_phones as it grows
		step{what: "pick new phones", sql: `CREATE TEMP TABLE import_phones ON COMMIT DROP AS
			SELECT s.target_id AS person_id, s.phone AS number,
			       CASE WHEN s.phone LIKE '+39%' AND s.phone NOT LIKE '+393%' THEN 'landline' ELSE 'mobile' END AS type
			  FROM ` + stageTable + ` s
			 WHERE s.phone IS NOT NULL AND s.conflict IS NULL AND (s.is_new OR $1)
			   AND NOT EXISTS (SELECT 1 FROM person_phones f WHERE f.person_id = s.target_id AND f.number_norm = s.phone)`, args: []any{addPhones}},
		step{what: "add phones", sql: `WITH ins AS (
			INSERT INTO person_phones (person_id, type, number) SELECT person_id, type, number FROM import_phones
			RETURNING person_id)
			INSERT INTO import_changed SELECT DISTINCT person_id, false FROM ins ON CONFLICT DO NOTHING`},
		step{what: "add source", sql: `WITH ins AS (
			INSERT INTO person_sources (person_id, source)
			SELECT target_id, $1 FROM ` + stageTable + ` WHERE conflict IS NULL
			ON CONFLICT DO NOTHING
			RETURNING person_id)
			INSERT INTO import_changed SELECT person_id, false FROM ins ON CONFLICT DO NOTHING`, args: []any{m.opts.Source}},
		// a new email, phone or source changes the person too: new version
		step{what: "version people", sql: `UPDATE people p SET version = p.version + 1, updated_at = now()
			FROM import_changed c JOIN ` + stageTable + ` s ON s.target_id = c.id AND s.conflict IS NULL
			WHERE p.id = c.id AND NOT c.fields AND NOT s.is_new`},
	)
	if err := exec(ctx, tx, logger, steps...); err != nil {
		return mergeResult{}, err
	}
	if err := emit(ctx, tx, stageTable, "person"); err != nil {
		return mergeResult{}, err
	}
	return counts(ctx, tx)
}

// counts reads what the merge did from the staging table.
func counts(ctx context.Context, tx pgx.Tx) (mergeResult, error) {
	var r mergeResult
	err := tx.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE conflict IS NULL AND is_new),
		count(*) FILTER (WHERE conflict IS NULL AND NOT is_new AND EXISTS (SELECT 1 FROM import_changed c WHERE c.id = s.target_id)),
		count(*) FILTER (WHERE conflict IS NULL AND NOT is_new AND NOT EXISTS (SELECT 1 FROM import_changed c WHERE c.id = s.target_id))
		FROM `+stageTable+` s`).Scan(&r.created, &r.updated, &r.unchanged)
	if err != nil {
		return r, fmt.Errorf("count results: %w", err)
	}
	r.events = r.created + r.updated
	r.conflicts, err = conflicts(ctx, tx)
	return r, err
}
