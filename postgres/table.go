package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/calore-crm/calore"
)

// field maps one column to a field of a record. The column names and
// expressions are constants of this package, never input.
type field struct {
	col   string
	ptr   any    // pointer to the record's field: argument on write, destination on read
	read  string // SELECT expression; "" means col
	write string // value expression with %s for the placeholder; "" means "%s"
	ro    bool   // computed by the database: read, never written
}

// table is the generic create/get/update/delete/list of one kind of domain
// record carrying calore.Meta, with an outbox event per change in the same
// transaction. Records with child rows (a person's emails) add hooks.
type table[T any] struct {
	aggregate string // outbox aggregate and error noun: "person"
	name      string // SQL table
	meta      func(*T) *calore.Meta
	fields    func(*T) []field
	validate  func(*T) error
	// prepare normalises a record before it is written (nil slices to empty).
	prepare func(*T)
	// saveChildren writes the record's child rows after an insert or update.
	saveChildren func(ctx context.Context, tx pgx.Tx, rec *T) error
	// loadChildren reads the child rows of records just read.
	loadChildren func(ctx context.Context, db DB, recs []*T) error
	// filterCols are the columns Filter may narrow on.
	filterCols map[string]bool
	// Office-owned records (scope.go): ownerCol is the column holding a
	// record's office, or ownerOffice the office owning every record.
	ownerCol, ownerOffice string
}

func (t *table[T]) selectList() string {
	var zero T
	cols := []string{"id", "version", "created_at", "updated_at"}
	for _, f := range t.fields(&zero) {
		if f.read != "" {
			cols = append(cols, f.read)
		} else {
			cols = append(cols, f.col)
		}
	}
	return strings.Join(cols, ", ")
}

func (t *table[T]) dest(rec *T) []any {
	m := t.meta(rec)
	d := []any{&m.ID, &m.Version, &m.CreatedAt, &m.UpdatedAt}
	for _, f := range t.fields(rec) {
		d = append(d, f.ptr)
	}
	return d
}

// writable returns the writable columns, their value expressions starting at
// placeholder $first, and the arguments.
func (t *table[T]) writable(rec *T, first int) (cols, exprs []string, args []any) {
	for _, f := range t.fields(rec) {
		if f.ro {
			continue
		}
		ph := fmt.Sprintf("$%d", first+len(args))
		if f.write != "" {
			ph = fmt.Sprintf(f.write, ph)
		}
		cols, exprs, args = append(cols, f.col), append(exprs, ph), append(args, f.ptr)
	}
	return cols, exprs, args
}

func (t *table[T]) check(rec *T) error {
	if t.prepare != nil {
		t.prepare(rec)
	}
	if t.validate != nil {
		if err := t.validate(rec); err != nil {
			return err
		}
	}
	return nil
}

// insert writes rec, reads back what the database set (id, version,
// defaults, generated columns) and writes the "created" event.
func (t *table[T]) insert(ctx context.Context, tx pgx.Tx, rec *T) error {
	return t.insertIn(ctx, tx, nil, rec)
}

// insertIn is insert within sc (nil: any record): rec must be of an office
// whose records sc may create (ErrForbidden otherwise).
func (t *table[T]) insertIn(ctx context.Context, tx pgx.Tx, sc *Scope, rec *T) error {
	if err := t.check(rec); err != nil {
		return fmt.Errorf("create %s: %w", t.aggregate, err)
	}
	if err := t.mayWrite(sc, rec); err != nil {
		return fmt.Errorf("create %s: %w", t.aggregate, err)
	}
	cols, exprs, args := t.writable(rec, 1)
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) RETURNING %s", t.name, strings.Join(cols, ", "), strings.Join(exprs, ", "), t.selectList())
	if err := tx.QueryRow(ctx, q, args...).Scan(t.dest(rec)...); err != nil {
		return fmt.Errorf("create %s: %w", t.aggregate, translate(err))
	}
	id := t.meta(rec).ID
	err := t.afterWrite(ctx, tx, rec)
	if err == nil {
		err = writeChange(ctx, tx, t.aggregate, VerbCreated, id, rec)
	}
	if err != nil {
		*t.meta(rec) = calore.Meta{} // the insert is rolled back: no id to keep
		return fmt.Errorf("create %s %d: %w", t.aggregate, id, err)
	}
	return nil
}

// afterWrite saves and reloads child rows, so that the event carries them as
// stored.
func (t *table[T]) afterWrite(ctx context.Context, tx pgx.Tx, rec *T) error {
	if t.saveChildren == nil {
		return nil
	}
	if err := t.saveChildren(ctx, tx, rec); err != nil {
		return translate(err)
	}
	return t.loadChildren(ctx, tx, []*T{rec})
}

// get reads one record; calore.ErrNotFound when there is none.
func (t *table[T]) get(ctx context.Context, db DB, id int64) (*T, error) {
	return t.getIn(ctx, db, nil, id)
}

// getIn reads one record within sc (nil: any record); calore.ErrNotFound
// when there is none or it is outside sc.
func (t *table[T]) getIn(ctx context.Context, db DB, sc *Scope, id int64) (*T, error) {
	var rec T
	cond, args := t.scopeCond(sc, false, 2)
	q := fmt.Sprintf("SELECT %s FROM %s WHERE id = $1%s", t.selectList(), t.name, cond)
	if err := db.QueryRow(ctx, q, append([]any{id}, args...)...).Scan(t.dest(&rec)...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, calore.NotFoundError(t.aggregate, id)
		}
		return nil, fmt.Errorf("get %s %d: %w", t.aggregate, id, err)
	}
	if t.loadChildren != nil {
		if err := t.loadChildren(ctx, db, []*T{&rec}); err != nil {
			return nil, fmt.Errorf("get %s %d: %w", t.aggregate, id, err)
		}
	}
	return &rec, nil
}

// update writes rec if its Version is still the stored one, bumps the
// version, reads the record back into rec and writes the "updated" event. A
// stale version is an error wrapping calore.ErrConflict naming the record.
func (t *table[T]) update(ctx context.Context, tx pgx.Tx, rec *T) error {
	return t.updateIn(ctx, tx, nil, rec)
}

// updateIn is update within sc (nil: any record): the stored record must be
// one sc may change (outside what it may read: ErrNotFound; readable only:
// ErrForbidden), and so must rec as written.
func (t *table[T]) updateIn(ctx context.Context, tx pgx.Tx, sc *Scope, rec *T) error {
	m := t.meta(rec)
	id, version := m.ID, m.Version
	if err := t.check(rec); err != nil {
		return fmt.Errorf("update %s %d: %w", t.aggregate, id, err)
	}
	cols, exprs, args := t.writable(rec, 3)
	set := make([]string, len(cols))
	for i := range cols {
		set[i] = cols[i] + " = " + exprs[i]
	}
	cond, scArgs := t.scopeCond(sc, true, 3+len(args))
	q := fmt.Sprintf("UPDATE %s SET %s, version = version + 1, updated_at = now() WHERE id = $1 AND version = $2%s RETURNING %s",
		t.name, strings.Join(set, ", "), cond, t.selectList())
	err := tx.QueryRow(ctx, q, append(append([]any{id, version}, args...), scArgs...)...).Scan(t.dest(rec)...)
	if errors.Is(err, pgx.ErrNoRows) {
		err = t.missing(ctx, tx, sc, id, version)
	}
	if err == nil {
		// the record as written, after the stored one was found in scope (so
		// that a record outside it is not found, whatever the body says); the
		// transaction rolls back on this error
		err = t.mayWrite(sc, rec)
	}
	if err != nil {
		m.ID, m.Version = id, version // leave the caller's record as it was read
		return fmt.Errorf("update %s %d: %w", t.aggregate, id, translate(err))
	}
	if err := t.afterWrite(ctx, tx, rec); err != nil {
		return fmt.Errorf("update %s %d: %w", t.aggregate, id, err)
	}
	return writeChange(ctx, tx, t.aggregate, VerbUpdated, id, rec)
}

// missing explains why no row matched id and version (and sc): the record
// is gone or outside what sc may read (ErrNotFound), one sc may only read
// (ErrForbidden), or changed since version (ErrConflict).
func (t *table[T]) missing(ctx context.Context, db DB, sc *Scope, id int64, version int) error {
	var current int
	cond, args := t.scopeCond(sc, false, 2)
	err := db.QueryRow(ctx, fmt.Sprintf("SELECT version FROM %s WHERE id = $1%s", t.name, cond), append([]any{id}, args...)...).Scan(&current)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return calore.NotFoundError(t.aggregate, id)
	case err != nil:
		return err
	}
	if cond, args := t.scopeCond(sc, true, 2); cond != "" {
		var writable bool
		q := fmt.Sprintf("SELECT EXISTS (SELECT FROM %s WHERE id = $1%s)", t.name, cond)
		if err := db.QueryRow(ctx, q, append([]any{id}, args...)...).Scan(&writable); err != nil {
			return err
		}
		if !writable {
			return calore.Errorf(calore.ErrForbidden, "%s %d belongs to an office whose records your roles may read but not change", t.aggregate, id)
		}
	}
	return calore.ConflictError(t.aggregate, id, version)
}

// delete removes the record if version is still the stored one and writes
// the "deleted" event carrying the record as it was.
func (t *table[T]) delete(ctx context.Context, tx pgx.Tx, id int64, version int) error {
	return t.deleteIn(ctx, tx, nil, id, version)
}

// deleteIn is delete within sc (nil: any record): a record outside what sc
// may read is ErrNotFound, one it may only read ErrForbidden.
func (t *table[T]) deleteIn(ctx context.Context, tx pgx.Tx, sc *Scope, id int64, version int) error {
	rec, err := t.getIn(ctx, tx, sc, id)
	if err == nil {
		err = t.mayWrite(sc, rec)
	}
	if err != nil {
		return fmt.Errorf("delete %s %d: %w", t.aggregate, id, err)
	}
	cond, args := t.scopeCond(sc, true, 3)
	tag, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE id = $1 AND version = $2%s", t.name, cond), append([]any{id, version}, args...)...)
	if err == nil && tag.RowsAffected() == 0 {
		err = t.missing(ctx, tx, sc, id, version)
	}
	if err != nil {
		return fmt.Errorf("delete %s %d: %w", t.aggregate, id, translate(err))
	}
	return writeChange(ctx, tx, t.aggregate, VerbDeleted, id, rec)
}

// list reads the records matching f in id order.
func (t *table[T]) list(ctx context.Context, db DB, f Filter) ([]*T, error) {
	where, args, err := f.toSQL(t.filterCols)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t.aggregate, err)
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY id LIMIT %d", t.selectList(), t.name, where, f.limit())
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t.aggregate, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		rec := new(T)
		if err := rows.Scan(t.dest(rec)...); err != nil {
			return nil, fmt.Errorf("list %s: %w", t.aggregate, err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", t.aggregate, err)
	}
	if t.loadChildren != nil && len(out) > 0 {
		if err := t.loadChildren(ctx, db, out); err != nil {
			return nil, fmt.Errorf("list %s: %w", t.aggregate, err)
		}
	}
	return out, nil
}

// translate turns constraint violations into domain error kinds: a unique
// value taken is a conflict, a broken check or a missing referenced record
// is invalid input. The message is Calore's own, naming the column or the
// rule, never PostgreSQL's text (its detail quotes the values, of this row
// or another one); the PostgreSQL error stays in the chain for the log.
func translate(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	cols := keyColumns(pe)
	var e *calore.Error
	switch pe.Code {
	case "23505": // unique_violation
		e = calore.Errorf(calore.ErrConflict, "another record already has this %s", orWord(cols, "value"))
	case "23503": // foreign_key_violation
		e = calore.FieldError(cols, "refers to a record that does not exist, or is still referred to")
	case "23514", "23P01": // check, exclusion
		e = calore.Errorf(calore.ErrInvalid, "a value breaks the rule %s", orWord(pe.ConstraintName, "of the record"))
	case "23502": // not_null_violation
		e = calore.FieldError(pe.ColumnName, "is required")
	case "22P02", "22003", "22007", "22008", "22001": // bad text, out of range, bad date, too long
		e = calore.FieldError(pe.ColumnName, "a value has the wrong format or is out of range")
	case "22021", "22P05": // NUL byte or invalid UTF-8
		e = calore.FieldError(pe.ColumnName, "text holds a NUL byte or is not UTF-8")
	default:
		return err
	}
	return &storeError{err: e, pg: pe}
}

// storeError is a translated PostgreSQL error: its kind and message for the
// caller, the original for the log (errors.As finds both).
type storeError struct {
	err *calore.Error
	pg  *pgconn.PgError
}

func (e *storeError) Error() string   { return e.err.Error() }
func (e *storeError) Unwrap() []error { return []error{e.err, e.pg} }

// keyColumns are the columns a constraint error names in its detail,
// "Key (a, b)=(…) …", without the values.
func keyColumns(pe *pgconn.PgError) string {
	if pe.ColumnName != "" {
		return pe.ColumnName
	}
	rest, ok := strings.CutPrefix(pe.Detail, "Key (")
	if !ok {
		return ""
	}
	cols, _, ok := strings.Cut(rest, ")=(")
	if !ok {
		return ""
	}
	return cols
}

func orWord(s, word string) string {
	if s == "" {
		return word
	}
	return s
}

// Filter narrows a List. Zero fields do not filter; narrowing on a column the
// kind of record lacks is an error.
type Filter struct {
	PersonID       int64
	OrganisationID int64
	EventID        int64
	CampaignID     int64
	UserID         int64
	AfterID        int64 // keyset pagination: only records with a greater id
	Limit          int   // default 100, at most 1000
}

func (f Filter) limit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}

// toSQL returns the WHERE condition and its arguments; allowed are the
// columns the table may be narrowed on.
func (f Filter) toSQL(allowed map[string]bool) (string, []any, error) {
	conds := []string{"true"}
	var args []any
	for _, c := range []struct {
		col string
		v   int64
	}{{"person_id", f.PersonID}, {"organisation_id", f.OrganisationID}, {"event_id", f.EventID}, {"campaign_id", f.CampaignID}, {"user_id", f.UserID}, {"id >", f.AfterID}} {
		if c.v == 0 {
			continue
		}
		col, op := c.col, "="
		if col == "id >" {
			col, op = "id", ">"
		} else if !allowed[col] {
			return "", nil, calore.FieldError(col, "cannot narrow this list by %s", col)
		}
		args = append(args, c.v)
		conds = append(conds, fmt.Sprintf("%s %s $%d", col, op, len(args)))
	}
	return strings.Join(conds, " AND "), args, nil
}
