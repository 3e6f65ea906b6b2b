package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestGDPREraseEndToEnd runs the whole pipeline (store, relay, Kafka, sink,
// warehouse, bi copies), erases one person with `calore gdpr erase` and then
// searches every table of PostgreSQL and ClickHouse for them.
func TestGDPREraseEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := testEnv(t)
	bi := base("CALORE_CLICKHOUSE_DATABASE") + "_bi"
	getenv := func(k string) string {
		if k == "CALORE_CLICKHOUSE_BI_DATABASE" {
			return bi
		}
		return base(k)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := warehouse.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+bi) })

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 2)
	for _, args := range [][]string{
		{"relay", "--metrics-addr", "", "--poll-interval", "200ms"},
		{"sink", "--metrics-addr", "", "--flush-interval", "200ms"},
	} {
		go func() { done <- run(runCtx, args, getenv, io.Discard, io.Discard) }()
	}
	defer func() {
		cancel()
		for range 2 {
			<-done
		}
	}()

	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := postgres.NewStore(pool)
	mk := func(first, last, email, phone string) *calore.Person {
		p := &calore.Person{Kind: calore.KindAlumnus, FirstName: first, LastName: last, City: "Lodi", Country: "IT",
			Emails: []calore.Email{{Type: calore.EmailPersonal, Address: email}}}
		if phone != "" {
			p.Phones = []calore.Phone{{Type: calore.PhoneMobile, Number: phone}}
		}
		if err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	target := mk("Zebulon", "Quillfeather", "zebulon.q@example.org", "+39 347 555 0199")
	dup := mk("Zeb", "Quillfeather", "zq.old@example.net", "")
	other := mk("Ada", "Lovelace", "ada@example.edu", "")
	camp := &calore.Campaign{Name: "Spring appeal", Channel: calore.ChannelEmail}
	if err := s.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	var targetDonation *calore.Donation
	for _, p := range []*calore.Person{target, dup, other} {
		d := &calore.Donation{PersonID: &p.ID, Amount: "120.50", DonatedOn: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), PurposeDetail: "for " + p.LastName}
		if err := s.CreateDonation(ctx, d); err != nil {
			t.Fatal(err)
		}
		if p == target {
			targetDonation = d
		}
		if err := s.CreateCampaignSend(ctx, &calore.CampaignSend{CampaignID: camp.ID, PersonID: p.ID, Address: p.Emails[0].Address, Status: "sent"}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateInteraction(ctx, &calore.Interaction{PersonID: &p.ID, Channel: calore.ChannelPhone,
			OccurredAt: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), Notes: "spoke to " + p.FirstName + " " + p.LastName}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO person_scores (person_id, heat_level) VALUES ($1, 3), ($2, 2)`, target.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MergePeople(ctx, target.ID, dup.ID, postgres.MergeOptions{Reason: "same person"}); err != nil {
		t.Fatal(err)
	}
	hit := func(contact, send int64) kafka.Message {
		p, _ := json.Marshal(calore.TrackingHit{ContactID: contact, CampaignID: camp.ID, SendID: send, UserAgent: "test", IPPrefix: "192.0.2.0"})
		key := fmt.Sprintf("contact:%d", contact)
		v, _ := json.Marshal(calore.Event{ID: uuid.NewString(), Type: calore.EventEmailOpen, SchemaVersion: 1, Time: time.Now().UTC(),
			Aggregate: "tracking", AggregateID: key, Payload: p})
		return kafka.Message{Key: []byte(key), Value: v}
	}
	produceTracking(t, cfg, hit(target.ID, 1), hit(dup.ID, 2), hit(other.ID, 3))
	// the score job's warehouse rows, written as calore score would
	if err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO person_scores (model, model_version, as_of, person_id, score, level, label, computed_at)
		SELECT 'heat', 'v1', toDate('2026-01-01'), arrayJoin([%d, %d]), 1.5, 2, 'cool', now()`, target.ID, other.ID)); err != nil {
		t.Fatal(err)
	}
	waitCount(t, cfg, 90*time.Second, 3, `SELECT uniqExact(id) FROM fact_donations`)
	waitCount(t, cfg, 90*time.Second, 3, `SELECT uniqExact(contact_id) FROM tracking_events`)
	waitCount(t, cfg, 90*time.Second, 3, `SELECT uniqExact(id) FROM `+bi+`.src_people`)

	needles := []string{"Zebulon", "Quillfeather", "zebulon.q@example.org", "zq.old@example.net", "347 555 0199"}
	ids := []int64{target.ID, dup.ID}
	if hits := warehousetest.FindPerson(t, conn, []string{cfg.ClickHouse.Database, bi}, ids, needles...); len(hits) < 5 {
		t.Fatalf("the warehouse search finds too little before the erasure: %v", hits)
	}
	pgTotal := func() string {
		var v string
		if err := pool.QueryRow(ctx, `SELECT sum(amount)::text FROM donations`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	const chTotalQuery = `SELECT toUInt64(sum(a) * 100) FROM (SELECT id, argMax(amount, version) AS a, argMax(deleted, version) AS d FROM fact_donations GROUP BY id) WHERE d = 0`
	const biTotalQuery = `SELECT toUInt64(sum(amount) * 100) FROM ` + "%s" + `.donations`
	pgBefore, chBefore, biBefore := pgTotal(), chCount(t, cfg, chTotalQuery), chCount(t, cfg, fmt.Sprintf(biTotalQuery, bi))

	out.Reset()
	errOut.Reset()
	start := time.Now()
	if err := run(ctx, []string{"gdpr", "erase", fmt.Sprint(target.ID), "--by", "dpo", "--reason", "ticket 17", "--timeout", "3m"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("gdpr erase: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	t.Logf("gdpr erase took %v:\n%s", time.Since(start), out.String())
	if !strings.Contains(out.String(), "erasure receipt") || !strings.Contains(out.String(), "dim_people") || !strings.Contains(out.String(), bi) {
		t.Errorf("no receipt printed:\n%s", out.String())
	}

	// an event about the erased person arriving after the erasure: a hit
	// still in flight, and a change of their donation made in the store
	produceTracking(t, cfg, hit(target.ID, 4))
	targetDonation, err = s.Donation(ctx, targetDonation.ID)
	if err != nil {
		t.Fatal(err)
	}
	targetDonation.Periodicity = "yearly"
	if err := s.UpdateDonation(ctx, targetDonation); err != nil {
		t.Fatal(err)
	}
	// markers about the other person, sent after them
	produceTracking(t, cfg, hit(other.ID, 5))
	if err := s.CreateDonation(ctx, &calore.Donation{PersonID: &other.ID, Amount: "1.00", DonatedOn: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	waitCount(t, cfg, 90*time.Second, 1, `SELECT toUInt64(count() > 0) FROM tracking_events WHERE send_id = 5`)
	waitCount(t, cfg, 90*time.Second, 4, `SELECT uniqExact(id) FROM fact_donations`)
	waitCount(t, cfg, 90*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM fact_donations WHERE id = %d AND periodicity = 'yearly'`, targetDonation.ID))

	if hits := warehousetest.FindPerson(t, conn, []string{cfg.ClickHouse.Database, bi}, ids, needles...); len(hits) > 0 {
		t.Errorf("the erased person is still in ClickHouse: %v", hits)
	}
	if hits := pgtest.FindText(t, pool, needles...); len(hits) > 0 {
		t.Errorf("the erased person's identifiers are still in PostgreSQL: %v", hits)
	}
	// the other person is untouched, totals are equal (plus the marker's 1.00)
	if got, err := s.Person(ctx, other.ID); err != nil || got.FirstName != "Ada" || got.PreferredEmail != "ada@example.edu" || got.Version != 1 {
		t.Errorf("other person: %+v %v", got, err)
	}
	for _, q := range []string{
		fmt.Sprintf(`SELECT count() FROM dim_people WHERE id = %d AND first_name = 'Ada'`, other.ID),
		fmt.Sprintf(`SELECT count() FROM %s.src_people WHERE id = %d AND first_name = 'Ada'`, bi, other.ID),
		fmt.Sprintf(`SELECT count() FROM fact_sends WHERE person_id = %d`, other.ID),
		fmt.Sprintf(`SELECT count() FROM fact_interactions WHERE person_id = %d`, other.ID),
		fmt.Sprintf(`SELECT count() FROM person_scores WHERE person_id = %d`, other.ID),
		fmt.Sprintf(`SELECT uniqExact(event_id) FROM tracking_events WHERE contact_id = %d`, other.ID),
	} {
		if chCount(t, cfg, q) == 0 {
			t.Errorf("%s = 0", q)
		}
	}
	var pgAfter string
	if err := pool.QueryRow(ctx, `SELECT (sum(amount) - 1)::text FROM donations`).Scan(&pgAfter); err != nil {
		t.Fatal(err)
	}
	if pgAfter != pgBefore {
		t.Errorf("PostgreSQL donations: %s after, %s before", pgAfter, pgBefore)
	}
	if got := chCount(t, cfg, chTotalQuery) - 100; got != chBefore {
		t.Errorf("warehouse donations ×100: %d after, %d before", got, chBefore)
	}
	if got := chCount(t, cfg, fmt.Sprintf(biTotalQuery, bi)) - 100; got != biBefore {
		t.Errorf("bi donations ×100: %d after, %d before", got, biBefore)
	}
}

func produceTracking(t *testing.T, cfg config.Config, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(cfg.KafkaBrokers...), Transport: kafkatest.Transport(t), Topic: cfg.KafkaTopicPrefix + ingest.TopicTracking,
		Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	for attempt := 0; ; attempt++ {
		err := w.WriteMessages(context.Background(), msgs...)
		if err == nil {
			return
		}
		if attempt == 50 {
			t.Fatalf("produce: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestGDPREraseNoWaitAndUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	getenv, cfg := migrated(t)
	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := postgres.NewStore(pool)
	p := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Zebulon", LastName: "Quillfeather"}
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"gdpr"}, {"gdpr", "forget", "1"}, {"gdpr", "erase"}, {"gdpr", "erase", "abc"}, {"gdpr", "erase", "0"}} {
		if err := run(ctx, args, getenv, io.Discard, io.Discard); err != errUsage {
			t.Errorf("%v: %v, want the usage", args, err)
		}
	}
	if err := run(ctx, []string{"gdpr", "erase", "999999", "--no-wait"}, getenv, io.Discard, io.Discard); !errors.Is(err, calore.ErrNotFound) {
		t.Errorf("unknown person: %v", err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"gdpr", "erase", "--no-wait", "--by", "dpo", fmt.Sprint(p.ID)}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not waiting") || !strings.Contains(out.String(), "people") {
		t.Errorf("output:\n%s", out.String())
	}
	if got, err := s.Person(ctx, p.ID); err != nil || got.FirstName != "" {
		t.Errorf("not anonymised: %+v %v", got, err)
	}
}
