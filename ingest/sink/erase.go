package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/erasure"
)

// GDPR erasure in the sink (docs/gdpr.md). A "person.erased" event (written
// by postgres.ErasePerson) is not a change to store: the sink deletes the
// person's rows, and those of the people merged into them, from every
// warehouse table and bi copy that holds them, waits until ClickHouse has
// applied the mutations, records the ids in `erasures` and a receipt in
// `erasure_receipts`, and only then commits the batch. Rows about an erased
// person that arrive later (still in Kafka) are dropped, or for donations
// kept without the donor, before they are inserted.

// EventPersonErased is the type of the erasure event. The contract's
// registry does not list the verb "erased", so the event reaches the sink as
// an unknown-type dead letter; the sink takes it out of the dead letters and
// applies it instead.
const EventPersonErased = "person.erased"

// parseErasure reads an erasure event from a message value; ok is false for
// anything else.
func parseErasure(value []byte) (erasure.Request, bool) {
	if !bytes.Contains(value, []byte(EventPersonErased)) {
		return erasure.Request{}, false
	}
	var ev calore.Event
	if err := json.Unmarshal(value, &ev); err != nil || ev.Type != EventPersonErased || ev.Aggregate != "person" {
		return erasure.Request{}, false
	}
	if _, err := uuid.Parse(ev.ID); err != nil {
		return erasure.Request{}, false
	}
	var e erasure.Request
	if err := json.Unmarshal(ev.Payload, &e); err != nil || e.PersonID < 1 || strconv.FormatInt(e.PersonID, 10) != ev.AggregateID {
		return erasure.Request{}, false
	}
	for _, id := range e.MergedIDs {
		if id < 1 {
			return erasure.Request{}, false
		}
	}
	e.EventID = ev.ID
	if e.At.IsZero() {
		e.At = ev.Time
	}
	return e, true
}

// takeErasures removes the batch's erasure events (decode sets them aside
// instead of mapping them to rows) and returns them in batch order.
func takeErasures(d *decoded) []erasure.Request {
	out := d.erasures
	d.erasures = nil
	return out
}

// eraser holds the erased ids and applies erasures through
// warehouse/erasure. It is used by the sink's writer goroutine only.
type eraser struct {
	wh     *erasure.Eraser
	logger *slog.Logger
	erased map[int64]bool
	loaded bool                     // erased has been read from the warehouse at least once
	cols   map[*warehouse.Table]int // the person column's index per table, -1 for none
}

func newEraser(conn driver.Conn, logger *slog.Logger) *eraser {
	return &eraser{wh: erasure.New(conn, logger), logger: logger, erased: map[int64]bool{}, cols: map[*warehouse.Table]int{}}
}

// applyErasures is the sink's hook, run at the start of every flush: it
// takes the batch's erasure events, refreshes the
// erased ids (other sink processes may have erased someone), drops or scrubs
// the batch's rows about erased people, and applies each erasure (deletes,
// waits, receipt). Like an insert it is retried until it succeeds; only a
// cancelled ctx stops it, leaving the batch uncommitted.
func (s *Sink) applyErasures(ctx context.Context, b *batch) error {
	if s.erase == nil {
		s.erase = newEraser(s.conn, s.logger)
	}
	e := s.erase
	reqs := takeErasures(&b.decoded)
	if err := e.load(ctx); err != nil {
		if !e.loaded {
			// never start storing rows without knowing who was erased
			if err := s.retry(ctx, "read erased people", func() error { return e.load(ctx) }); err != nil {
				return err
			}
		} else {
			// ClickHouse is failing: the insert below fails and retries too;
			// meanwhile the ids known from the last read filter the batch
			s.logger.WarnContext(ctx, "read erased people failed; using the ids read before", "err", err)
		}
	}
	for _, r := range reqs {
		for _, id := range r.IDs() {
			e.erased[id] = true
		}
	}
	if len(e.erased) > 0 {
		if dropped, scrubbed := e.filter(&b.decoded); dropped+scrubbed > 0 {
			s.logger.InfoContext(ctx, "rows about erased people left out", "dropped", dropped, "scrubbed", scrubbed)
		}
	}
	for _, r := range reqs {
		if err := s.retry(ctx, "apply erasure", func() error { return e.wh.Apply(ctx, r) }); err != nil {
			return err
		}
	}
	return nil
}

// load reads the erased ids from the warehouse.
func (e *eraser) load(ctx context.Context) error {
	ids, noTable, err := e.wh.ErasedIDs(ctx)
	if err != nil {
		return err
	}
	if noTable && !e.loaded {
		// applying an erasure there fails (and retries) until it is migrated
		e.logger.WarnContext(ctx, "the warehouse has no erasures table: run calore migrate")
	}
	e.erased, e.loaded = ids, true
	return nil
}

// personKeys are the payload fields that make a change about a person.
var personKeys = []string{"person_id", "contact_id"}

// mentionKeys are payload fields that name a person in another record (a
// collaboration's counterpart, a contract's scientific lead): the record
// stays, without them.
var mentionKeys = []string{"counterpart_id", "scientific_lead_id"}

// mentionText are the free-text fields blanked with a mention.
var mentionText = []string{"scientific_lead", "notes", "role"}

// filter drops the rows about erased people (donations are kept without
// their donor) and returns how many rows it dropped and scrubbed.
func (e *eraser) filter(d *decoded) (dropped, scrubbed int) {
	rows, rowMsg := d.rows[:0], d.rowMsg[:0]
	for i, r := range d.rows {
		keep, changed := e.row(&r)
		if !keep {
			dropped++
			continue
		}
		if changed {
			scrubbed++
		}
		rows, rowMsg = append(rows, r), append(rowMsg, d.rowMsg[i])
	}
	d.rows, d.rowMsg = rows, rowMsg
	return dropped, scrubbed
}

// row decides about one row: keep it or not, and whether it was scrubbed.
func (e *eraser) row(r *warehouse.Row) (keep, changed bool) {
	switch r.Table {
	case warehouse.TrackingEvents:
		id, _ := r.Values[3].(int64) // contact_id
		return !e.erased[id], false
	case warehouse.ChangeLog:
		agg, _ := r.Values[2].(string)
		aid, _ := r.Values[3].(string)
		if agg == "person" {
			if id, err := strconv.ParseInt(aid, 10, 64); err == nil && e.erased[id] {
				return false, false
			}
		}
		payload, _ := r.Values[7].(string)
		next, drop, ok := e.scrubPayload(payload)
		if drop {
			return false, false
		}
		if ok {
			r.Values[7] = next
			return true, true
		}
		return true, false
	}
	idx, ok := e.cols[r.Table]
	if !ok {
		col := "person_id"
		if r.Table.Name == "dim_people" {
			col = "id"
		}
		idx = slices.Index(r.Table.Columns, col)
		e.cols[r.Table] = idx
	}
	if idx < 0 {
		return true, false
	}
	id, _ := r.Values[idx].(int64)
	if !e.erased[id] {
		return true, false
	}
	if r.Table.Name != "fact_donations" {
		return false, false
	}
	// a donation stays (totals), without its donor
	vals := slices.Clone(r.Values)
	vals[idx] = int64(0)
	last := len(vals) - 1
	if p, ok := vals[last].(string); ok {
		if next, err := rewrite(p, func(m map[string]any) {
			m["person_id"] = nil
			if _, ok := m["purpose_detail"]; ok {
				m["purpose_detail"] = ""
			}
		}); err == nil {
			vals[last] = next
		} else {
			vals[last] = "{}"
		}
	}
	r.Values = vals
	return true, true
}

// scrubPayload looks at a change's payload: drop when it is about an erased
// person, or the payload without its mentions of one (ok).
func (e *eraser) scrubPayload(p string) (next string, drop, ok bool) {
	if !strings.Contains(p, "_id") {
		return "", false, false
	}
	var ids map[string]json.Number
	var probe map[string]any
	dec := json.NewDecoder(strings.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&probe); err != nil {
		return "", false, false
	}
	ids = map[string]json.Number{}
	for _, k := range append(slices.Clone(personKeys), mentionKeys...) {
		if n, isNum := probe[k].(json.Number); isNum {
			ids[k] = n
		}
	}
	erased := func(k string) bool {
		n, has := ids[k]
		if !has {
			return false
		}
		v, err := n.Int64()
		return err == nil && e.erased[v]
	}
	for _, k := range personKeys {
		if erased(k) {
			return "", true, false
		}
	}
	mentioned := false
	for _, k := range mentionKeys {
		if erased(k) {
			probe[k] = nil
			mentioned = true
		}
	}
	if !mentioned {
		return "", false, false
	}
	for _, k := range mentionText {
		if _, has := probe[k]; has {
			probe[k] = ""
		}
	}
	b, err := json.Marshal(probe)
	if err != nil {
		return "", true, false
	}
	return string(b), false, true
}

// rewrite decodes a JSON object, lets fn change it and encodes it again.
func rewrite(p string, fn func(map[string]any)) (string, error) {
	m := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return "", err
	}
	fn(m)
	b, err := json.Marshal(m)
	return string(b), err
}
