package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/internal/itest"
)

func TestEnsureTopicsIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := kafkatest.Kafka(t)
	spec := ingest.TopicSpec{Prefix: itest.Name("test") + ".", Partitions: 3, Replication: 1}
	first, err := ingest.EnsureTopics(ctx, k, spec, ingest.Topics...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ingest.DeleteTopics(context.Background(), k, first.Created...) })
	if len(first.Created) != len(ingest.Topics) {
		t.Fatalf("first run created %v, want all of %v", first.Created, ingest.Topics)
	}
	second, err := ingest.EnsureTopics(ctx, k, spec, ingest.Topics...)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Created) != 0 || len(second.Existing) != len(ingest.Topics) {
		t.Fatalf("second run: %+v", second)
	}
	conn, err := k.Dialer().DialContext(ctx, "tcp", k.Brokers[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(first.Created[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Errorf("%s has %d partitions, want 3", first.Created[0], len(parts))
	}
}

// TestProduceConsumeWithGroup round-trips messages through the real broker:
// produced with acks=all, read by a consumer group that commits explicitly;
// a second reader in the same group sees nothing once the offsets are
// committed.
func TestProduceConsumeWithGroup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	brokers, prefix := kafkatest.Topics(t, 3, ingest.TopicTracking)
	topic := prefix + ingest.TopicTracking

	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Transport:    kafkatest.Transport(t),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
	}
	const n = 100
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprint("contact-", i%7)), Value: []byte(fmt.Sprint(i))}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	group := itest.Name("group")
	r := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: brokers, GroupID: group, Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	seen := map[string]int{}
	for len(seen) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d messages: %v", len(seen), err)
		}
		seen[string(m.Value)]++
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for v, c := range seen {
		if c != 1 {
			t.Errorf("message %s read %d times", v, c)
		}
	}

	// the group's offsets are committed: a new member reads nothing old
	r2 := kafka.NewReader(kafka.ReaderConfig{Dialer: kafkatest.Dialer(t), Brokers: brokers, GroupID: group, Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r2.Close()
	short, cancelShort := context.WithTimeout(ctx, 8*time.Second)
	defer cancelShort()
	if m, err := r2.FetchMessage(short); err == nil {
		t.Fatalf("group re-read message %q after commit", m.Value)
	}
}
