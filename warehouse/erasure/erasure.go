// Package erasure applies a GDPR erasure to the warehouse (docs/gdpr.md):
// the SQL half of the sink's handling of "person.erased". It deletes the
// person's rows, and those of the people merged into them, from every
// warehouse table and bi copy that holds them (the plan: plan, from the
// tables' person columns), waits until ClickHouse has applied the
// mutations, records the ids in `erasures` and a receipt in
// `erasure_receipts`. Package sink decides when (in the batch, before the
// commit) and drops later rows about erased people; this package holds every
// statement.
package erasure

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/calore-crm/calore/warehouse"
)

//go:embed sql/*.sql
var files embed.FS

var queries = warehouse.NewQueries("erasure", files)

// Request is the payload of "person.erased" (postgres.ErasurePayload) with
// its event id.
type Request struct {
	EventID     string    `json:"-"`
	PersonID    int64     `json:"person_id"`
	MergedIDs   []int64   `json:"merged_ids"`
	RequestedBy string    `json:"requested_by"`
	At          time.Time `json:"at"`
}

// IDs are the person and the people merged into them.
func (r Request) IDs() []int64 { return append([]int64{r.PersonID}, r.MergedIDs...) }

// Eraser runs erasures on one warehouse connection.
type Eraser struct {
	conn    driver.Conn
	logger  *slog.Logger
	Wait    time.Duration // bound on waiting for one round of mutations
	Poll    time.Duration // how often system.mutations is read
	Advised time.Duration // how often progress is logged
}

// New returns an Eraser on conn with the production waits.
func New(conn driver.Conn, logger *slog.Logger) *Eraser {
	return &Eraser{conn: conn, logger: logger, Wait: 10 * time.Minute, Poll: 200 * time.Millisecond, Advised: 5 * time.Second}
}

// ErasedIDs reads the erased ids from the warehouse. A warehouse not yet
// migrated to 0040_erasures has erased nobody: no ids and noTable true.
func (e *Eraser) ErasedIDs(ctx context.Context) (ids map[int64]bool, noTable bool, err error) {
	rows, err := e.conn.Query(ctx, queries.Get("erased_ids.sql"))
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && ex.Code == codeUnknownTable {
		return map[int64]bool{}, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read erasures: %w", err)
	}
	defer rows.Close()
	ids = map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("read erasures: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("read erasures: %w", err)
	}
	return ids, false, nil
}

// Receipt is one line of an erasure receipt: what one erasure did to one
// table.
type Receipt struct {
	EventID    string
	ErasedAt   time.Time
	Database   string
	Table      string
	Action     string // delete, or update (donations kept without the donor; mentions blanked)
	RowsBefore uint64
	RowsAfter  uint64
	FinishedAt time.Time
}

// Apply runs one erasure on the warehouse and its bi copies. Running it
// again (a redelivered batch) deletes nothing more and keeps the first
// receipt.
func (e *Eraser) Apply(ctx context.Context, r Request) error {
	start := time.Now()
	var done uint64
	if err := e.conn.QueryRow(ctx, queries.Get("receipt_exists.sql"), r.EventID).Scan(&done); err != nil {
		return fmt.Errorf("erasure %s: read receipt: %w", r.EventID, err)
	}
	if err := e.record(ctx, r); err != nil {
		return err
	}
	targets, err := e.targets(ctx, r.IDs())
	if err != nil {
		return fmt.Errorf("erasure %s: %w", r.EventID, err)
	}
	before := make([]uint64, len(targets))
	for i, t := range targets {
		if before[i], err = e.count(ctx, t); err != nil {
			return fmt.Errorf("erasure %s: %w", r.EventID, err)
		}
	}
	after := slices.Clone(before)
	for round := 1; ; round++ {
		var issued []target
		for i, t := range targets {
			if after[i] == 0 {
				continue
			}
			if err := e.conn.Exec(ctx, t.alterSQL(), t.Args...); err != nil {
				return fmt.Errorf("erasure %s: %s.%s: %w", r.EventID, t.Database, t.Table, err)
			}
			issued = append(issued, t)
		}
		if len(issued) == 0 {
			break
		}
		if err := e.waitMutations(ctx, r.EventID, issued); err != nil {
			return err
		}
		left := 0
		for i, t := range targets {
			if after[i] == 0 {
				continue
			}
			if after[i], err = e.count(ctx, t); err != nil {
				return fmt.Errorf("erasure %s: %w", r.EventID, err)
			}
			if after[i] > 0 {
				left++
			}
		}
		if left == 0 {
			break
		}
		if round == 3 {
			return fmt.Errorf("erasure %s: rows left in %d tables after %d rounds of mutations", r.EventID, left, round)
		}
		e.logger.WarnContext(ctx, "erasure: rows arrived while deleting; deleting again", "event_id", r.EventID, "tables", left)
	}
	if done > 0 {
		e.logger.InfoContext(ctx, "erasure applied again; receipt kept", "event_id", r.EventID)
		return nil
	}
	receipts := make([]Receipt, len(targets))
	now := time.Now().UTC().Truncate(time.Second)
	for i, t := range targets {
		label := t.Table
		if t.Label != "" {
			label = t.Label
		}
		receipts[i] = Receipt{EventID: r.EventID, ErasedAt: r.At.UTC(), Database: t.Database, Table: label, Action: t.Action,
			RowsBefore: before[i], RowsAfter: after[i], FinishedAt: now}
	}
	if err := e.writeReceipt(ctx, r, receipts); err != nil {
		return err
	}
	var removed uint64
	for _, n := range before {
		removed += n
	}
	e.logger.InfoContext(ctx, "person erased from the warehouse", "event_id", r.EventID, "people", len(r.IDs()),
		"tables", len(targets), "rows", removed, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// record remembers the erased ids in the warehouse.
func (e *Eraser) record(ctx context.Context, r Request) error {
	id, err := uuid.Parse(r.EventID)
	if err != nil {
		return fmt.Errorf("erasure %s: %w", r.EventID, err)
	}
	b, err := e.conn.PrepareBatch(ctx, "INSERT INTO erasures (person_id, erased_at, event_id)")
	if err != nil {
		return fmt.Errorf("erasure %s: record ids: %w", r.EventID, err)
	}
	defer b.Abort()
	for _, pid := range r.IDs() {
		if err := b.Append(pid, r.At.UTC(), id); err != nil {
			return fmt.Errorf("erasure %s: record ids: %w", r.EventID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("erasure %s: record ids: %w", r.EventID, err)
	}
	return nil
}

func (e *Eraser) writeReceipt(ctx context.Context, r Request, rs []Receipt) error {
	id, err := uuid.Parse(r.EventID)
	if err != nil {
		return fmt.Errorf("erasure %s: %w", r.EventID, err)
	}
	b, err := e.conn.PrepareBatch(ctx, "INSERT INTO erasure_receipts (event_id, erased_at, database, table_name, action, rows_before, rows_after, finished_at)")
	if err != nil {
		return fmt.Errorf("erasure %s: write receipt: %w", r.EventID, err)
	}
	defer b.Abort()
	for _, x := range rs {
		if err := b.Append(id, x.ErasedAt, x.Database, x.Table, x.Action, x.RowsBefore, x.RowsAfter, x.FinishedAt); err != nil {
			return fmt.Errorf("erasure %s: write receipt: %w", r.EventID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("erasure %s: write receipt: %w", r.EventID, err)
	}
	return nil
}

// target is one statement of an erasure: delete from, or update, one table.
type target struct {
	Database, Table string
	Label           string // the receipt's table_name when not Table
	Action          string // "delete" or "update"
	Set             string // update: the assignments
	Where           string
	Args            []any // bound to the ? of Where (client-side, quoted by clickhouse-go)
	anonymous       bool  // tracking hits: also the browser ids the person used (filled by targets)
}

func (t target) name() string { return "`" + t.Database + "`.`" + t.Table + "`" }

func (t target) alterSQL() string {
	if t.Action == "update" {
		return "ALTER TABLE " + t.name() + " UPDATE " + t.Set + " WHERE " + t.Where
	}
	return "ALTER TABLE " + t.name() + " DELETE WHERE " + t.Where
}

func (t target) countSQL() string {
	return "SELECT toUInt64(count()) FROM " + t.name() + " WHERE " + t.Where
}

func (e *Eraser) count(ctx context.Context, t target) (uint64, error) {
	var n uint64
	if err := e.conn.QueryRow(ctx, t.countSQL(), t.Args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s.%s: %w", t.Database, t.Table, err)
	}
	return n, nil
}

var plainName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// targets finds the tables of the warehouse and of the bi databases that
// serve it holding a person column, and the statement for each.
func (e *Eraser) targets(ctx context.Context, ids []int64) ([]target, error) {
	var wh string
	if err := e.conn.QueryRow(ctx, queries.Get("current_database.sql")).Scan(&wh); err != nil {
		return nil, fmt.Errorf("current database: %w", err)
	}
	dbs := []string{wh}
	rows, err := e.conn.Query(ctx, queries.Get("bi_databases.sql"))
	if err != nil {
		return nil, fmt.Errorf("find bi databases: %w", err)
	}
	var cands []string
	for rows.Next() {
		var db string
		if err := rows.Scan(&db); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find bi databases: %w", err)
		}
		cands = append(cands, db)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find bi databases: %w", err)
	}
	for _, db := range cands {
		if !plainName.MatchString(db) {
			continue
		}
		var serves string
		// a bi database says which warehouse it serves (warehouse/bi/0020_source.sql)
		if err := e.conn.QueryRow(ctx, "SELECT warehouse_database FROM `"+db+"`.source").Scan(&serves); err != nil {
			e.logger.WarnContext(ctx, "erasure: cannot read a bi database's source; skipped", "database", db, "err", err)
			continue
		}
		if serves == wh {
			dbs = append(dbs, db)
		}
	}
	var out []target
	for _, db := range dbs {
		cols, err := e.columns(ctx, db)
		if err != nil {
			return nil, err
		}
		out = append(out, plan(db, cols, ids)...)
	}
	for i, t := range out {
		if !t.anonymous {
			continue
		}
		// web hits from before the person was identified carry only the
		// browser's anonymous id: the ids seen with the person go too
		anon, err := e.anonymousIDs(ctx, t)
		if err != nil {
			return nil, err
		}
		if len(anon) > 0 {
			out[i].Where = "(" + t.Where + ") OR (contact_id = 0 AND has(?, anonymous_id))"
			out[i].Args = []any{anon}
		}
	}
	return out, nil
}

// anonymousIDs returns the browser ids seen in t's rows of the person.
func (e *Eraser) anonymousIDs(ctx context.Context, t target) ([]string, error) {
	rows, err := e.conn.Query(ctx, "SELECT DISTINCT anonymous_id FROM "+t.name()+" WHERE ("+t.Where+") AND anonymous_id != ''")
	if err != nil {
		return nil, fmt.Errorf("anonymous ids in %s.%s: %w", t.Database, t.Table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("anonymous ids in %s.%s: %w", t.Database, t.Table, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("anonymous ids in %s.%s: %w", t.Database, t.Table, err)
	}
	return out, nil
}

// columns returns the person-related columns of each MergeTree table of db.
func (e *Eraser) columns(ctx context.Context, db string) (map[string][]string, error) {
	rows, err := e.conn.Query(ctx, queries.Get("person_columns.sql"), db, db)
	if err != nil {
		return nil, fmt.Errorf("list columns of %s: %w", db, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("list columns of %s: %w", db, err)
		}
		out[t] = append(out[t], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list columns of %s: %w", db, err)
	}
	return out, nil
}

// keepTables are never erased from: the erasure's own bookkeeping.
var keepTables = map[string]bool{"erasures": true, "erasure_receipts": true, "schema_migrations": true}

// peopleTables hold one row per person version, keyed by id.
var peopleTables = map[string]bool{"dim_people": true, "src_people": true}

// donationTables keep their rows without the donor, so totals stay.
var donationTables = map[string]bool{"fact_donations": true, "src_donations": true}

// Scrubbing expressions (ClickHouse string literals holding RE2 patterns).
const (
	jsonString      = `"(\\\\.|[^"\\\\])*"`
	scrubDonation   = `replaceRegexpAll(replaceRegexpAll(payload, '"person_id"\\s*:\\s*-?[0-9]+', '"person_id":null'), '"purpose_detail"\\s*:\\s*` + jsonString + `', '"purpose_detail":""')`
	scrubMentionIDs = `replaceRegexpAll(payload, '"(counterpart_id|scientific_lead_id)"\\s*:\\s*-?[0-9]+', '"\\1":null')`
	scrubMentionTxt = `'"(scientific_lead|notes|role)"\\s*:\\s*` + jsonString + `', '"\\1":""'`
)

// plan makes the statements for one database from its tables' person
// columns (table → columns among id, person_id, contact_id, payload,
// aggregate_id). Ids are integers formatted here, never text from outside.
func plan(db string, cols map[string][]string, ids []int64) []target {
	if len(ids) == 0 {
		return nil
	}
	nums := make([]string, len(ids))
	texts := make([]string, len(ids))
	for i, id := range ids {
		nums[i] = strconv.FormatInt(id, 10)
		texts[i] = "'" + nums[i] + "'"
	}
	in := "(" + strings.Join(nums, ", ") + ")"
	tables := make([]string, 0, len(cols))
	for t := range cols {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	var out []target
	for _, t := range tables {
		c := cols[t]
		if keepTables[t] || !plainName.MatchString(t) {
			continue
		}
		has := func(name string) bool { return slices.Contains(c, name) }
		switch {
		case t == "change_log" && has("aggregate_id") && has("payload"):
			out = append(out, target{Database: db, Table: t, Action: "delete",
				Where: "(aggregate = 'person' AND aggregate_id IN (" + strings.Join(texts, ", ") + "))" +
					" OR visitParamExtractInt(payload, 'person_id') IN " + in +
					" OR visitParamExtractInt(payload, 'contact_id') IN " + in},
				target{Database: db, Table: t, Label: t + " (mentions)", Action: "update",
					Set: "payload = replaceRegexpAll(" + scrubMentionIDs + ", " + scrubMentionTxt + ")",
					Where: "visitParamExtractInt(payload, 'counterpart_id') IN " + in +
						" OR visitParamExtractInt(payload, 'scientific_lead_id') IN " + in})
		case peopleTables[t] && has("id"):
			out = append(out, target{Database: db, Table: t, Action: "delete", Where: "id IN " + in})
		case donationTables[t] && has("person_id"):
			set := "person_id = 0"
			if has("payload") {
				set += ", payload = " + scrubDonation
			}
			out = append(out, target{Database: db, Table: t, Action: "update", Set: set, Where: "person_id IN " + in})
		case has("person_id"):
			out = append(out, target{Database: db, Table: t, Action: "delete", Where: "person_id IN " + in})
		case has("contact_id"):
			out = append(out, target{Database: db, Table: t, Action: "delete", Where: "contact_id IN " + in, anonymous: has("anonymous_id")})
		}
	}
	return out
}

// waitMutations waits until ClickHouse has applied every mutation of the
// targets' tables, logging progress, for at most e.Wait.
func (e *Eraser) waitMutations(ctx context.Context, eventID string, ts []target) error {
	want := map[string]map[string]bool{}
	for _, t := range ts {
		if want[t.Database] == nil {
			want[t.Database] = map[string]bool{}
		}
		want[t.Database][t.Table] = true
	}
	start := time.Now()
	lastLog := start
	for {
		var pending, parts uint64
		for db, tables := range want {
			rows, err := e.conn.Query(ctx, queries.Get("pending_mutations.sql"), db)
			if err != nil {
				return fmt.Errorf("erasure %s: read mutations: %w", eventID, err)
			}
			for rows.Next() {
				var t string
				var n, p uint64
				if err := rows.Scan(&t, &n, &p); err != nil {
					rows.Close()
					return fmt.Errorf("erasure %s: read mutations: %w", eventID, err)
				}
				if tables[t] {
					pending += n
					parts += p
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("erasure %s: read mutations: %w", eventID, err)
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Since(start) > e.Wait {
			return fmt.Errorf("erasure %s: %d mutations still running after %s: %w", eventID, pending, e.Wait, errMutationsSlow)
		}
		if time.Since(lastLog) >= e.Advised {
			e.logger.InfoContext(ctx, "erasure: waiting for ClickHouse mutations", "event_id", eventID,
				"pending", pending, "parts_to_do", parts, "waited", time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(e.Poll):
		}
	}
}

// codeUnknownTable is ClickHouse's UNKNOWN_TABLE.
const codeUnknownTable = 60

var errMutationsSlow = errors.New("mutations not done in time")

// ReadReceipt returns the erasure receipt of the erasure event eventID, one
// line per table, or none while the sink has not applied it.
func ReadReceipt(ctx context.Context, conn driver.Conn, eventID string) ([]Receipt, error) {
	rows, err := conn.Query(ctx, queries.Get("receipt.sql"), eventID)
	if err != nil {
		return nil, fmt.Errorf("read erasure receipt %s: %w", eventID, err)
	}
	defer rows.Close()
	var out []Receipt
	for rows.Next() {
		r := Receipt{EventID: eventID}
		if err := rows.Scan(&r.Database, &r.Table, &r.Action, &r.RowsBefore, &r.RowsAfter, &r.ErasedAt, &r.FinishedAt); err != nil {
			return nil, fmt.Errorf("read erasure receipt %s: %w", eventID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read erasure receipt %s: %w", eventID, err)
	}
	return out, nil
}
