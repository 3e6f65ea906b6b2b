// Package kafkatest gives each integration test Kafka topics of its own
// (a random prefix), created on the real broker and deleted when the test ends.
package kafkatest

import (
	"context"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/internal/itest"
)

// Brokers returns CALORE_KAFKA_BROKERS, or skips (fails under CI=true) when
// unset.
func Brokers(t testing.TB) []string {
	t.Helper()
	return Kafka(t).Brokers
}

// Kafka is the stack's cluster as the tests' user (CALORE_KAFKA_USER, the
// stack's admin), or skips (fails under CI=true) when CALORE_KAFKA_BROKERS is
// unset.
func Kafka(t testing.TB) ingest.Kafka {
	t.Helper()
	itest.Env(t, "CALORE_KAFKA_BROKERS")
	c, err := config.FromEnv(itest.Getenv)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	k, err := ingest.NewKafka(c)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return k
}

// As is the stack's cluster as another SASL user (mechanism and brokers as
// the tests').
func As(t testing.TB, user, password string) ingest.Kafka {
	t.Helper()
	c, err := config.FromEnv(itest.Getenv)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	c.KafkaSASL.User, c.KafkaSASL.Password = user, password
	k, err := ingest.NewKafka(c)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return k
}

// Dialer opens connections as the tests' user (kafka.ReaderConfig.Dialer).
func Dialer(t testing.TB) *kafka.Dialer {
	t.Helper()
	return Kafka(t).Dialer()
}

// Transport is a writer's connection pool as the tests' user (kafka.Writer.Transport).
func Transport(t testing.TB) *kafka.Transport {
	t.Helper()
	return Kafka(t).Transport()
}

// Env is the tests' Kafka identity as CALORE_* variables, for a getenv map or
// a child process's environment (empty values are left out).
func Env(t testing.TB) map[string]string {
	t.Helper()
	Kafka(t)
	out := map[string]string{}
	for _, k := range []string{"CALORE_KAFKA_USER", "CALORE_KAFKA_PASSWORD", "CALORE_KAFKA_SASL_MECHANISM"} {
		if v := strings.TrimSpace(itest.Getenv(k)); v != "" {
			out[k] = v
		}
	}
	return out
}

// Topics creates the named topics (with `partitions` partitions each) under a
// prefix of their own and returns that prefix; the full name of topic n is
// prefix+n.
func Topics(t testing.TB, partitions int, names ...string) (brokers []string, prefix string) {
	t.Helper()
	k := Kafka(t)
	prefix = itest.Name("test") + "."
	ctx := context.Background()
	if _, err := ingest.EnsureTopics(ctx, k, ingest.TopicSpec{Prefix: prefix, Partitions: partitions, Replication: 1}, names...); err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(func() {
		full := make([]string, len(names))
		for i, n := range names {
			full[i] = prefix + n
		}
		if err := ingest.DeleteTopics(context.Background(), k, full...); err != nil {
			t.Errorf("kafkatest: %v", err)
		}
	})
	return k.Brokers, prefix
}
