package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/progress"
)

// stageTable is the temporary table a file is copied into before the merge.
const stageTable = "import_stage"

// sqlType is the staging column type of a field type.
func sqlType(t FieldType) string {
	switch t {
	case TypeInt, TypeYear:
		return "integer"
	case TypeDate:
		return "date"
	case TypeTime:
		return "timestamptz"
	case TypeAmount:
		return "numeric"
	case TypeBool:
		return "boolean"
	case TypeList:
		return "text[]"
	}
	return "text"
}

// stageDDL creates the staging table of a layout: the file's fields, typed,
// and the merge's working columns. Column names come from the spec, never
// from the file.
func stageDDL(spec Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TEMP TABLE %s (row_no integer PRIMARY KEY", stageTable)
	for _, f := range spec.Fields {
		fmt.Fprintf(&b, ", %s %s", pgx.Identifier{f.Name}.Sanitize(), sqlType(f.Type))
		if f.Type == TypeName {
			fmt.Fprintf(&b, ", %s text", pgx.Identifier{f.Name + "_ascii"}.Sanitize())
		}
	}
	// target_id: the matched or created record; is_new: created by this
	// import; conflict: why the row is left out; match_key: the name key
	b.WriteString(", target_id bigint, is_new boolean NOT NULL DEFAULT false, conflict text, match_key text) ON COMMIT DROP")
	return b.String()
}

// rowSource feeds COPY from the file: it reads and parses rows as COPY asks
// for them, keeps the good ones and records the bad ones.
type rowSource struct {
	recs     Records
	parser   *Parser
	progress progress.Reporter
	pos      func() int64 // progress position: bytes read or rows read

	row    Row
	rows   int        // data rows read
	good   int        // rows handed to COPY
	errors []RowError // bad rows
	err    error
}

func (s *rowSource) Next() bool {
	for {
		n, rec, err := s.recs.Next()
		if errors.Is(err, io.EOF) {
			return false
		}
		if fe := (errFatal{}); errors.As(err, &fe) {
			s.err = fmt.Errorf("read row %d: %w", n, fe.err)
			return false
		}
		s.rows++
		if s.rows%256 == 0 {
			s.progress.Set(s.pos())
		}
		if err != nil {
			s.errors = append(s.errors, RowError{Row: n, Reason: err.Error()})
			continue
		}
		row, errs := s.parser.Parse(n, rec)
		if len(errs) > 0 {
			s.errors = append(s.errors, errs...)
			continue
		}
		s.row = row
		s.good++
		return true
	}
}

func (s *rowSource) Values() ([]any, error) { return s.row.Values, nil }
func (s *rowSource) Err() error             { return s.err }

// countingReader counts the bytes read through it, for the progress of a CSV file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// column describes how one staged field lands in a column of the target
// table and how the merge policy treats it.
type column struct {
	field  string // staging column
	column string // target table column
	kind   colKind
	twin   bool // a name field: <field>_ascii goes to <column>_ascii with it
}

type colKind int

const (
	colText     colKind = iota // NOT NULL DEFAULT '': '' is empty
	colNullable                // NULL is empty
	colArray                   // NOT NULL DEFAULT '{}': no element is empty
	colBool                    // NOT NULL DEFAULT false: false is empty
)

func (c column) ident(prefix, name string) string {
	return prefix + "." + pgx.Identifier{name}.Sanitize()
}

// emptyOld is the SQL test "the stored value is empty".
func (c column) emptyOld(t string) string {
	o := c.ident(t, c.column)
	switch c.kind {
	case colText:
		return o + " = ''"
	case colArray:
		return "cardinality(" + o + ") = 0"
	case colBool:
		return "NOT " + o
	}
	return o + " IS NULL"
}

// insertExpr is the value of the column for a new record.
func (c column) insertExpr(s, field string) string {
	v := c.ident(s, field)
	switch c.kind {
	case colText:
		return "coalesce(" + v + ", '')"
	case colArray:
		return "coalesce(" + v + ", '{}')"
	case colBool:
		return "coalesce(" + v + ", false)"
	}
	return v
}

// mergeExprs returns, for an existing record t and a staged row s, the new
// value of the column (and of its ASCII twin) under policy p. A NULL staged
// value (an empty cell) never changes anything.
func (c column) mergeExprs(p Policy, t, s string) (cols, exprs []string) {
	old, nw := c.ident(t, c.column), c.ident(s, c.field)
	var cond string // when the file's value is taken
	switch p {
	case Overwrite:
		cond = nw + " IS NOT NULL"
	case Keep:
		cond = "false"
	default:
		cond = nw + " IS NOT NULL AND " + c.emptyOld(t)
	}
	cols = append(cols, c.column)
	exprs = append(exprs, "CASE WHEN "+cond+" THEN "+nw+" ELSE "+old+" END")
	if c.twin {
		cols = append(cols, c.column+"_ascii")
		exprs = append(exprs, "CASE WHEN "+cond+" THEN "+c.ident(s, c.field+"_ascii")+" ELSE "+c.ident(t, c.column+"_ascii")+" END")
	}
	return cols, exprs
}

// mergeSQL builds the set-wise update of the existing records of table that
// the staged rows matched (target_id, not new, no conflict), applying the
// policies, and only where something changes. It returns the ids it changed.
// Every identifier comes from the column list; the policies are one of three
// constants.
func mergeSQL(table string, cols []column, pol Policies) string {
	var setCols, newExprs, oldCols []string
	for _, c := range cols {
		cs, es := c.mergeExprs(pol.For(c.field), "t", "s")
		for i := range cs {
			setCols = append(setCols, pgx.Identifier{cs[i]}.Sanitize())
			newExprs = append(newExprs, es[i]+" AS "+pgx.Identifier{"n_" + cs[i]}.Sanitize())
			oldCols = append(oldCols, "t."+pgx.Identifier{cs[i]}.Sanitize())
		}
	}
	nCols := make([]string, len(setCols))
	for i, c := range setCols {
		nCols[i] = "n." + pgx.Identifier{"n_" + strings.Trim(c, `"`)}.Sanitize()
	}
	tbl := pgx.Identifier{table}.Sanitize()
	return fmt.Sprintf(`UPDATE %[1]s t SET (%[2]s) = (%[3]s), version = t.version + 1, updated_at = now()
FROM (SELECT t.id, %[4]s
        FROM %[5]s s JOIN %[1]s t ON t.id = s.target_id
       WHERE NOT s.is_new AND s.conflict IS NULL) n
WHERE t.id = n.id AND (%[6]s) IS DISTINCT FROM (%[3]s)
RETURNING t.id`,
		tbl, strings.Join(setCols, ", "), strings.Join(nCols, ", "), strings.Join(newExprs, ", "),
		stageTable, strings.Join(oldCols, ", "))
}

// insertSQL builds the set-wise insert of the new records: the ids were
// drawn from the table's sequence into target_id beforehand, so that the
// rows that follow (emails, phones, sources) know them.
func insertSQL(table string, cols []column, extraCols, extraExprs []string) string {
	var names, exprs []string
	names = append(names, "id")
	exprs = append(exprs, "s.target_id")
	for _, c := range cols {
		names = append(names, pgx.Identifier{c.column}.Sanitize())
		exprs = append(exprs, c.insertExpr("s", c.field))
		if c.twin {
			names = append(names, pgx.Identifier{c.column + "_ascii"}.Sanitize())
			exprs = append(exprs, c.insertExpr("s", c.field+"_ascii"))
		}
	}
	names = append(names, extraCols...)
	exprs = append(exprs, extraExprs...)
	return fmt.Sprintf(`INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE
SELECT %s FROM %s s WHERE s.is_new AND s.conflict IS NULL ORDER BY s.row_no`,
		pgx.Identifier{table}.Sanitize(), strings.Join(names, ", "), strings.Join(exprs, ", "), stageTable)
}
