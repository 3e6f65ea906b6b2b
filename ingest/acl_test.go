package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/internal/itest"
)

// stackPrefix is the topic prefix the local stack's ACLs name (scripts/stack,
// kafka_acls): each component's user is allowed on the stack's own topics only.
const stackPrefix = "calore."

// TestKafkaRefusesStrangers: the broker of the stack takes no client without
// SASL, nor one with a wrong password. Seen failing with the client listener
// mapped to PLAINTEXT in scripts/stack.
func TestKafkaRefusesStrangers(t *testing.T) {
	t.Parallel()
	k := kafkatest.Kafka(t)
	if k.SASL == nil {
		t.Fatal("CALORE_KAFKA_USER is unset: the tests' Kafka user should be the stack's admin (eval \"$(scripts/stack env)\")")
	}
	for name, stranger := range map[string]ingest.Kafka{
		"no authentication": {Brokers: k.Brokers},
		"wrong password":    kafkatest.As(t, "relay", "not-the-password"),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := stranger.Dialer().DialContext(ctx, "tcp", k.Brokers[0])
			if err == nil {
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.ReadPartitions()
				conn.Close()
			}
			if err == nil {
				t.Errorf("kafka listed its topics to a client with %s", name)
			}
		})
	}
}

// TestKafkaACLsPerComponent checks the stack's ACLs with each component's
// user: each may describe the topics it uses, and is refused reading or
// writing those it has no business with (the relay writes changes only, serve
// writes tracking only, the sink reads changes and tracking and writes dead
// letters). Seen failing with the relay, sink and serve users added to
// super.users in scripts/stack (a refused write would then have landed in the
// stack's topic; that is the price of testing the real ACLs).
func TestKafkaACLsPerComponent(t *testing.T) {
	t.Parallel()
	admin := kafkatest.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ingest.EnsureTopics(ctx, admin, ingest.TopicSpec{Prefix: stackPrefix, Partitions: 1, Replication: 1}, ingest.Topics...); err != nil {
		t.Fatal(err)
	}
	users := map[string]ingest.Kafka{}
	for _, u := range []struct{ name, env string }{{"relay", "CALORE_KAFKA_RELAY_PASSWORD"}, {"sink", "CALORE_KAFKA_SINK_PASSWORD"}, {"serve", "CALORE_KAFKA_SERVE_PASSWORD"}} {
		users[u.name] = kafkatest.As(t, u.name, itest.Env(t, u.env))
	}
	tests := []struct {
		user, topic string
		describe    bool // may see the topic's partitions
		read, write bool
	}{
		{"relay", ingest.TopicChanges, true, false, true},
		{"relay", ingest.TopicTracking, false, false, false},
		{"relay", ingest.TopicDeadLetter, false, false, false},
		{"serve", ingest.TopicTracking, true, false, true},
		{"serve", ingest.TopicChanges, false, false, false},
		{"sink", ingest.TopicChanges, true, true, false},
		{"sink", ingest.TopicTracking, true, true, false},
		{"sink", ingest.TopicDeadLetter, true, false, true},
	}
	for _, tc := range tests {
		k, topic := users[tc.user], stackPrefix+tc.topic
		t.Run(tc.user+" "+tc.topic, func(t *testing.T) {
			_, err := k.Dialer().LookupPartitions(ctx, "tcp", k.Brokers[0], topic)
			if tc.describe && err != nil {
				t.Errorf("%s cannot describe %s: %v", tc.user, topic, err)
			}
			if !tc.read {
				if err := fetchOne(ctx, k, topic); !refused(err) {
					t.Errorf("%s reading %s: %v, want it refused", tc.user, topic, err)
				}
			}
			if !tc.write {
				w := &kafka.Writer{Addr: kafka.TCP(k.Brokers...), Transport: k.Transport(), Topic: topic,
					RequiredAcks: kafka.RequireAll, MaxAttempts: 1, BatchTimeout: time.Millisecond}
				err := w.WriteMessages(ctx, kafka.Message{Value: []byte(`{"probe":"acl test: must be refused"}`)})
				w.Close()
				if !refused(err) {
					t.Errorf("%s writing %s: %v, want it refused", tc.user, topic, err)
				}
			}
		})
	}
}

// refused tells an authorization error: "not authorized", or, for a user
// that may not even describe the topic, "no such topic" (the broker hides the
// topics a user may not see; the test made sure they exist).
func refused(err error) bool {
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil && !refused(e) {
				return false
			}
		}
		return werrs.Count() > 0
	}
	return errors.Is(err, kafka.TopicAuthorizationFailed) || errors.Is(err, kafka.UnknownTopicOrPartition) ||
		(err != nil && strings.Contains(err.Error(), "topic not found"))
}

// fetchOne asks for partition 0 of topic from offset 0, as k's user.
func fetchOne(ctx context.Context, k ingest.Kafka, topic string) error {
	c := &kafka.Client{Addr: kafka.TCP(k.Brokers...), Transport: k.Transport(), Timeout: 10 * time.Second}
	res, err := c.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: 0, Offset: 0, MaxBytes: 1 << 10, MaxWait: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	return res.Error
}
