package postgres

// Search: the filtered, paginated lists of the API, with totals. Filters name
// columns of the record's own table (checked against its field list, never
// taken from input as SQL) and carry their values as bind parameters.

import (
	"context"
	"fmt"
	"strings"

	"github.com/calore-crm/calore"
)

// Search operators.
const (
	OpEq       = "eq"       // column = value
	OpGte      = "gte"      // column >= value
	OpLte      = "lte"      // column <= value
	OpContains = "contains" // array column contains the value
	OpLike     = "like"     // text column contains the value, ignoring case
	OpPrefix   = "prefix"   // text column starts with the value, ignoring case
)

// Cond is one filter: a column of the record's table, an operator, a value.
type Cond struct {
	Col   string
	Op    string
	Value any
}

// SearchQuery is a filtered page of one kind of record, in id order.
type SearchQuery struct {
	Conds   []Cond
	AfterID int64 // keyset page: records with a greater id (cursor)
	Offset  int   // or an offset page
	Limit   int   // default 100, at most 1000
}

// likeEscape escapes the LIKE wildcards of a user's text.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// toSQL returns the WHERE condition (without the keyset bound, so that it
// counts the whole result) and its arguments; cols are the columns allowed.
func (q SearchQuery) toSQL(cols map[string]bool) (string, []any, error) {
	conds := []string{"true"}
	var args []any
	for _, c := range q.Conds {
		if !cols[c.Col] {
			return "", nil, calore.FieldError(c.Col, "cannot filter by %s", c.Col)
		}
		v := c.Value
		var cond string
		switch c.Op {
		case OpEq:
			cond = "%s = $%d"
		case OpGte:
			cond = "%s >= $%d"
		case OpLte:
			cond = "%s <= $%d"
		case OpContains:
			cond = "%s @> ARRAY[$%d]"
		case OpLike:
			cond, v = "%s ILIKE '%%' || $%d || '%%'", likeEscape.Replace(fmt.Sprint(v))
		case OpPrefix:
			cond, v = "%s ILIKE $%d || '%%'", likeEscape.Replace(fmt.Sprint(v))
		default:
			return "", nil, calore.FieldError(c.Col, "unknown operator %q", c.Op)
		}
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, c.Col, len(args)))
	}
	return strings.Join(conds, " AND "), args, nil
}

// search returns a page of t's records matching q and how many match in all.
func search[T any](ctx context.Context, db DB, t *table[T], q SearchQuery) ([]*T, int64, error) {
	return searchIn(ctx, db, t, nil, q)
}

// searchIn is search within sc (nil: any record): q's conditions can only
// narrow what sc may read.
func searchIn[T any](ctx context.Context, db DB, t *table[T], sc *Scope, q SearchQuery) ([]*T, int64, error) {
	var zero T
	cols := map[string]bool{"id": true, "created_at": true, "updated_at": true}
	for _, f := range t.fields(&zero) {
		cols[f.col] = true
	}
	where, args, err := q.toSQL(cols)
	if err != nil {
		return nil, 0, fmt.Errorf("search %s: %w", t.aggregate, err)
	}
	cond, scArgs := t.scopeCond(sc, false, len(args)+1)
	where, args = where+cond, append(args, scArgs...)
	var total int64
	if err := db.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", t.name, where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("search %s: count: %w", t.aggregate, translate(err))
	}
	page := where
	if q.AfterID > 0 {
		args = append(args, q.AfterID)
		page += fmt.Sprintf(" AND id > $%d", len(args))
	}
	offset := max(q.Offset, 0)
	sql := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY id LIMIT %d OFFSET %d", t.selectList(), t.name, page, Filter{Limit: q.Limit}.limit(), offset)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("search %s: %w", t.aggregate, translate(err))
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		rec := new(T)
		if err := rows.Scan(t.dest(rec)...); err != nil {
			return nil, 0, fmt.Errorf("search %s: %w", t.aggregate, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search %s: %w", t.aggregate, translate(err))
	}
	if t.loadChildren != nil && len(out) > 0 {
		if err := t.loadChildren(ctx, db, out); err != nil {
			return nil, 0, fmt.Errorf("search %s: %w", t.aggregate, err)
		}
	}
	return out, total, nil
}

// SearchPeople returns a page of people matching q and the total.
func (s *Store) SearchPeople(ctx context.Context, q SearchQuery) ([]*calore.Person, int64, error) {
	return search(ctx, s.db, people, q)
}

// SearchOrganisations returns a page of organisations matching q and the total.
func (s *Store) SearchOrganisations(ctx context.Context, q SearchQuery) ([]*calore.Organisation, int64, error) {
	return search(ctx, s.db, organisations, q)
}

// SearchInteractions returns a page of interactions matching q and the total.
func (s *Store) SearchInteractions(ctx context.Context, q SearchQuery) ([]*calore.Interaction, int64, error) {
	return search(ctx, s.db, interactions, q)
}

// SearchEvents returns a page of events matching q and the total.
func (s *Store) SearchEvents(ctx context.Context, q SearchQuery) ([]*calore.CalendarEvent, int64, error) {
	return search(ctx, s.db, events, q)
}

// SearchRegistrations returns a page of registrations matching q and the total.
func (s *Store) SearchRegistrations(ctx context.Context, q SearchQuery) ([]*calore.Registration, int64, error) {
	return search(ctx, s.db, registrations, q)
}

// SearchCampaigns returns a page of campaigns matching q and the total.
func (s *Store) SearchCampaigns(ctx context.Context, q SearchQuery) ([]*calore.Campaign, int64, error) {
	return search(ctx, s.db, campaigns, q)
}

// SearchAffiliations returns a page of affiliations matching q and the total.
func (s *Store) SearchAffiliations(ctx context.Context, q SearchQuery) ([]*calore.Affiliation, int64, error) {
	return search(ctx, s.db, affiliations, q)
}

// SearchDonations returns a page of donations matching q and the total.
func (s *Store) SearchDonations(ctx context.Context, q SearchQuery) ([]*calore.Donation, int64, error) {
	return search(ctx, s.db, donations, q)
}
