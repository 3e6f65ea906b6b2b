package sink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func change(typ string, id int64, payload string) kafka.Message {
	agg, _, _ := strings.Cut(typ, ".")
	ev := calore.Event{ID: uuid.NewString(), Type: typ, SchemaVersion: 1, Time: time.Now().UTC(), Aggregate: agg,
		AggregateID: fmt.Sprint(id), Payload: json.RawMessage(payload)}
	v, _ := json.Marshal(ev)
	return kafka.Message{Key: []byte(ev.AggregateID), Value: v}
}

func trackingHit(contact int64, send int64) kafka.Message {
	h := calore.TrackingHit{ContactID: contact, CampaignID: 7, SendID: send, UserAgent: "test", IPPrefix: "192.0.2.0"}
	p, _ := json.Marshal(h)
	key := fmt.Sprintf("contact:%d", contact)
	ev := calore.Event{ID: uuid.NewString(), Type: calore.EventEmailOpen, SchemaVersion: 1, Time: time.Now().UTC(),
		Aggregate: "tracking", AggregateID: key, Payload: p}
	v, _ := json.Marshal(ev)
	return kafka.Message{Key: []byte(key), Value: v}
}

// people writes the changes and hits of person id (with email and names).
func personMessages(id int64, first, last, email string) (changes, tracking []kafka.Message) {
	changes = []kafka.Message{
		change("person.created", id, fmt.Sprintf(`{"id":%d,"kind":"alumnus","first_name":%q,"last_name":%q,"preferred_email":%q,"status":"active"}`, id, first, last, email)),
		change("donation.created", id*10, fmt.Sprintf(`{"id":%d,"person_id":%d,"amount":"100.00","donated_on":"2025-06-01","purpose_detail":"for %s"}`, id*10, id, last)),
		change("campaign_send.created", id*10, fmt.Sprintf(`{"id":%d,"campaign_id":7,"person_id":%d,"address":%q,"status":"sent","sent_at":"2025-05-01T10:00:00Z"}`, id*10, id, email)),
		change("registration.created", id*10, fmt.Sprintf(`{"id":%d,"event_id":3,"person_id":%d,"status":"registered","registered_at":"2025-05-02T10:00:00Z"}`, id*10, id)),
		change("consent.created", id*10, fmt.Sprintf(`{"id":%d,"person_id":%d,"purpose":"newsletter","granted":true,"guardian_name":"guardian %s"}`, id*10, id, last)),
	}
	tracking = []kafka.Message{trackingHit(id, id*10), trackingHit(id, id*10)}
	return changes, tracking
}

func webHit(contact int64, anon string) kafka.Message {
	h := calore.TrackingHit{ContactID: contact, AnonymousID: anon, URL: "https://www.example.edu/give", UserAgent: "test"}
	p, _ := json.Marshal(h)
	key := "anon:" + anon
	if contact > 0 {
		key = fmt.Sprintf("contact:%d", contact)
	}
	ev := calore.Event{ID: uuid.NewString(), Type: calore.EventWebPageView, SchemaVersion: 1, Time: time.Now().UTC(),
		Aggregate: "tracking", AggregateID: key, Payload: p}
	v, _ := json.Marshal(ev)
	return kafka.Message{Key: []byte(key), Value: v}
}

func erasedEvent(id int64, merged ...int64) (kafka.Message, string) {
	if merged == nil {
		merged = []int64{}
	}
	m, _ := json.Marshal(map[string]any{"id": id, "person_id": id, "merged_ids": merged, "requested_by": "dpo", "reason": "test", "at": time.Now().UTC()})
	msg := change("person.erased", id, string(m))
	var ev calore.Event
	_ = json.Unmarshal(msg.Value, &ev)
	return msg, ev.ID
}

func TestErasureRemovesPersonEverywhere(t *testing.T) {
	t.Parallel()
	brokers, prefix := kafkatest.Topics(t, 2, ingest.Topics...)
	conn, cfg := warehousetest.NewBI(t)
	e := &env{brokers: brokers, kafka: kafkatest.Kafka(t), prefix: prefix, conn: conn, group: itest.Name("sink-test-")}
	e.start(t, conn)

	const target, dup, other = 42, 43, 44
	var changes, tracking []kafka.Message
	for _, p := range []struct {
		id                 int64
		first, last, email string
	}{{target, "Zebulon", "Quillfeather", "zq@example.org"}, {dup, "Zeb", "Quillfeather", "zq.old@example.net"}, {other, "Ada", "Lovelace", "ada@example.edu"}} {
		c, tr := personMessages(p.id, p.first, p.last, p.email)
		changes, tracking = append(changes, c...), append(tracking, tr...)
	}
	changes = append(changes, change("research_contract.created", 5, `{"id":5,"contract_number":"RC-5","scientific_lead_id":42,"scientific_lead":"Zebulon Quillfeather","value":"1000.00"}`))
	produce(t, brokers, prefix+ingest.TopicChanges, changes)
	tracking = append(tracking, webHit(0, "browser-zq"), webHit(target, "browser-zq"), webHit(0, "browser-other"), webHit(other, "browser-zq"))
	produce(t, brokers, prefix+ingest.TopicTracking, tracking)
	waitFor(t, conn, 60*time.Second, 3, `SELECT uniqExact(id) FROM fact_donations`)
	waitFor(t, conn, 60*time.Second, 4, `SELECT uniqExact(event_id) FROM tracking_events WHERE kind = 'web.pageview'`)
	waitFor(t, conn, 60*time.Second, 3, `SELECT uniqExact(contact_id) FROM tracking_events WHERE contact_id > 0`)
	waitFor(t, conn, 60*time.Second, 3, `SELECT uniqExact(id) FROM `+cfg.BIDatabase+`.src_people`)
	totalBefore := count(t, conn, `SELECT toUInt64(sum(a)) FROM (SELECT id, argMax(amount, version) AS a FROM fact_donations GROUP BY id)`)

	search := func() []string {
		return warehousetest.FindPerson(t, conn, []string{cfg.Database, cfg.BIDatabase}, []int64{target, dup},
			"Zebulon", "Quillfeather", "zq@example.org", "zq.old@example.net")
	}
	if before := search(); len(before) < 10 {
		t.Fatalf("the search finds too little before the erasure: %v", before)
	}
	msg, eventID := erasedEvent(target, dup)
	produce(t, brokers, prefix+ingest.TopicChanges, []kafka.Message{msg})
	waitFor(t, conn, 120*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM erasure_receipts WHERE event_id = toUUID('%s')`, eventID))

	// late events about the erased people, then a marker about the other one
	late, lateHits := personMessages(target, "Zebulon", "Quillfeather", "zq@example.org")
	late = append(late, change("donation.created", 999, `{"id":999,"person_id":43,"amount":"5.00","donated_on":"2025-07-01"}`))
	produce(t, brokers, prefix+ingest.TopicChanges, late)
	produce(t, brokers, prefix+ingest.TopicTracking, lateHits)
	produce(t, brokers, prefix+ingest.TopicChanges, []kafka.Message{change("donation.created", 1000, `{"id":1000,"person_id":44,"amount":"1.00","donated_on":"2025-07-02"}`)})
	produce(t, brokers, prefix+ingest.TopicTracking, []kafka.Message{trackingHit(other, 4401)})
	waitFor(t, conn, 60*time.Second, 1, `SELECT toUInt64(count() > 0) FROM fact_donations WHERE id = 1000`)
	waitFor(t, conn, 60*time.Second, 1, `SELECT toUInt64(count() > 0) FROM tracking_events WHERE send_id = 4401`)
	waitFor(t, conn, 60*time.Second, 1, `SELECT toUInt64(count() > 0) FROM fact_donations WHERE id = 999`)

	if hits := search(); len(hits) > 0 {
		t.Errorf("the erased people are still in the warehouse: %v", hits)
	}
	// the browser the person used goes with them; another browser, and the
	// other person's hit from the same browser, stay
	if n := count(t, conn, `SELECT uniqExact(event_id) FROM tracking_events WHERE kind = 'web.pageview'`); n != 2 {
		t.Errorf("web hits left: %d, want 2 (another browser's, the other person's)", n)
	}
	// the other person is untouched
	for _, q := range []string{
		`SELECT count() FROM dim_people WHERE id = 44 AND first_name = 'Ada'`,
		`SELECT count() FROM fact_sends WHERE person_id = 44`,
		`SELECT count() FROM fact_registrations WHERE person_id = 44`,
		`SELECT count() FROM ` + cfg.BIDatabase + `.src_people WHERE id = 44`,
		`SELECT uniqExact(event_id) FROM tracking_events WHERE contact_id = 44`,
	} {
		if n := count(t, conn, q); n == 0 {
			t.Errorf("%s = 0", q)
		}
	}
	// donation totals: the erased people's donations stay without a donor
	totalAfter := count(t, conn, `SELECT toUInt64(sum(a)) FROM (SELECT id, argMax(amount, version) AS a FROM fact_donations WHERE id NOT IN (999, 1000) GROUP BY id)`)
	if totalAfter != totalBefore {
		t.Errorf("donation total %d after, %d before", totalAfter, totalBefore)
	}
	if n := count(t, conn, `SELECT count() FROM `+cfg.BIDatabase+`.src_donations WHERE id IN (420, 430, 999) AND person_id = 0`); n < 3 {
		t.Errorf("bi donations without donor: %d, want ≥ 3", n)
	}
	var contract string
	if err := conn.QueryRow(context.Background(), `SELECT payload FROM change_log WHERE aggregate = 'research_contract' LIMIT 1`).Scan(&contract); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(contract, `"value":"1000.00"`) {
		t.Errorf("the contract lost more than its lead: %s", contract)
	}
	// the receipt
	rows, err := conn.Query(context.Background(), `SELECT database, table_name, action, rows_before, rows_after FROM erasure_receipts WHERE event_id = toUUID(?) ORDER BY database, table_name`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][2]uint64{}
	for rows.Next() {
		var db, table, action string
		var before, after uint64
		if err := rows.Scan(&db, &table, &action, &before, &after); err != nil {
			t.Fatal(err)
		}
		got[db+"."+table] = [2]uint64{before, after}
		if after != 0 {
			t.Errorf("receipt %s.%s: %d rows after", db, table, after)
		}
	}
	for _, want := range []string{cfg.Database + ".dim_people", cfg.Database + ".tracking_events", cfg.Database + ".fact_donations",
		cfg.Database + ".change_log", cfg.BIDatabase + ".src_people", cfg.BIDatabase + ".src_email_hits"} {
		if got[want][0] == 0 {
			t.Errorf("receipt: %s removed nothing (%v)", want, got)
		}
	}
}

func TestSinkWithoutErasuresTable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	if err := e.conn.Exec(context.Background(), `DROP TABLE erasures`); err != nil {
		t.Fatal(err)
	}
	e.start(t, e.conn)
	produce(t, e.brokers, e.prefix+ingest.TopicTracking, []kafka.Message{trackingHit(1, 1), trackingHit(2, 2)})
	waitFor(t, e.conn, 60*time.Second, 2, `SELECT uniqExact(event_id) FROM tracking_events`)
}
