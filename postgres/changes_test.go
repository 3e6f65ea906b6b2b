package postgres_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest/schemas"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// TestEmitMatchesStoreEvents holds the two writers of change events to one
// shape: a person and an organisation created through the store, then
// emitted again by Emit (the importer's path), give the same payload, and
// both pass the event contract (ingest/schemas). The importer used to build
// its payloads with to_jsonb, which carried "merged_into": null and was
// dead-lettered; such a payload fails the contract check below.
func TestEmitMatchesStoreEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	p := &calore.Person{FirstName: "Niccolò", LastName: "Rossi", Kind: "alumnus",
		Emails: []calore.Email{{Type: "personal", Address: "niccolo.rossi@example.com"}},
		Phones: []calore.Phone{{Type: "mobile", Number: "+39 333 1234567"}}}
	if err := store.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	o := &calore.Organisation{LegalName: "ACME S.p.A.", Kind: "company"}
	if err := store.CreateOrganisation(ctx, o); err != nil {
		t.Fatal(err)
	}
	before := len(outboxRows(t, pool))
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []postgres.Changed{{Aggregate: "person", Updated: []int64{p.ID}}, {Aggregate: "organisation", Created: []int64{o.ID}}} {
		if n, err := postgres.Emit(ctx, tx, c); err != nil || n != 1 {
			t.Fatalf("emit %s: %d, %v", c.Aggregate, n, err)
		}
	}
	if _, err := postgres.Emit(ctx, tx, postgres.Changed{Aggregate: "person", Updated: []int64{p.ID + 1000}}); err == nil {
		t.Error("emitting a person that does not exist succeeded")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// the failed Emit rolled the transaction back: write the two again, committed
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []postgres.Changed{{Aggregate: "person", Updated: []int64{p.ID}}, {Aggregate: "organisation", Created: []int64{o.ID}}} {
		if _, err := postgres.Emit(ctx, tx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	rows := outboxRows(t, pool)
	if len(rows) != before+2 {
		t.Fatalf("outbox holds %d rows, want %d", len(rows), before+2)
	}
	store0, emitted := map[string]calore.Event{}, rows[before:]
	for _, ev := range rows[:before] {
		store0[ev.Aggregate] = ev
	}
	for i, want := range []string{"person.updated", "organisation.created"} {
		ev := emitted[i]
		if ev.Type != want {
			t.Fatalf("emitted event %d is %s, want %s", i, ev.Type, want)
		}
		var a, b map[string]any
		if err := json.Unmarshal(store0[ev.Aggregate].Payload, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ev.Payload, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the store's payload\n%s\ndiffers from Emit's\n%s", ev.Aggregate, store0[ev.Aggregate].Payload, ev.Payload)
		}
		value, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Decode(value); err != nil {
			t.Errorf("%s: the contract refuses Emit's event: %v", ev.Type, err)
		}
	}
}
