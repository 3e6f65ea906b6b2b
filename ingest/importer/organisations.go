package importer

import (
	"context"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// organisationColumns are the organisations columns a file feeds. kind is
// inserted apart (it has no empty value).
var organisationColumns = []column{
	{field: "legal_name", column: "legal_name", kind: colText, twin: true},
	{field: "kind", column: "kind", kind: colText},
	{field: "vat_number", column: "vat_number", kind: colText},
	{field: "tax_code", column: "tax_code", kind: colText},
	{field: "ateco_codes", column: "ateco_codes", kind: colArray},
	{field: "legal_status", column: "legal_status", kind: colText},
	{field: "size_class", column: "size_class", kind: colText},
	{field: "revenue", column: "revenue", kind: colNullable},
	{field: "territory", column: "territory", kind: colText},
	{field: "country", column: "country", kind: colText},
	{field: "region", column: "region", kind: colText},
	{field: "province", column: "province", kind: colText},
	{field: "city", column: "city", kind: colText},
	{field: "labels", column: "labels", kind: colArray},
}

var organisationKinds = []string{"company", "public_body", "research_body", "foundation", "spin_off", "start_up", "association", "other"}

type orgMerger struct {
	opts  Options
	match map[string]bool
}

func newOrgMerger(opts Options) (*orgMerger, error) {
	match, err := matchSet(opts.Match, "source_id", "vat", "tax_code", "name")
	if err != nil {
		return nil, err
	}
	if opts.DefaultOrgKind == "" {
		opts.DefaultOrgKind = "company"
	}
	if !slices.Contains(organisationKinds, opts.DefaultOrgKind) {
		return nil, calore.FieldError("default-kind", "%q is not one of %v", opts.DefaultOrgKind, organisationKinds)
	}
	return &orgMerger{opts: opts, match: match}, nil
}

func (m *orgMerger) merge(ctx context.Context, tx pgx.Tx, logger *slog.Logger) (mergeResult, error) {
	insertCols := slices.DeleteFunc(slices.Clone(organisationColumns), func(c column) bool { return c.field == "kind" })
	// candidate: a live organisation (a duplicate stands for the one it was merged into)
	steps := []step{
		{what: "keys", sql: `ALTER TABLE ` + stageTable + ` ADD COLUMN vat_norm text, ADD COLUMN vat_alt text, ADD COLUMN tax_norm text`},
		{what: "compute keys", sql: `UPDATE ` + stageTable + ` SET
			match_key = nullif(calore_org_key(legal_name_ascii), ''),
			vat_norm = nullif(upper(regexp_replace(coalesce(vat_number, ''), '[^A-Za-z0-9]', '', 'g')), ''),
			tax_norm = nullif(upper(regexp_replace(coalesce(tax_code, ''), '[^A-Za-z0-9]', '', 'g')), '')`},
		// Italian VAT numbers are written with and without their IT prefix
		{what: "vat variants", sql: `UPDATE ` + stageTable + ` SET vat_alt = CASE
			WHEN vat_norm ~ '^IT[0-9]{11}$' THEN substr(vat_norm, 3)
			WHEN vat_norm ~ '^[0-9]{11}$' THEN 'IT' || vat_norm END`},
		{what: "changed set", sql: `CREATE TEMP TABLE import_changed (id bigint PRIMARY KEY, fields boolean NOT NULL) ON COMMIT DROP`},
		{what: "repeated vat", sql: `UPDATE ` + stageTable + ` s SET conflict = format('VAT number %s is also in row %s: only the first row is imported', s.vat_norm, d.first)
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY least(vat_norm, vat_alt)) AS first
			        FROM ` + stageTable + ` WHERE vat_norm IS NOT NULL) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`},
		repeatedCodes(),
	}
	if m.match["source_id"] {
		steps = append(steps, matchByCode("organisations", m.opts.Source))
	}
	if m.match["vat"] {
		steps = append(steps, step{what: "match by VAT number", sql: `UPDATE ` + stageTable + ` s
			SET target_id = CASE WHEN m.n = 1 THEN m.oid END,
			    conflict = CASE WHEN m.n > 1 THEN format('VAT number %s belongs to %s organisations (ids %s)', s.vat_norm, m.n, m.ids) END
			FROM (SELECT s.row_no, min(coalesce(o.merged_into, o.id)) AS oid, count(DISTINCT coalesce(o.merged_into, o.id)) AS n,
			             string_agg(DISTINCT coalesce(o.merged_into, o.id)::text, ', ') AS ids
			        FROM ` + stageTable + ` s JOIN organisations o ON o.vat_norm = s.vat_norm OR o.vat_norm = s.vat_alt
			       WHERE s.conflict IS NULL AND s.target_id IS NULL
			       GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no`})
	}
	if m.match["tax_code"] {
		steps = append(steps, step{what: "match by tax code", sql: `UPDATE ` + stageTable + ` s
			SET target_id = CASE WHEN m.n = 1 THEN m.oid END,
			    conflict = CASE WHEN m.n > 1 THEN format('tax code %s belongs to %s organisations (ids %s)', s.tax_norm, m.n, m.ids) END
			FROM (SELECT s.row_no, min(coalesce(o.merged_into, o.id)) AS oid, count(DISTINCT coalesce(o.merged_into, o.id)) AS n,
			             string_agg(DISTINCT coalesce(o.merged_into, o.id)::text, ', ') AS ids
			        FROM ` + stageTable + ` s JOIN organisations o ON upper(regexp_replace(o.tax_code, '[^A-Za-z0-9]', '', 'g')) = s.tax_norm
			       WHERE s.conflict IS NULL AND s.target_id IS NULL AND o.tax_code <> ''
			       GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no`})
	}
	if m.match["name"] {
		// by name only where the VAT numbers cannot disagree: the row or the
		// organisation has none
		steps = append(steps, step{what: "match by name", sql: `UPDATE ` + stageTable + ` s
			SET target_id = CASE WHEN m.n = 1 THEN m.oid END,
			    conflict = CASE WHEN m.n > 1 THEN format('%s organisations are called %s (ids %s): a VAT number would tell them apart', m.n, s.match_key, m.ids) END
			FROM (SELECT s.row_no, min(o.id) AS oid, count(*) AS n, array_to_string((array_agg(o.id ORDER BY o.id))[1:5], ', ') AS ids
			        FROM ` + stageTable + ` s JOIN organisations o ON o.name_key = s.match_key AND o.status <> 'duplicate'
			       WHERE s.conflict IS NULL AND s.target_id IS NULL AND (s.vat_norm IS NULL OR o.vat_norm = '')
			         AND (s.source_id IS NULL OR o.source_id = '' OR o.source <> $1)
			       GROUP BY s.row_no) m
			WHERE m.row_no = s.row_no`, args: []any{m.opts.Source}})
	}
	steps = append(steps,
		step{what: "repeated matches", sql: `UPDATE ` + stageTable + ` s SET conflict = format('matches the same organisation (id %s) as row %s: only the first row is imported', s.target_id, d.first)
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY target_id) AS first FROM ` + stageTable + ` WHERE target_id IS NOT NULL AND conflict IS NULL) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`},
	)
	if m.match["name"] {
		steps = append(steps, step{what: "repeated names", sql: `UPDATE ` + stageTable + ` s SET conflict = format('same name (%s) as row %s, which creates that organisation: only the first row is imported', s.match_key, d.first)
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY match_key) AS first FROM ` + stageTable + `
			       WHERE target_id IS NULL AND conflict IS NULL AND match_key IS NOT NULL AND vat_norm IS NULL AND source_id IS NULL) d
			WHERE d.row_no = s.row_no AND d.first < d.row_no`})
	}
	steps = append(steps,
		codesOfOthers("organisations", "organisation", m.opts.Source),
		step{what: "draw new ids", sql: `UPDATE ` + stageTable + ` SET is_new = true, target_id = nextval(pg_get_serial_sequence('organisations', 'id'))
			WHERE target_id IS NULL AND conflict IS NULL`},
		step{what: "insert organisations", sql: insertSQL("organisations", insertCols, []string{"kind", "source", "source_id"},
			[]string{"coalesce(s.kind, $1)", "CASE WHEN s.source_id IS NULL THEN '' ELSE $2 END", "coalesce(s.source_id, '')"}),
			args: []any{m.opts.DefaultOrgKind, m.opts.Source}},
		step{what: "update organisations", sql: `WITH u AS (` + mergeSQL("organisations", organisationColumns, m.opts.Policies) + `)
			INSERT INTO import_changed SELECT id, true FROM u`},
		setCodes("organisations", m.opts.Source),
		step{what: "version organisations", sql: `UPDATE organisations t SET version = t.version + 1, updated_at = now()
			FROM import_changed c WHERE t.id = c.id AND NOT c.fields`},
	)
	if err := exec(ctx, tx, logger, steps...); err != nil {
		return mergeResult{}, err
	}
	if err := emit(ctx, tx, stageTable, "organisation"); err != nil {
		return mergeResult{}, err
	}
	return counts(ctx, tx)
}
