// Package kafkatest gives each integration test Kafka topics of its own
// (a random prefix), created on the real broker and deleted when the test ends.
package kafkatest

import (
	"context"
	"testing"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/internal/itest"
)

// Brokers returns CALORE_KAFKA_BROKERS, or skips (fails under CI=true) when
// unset.
func Brokers(t testing.TB) []string {
	t.Helper()
	itest.Env(t, "CALORE_KAFKA_BROKERS")
	c, err := config.FromEnv(itest.Getenv)
	if err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	return c.KafkaBrokers
}

// Topics creates the named topics (with `partitions` partitions each) under a
// prefix of their own and returns that prefix; the full name of topic n is
// prefix+n.
func Topics(t testing.TB, partitions int, names ...string) (brokers []string, prefix string) {
	t.Helper()
	brokers = Brokers(t)
	prefix = itest.Name("test") + "."
	ctx := context.Background()
	if _, err := ingest.EnsureTopics(ctx, brokers, ingest.TopicSpec{Prefix: prefix, Partitions: partitions, Replication: 1}, names...); err != nil {
		t.Fatalf("kafkatest: %v", err)
	}
	t.Cleanup(func() {
		full := make([]string, len(names))
		for i, n := range names {
			full[i] = prefix + n
		}
		if err := ingest.DeleteTopics(context.Background(), brokers, full...); err != nil {
			t.Errorf("kafkatest: %v", err)
		}
	})
	return brokers, prefix
}
