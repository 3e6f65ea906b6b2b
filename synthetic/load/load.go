// Package load writes a synthetic university (package synthetic) into the
// operational store and the warehouse. PostgreSQL gets every record through
// the store's bulk loader (one transaction, COPY); the warehouse gets, for
// every record, the change event the store would have written, mapped to rows
// by warehouse.Rows — the sink's own mapping — so the warehouse ends in the
// state the live pipeline would have produced. Event ids are derived from the
// seed and the record, so a repeated load cannot double-count.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/models"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/synthq"
)

// Report is what a load did.
type Report struct {
	Scale         string
	Seed          uint64
	AlreadyLoaded bool
	People        int
	Organisations int
	Sends, Hits   int
	Registrations int
	Donations     int
	DonationsEUR  map[int]float64 // per year
	WarehouseRows int
	Bayes         models.Evaluation // of the last full year before AsOf
	BayesYear     int
	Took          time.Duration
}

// Progress receives the load's progress.
type Progress func(step string, done, total int)

var namespace = uuid.MustParse("6f1c2a1e-3b7e-4c0d-9a55-ca10e0000001")

type loader struct {
	ch       driver.Conn
	seed     uint64
	rows     []warehouse.Row
	total    int
	progress Progress
}

const flushRows = 200_000

func (l *loader) event(ev calore.Event) error {
	rows, err := warehouse.Rows(ev)
	if err != nil {
		return fmt.Errorf("map %s %s: %w", ev.Type, ev.AggregateID, err)
	}
	l.rows = append(l.rows, rows...)
	if len(l.rows) >= flushRows {
		return l.flush(context.Background())
	}
	return nil
}

func (l *loader) flush(ctx context.Context) error {
	if len(l.rows) == 0 {
		return nil
	}
	if err := warehouse.Insert(ctx, l.ch, l.rows); err != nil {
		return fmt.Errorf("warehouse insert: %w", err)
	}
	l.total += len(l.rows)
	l.rows = l.rows[:0]
	return nil
}

// change builds the change event the store writes for rec, with a
// deterministic id.
func (l *loader) change(aggregate, verb string, m calore.Meta, rec any) error {
	payload, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s %d: %w", aggregate, m.ID, err)
	}
	key := fmt.Sprintf("synthetic/%d/%s/%d/%d", l.seed, aggregate, m.ID, m.Version)
	return l.event(calore.Event{
		ID: uuid.NewSHA1(namespace, []byte(key)).String(), Type: aggregate + "." + verb, SchemaVersion: 1,
		Time: m.UpdatedAt, Aggregate: aggregate, AggregateID: strconv.FormatInt(m.ID, 10), Payload: payload,
	})
}

func changes[T any](l *loader, aggregate string, recs []T, meta func(*T) calore.Meta) error {
	for i := range recs {
		if err := l.change(aggregate, postgres.VerbCreated, meta(&recs[i]), &recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) hit(h synthetic.Hit) error {
	payload, err := json.Marshal(h.Hit)
	if err != nil {
		return err
	}
	key := "anon:" + h.Hit.AnonymousID
	if h.Hit.ContactID != 0 {
		key = "contact:" + strconv.FormatInt(h.Hit.ContactID, 10)
	}
	return l.event(calore.Event{ID: h.ID, Type: h.Type, SchemaVersion: 1, Time: h.At, Aggregate: "tracking", AggregateID: key, Payload: payload})
}

// Run generates the synthetic university of scale s from seed and loads it.
// The operational store must be empty; a store already loaded with the same
// scale and seed is left as it is (AlreadyLoaded).
func Run(ctx context.Context, pool *pgxpool.Pool, ch driver.Conn, s synthetic.Scale, seed uint64, progress Progress) (Report, error) {
	start := time.Now()
	if progress == nil {
		progress = func(string, int, int) {}
	}
	rep := Report{Scale: s.Name, Seed: seed, DonationsEUR: map[int]float64{}}
	if err := synthq.EnsureTables(ctx, ch); err != nil {
		return rep, err
	}
	var existing int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM people`).Scan(&existing); err != nil {
		return rep, fmt.Errorf("count people: %w", err)
	}
	if existing > 0 {
		runs, err := synthq.Runs(ctx, ch, s.Name, seed, existing)
		if err != nil {
			return rep, err
		}
		if runs > 0 {
			rep.AlreadyLoaded, rep.People = true, int(existing)
			return rep, nil
		}
		return rep, fmt.Errorf("the store already holds %d people not loaded by seed %d at scale %s: seed needs an empty store", existing, seed, s.Name)
	}

	l := &loader{ch: ch, seed: seed, progress: progress}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return rep, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	bulk := postgres.NewBulk(tx)

	ds, err := synthetic.Generate(s, seed, func(tr synthetic.Traffic) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Sends += len(tr.Sends)
		rep.Hits += len(tr.Hits)
		progress("history: sends and tracking hits", rep.Sends+rep.Hits, -1)
		if err := bulk.StageCampaignSends(ctx, tr.Sends); err != nil {
			return err
		}
		for i := range tr.Sends {
			if err := l.change("campaign_send", postgres.VerbCreated, tr.Sends[i].Meta, &tr.Sends[i]); err != nil {
				return err
			}
		}
		for _, h := range tr.Hits {
			if err := l.hit(h); err != nil {
				return err
			}
		}
		return nil
	}, func(step string, done, total int) {
		if step != "years" { // years show as the traffic they make
			progress(step, done, total)
		}
	})
	if err != nil {
		return rep, fmt.Errorf("generate: %w", err)
	}
	if err := storeRecords(ctx, bulk, ds, progress); err != nil {
		return rep, err
	}
	if err := warehouseRecords(l, ds); err != nil {
		return rep, err
	}
	if err := l.flush(ctx); err != nil {
		return rep, err
	}
	progress("warehouse", l.total, l.total)
	if err := synthq.WriteTruth(ctx, ch, ds); err != nil {
		return rep, err
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, fmt.Errorf("commit store: %w", err)
	}
	if err := synthq.RecordRun(ctx, ch, s, seed, len(ds.People)); err != nil {
		return rep, err
	}

	rep.People, rep.Organisations, rep.Registrations, rep.Donations = len(ds.People), len(ds.Organisations), len(ds.Registrations), len(ds.Donations)
	for _, d := range ds.Donations {
		v, _ := strconv.ParseFloat(d.Amount, 64)
		rep.DonationsEUR[d.DonatedOn.Year()] += v
	}
	rep.WarehouseRows = l.total
	rep.BayesYear = s.AsOf.Year() - 1
	if rep.Bayes, err = ds.BayesAUC(rep.BayesYear); err != nil {
		return rep, err
	}
	rep.Took = time.Since(start)
	return rep, nil
}

func storeRecords(ctx context.Context, b *postgres.Bulk, ds *synthetic.Dataset, progress Progress) error {
	latest := make([]calore.Partnership, len(ds.Partnerships))
	for i, h := range ds.Partnerships {
		latest[i] = h.States[len(h.States)-1]
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"organisations", func() error { return b.Organisations(ctx, ds.Organisations) }},
		{"people", func() error { return b.People(ctx, ds.People) }},
		{"affiliations", func() error { return b.Affiliations(ctx, ds.Affiliations) }},
		{"event series", func() error { return b.EventSeries(ctx, ds.Series) }},
		{"events", func() error { return b.Events(ctx, ds.Events) }},
		{"registrations", func() error { return b.Registrations(ctx, ds.Registrations) }},
		{"campaigns", func() error { return b.Campaigns(ctx, ds.Campaigns) }},
		{"campaign sends", func() error { return b.InsertCampaignSends(ctx) }},
		{"donations", func() error { return b.Donations(ctx, ds.Donations) }},
		{"interactions", func() error { return b.Interactions(ctx, ds.Interactions) }},
		{"collaborations", func() error { return b.Collaborations(ctx, ds.Collaborations) }},
		{"partnerships", func() error { return b.Partnerships(ctx, latest) }},
		{"research contracts", func() error { return b.ResearchContracts(ctx, ds.Contracts) }},
		{"journey stages", func() error { return b.JourneyStages(ctx, ds.Journey) }},
	}
	for i, st := range steps {
		if err := st.fn(); err != nil {
			return fmt.Errorf("store %s: %w", st.name, err)
		}
		progress("store", i+1, len(steps))
	}
	return nil
}

func warehouseRecords(l *loader, ds *synthetic.Dataset) error {
	errs := []error{
		changes(l, "organisation", ds.Organisations, func(r *calore.Organisation) calore.Meta { return r.Meta }),
		changes(l, "person", ds.People, func(r *calore.Person) calore.Meta { return r.Meta }),
		changes(l, "affiliation", ds.Affiliations, func(r *calore.Affiliation) calore.Meta { return r.Meta }),
		changes(l, "event_series", ds.Series, func(r *calore.EventSeries) calore.Meta { return r.Meta }),
		changes(l, "event", ds.Events, func(r *calore.CalendarEvent) calore.Meta { return r.Meta }),
		changes(l, "registration", ds.Registrations, func(r *calore.Registration) calore.Meta { return r.Meta }),
		changes(l, "campaign", ds.Campaigns, func(r *calore.Campaign) calore.Meta { return r.Meta }),
		changes(l, "donation", ds.Donations, func(r *calore.Donation) calore.Meta { return r.Meta }),
		changes(l, "interaction", ds.Interactions, func(r *calore.Interaction) calore.Meta { return r.Meta }),
		changes(l, "collaboration", ds.Collaborations, func(r *calore.Collaboration) calore.Meta { return r.Meta }),
		changes(l, "research_contract", ds.Contracts, func(r *calore.ResearchContract) calore.Meta { return r.Meta }),
		changes(l, "journey_stage", ds.Journey, func(r *calore.JourneyStage) calore.Meta { return r.Meta }),
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// a partnership's history: created, then one update per later state
	for _, h := range ds.Partnerships {
		for i := range h.States {
			verb := postgres.VerbUpdated
			if i == 0 {
				verb = postgres.VerbCreated
			}
			if err := l.change("partnership", verb, h.States[i].Meta, &h.States[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
