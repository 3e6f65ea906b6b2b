// Package importer loads CSV and XLSX files into the operational store
// (R4.1-R4.3): it maps the header onto a kind's fields, parses and normalises
// every row (reporting each bad one with its row, column and reason), copies
// the good rows into a temporary staging table with COPY and merges them
// set-wise into the store: matching existing records (people by email or by
// transliterated name, organisations by VAT number, tax code or name),
// applying a merge policy per field, and writing one outbox event per record
// it creates or changes, in the same transaction.
package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/postgres"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/progress"
)

// DB is what the importer needs of PostgreSQL: a *pgxpool.Pool or a *pgx.Conn.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Options are the settings of one import.
type Options struct {
	Kind     Kind
	Mapping  map[string]string            // header → field, from --mapping; wins over the built-in synonyms
	Values   map[string]map[string]string // field → old system's value → value, from --mapping ("values")
	Source   string                       // marketing source of every person in the file (R1.7); "" = "import:<file name>"
	Match    []string                     // contacts: "email", "name"; organisations: "vat", "tax_code", "name"; nil = all
	Policies Policies                     // per field; zero = fill-empty everywhere
	DryRun   bool                         // do everything, then roll back
	Atomic   bool                         // any bad row or conflict: import nothing
	Sheet    string                       // XLSX worksheet; "" = the first

	DefaultCC         string // phone country code when a number has none; "" = "39"
	DefaultPersonKind string // kind of a new person whose row has none; "" = "other"
	DefaultOrgKind    string // kind of a new organisation whose row has none; "" = "company"

	Progress progress.Reporter // nil = none

	// Offices, when not nil, are the offices whose interactions the import
	// may create and change: the importing user's record scope
	// (docs/access.md, "Record scopes"). A row of another office is left
	// out, a row without one gets DefaultOffice, and rows match only
	// existing interactions of these offices. Nil: any office (`calore
	// import`, run by the operator).
	Offices       []string
	DefaultOffice string
}

// Report says what an import did (or, with DryRun, would do).
type Report struct {
	Kind      Kind
	File      string
	Source    string
	Rows      int             // data rows read
	Created   int             // records created
	Updated   int             // existing records changed
	Unchanged int             // rows that matched a record and changed nothing
	Conflicts []RowError      // rows left out: ambiguous match or repeated in the file
	Errors    []RowError      // rows left out: unreadable or invalid values
	Ignored   []string        // columns that feed no field
	Unknown   []UnknownValues // per field, the values that are none of its values (bad rows), for a value mapping
	Events    int             // outbox rows written
	// campaign activity: Created/Updated/Unchanged count sends
	Campaigns    int   // campaigns created
	Unsubscribes int   // newsletter consents withdrawn
	Hits         []Hit // opens and clicks, for the caller to produce as tracking events once committed
	DryRun       bool
	Atomic       bool
	Committed    bool // false for a dry run and for an atomic import with problems
	Duration     time.Duration
}

// Bad is the number of rows left out.
func (r *Report) Bad() int { return len(r.Errors) + len(r.Conflicts) }

// Write prints the report for a person: the counts, then every bad row.
func (r *Report) Write(w io.Writer) {
	verb := "imported"
	switch {
	case r.DryRun:
		verb = "dry run, nothing written"
	case !r.Committed:
		verb = "atomic import rolled back, nothing written"
	}
	fmt.Fprintf(w, "%s %s (%s): %d rows; %d created, %d updated, %d unchanged, %d conflicts, %d bad rows; %d outbox events; source %q; %s\n",
		r.File, r.Kind, verb, r.Rows, r.Created, r.Updated, r.Unchanged, len(r.Conflicts), len(r.Errors), r.Events, r.Source, r.Duration.Round(time.Millisecond))
	if r.Kind == CampaignActivity {
		fmt.Fprintf(w, "campaign activity: counts above are sends; %d campaigns created, %d unsubscribes recorded, %d opens and clicks\n", r.Campaigns, r.Unsubscribes, len(r.Hits))
	}
	if len(r.Ignored) > 0 {
		fmt.Fprintf(w, "columns not imported: %s\n", strings.Join(r.Ignored, ", "))
	}
	for _, u := range r.Unknown {
		var vals []string
		for i, v := range u.Values {
			if i == 20 {
				vals = append(vals, fmt.Sprintf("and %d more", len(u.Values)-20))
				break
			}
			vals = append(vals, fmt.Sprintf("%q (%s)", v.Value, rowsText(v.Rows)))
		}
		fmt.Fprintf(w, "%s: %s %s not known values; map them in the mapping file: {\"values\": {%q: {%q: \"…\"}}}\n",
			u.Field, strings.Join(vals, ", "), map[bool]string{true: "is", false: "are"}[len(u.Values) == 1], u.Field, u.Values[0].Value)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "bad %s\n", e)
	}
	for _, e := range r.Conflicts {
		fmt.Fprintf(w, "conflict %s\n", e)
	}
}

// rowsText is "1 row" or "1,234 rows".
func rowsText(n int) string {
	if n == 1 {
		return "1 row"
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " rows"
}

// ErrRolledBack is returned (wrapped) by an atomic import that found bad rows
// or conflicts and so wrote nothing; the report lists them.
var ErrRolledBack = errors.New("atomic import: bad rows or conflicts, nothing imported")

// Importer runs imports against one database.
type Importer struct {
	db     DB
	logger *slog.Logger
}

// New returns an importer on db.
func New(db DB, logger *slog.Logger) *Importer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Importer{db: db, logger: logger}
}

// Import reads a CSV or XLSX file from r (name decides the format by its
// extension; size, when known, drives the progress of a CSV file) and merges
// it into the store in one transaction.
func (im *Importer) Import(ctx context.Context, r io.Reader, name string, size int64, opts Options) (*Report, error) {
	start := time.Now()
	spec, ok := SpecOf(opts.Kind)
	if !ok {
		return nil, calore.Errorf(calore.ErrInvalid, "importing %s is not built yet: its tables are not in the schema", opts.Kind)
	}
	if opts.Progress == nil {
		opts.Progress = progress.None{}
	}
	if opts.DefaultCC == "" {
		opts.DefaultCC = "39"
	}
	if opts.Source == "" {
		opts.Source = "import:" + filepath.Base(name)
	}
	m, err := newMerger(spec, opts)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kind: opts.Kind, File: filepath.Base(name), Source: opts.Source, DryRun: opts.DryRun, Atomic: opts.Atomic}

	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	head, _ := br.Peek(4) // an XLSX file is a zip archive, whatever its name
	recs, err := OpenRecords(br, DetectFormat(name, head), opts.Sheet)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", rep.File, err)
	}
	defer recs.Close()
	_, header, err := recs.Next()
	if errors.Is(err, io.EOF) {
		return nil, calore.Errorf(calore.ErrInvalid, "import %s: the file has no header row", rep.File)
	}
	if err != nil {
		return nil, fmt.Errorf("import %s: read the header: %w", rep.File, err)
	}
	layout, err := MapHeader(spec, header, opts.Mapping)
	if err != nil {
		return nil, &calore.Error{Kind: calore.ErrInvalid, Message: fmt.Sprintf("import %s: %v", rep.File, err)}
	}
	rep.Ignored = layout.Ignored()
	values, err := valueMaps(spec, opts.Values)
	if err != nil {
		return nil, &calore.Error{Kind: calore.ErrInvalid, Message: fmt.Sprintf("import %s: %v", rep.File, err)}
	}

	parser := &Parser{Layout: layout, DefaultCC: opts.DefaultCC, Location: rome(), Values: values}
	src := &rowSource{recs: recs, parser: parser, progress: opts.Progress}
	if total := recs.Total(); total > 0 {
		opts.Progress.Phase("reading rows", int64(total))
		src.pos = func() int64 { return int64(src.rows) }
	} else {
		opts.Progress.Phase("reading "+rep.File, size)
		src.pos = func() int64 { return cr.n }
	}

	tx, err := im.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("import %s: begin: %w", rep.File, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	// one import of a kind at a time: two files bringing the same new
	// address would otherwise both create its person
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('calore.import.' || $1::text))`, string(opts.Kind)); err != nil {
		return nil, fmt.Errorf("import %s: wait for other imports of %s: %w", rep.File, opts.Kind, err)
	}
	if err := tune(ctx, tx); err != nil {
		return nil, fmt.Errorf("import %s: %w", rep.File, err)
	}
	if _, err := tx.Exec(ctx, stageDDL(spec)); err != nil {
		return nil, fmt.Errorf("import %s: create staging table: %w", rep.File, err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable}, layout.StageColumns(), src); err != nil {
		return nil, fmt.Errorf("import %s: copy rows into staging: %w", rep.File, err)
	}
	opts.Progress.Set(src.pos())
	opts.Progress.Done()
	rep.Rows, rep.Errors, rep.Unknown = src.rows, src.errors, parser.Unknown()
	if spec.Kind != Contacts { // contacts analyze after computing their name keys
		if _, err := tx.Exec(ctx, "ANALYZE "+stageTable); err != nil {
			return nil, fmt.Errorf("import %s: analyze staging: %w", rep.File, err)
		}
	}

	opts.Progress.Phase("merging", -1)
	res, err := m.merge(ctx, tx, im.logger)
	opts.Progress.Done()
	if err != nil {
		return nil, fmt.Errorf("import %s: merge %s: %w", rep.File, opts.Kind, err)
	}
	rep.Created, rep.Updated, rep.Unchanged, rep.Conflicts, rep.Events = res.created, res.updated, res.unchanged, res.conflicts, res.events
	rep.Campaigns, rep.Unsubscribes, rep.Hits = res.campaigns, res.consents, res.hits
	slices.SortFunc(rep.Errors, func(a, b RowError) int { return a.Row - b.Row })

	switch {
	case opts.DryRun:
		// the deferred Rollback undoes everything
	case opts.Atomic && rep.Bad() > 0:
		rep.Duration = time.Since(start)
		im.logger.Info("import rolled back", "file", rep.File, "kind", rep.Kind, "bad", len(rep.Errors), "conflicts", len(rep.Conflicts))
		return rep, fmt.Errorf("import %s: %w (%d bad rows, %d conflicts)", rep.File, ErrRolledBack, len(rep.Errors), len(rep.Conflicts))
	default:
		if err := tx.Commit(ctx); err != nil {
			return nil, fmt.Errorf("import %s: commit: %w", rep.File, err)
		}
		rep.Committed = true
	}
	rep.Duration = time.Since(start)
	im.logger.Info("import", "file", rep.File, "kind", rep.Kind, "rows", rep.Rows, "created", rep.Created, "updated", rep.Updated,
		"unchanged", rep.Unchanged, "conflicts", len(rep.Conflicts), "bad", len(rep.Errors), "dry_run", rep.DryRun, "committed", rep.Committed, "took", rep.Duration)
	return rep, nil
}

// tune gives the transaction the settings of a bulk job: sorts and hashes in
// memory rather than on disk, the staging table in local buffers, no JIT. Only the
// transaction is affected (SET LOCAL); temp_buffers cannot change once a
// session has used a temporary table, so on a reused connection it stays as it
// was.
func tune(ctx context.Context, tx pgx.Tx) error {
	// jit off: the merge's estimates on a fresh staging table are large
	// enough to trigger JIT compilation, which costs more than it saves
	// (half a second per statement was measured)
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'; SET LOCAL jit = off`); err != nil {
		return fmt.Errorf("tune the transaction: %w", err)
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if _, err := sp.Exec(ctx, `SET LOCAL temp_buffers = '256MB'`); err != nil {
		return sp.Rollback(ctx)
	}
	return sp.Commit(ctx)
}

// rome is the zone of times written without one; UTC if the zone database is missing.
func rome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.UTC
	}
	return loc
}

// mergeResult is what a merge did.
type mergeResult struct {
	created, updated, unchanged, events int
	conflicts                           []RowError
	campaigns, consents                 int   // campaign activity: campaigns created, consents withdrawn
	hits                                []Hit // campaign activity: opens and clicks
}

// merger merges the staging table of one kind into its tables.
type merger interface {
	merge(ctx context.Context, tx pgx.Tx, logger *slog.Logger) (mergeResult, error)
}

func newMerger(spec Spec, opts Options) (merger, error) {
	switch spec.Kind {
	case Contacts:
		return newContactMerger(opts)
	case Organisations:
		return newOrgMerger(opts)
	case CampaignActivity:
		return newCampaignMerger(opts)
	}
	if a, ok := activities[spec.Kind]; ok {
		return newActivityMerger(a, opts)
	}
	return nil, calore.Errorf(calore.ErrInvalid, "importing %s is not built yet", spec.Kind)
}

// exec runs the statements in order, naming the step that failed, and logs
// how long each took at debug level.
func exec(ctx context.Context, tx pgx.Tx, logger *slog.Logger, steps ...step) error {
	for _, s := range steps {
		start := time.Now()
		tag, err := tx.Exec(ctx, s.sql, s.args...)
		if err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		logger.Debug("import step", "step", s.what, "rows", tag.RowsAffected(), "took", time.Since(start))
	}
	return nil
}

type step struct {
	what string
	sql  string
	args []any
}

// conflicts reads the rows the merge left out, in row order.
func conflicts(ctx context.Context, tx pgx.Tx) ([]RowError, error) {
	rows, err := tx.Query(ctx, `SELECT row_no, conflict FROM `+stageTable+` WHERE conflict IS NOT NULL ORDER BY row_no`)
	if err != nil {
		return nil, fmt.Errorf("read conflicts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RowError, error) {
		var e RowError
		var n int32
		err := r.Scan(&n, &e.Reason)
		e.Row = int(n)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read conflicts: %w", err)
	}
	return out, nil
}

func matchSet(match []string, allowed ...string) (map[string]bool, error) {
	if len(match) == 0 {
		match = allowed
	}
	set := map[string]bool{}
	for _, m := range match {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "" {
			continue
		}
		if !slices.Contains(allowed, m) {
			return nil, calore.FieldError("match", "%q is not one of %s", m, strings.Join(allowed, ", "))
		}
		set[m] = true
	}
	if len(set) == 0 {
		return nil, calore.FieldError("match", "nothing to match on (want %s)", strings.Join(allowed, ", "))
	}
	return set, nil
}

// emit writes the outbox events of the records the merge created or
// changed. The store reads them back and shapes the events (postgres.Emit),
// so an imported record's event is the one an API write of it would give.
func emit(ctx context.Context, tx pgx.Tx, stage, aggregate string) error {
	rows, err := tx.Query(ctx, `SELECT s.target_id, s.is_new FROM `+stage+` s
		WHERE s.conflict IS NULL AND (s.is_new OR EXISTS (SELECT 1 FROM import_changed c WHERE c.id = s.target_id))
		ORDER BY s.row_no`)
	if err != nil {
		return fmt.Errorf("write outbox: changed %s records: %w", aggregate, err)
	}
	c := postgres.Changed{Aggregate: aggregate}
	seen := map[int64]bool{}
	var id int64
	var isNew bool
	_, err = pgx.ForEachRow(rows, []any{&id, &isNew}, func() error {
		if seen[id] {
			return nil
		}
		seen[id] = true
		if isNew {
			c.Created = append(c.Created, id)
		} else {
			c.Updated = append(c.Updated, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write outbox: changed %s records: %w", aggregate, err)
	}
	if _, err := postgres.Emit(ctx, tx, c); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	return nil
}
