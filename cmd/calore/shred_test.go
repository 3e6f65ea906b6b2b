package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/ingest/pii"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// TestErasureShredsKafka: a person's name, emails, phone and the notes about
// them travel sealed through Kafka (the warehouse gets them in clear); after
// `calore gdpr erase` none of them can be read in any message of the
// changes, tracking or dead-letter topics, read raw from offset 0, and a
// fresh sink consuming every topic from offset 0 into a fresh warehouse
// stores the other person in clear and the erased one nowhere.
// With a master key (CALORE_DATA_KEY_MASTER) the keys PostgreSQL holds
// open nothing on their own, before the erasure too.
// Seen failing with the relay's sealing disabled (relay.seal returning nil
// at once: every needle found in calore.changes), with the key's
// destruction disabled (erase_keys.sql deleting nothing: every needle found
// once the sealed fields are opened with the keys left in PostgreSQL), and
// with the wrapping disabled (Wrapper.Wrap returning the key: the keys in
// PostgreSQL alone opened every sealed field).
func TestErasureShredsKafka(t *testing.T) {
	t.Parallel()
	master, _ := pii.NewSecret()
	for _, tt := range []struct {
		name   string
		master string
	}{
		{"keys in clear", ""},
		{"keys wrapped by a master key", base64.StdEncoding.EncodeToString(master)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			erasureShredsKafka(t, tt.master)
		})
	}
}

func erasureShredsKafka(t *testing.T, master string) {
	ctx := context.Background()
	base := testEnv(t)
	bi := base("CALORE_CLICKHOUSE_DATABASE") + "_bi"
	getenv := func(k string) string {
		switch k {
		case "CALORE_CLICKHOUSE_BI_DATABASE":
			return bi
		case "CALORE_DATA_KEY_MASTER":
			return master
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
	done := make(chan error, 3)
	running := 0
	start := func(getenv func(string) string, args ...string) {
		running++
		go func() { done <- run(runCtx, args, getenv, io.Discard, io.Discard) }()
	}
	defer func() {
		cancel()
		for range running {
			<-done
		}
	}()
	start(getenv, "relay", "--metrics-addr", "", "--poll-interval", "200ms")
	start(getenv, "sink", "--metrics-addr", "", "--flush-interval", "200ms")

	pool, err := postgres.Open(ctx, cfg.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := postgres.NewStore(pool)
	target := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Philippa", LastName: "Vandermolen", City: "Cremona", Country: "IT",
		Emails: []calore.Email{{Type: calore.EmailPersonal, Address: "pvandermolen@example.org"}},
		Phones: []calore.Phone{{Type: calore.PhoneMobile, Number: "+39 333 818 2746"}}}
	other := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Ottavio", LastName: "Brambillasca",
		Emails: []calore.Email{{Type: calore.EmailPersonal, Address: "ottavio.b@example.org"}}}
	for _, p := range []*calore.Person{target, other} {
		if err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	const note = "considering a bequest to the observatory"
	if err := s.CreateInteraction(ctx, &calore.Interaction{PersonID: &target.ID, Channel: calore.ChannelPhone,
		OccurredAt: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), Subject: "Legacy giving", Notes: note}); err != nil {
		t.Fatal(err)
	}
	camp := &calore.Campaign{Name: "Autumn appeal", Channel: calore.ChannelEmail}
	if err := s.CreateCampaign(ctx, camp); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCampaignSend(ctx, &calore.CampaignSend{CampaignID: camp.ID, PersonID: target.ID, Address: "pvandermolen@example.org", Status: "sent"}); err != nil {
		t.Fatal(err)
	}
	// a tracking hit as calore serve sends it: truncated address, user agent
	hp, _ := json.Marshal(calore.TrackingHit{ContactID: target.ID, CampaignID: camp.ID, SendID: 1, UserAgent: "Mozilla/5.0 (X11)", IPPrefix: "192.0.2.0"})
	key := fmt.Sprintf("contact:%d", target.ID)
	hv, _ := json.Marshal(calore.Event{ID: uuid.NewString(), Type: calore.EventEmailOpen, SchemaVersion: 1, Time: time.Now().UTC(),
		Aggregate: "tracking", AggregateID: key, Payload: hp})
	produceTracking(t, cfg, kafka.Message{Key: []byte(key), Value: hv})

	// The warehouse has them in clear: the sink opened the sealed fields.
	waitCount(t, cfg, 90*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM dim_people WHERE id = %d AND first_name = 'Philippa' AND email = 'pvandermolen@example.org'`, target.ID))
	waitCount(t, cfg, 90*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM dim_people WHERE id = %d AND last_name = 'Brambillasca'`, other.ID))
	waitCount(t, cfg, 90*time.Second, 1, `SELECT toUInt64(count() > 0) FROM change_log WHERE aggregate = 'interaction' AND position(payload, '`+note+`') > 0`)
	waitCount(t, cfg, 90*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM tracking_events WHERE contact_id = %d`, target.ID))

	needles := []string{"Philippa", "Vandermolen", "pvandermolen@example.org", "333 818 2746", "3338182746", note, "Legacy giving", "Cremona"}
	topics := []string{cfg.KafkaTopicPrefix + ingest.TopicChanges, cfg.KafkaTopicPrefix + ingest.TopicTracking, cfg.KafkaTopicPrefix + ingest.TopicDeadLetter}
	// Sealed on the way: unreadable in Kafka without the keys even before
	// the erasure (the warehouse above has them: the sink opened them).
	if found := scanTopics(t, nil, nil, cfg.KafkaBrokers, topics, needles); len(found) > 0 {
		t.Errorf("before the erasure, readable in Kafka: %v", found)
	}
	wrapper, err := pii.NewWrapper(cfg.DataKeyMaster)
	if err != nil {
		t.Fatal(err)
	}
	if wrapper != nil {
		// PostgreSQL alone (a dump) opens nothing; with the master key it
		// opens the person (the search works)
		if found := scanTopics(t, s, nil, cfg.KafkaBrokers, topics, needles); len(found) > 0 {
			t.Errorf("before the erasure, the keys in PostgreSQL alone open: %v", found)
		}
		if found := scanTopics(t, s, wrapper, cfg.KafkaBrokers, topics, needles); len(found) == 0 {
			t.Errorf("before the erasure, the keys unwrapped by the master key open nothing")
		}
	}

	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"gdpr", "erase", fmt.Sprint(target.ID), "--by", "dpo", "--reason", "ticket 18", "--timeout", "3m"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("gdpr erase: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	var keys int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM person_keys WHERE person_id = $1`, target.ID).Scan(&keys); err != nil || keys != 0 {
		t.Errorf("the erased person's data key: %d rows, %v", keys, err)
	}
	// After it, not even with every key left in PostgreSQL.
	if found := scanTopics(t, s, wrapper, cfg.KafkaBrokers, topics, needles); len(found) > 0 {
		t.Errorf("after the erasure, readable in Kafka: %v", found)
	}

	// A fresh sink (own consumer group) re-consumes every topic from offset
	// 0 into a fresh warehouse: the other person arrives in clear, the erased
	// one nowhere, and no message is dead-lettered for a destroyed key.
	fresh := warehousetest.NewEmpty(t)
	freshBI := fresh.Database + "_bi"
	freshEnv := func(k string) string {
		switch k {
		case "CALORE_CLICKHOUSE_DATABASE":
			return fresh.Database
		case "CALORE_CLICKHOUSE_BI_DATABASE":
			return freshBI
		}
		return getenv(k)
	}
	t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+freshBI) })
	if err := run(ctx, []string{"migrate"}, freshEnv, io.Discard, &errOut); err != nil {
		t.Fatalf("migrate the fresh warehouse: %v\n%s", err, errOut.String())
	}
	deadBefore := topicMessages(t, cfg, ingest.TopicDeadLetter)
	start(freshEnv, "sink", "--metrics-addr", "", "--flush-interval", "200ms", "--group", "fresh-"+uuid.NewString())
	freshCfg := cfg
	freshCfg.ClickHouse.Database = fresh.Database
	waitCount(t, freshCfg, 90*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM dim_people WHERE id = %d AND last_name = 'Brambillasca'`, other.ID))
	waitCount(t, freshCfg, 90*time.Second, 1, fmt.Sprintf(`SELECT toUInt64(count() > 0) FROM erasure_receipts`))
	freshConn, err := warehouse.Open(ctx, freshCfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer freshConn.Close()
	if hits := warehousetest.FindPerson(t, freshConn, []string{fresh.Database, freshBI}, []int64{target.ID}, needles...); len(hits) > 0 {
		t.Errorf("the fresh warehouse has the erased person: %v", hits)
	}
	if got := topicMessages(t, cfg, ingest.TopicDeadLetter); got != deadBefore {
		t.Errorf("re-consuming dead-lettered %d messages", got-deadBefore)
	}
}

// scanTopics reads every message of topics from offset 0 with a plain
// reader (no consumer group) and returns the needles found, case-insensitively,
// in any key, value or header, as they are and, when keys is not nil, with
// every sealed field opened with the data keys PostgreSQL still holds,
// unwrapped by wrapper when not nil (what someone holding both could read).
func scanTopics(t *testing.T, keys *postgres.Store, wrapper *pii.Wrapper, brokers, topics, needles []string) []string {
	t.Helper()
	var found []string
	for _, topic := range topics {
		conn, err := kafkatest.Dialer(t).Dial("tcp", brokers[0])
		if err != nil {
			t.Fatal(err)
		}
		parts, err := conn.ReadPartitions(topic)
		conn.Close()
		if err != nil {
			t.Fatalf("partitions of %s: %v", topic, err)
		}
		n := 0
		for _, p := range parts {
			for _, m := range readPartition(t, brokers, topic, p.ID) {
				n++
				raw := bytes.ToLower(append(append([]byte{}, m.Key...), m.Value...))
				for _, h := range m.Headers {
					raw = append(append(raw, bytes.ToLower([]byte(h.Key))...), bytes.ToLower(h.Value)...)
				}
				var ev calore.Event
				if json.Unmarshal(m.Value, &ev) == nil {
					if d, err := pii.ForOpening(ev.Payload); err == nil && d != nil && keys != nil {
						dk, err := keys.DataKeys(context.Background(), d.KeyIDs())
						if err != nil {
							t.Fatal(err)
						}
						secrets := map[int64][]byte{}
						for id, k := range dk {
							secrets[id] = k.Secret // a wrapped key as it is: what a dump alone gives
							if wrapper != nil {
								if secrets[id], err = wrapper.Unwrap(k.PersonID, k.Secret); err != nil {
									t.Fatal(err)
								}
							}
						}
						opened, _, err := d.Open(secrets)
						if err != nil {
							t.Fatal(err)
						}
						raw = append(raw, bytes.ToLower(opened)...)
					}
				}
				for _, nd := range needles {
					if bytes.Contains(raw, bytes.ToLower([]byte(nd))) {
						found = append(found, fmt.Sprintf("%q in %s[%d]@%d", nd, topic, p.ID, m.Offset))
					}
				}
			}
		}
		t.Logf("%s: %d messages scanned", topic, n)
	}
	return found
}

// readPartition returns every message of one partition, offset 0 to the
// high-water mark.
func readPartition(t *testing.T, brokers []string, topic string, partition int) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafkatest.Dialer(t).DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		t.Fatal(err)
	}
	last, err := conn.ReadLastOffset()
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	if last == 0 {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: brokers, Topic: topic, Partition: partition, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		t.Fatal(err)
	}
	var msgs []kafka.Message
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s[%d]: read %d of %d messages in 30s", topic, partition, len(msgs), last)
			}
			t.Fatal(err)
		}
		msgs = append(msgs, m)
		if m.Offset >= last-1 {
			return msgs
		}
	}
}
