package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// DuplicateQuery narrows a search for duplicates.
type DuplicateQuery struct {
	// ID: only pairs including this record, with every rule; 0: all pairs,
	// without the pg_trgm "similar name" rules (a self-join of all records by
	// similarity is too slow at 200,000 people).
	ID         int64
	Similarity float64 // pg_trgm similarity of name keys for the "similar name" rules; 0 means 0.6
	Limit      int     // default 100, at most 1000
}

func (q DuplicateQuery) similarity() float64 {
	if q.Similarity <= 0 || q.Similarity > 1 {
		return 0.6
	}
	return q.Similarity
}

func (q DuplicateQuery) limit() int { return Filter{Limit: q.Limit}.limit() }

// rule is one way two records look alike. sql selects (low, high, score,
// reason) from records a and b (or their children) where %[1]s is the anchor:
// "a.id < b.id" when scanning every pair, "a.id = $1 AND b.id <> a.id" when
// looking at one record's pairs. The column names are constants.
type rule struct {
	sql        string
	oneRecord  bool // only when looking at one record: too costly as a full scan
	similarity bool // uses $3, the similarity threshold
}

// A shared email is no rule: an address belongs to one person (unique index
// on the normalised address), and imports match on it.
var personRules = []rule{
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.9::float8, 'same name and birth year'
	  FROM people a JOIN people b ON b.name_key = a.name_key AND b.name_key <> ''
	 WHERE %[1]s AND extract(year FROM a.birth_date) = extract(year FROM b.birth_date)`},
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.9::float8, 'same name and graduation year'
	  FROM people a JOIN people b ON b.name_key = a.name_key AND b.name_key <> ''
	 WHERE %[1]s AND a.graduation_year = b.graduation_year`},
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.5::float8, 'same name'
	  FROM people a JOIN people b ON b.name_key = a.name_key AND b.name_key <> ''
	 WHERE %[1]s
	   AND (a.birth_date IS NULL OR b.birth_date IS NULL OR extract(year FROM a.birth_date) = extract(year FROM b.birth_date))
	   AND (a.graduation_year IS NULL OR b.graduation_year IS NULL OR a.graduation_year = b.graduation_year)`},
	{sql: `SELECT DISTINCT least(a.id, b.id), greatest(a.id, b.id), 0.8::float8, 'same phone number'
	  FROM person_phones pa JOIN person_phones pb ON pb.number_norm = pa.number_norm
	  JOIN people a ON a.id = pa.person_id JOIN people b ON b.id = pb.person_id
	 WHERE %[1]s AND length(pa.number_norm) >= 8`},
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.7::float8, 'similar name and same birth or graduation year'
	  FROM people a JOIN people b ON b.name_key %% a.name_key
	 WHERE %[1]s AND a.name_key <> '' AND b.name_key <> '' AND a.name_key <> b.name_key
	   AND similarity(a.name_key, b.name_key) >= $3
	   AND (a.graduation_year = b.graduation_year OR extract(year FROM a.birth_date) = extract(year FROM b.birth_date))`,
		oneRecord: true, similarity: true},
}

var organisationRules = []rule{
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.95::float8, 'same VAT number'
	  FROM organisations a JOIN organisations b ON b.vat_norm = a.vat_norm AND b.vat_norm <> ''
	 WHERE %[1]s`},
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.9::float8, 'same tax code'
	  FROM organisations a JOIN organisations b ON upper(b.tax_code) = upper(a.tax_code)
	 WHERE %[1]s AND a.tax_code <> ''`},
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.8::float8, 'same legal name'
	  FROM organisations a JOIN organisations b ON b.name_key = a.name_key
	 WHERE %[1]s AND a.name_key <> ''`},
	{sql: `SELECT least(a.id, b.id), greatest(a.id, b.id), 0.6::float8, 'similar legal name in the same city'
	  FROM organisations a JOIN organisations b ON b.name_key %% a.name_key
	 WHERE %[1]s AND a.name_key <> b.name_key AND a.city <> '' AND lower(a.city) = lower(b.city)
	   AND similarity(a.name_key, b.name_key) >= $3`,
		oneRecord: true, similarity: true},
}

// duplicatesSQL builds the finder's query from rules: every pair once, with
// its best score and all its reasons, both records not merged already, the
// rejected pairs left out. one: anchored on the record $1.
func duplicatesSQL(aggregate, table string, rules []rule, one bool) (string, bool) {
	anchor := "a.id < b.id"
	if one {
		anchor = "a.id = $1 AND b.id <> a.id"
	}
	var parts []string
	usesSimilarity := false
	for _, r := range rules {
		if r.oneRecord && !one {
			continue
		}
		usesSimilarity = usesSimilarity || r.similarity
		parts = append(parts, fmt.Sprintf(r.sql, anchor))
	}
	limit := "$1"
	if one {
		limit = "$2"
	}
	return fmt.Sprintf(`WITH pairs (low, high, score, reason) AS (
%s
)
SELECT p.low, p.high, max(p.score), array_agg(DISTINCT p.reason ORDER BY p.reason)
  FROM pairs p
  JOIN %[2]s a ON a.id = p.low AND a.status <> 'duplicate'
  JOIN %[2]s b ON b.id = p.high AND b.status <> 'duplicate'
 WHERE NOT EXISTS (SELECT 1 FROM duplicate_rejections r WHERE r.aggregate = '%[3]s' AND r.low_id = p.low AND r.high_id = p.high)
 GROUP BY p.low, p.high
 ORDER BY max(p.score) DESC, p.low, p.high
 LIMIT %[4]s`, strings.Join(parts, "\nUNION ALL\n"), table, aggregate, limit), usesSimilarity
}

// FindDuplicatePeople returns pairs of people (not already merged) that are
// likely the same person, strongest first: same name key and birth year
// (0.9), same name key and graduation year (0.9), same phone number (0.8),
// same name key with nothing telling them apart (0.5) and, when q.ID names
// one person, similar name (pg_trgm) and same birth or graduation year (0.7).
// Pairs rejected with RejectDuplicate are left out.
func (s *Store) FindDuplicatePeople(ctx context.Context, q DuplicateQuery) ([]calore.DuplicateCandidate, error) {
	return s.findDuplicates(ctx, "person", "people", personRules, q)
}

// FindDuplicateOrganisations returns pairs of organisations (not already
// merged) that are likely the same: same VAT number (0.95), same tax code
// (0.9), same legal name key (0.8) and, when q.ID names one organisation,
// similar legal name in the same city (0.6).
func (s *Store) FindDuplicateOrganisations(ctx context.Context, q DuplicateQuery) ([]calore.DuplicateCandidate, error) {
	return s.findDuplicates(ctx, "organisation", "organisations", organisationRules, q)
}

func (s *Store) findDuplicates(ctx context.Context, aggregate, table string, rules []rule, q DuplicateQuery) ([]calore.DuplicateCandidate, error) {
	query, similarity := duplicatesSQL(aggregate, table, rules, q.ID != 0)
	args := []any{q.limit()}
	if q.ID != 0 {
		args = []any{q.ID, q.limit()}
		if similarity {
			args = append(args, q.similarity())
		}
	}
	var out []calore.DuplicateCandidate
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if similarity {
			// the % operator (GIN index) then only returns candidates at the
			// threshold, instead of the default 0.3
			if _, err := tx.Exec(ctx, `SELECT set_config('pg_trgm.similarity_threshold', $1, true)`, fmt.Sprint(q.similarity())); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (calore.DuplicateCandidate, error) {
			c := calore.DuplicateCandidate{Aggregate: aggregate}
			err := row.Scan(&c.LowID, &c.HighID, &c.Score, &c.Reasons)
			return c, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find duplicate %s records: %w", aggregate, err)
	}
	return out, nil
}

// RejectDuplicate records that two records are not duplicates, so the finder
// proposes the pair no more. by is the deciding user, if known.
func (s *Store) RejectDuplicate(ctx context.Context, aggregate string, a, b int64, by *int64) error {
	low, high := min(a, b), max(a, b)
	_, err := s.db.Exec(ctx, `INSERT INTO duplicate_rejections (aggregate, low_id, high_id, decided_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, aggregate, low, high, by)
	return wrap(translate(err), "reject duplicate %s %d/%d", aggregate, low, high)
}

// MergeOptions say who merges and what they saw.
type MergeOptions struct {
	// WinnerVersion and LoserVersion are the versions the approver saw; a
	// record changed since is a conflict. 0 skips the check.
	WinnerVersion, LoserVersion int
	By                          *int64 // the approving user
	Reason                      string
}

// move re-points one reference column from the loser to the winner. When
// unique lists columns that with col form a unique key, rows that would
// collide with one of the winner's stay with the loser. Moved rows get a new
// version and an "<aggregate>.updated" event.
type move struct {
	table, col string
	unique     []string
	emit       func(ctx context.Context, tx pgx.Tx, id int64) error
	// combine ($1 winner, $2 loser) first folds what a colliding loser row
	// knows into the winner's row (an attendance, an open) and returns the
	// ids of the winner's rows it changed.
	combine string
}

// Ranks of statuses when colliding rows are combined: the later in the
// list, the more the person did.
const (
	registrationRank = `ARRAY['cancelled', 'no_show', 'invited', 'registered', 'attended']`
	sendRank         = `ARRAY['failed', 'bounced', 'queued', 'sent', 'delivered']`
)

var combineRegistrations = `UPDATE registrations w SET
	status = CASE WHEN array_position(` + registrationRank + `, l.status) > array_position(` + registrationRank + `, w.status) THEN l.status ELSE w.status END,
	source = CASE WHEN w.source = '' THEN l.source ELSE w.source END,
	invited_at = least(w.invited_at, l.invited_at), registered_at = least(w.registered_at, l.registered_at),
	attended_at = least(w.attended_at, l.attended_at), is_vip = w.is_vip OR l.is_vip,
	version = w.version + 1, updated_at = now()
  FROM registrations l
 WHERE w.person_id = $1 AND l.person_id = $2 AND l.event_id = w.event_id
   AND (l.status, l.source, l.invited_at, l.registered_at, l.attended_at, l.is_vip) IS DISTINCT FROM (w.status, w.source, w.invited_at, w.registered_at, w.attended_at, w.is_vip)
RETURNING w.id`

var combineSends = `UPDATE campaign_sends w SET
	status = CASE WHEN array_position(` + sendRank + `, l.status) > array_position(` + sendRank + `, w.status) THEN l.status ELSE w.status END,
	sent_at = least(w.sent_at, l.sent_at), opened_at = least(w.opened_at, l.opened_at),
	clicked_at = least(w.clicked_at, l.clicked_at), replied_at = least(w.replied_at, l.replied_at),
	version = w.version + 1, updated_at = now()
  FROM campaign_sends l
 WHERE w.person_id = $1 AND l.person_id = $2 AND l.campaign_id = w.campaign_id
   AND (l.status, l.sent_at, l.opened_at, l.clicked_at, l.replied_at) IS DISTINCT FROM (w.status, w.sent_at, w.opened_at, w.clicked_at, w.replied_at)
RETURNING w.id`

var combineJourney = `UPDATE journey_stages w SET
	reached_at = least(w.reached_at, l.reached_at),
	touchpoint = CASE WHEN l.reached_at < w.reached_at AND l.touchpoint <> '' THEN l.touchpoint ELSE w.touchpoint END,
	source = CASE WHEN l.reached_at < w.reached_at AND l.source <> '' THEN l.source ELSE w.source END,
	version = w.version + 1, updated_at = now()
  FROM journey_stages l
 WHERE w.person_id = $1 AND l.person_id = $2 AND l.programme = w.programme AND l.stage = w.stage AND l.reached_at < w.reached_at
RETURNING w.id`

// emitUpdated writes the "updated" event of the record id as it is now.
func (t *table[T]) emitUpdated(ctx context.Context, tx pgx.Tx, id int64) error {
	rec, err := t.get(ctx, tx, id)
	if err != nil {
		return err
	}
	return writeChange(ctx, tx, t.aggregate, VerbUpdated, id, rec)
}

var personMoves = []move{
	{"affiliations", "person_id", nil, affiliations.emitUpdated, ""},
	{"interactions", "person_id", nil, interactions.emitUpdated, ""},
	{"registrations", "person_id", []string{"event_id"}, registrations.emitUpdated, combineRegistrations},
	{"campaign_sends", "person_id", []string{"campaign_id"}, campaignSends.emitUpdated, combineSends},
	{"donations", "person_id", nil, donations.emitUpdated, ""},
	{"collaborations", "person_id", nil, collaborations.emitUpdated, ""},
	{"collaborations", "counterpart_id", nil, collaborations.emitUpdated, ""},
	{"research_contracts", "scientific_lead_id", nil, researchContracts.emitUpdated, ""},
	{"journey_stages", "person_id", []string{"programme", "stage"}, journeyStages.emitUpdated, combineJourney},
	{"consents", "person_id", nil, consents.emitUpdated, ""},
	{"people", "merged_into", nil, people.emitUpdated, ""}, // earlier merges into the loser
}

var organisationMoves = []move{
	{"affiliations", "organisation_id", nil, affiliations.emitUpdated, ""},
	{"interactions", "organisation_id", nil, interactions.emitUpdated, ""},
	{"donations", "organisation_id", nil, donations.emitUpdated, ""},
	{"collaborations", "organisation_id", nil, collaborations.emitUpdated, ""},
	{"partnerships", "organisation_id", nil, partnerships.emitUpdated, ""},
	{"research_contracts", "organisation_id", nil, researchContracts.emitUpdated, ""},
	{"organisations", "merged_into", nil, organisations.emitUpdated, ""},
}

// run moves the rows of m from loser to winner and returns how many moved
// and how many of the winner's rows took in a colliding loser row.
func (m move) run(ctx context.Context, tx pgx.Tx, winner, loser int64) (moved, combined int64, err error) {
	if m.combine != "" {
		rows, err := tx.Query(ctx, m.combine, winner, loser)
		if err != nil {
			return 0, 0, fmt.Errorf("combine %s: %w", m.table, err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, 0, fmt.Errorf("combine %s: %w", m.table, err)
		}
		for _, id := range ids {
			if err := m.emit(ctx, tx, id); err != nil {
				return 0, 0, fmt.Errorf("combine %s: %w", m.table, err)
			}
		}
		combined = int64(len(ids))
	}
	q := fmt.Sprintf("UPDATE %s t SET %s = $1, version = version + 1, updated_at = now() WHERE t.%s = $2", m.table, m.col, m.col)
	if len(m.unique) > 0 {
		conds := make([]string, len(m.unique))
		for i, c := range m.unique {
			conds[i] = fmt.Sprintf("x.%s = t.%s", c, c)
		}
		q += fmt.Sprintf(" AND NOT EXISTS (SELECT 1 FROM %s x WHERE x.%s = $1 AND %s)", m.table, m.col, strings.Join(conds, " AND "))
	}
	q += " RETURNING t.id"
	rows, err := tx.Query(ctx, q, winner, loser)
	if err != nil {
		return 0, 0, fmt.Errorf("move %s.%s: %w", m.table, m.col, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, 0, fmt.Errorf("move %s.%s: %w", m.table, m.col, err)
	}
	for _, id := range ids {
		if err := m.emit(ctx, tx, id); err != nil {
			return 0, 0, fmt.Errorf("move %s.%s: %w", m.table, m.col, err)
		}
	}
	return int64(len(ids)), combined, nil
}

// Text columns of people a merge fills in the winner when empty there.
var personFillText = []string{"first_name", "last_name", "first_name_ascii", "last_name_ascii", "language", "nationality",
	"country", "region", "province", "city", "degree_course", "macro_category", "top_category"}

// mergePeopleSQL fills the winner's empty fields from the loser, unites the
// tags, offices and competences, and bumps the winner's version.
var mergePeopleSQL = func() string {
	set := []string{
		"birth_date = coalesce(w.birth_date, l.birth_date)",
		"graduation_year = coalesce(w.graduation_year, l.graduation_year)",
		"relevance = greatest(w.relevance, l.relevance)",
		"is_minor = w.is_minor OR l.is_minor",
		"extra = l.extra || w.extra",
		"version = w.version + 1", "updated_at = now()",
	}
	for _, c := range personFillText {
		set = append(set, fmt.Sprintf("%s = CASE WHEN w.%s = '' THEN l.%s ELSE w.%s END", c, c, c, c))
	}
	for _, c := range []string{"competences", "tags", "offices"} {
		set = append(set, fmt.Sprintf("%s = ARRAY(SELECT DISTINCT x FROM unnest(w.%s || l.%s) x ORDER BY x)", c, c, c))
	}
	return "UPDATE people w SET " + strings.Join(set, ", ") + " FROM people l WHERE w.id = $1 AND l.id = $2"
}()

var orgFillText = []string{"legal_name_ascii", "vat_number", "tax_code", "legal_status", "size_class", "territory",
	"country", "region", "province", "city", "functional_area"}

var mergeOrganisationsSQL = func() string {
	set := []string{
		"revenue = coalesce(w.revenue, l.revenue)",
		"revenue_year = CASE WHEN w.revenue IS NULL THEN l.revenue_year ELSE w.revenue_year END",
		"account_manager_id = coalesce(w.account_manager_id, l.account_manager_id)",
		// the winner never becomes its own parent
		"parent_id = CASE WHEN w.parent_id = l.id OR w.parent_id IS NULL THEN nullif(l.parent_id, w.id) ELSE w.parent_id END",
		"extra = l.extra || w.extra",
		"version = w.version + 1", "updated_at = now()",
	}
	for _, c := range orgFillText {
		set = append(set, fmt.Sprintf("%s = CASE WHEN w.%s = '' THEN l.%s ELSE w.%s END", c, c, c, c))
	}
	for _, c := range []string{"ateco_codes", "sdgs", "disciplines", "labels"} {
		set = append(set, fmt.Sprintf("%s = ARRAY(SELECT DISTINCT x FROM unnest(w.%s || l.%s) x ORDER BY x)", c, c, c))
	}
	return "UPDATE organisations w SET " + strings.Join(set, ", ") + " FROM organisations l WHERE w.id = $1 AND l.id = $2"
}()

// MergePeople merges the person loser into winner in one transaction: the
// winner's empty fields are filled from the loser and tags united; the
// loser's emails, sources and phones not already on the winner, and its
// affiliations, interactions, registrations, sends, donations,
// collaborations, journey stages and consents move to the winner (a row that
// would collide with one of the winner's, e.g. a registration to the same
// event, stays with the loser); the loser becomes status duplicate with
// merged_into = winner; a merges row keeps a snapshot of the loser. The
// outbox gets "person.merged" (the loser), "person.updated" (the winner)
// and an "updated" event per moved record.
func (s *Store) MergePeople(ctx context.Context, winnerID, loserID int64, opt MergeOptions) (*calore.Merge, error) {
	var m *calore.Merge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		loser, err := lockPair(ctx, tx, people, "people", winnerID, loserID, opt, func(p *calore.Person) string { return p.Status })
		if err != nil {
			return err
		}
		moved := map[string]int64{}
		// children without versions of their own: part of the person record
		tag, err := tx.Exec(ctx, `UPDATE person_emails SET person_id = $1 WHERE person_id = $2`, winnerID, loserID)
		if err != nil {
			return fmt.Errorf("move emails: %w", err)
		}
		moved["person_emails"] = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `UPDATE person_phones t SET person_id = $1 WHERE person_id = $2
			AND NOT EXISTS (SELECT 1 FROM person_phones x WHERE x.person_id = $1 AND x.number_norm = t.number_norm)`, winnerID, loserID)
		if err != nil {
			return fmt.Errorf("move phones: %w", err)
		}
		moved["person_phones"] = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `INSERT INTO person_sources (person_id, source, first_seen_at)
			SELECT $1, source, first_seen_at FROM person_sources WHERE person_id = $2
			ON CONFLICT (person_id, source) DO UPDATE SET first_seen_at = least(person_sources.first_seen_at, excluded.first_seen_at)`, winnerID, loserID)
		if err != nil {
			return fmt.Errorf("move sources: %w", err)
		}
		moved["person_sources"] = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM person_sources WHERE person_id = $1`, loserID); err != nil {
			return fmt.Errorf("move sources: %w", err)
		}
		m, err = finishMerge(ctx, tx, people, "people", mergePeopleSQL, personMoves, moved, winnerID, loserID, loser, opt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("merge person %d into %d: %w", loserID, winnerID, err)
	}
	return m, nil
}

// MergeOrganisations merges the organisation loser into winner, as
// MergePeople does for people: sites, affiliations, interactions, donations,
// collaborations, partnerships, research contracts and divisions move to the
// winner; "organisation.merged" and "organisation.updated" go to the outbox.
func (s *Store) MergeOrganisations(ctx context.Context, winnerID, loserID int64, opt MergeOptions) (*calore.Merge, error) {
	var m *calore.Merge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		loser, err := lockPair(ctx, tx, organisations, "organisations", winnerID, loserID, opt, func(o *calore.Organisation) string { return o.Status })
		if err != nil {
			return err
		}
		moved := map[string]int64{}
		tag, err := tx.Exec(ctx, `UPDATE organisation_sites SET organisation_id = $1 WHERE organisation_id = $2`, winnerID, loserID)
		if err != nil {
			return fmt.Errorf("move sites: %w", err)
		}
		moved["organisation_sites"] = tag.RowsAffected()
		divisions := move{"organisations", "parent_id", nil, organisations.emitUpdated, ""}
		n, err := divisions.runExcept(ctx, tx, winnerID, loserID)
		if err != nil {
			return err
		}
		moved["organisations.parent_id"] = n
		m, err = finishMerge(ctx, tx, organisations, "organisations", mergeOrganisationsSQL, organisationMoves, moved, winnerID, loserID, loser, opt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("merge organisation %d into %d: %w", loserID, winnerID, err)
	}
	return m, nil
}

// runExcept is run for a self-reference (divisions): the winner itself is
// not re-pointed; the merge SQL settles its own parent.
func (m move) runExcept(ctx context.Context, tx pgx.Tx, winner, loser int64) (int64, error) {
	rows, err := tx.Query(ctx, fmt.Sprintf("UPDATE %s SET %s = $1, version = version + 1, updated_at = now() WHERE %s = $2 AND id <> $1 RETURNING id", m.table, m.col, m.col), winner, loser)
	if err != nil {
		return 0, fmt.Errorf("move %s.%s: %w", m.table, m.col, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("move %s.%s: %w", m.table, m.col, err)
	}
	for _, id := range ids {
		if err := m.emit(ctx, tx, id); err != nil {
			return 0, err
		}
	}
	return int64(len(ids)), nil
}

// lockPair locks winner and loser (in id order, so two merges cannot
// deadlock), checks both can merge and returns the loser as it is.
func lockPair[T any](ctx context.Context, tx pgx.Tx, t *table[T], sqlTable string, winnerID, loserID int64, opt MergeOptions, status func(*T) string) (*T, error) {
	if winnerID == loserID {
		return nil, calore.Errorf(calore.ErrInvalid, "cannot merge %s %d into itself", t.aggregate, winnerID)
	}
	rows, err := tx.Query(ctx, fmt.Sprintf("SELECT id FROM %s WHERE id IN ($1, $2) ORDER BY id FOR UPDATE", sqlTable), winnerID, loserID)
	if err != nil {
		return nil, err
	}
	if _, err := pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, err
	}
	winner, err := t.get(ctx, tx, winnerID)
	if err != nil {
		return nil, err
	}
	loser, err := t.get(ctx, tx, loserID)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		rec  *T
		want int
	}{{winner, opt.WinnerVersion}, {loser, opt.LoserVersion}} {
		meta := t.meta(c.rec)
		if c.want != 0 && meta.Version != c.want {
			return nil, calore.ConflictError(t.aggregate, meta.ID, c.want)
		}
		if status(c.rec) == calore.StatusDuplicate {
			return nil, calore.Errorf(calore.ErrConflict, "%s %d is already merged into another", t.aggregate, meta.ID)
		}
	}
	return loser, nil
}

// finishMerge moves the versioned references, fills the winner, marks the
// loser, records the merge and writes the events.
func finishMerge[T any](ctx context.Context, tx pgx.Tx, t *table[T], sqlTable, fillSQL string, moves []move, moved map[string]int64, winnerID, loserID int64, loser *T, opt MergeOptions) (*calore.Merge, error) {
	for _, mv := range moves {
		n, combined, err := mv.run(ctx, tx, winnerID, loserID)
		if err != nil {
			return nil, err
		}
		moved[mv.table+"."+mv.col] += n
		if combined > 0 {
			moved[mv.table+".combined"] += combined
		}
	}
	if _, err := tx.Exec(ctx, fillSQL, winnerID, loserID); err != nil {
		return nil, fmt.Errorf("fill the winner: %w", translate(err))
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("UPDATE %s SET status = 'duplicate', merged_into = $1, version = version + 1, updated_at = now() WHERE id = $2", sqlTable), winnerID, loserID); err != nil {
		return nil, fmt.Errorf("mark the loser: %w", translate(err))
	}
	snapshot, err := json.Marshal(loser)
	if err != nil {
		return nil, fmt.Errorf("snapshot the loser: %w", err)
	}
	m := &calore.Merge{Aggregate: t.aggregate, WinnerID: winnerID, LoserID: loserID, MergedBy: opt.By, Reason: opt.Reason, Moved: moved}
	if err := tx.QueryRow(ctx, `INSERT INTO merges (aggregate, winner_id, loser_id, merged_by, reason, loser, moved)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, merged_at`,
		m.Aggregate, winnerID, loserID, opt.By, opt.Reason, snapshot, moved).Scan(&m.ID, &m.MergedAt); err != nil {
		return nil, fmt.Errorf("record the merge: %w", translate(err))
	}
	after, err := t.get(ctx, tx, loserID)
	if err != nil {
		return nil, err
	}
	if err := writeChange(ctx, tx, t.aggregate, VerbMerged, loserID, after); err != nil {
		return nil, err
	}
	if err := t.emitUpdated(ctx, tx, winnerID); err != nil {
		return nil, err
	}
	return m, nil
}

// Merges returns the merges a record took part in, as winner or loser,
// oldest first.
func (s *Store) Merges(ctx context.Context, aggregate string, id int64) ([]calore.Merge, error) {
	rows, err := s.db.Query(ctx, `SELECT id, aggregate, winner_id, loser_id, merged_at, merged_by, reason, moved FROM merges
		WHERE aggregate = $1 AND (winner_id = $2 OR loser_id = $2) ORDER BY id`, aggregate, id)
	if err != nil {
		return nil, fmt.Errorf("read merges of %s %d: %w", aggregate, id, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (calore.Merge, error) {
		var m calore.Merge
		err := row.Scan(&m.ID, &m.Aggregate, &m.WinnerID, &m.LoserID, &m.MergedAt, &m.MergedBy, &m.Reason, &m.Moved)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read merges of %s %d: %w", aggregate, id, err)
	}
	return out, nil
}

// MergedLoser returns the snapshot of the loser as it was before merge id.
func (s *Store) MergedLoser(ctx context.Context, mergeID int64, into any) error {
	var raw []byte
	err := s.db.QueryRow(ctx, `SELECT loser FROM merges WHERE id = $1`, mergeID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return calore.NotFoundError("merge", mergeID)
	}
	if err != nil {
		return fmt.Errorf("read merge %d: %w", mergeID, err)
	}
	return wrap(json.Unmarshal(raw, into), "decode merge %d", mergeID)
}
