package warehouse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/calore-crm/calore"
)

// This file maps events (calore.Event, already validated against the
// contract in ingest/schemas) to warehouse rows. Every change event becomes a
// row of change_log; a change of an aggregate with a typed table (below) also
// becomes a versioned row there; every tracking event becomes a row of
// tracking_events. The sink only groups rows by table and sends native
// batches.

// Table is a warehouse table the sink fills: its name and the columns of its
// INSERT, in the order of Row.Values.
type Table struct {
	Name    string
	Columns []string
}

// InsertSQL is the batch INSERT naming every column (ClickHouse 18.16 needs
// named columns; see docs/warehouse.md).
func (t *Table) InsertSQL() string {
	return "INSERT INTO " + t.Name + " (" + strings.Join(t.Columns, ", ") + ")"
}

// Row is one row for one table.
type Row struct {
	Table  *Table
	Values []any
}

// TrackingEvents is the table of tracking hits.
var TrackingEvents = &Table{Name: "tracking_events", Columns: []string{
	"event_id", "event_time", "kind", "contact_id", "campaign_id", "send_id", "anonymous_id", "url", "name",
	"referrer", "user_agent", "ip_prefix", "is_machine", "machine_reason", "props", "schema_version",
}}

// ChangeLog is the raw log of every change event.
var ChangeLog = &Table{Name: "change_log", Columns: []string{
	"event_id", "type", "aggregate", "aggregate_id", "schema_version", "event_time", "version", "payload",
}}

// FieldKind is how a record field becomes a column value.
type FieldKind int

// Field kinds.
const (
	String  FieldKind = iota // JSON string (a number is kept as its text)
	Int                      // JSON integer or numeric string → Int64
	Time                     // RFC 3339, "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD" → DateTime (UTC); missing → 1970-01-01
	Money                    // JSON number or decimal string → Decimal(18, 2)
	Flag                     // JSON boolean, 0/1 → UInt8
	Present                  // 1 when a key holds a non-null value (attended_at set → attended)
)

// Field maps one column of a record table to the first of Keys present in
// the record's JSON.
type Field struct {
	Column string
	Kind   FieldKind
	Keys   []string
	// EventTime: when the record has none of Keys, use the event's time
	// (facts need a date to be partitioned by).
	EventTime bool
}

// RecordTable is a typed, versioned table fed by the changes of one
// aggregate: ReplacingMergeTree(version), one row per change; current state =
// argMax(column, version) GROUP BY id, without rows whose latest version is
// deleted.
type RecordTable struct {
	Aggregate string
	Table     *Table
	Fields    []Field
}

// recordColumns come first in every record table.
var recordColumns = []string{"id", "version", "deleted", "merged_into", "change_id", "changed_at"}

func recordTable(aggregate, table string, fields ...Field) *RecordTable {
	cols := append([]string{}, recordColumns...)
	for _, f := range fields {
		cols = append(cols, f.Column)
	}
	cols = append(cols, "payload")
	return &RecordTable{Aggregate: aggregate, Table: &Table{Name: table, Columns: cols}, Fields: fields}
}

func f(col string, kind FieldKind, keys ...string) Field {
	if len(keys) == 0 {
		keys = []string{col}
	}
	return Field{Column: col, Kind: kind, Keys: keys}
}

func ft(col string, keys ...string) Field {
	fl := f(col, Time, keys...)
	fl.EventTime = true
	return fl
}

// RecordTables are the typed tables, by aggregate. Keys list the JSON names a
// field may have in the operational store's record, first match wins; a
// field that is absent gets the column's zero value, and the whole record is
// kept in the payload column regardless.
var RecordTables = map[string]*RecordTable{
	"person": recordTable("person", "dim_people",
		f("record_version", Int, "version"),
		f("kind", String, "kind", "type", "person_type"),
		f("status", String),
		f("first_name", String, "first_name", "given_name"),
		f("last_name", String, "last_name", "family_name"),
		f("email", String, "preferred_email", "email"),
		f("country", String),
		f("city", String),
		f("graduation_year", Int),
		f("degree_course", String),
		f("organisation_id", Int, "organisation_id", "employer_id"),
		f("created_at", Time)),
	"organisation": recordTable("organisation", "dim_organisations",
		f("record_version", Int, "version"),
		f("name", String, "legal_name", "name"),
		f("kind", String, "kind", "type"),
		f("status", String),
		f("sector", String, "sector", "functional_area"),
		f("size_class", String),
		f("country", String, "country", "country_code"),
		f("city", String),
		f("parent_id", Int),
		f("created_at", Time)),
	"campaign": recordTable("campaign", "dim_campaigns",
		f("name", String, "name", "title"),
		f("channel", String),
		f("status", String),
		f("office", String),
		f("newsletter", String),
		f("starts_at", Time, "scheduled_at", "starts_at", "sent_at"),
		f("sent_at", Time),
		f("created_at", Time)),
	"event": recordTable("event", "dim_events",
		f("name", String, "name", "title"),
		f("kind", String),
		f("office", String),
		f("series_id", Int),
		f("location", String),
		f("is_online", Flag),
		f("capacity", Int),
		f("starts_at", Time),
		f("created_at", Time)),
	"interaction": recordTable("interaction", "fact_interactions",
		f("person_id", Int),
		f("organisation_id", Int),
		f("channel", String),
		f("direction", String),
		f("office", String),
		f("event_id", Int),
		f("campaign_id", Int),
		ft("occurred_at", "occurred_at", "created_at")),
	"donation": recordTable("donation", "fact_donations",
		f("person_id", Int),
		f("organisation_id", Int),
		f("campaign_id", Int),
		f("amount", Money),
		f("currency", String),
		f("periodicity", String),
		f("purpose", String),
		ft("donated_at", "donated_on", "donated_at", "created_at")),
	"registration": recordTable("registration", "fact_registrations",
		f("event_id", Int),
		f("person_id", Int),
		f("status", String),
		f("source", String),
		f("is_vip", Flag),
		f("attended", Present, "attended_at"),
		ft("registered_at", "registered_at", "invited_at", "created_at"),
		f("attended_at", Time)),
	"campaign_send": recordTable("campaign_send", "fact_sends",
		f("campaign_id", Int),
		f("person_id", Int),
		f("status", String),
		ft("sent_at", "sent_at", "created_at"),
		f("opened_at", Time),
		f("clicked_at", Time)),
	"journey_stage": recordTable("journey_stage", "fact_journey_stages",
		f("person_id", Int),
		f("journey", String, "programme", "journey"),
		f("stage", String),
		f("touchpoint", String),
		f("source", String),
		ft("entered_at", "reached_at", "entered_at", "created_at")),
}

// Version orders the changes of one record: the event's time in
// microseconds. With several relays, changes of one record can arrive out of
// order; argMax over version still picks the latest.
func Version(ev calore.Event) uint64 { return uint64(ev.Time.UnixMicro()) }

// Rows maps one validated event to its warehouse rows. A tracking event gives
// a tracking_events row; a change event a change_log row and, when its
// aggregate has a typed table, a row there. An error means the event cannot
// be stored (the sink dead-letters it).
func Rows(ev calore.Event) ([]Row, error) {
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		return nil, fmt.Errorf("event_id %q: %w", ev.ID, err)
	}
	at := clampTime(ev.Time)
	if ev.Aggregate == "tracking" {
		// props (web.event properties) go to a JSON String column: 18.16
		// has no Map type. Decoded next to the hit so that this works
		// whether or not calore.TrackingHit has the field.
		var hp struct {
			calore.TrackingHit
			Props json.RawMessage `json:"props"`
		}
		if err := json.Unmarshal(ev.Payload, &hp); err != nil {
			return nil, fmt.Errorf("tracking payload: %w", err)
		}
		props := ""
		if len(hp.Props) > 0 && string(hp.Props) != "null" {
			props = string(hp.Props)
		}
		return []Row{trackingRow(id, at, ev, hp.TrackingHit, props)}, nil
	}
	rows := []Row{{ChangeLog, []any{
		id, ev.Type, ev.Aggregate, ev.AggregateID, uint16(ev.SchemaVersion), at, Version(ev), string(ev.Payload),
	}}}
	rt, ok := RecordTables[ev.Aggregate]
	if !ok {
		return rows, nil
	}
	r, err := rt.row(ev, id, at)
	if err != nil {
		return nil, fmt.Errorf("%s %s → %s: %w", ev.Type, ev.AggregateID, rt.Table.Name, err)
	}
	return append(rows, r), nil
}

// TrackingRows is Rows for a tracking event whose payload the caller has
// already parsed (the sink's contract check does): hit, and props as JSON
// ("" when absent).
func TrackingRows(ev calore.Event, hit calore.TrackingHit, props string) ([]Row, error) {
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		return nil, fmt.Errorf("event_id %q: %w", ev.ID, err)
	}
	return []Row{trackingRow(id, clampTime(ev.Time), ev, hit, props)}, nil
}

func trackingRow(id uuid.UUID, at time.Time, ev calore.Event, h calore.TrackingHit, props string) Row {
	if props == "" {
		props = "{}"
	}
	var machine uint8
	if h.IsMachine {
		machine = 1
	}
	return Row{TrackingEvents, []any{
		id, at, ev.Type, h.ContactID, h.CampaignID, h.SendID, h.AnonymousID, h.URL, h.Name,
		h.Referrer, h.UserAgent, h.IPPrefix, machine, h.MachineReason, props, uint16(ev.SchemaVersion),
	}}
}

func (rt *RecordTable) row(ev calore.Event, id uuid.UUID, at time.Time) (Row, error) {
	rec := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(ev.Payload))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		return Row{}, fmt.Errorf("record: %w", err)
	}
	recID, err := toInt(rec["id"])
	if err != nil {
		return Row{}, fmt.Errorf("field id: %w", err)
	}
	mergedInto, err := toInt(rec["merged_into"])
	if err != nil {
		return Row{}, fmt.Errorf("field merged_into: %w", err)
	}
	var deleted uint8
	if strings.HasSuffix(ev.Type, ".deleted") || strings.HasSuffix(ev.Type, ".merged") {
		deleted = 1
	}
	vals := []any{recID, Version(ev), deleted, mergedInto, id, at}
	for _, fl := range rt.Fields {
		var raw any
		for _, k := range fl.Keys {
			if v, ok := rec[k]; ok && v != nil {
				raw = v
				break
			}
		}
		v, err := convert(fl, raw, at)
		if err != nil {
			return Row{}, fmt.Errorf("field %s: %w", fl.Column, err)
		}
		vals = append(vals, v)
	}
	return Row{rt.Table, append(vals, string(ev.Payload))}, nil
}

var epoch = time.Unix(0, 0).UTC()

// maxMoney is the first amount Decimal(18, 2) cannot hold.
var maxMoney = decimal.New(1, 16)

// clampTime keeps a time inside DateTime's range (1970 to 2105).
func clampTime(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second)
	if t.Before(epoch) {
		return epoch
	}
	if t.Year() > 2105 {
		return time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func convert(fl Field, raw any, eventTime time.Time) (any, error) {
	switch fl.Kind {
	case String:
		switch v := raw.(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		case json.Number:
			return v.String(), nil
		case bool:
			return strconv.FormatBool(v), nil
		default:
			b, _ := json.Marshal(v)
			return string(b), nil
		}
	case Int:
		return toInt(raw)
	case Present:
		if raw != nil {
			return uint8(1), nil
		}
		return uint8(0), nil
	case Flag:
		switch v := raw.(type) {
		case nil:
			return uint8(0), nil
		case bool:
			if v {
				return uint8(1), nil
			}
			return uint8(0), nil
		case json.Number:
			if v.String() != "0" {
				return uint8(1), nil
			}
			return uint8(0), nil
		}
		return nil, fmt.Errorf("want a boolean, got %v", raw)
	case Money:
		var text string
		switch v := raw.(type) {
		case nil:
			return decimal.Zero, nil
		case json.Number:
			text = v.String()
		case string:
			if v == "" {
				return decimal.Zero, nil
			}
			text = v
		default:
			return nil, fmt.Errorf("want an amount, got %v", raw)
		}
		d, err := decimal.NewFromString(text)
		if err != nil {
			return nil, err
		}
		if d.Abs().GreaterThanOrEqual(maxMoney) {
			return nil, fmt.Errorf("amount %s does not fit Decimal(18, 2)", text)
		}
		return d, nil
	case Time:
		if raw == nil {
			if fl.EventTime {
				return eventTime, nil
			}
			return epoch, nil
		}
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("want a time string, got %v", raw)
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return clampTime(t), nil
			}
		}
		return nil, fmt.Errorf("%q is not an RFC 3339 time or a date", s)
	}
	return nil, fmt.Errorf("unknown field kind %d", fl.Kind)
}

func toInt(raw any) (int64, error) {
	switch v := raw.(type) {
	case nil:
		return 0, nil
	case json.Number:
		return v.Int64()
	case string:
		if v == "" {
			return 0, nil
		}
		return strconv.ParseInt(v, 10, 64)
	}
	return 0, fmt.Errorf("want an integer, got %v", raw)
}

// Insert writes rows with one native batch per table, in the order tables
// first appear. It is not atomic across tables: after an error, some tables
// may hold their rows already, and a retry inserts them again; every query
// dedups by event id or version, so that is harmless.
func Insert(ctx context.Context, conn driver.Conn, rows []Row) error {
	var order []*Table
	byTable := map[*Table][]int{}
	for i, r := range rows {
		if _, seen := byTable[r.Table]; !seen {
			order = append(order, r.Table)
		}
		byTable[r.Table] = append(byTable[r.Table], i)
	}
	for _, t := range order {
		if err := insertTable(ctx, conn, t, rows, byTable[t]); err != nil {
			return fmt.Errorf("insert %d rows into %s: %w", len(byTable[t]), t.Name, err)
		}
	}
	return nil
}

// RowError is a row the client could not encode for its column types: a
// property of the row, not of the server, so retrying cannot help.
type RowError struct {
	Index int // in the rows passed to Insert
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Index, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

func insertTable(ctx context.Context, conn driver.Conn, t *Table, rows []Row, idx []int) error {
	b, err := conn.PrepareBatch(ctx, t.InsertSQL())
	if err != nil {
		return err
	}
	for _, i := range idx {
		if err := b.Append(rows[i].Values...); err != nil {
			_ = b.Abort()
			return &RowError{Index: i, Err: err}
		}
	}
	return b.Send()
}
