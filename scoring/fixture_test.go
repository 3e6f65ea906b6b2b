package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse"
)

// fixture writes hand-made records into a warehouse the way the sink does
// (warehouse.Rows of the change events), so job queries run on real tables.
type fixture struct {
	t    *testing.T
	conn driver.Conn
	rows []warehouse.Row
}

func (f *fixture) change(aggregate string, id int64, at time.Time, rec any) {
	f.t.Helper()
	f.changeType(aggregate+".created", aggregate, id, at, rec)
}

// changeType writes a change of any type (….updated, ….deleted) at a time.
func (f *fixture) changeType(typ, aggregate string, id int64, at time.Time, rec any) {
	f.t.Helper()
	payload, err := json.Marshal(rec)
	if err != nil {
		f.t.Fatal(err)
	}
	rows, err := warehouse.Rows(calore.Event{ID: uuid.NewString(), Type: typ, SchemaVersion: 1, Time: at,
		Aggregate: aggregate, AggregateID: strconv.FormatInt(id, 10), Payload: payload})
	if err != nil {
		f.t.Fatalf("rows of %s %d: %v", aggregate, id, err)
	}
	f.rows = append(f.rows, rows...)
}

func (f *fixture) hit(typ string, at time.Time, h calore.TrackingHit) {
	f.t.Helper()
	payload, _ := json.Marshal(h)
	rows, err := warehouse.Rows(calore.Event{ID: uuid.NewString(), Type: typ, SchemaVersion: 1, Time: at,
		Aggregate: "tracking", AggregateID: fmt.Sprint("contact:", h.ContactID), Payload: payload})
	if err != nil {
		f.t.Fatalf("rows of hit: %v", err)
	}
	f.rows = append(f.rows, rows...)
}

func (f *fixture) person(id int64, kind string, grad int, top string) {
	p := calore.Person{Meta: calore.Meta{ID: id, Version: 1, CreatedAt: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)},
		Kind: kind, FirstName: "P", LastName: strconv.FormatInt(id, 10), TopCategory: top, Status: calore.StatusActive}
	if grad > 0 {
		p.GraduationYear = &grad
	}
	f.change("person", id, p.CreatedAt, p)
}

func (f *fixture) load() {
	f.t.Helper()
	if err := warehouse.Insert(context.Background(), f.conn, f.rows); err != nil {
		f.t.Fatal(err)
	}
	f.rows = nil
}

func ptr[T any](v T) *T { return &v }
