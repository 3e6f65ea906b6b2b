// Package ingest moves data into Calore: Kafka producers and consumers, the
// topics they use, and (in later files) the outbox relay, tracking endpoints,
// the ClickHouse sink and file imports.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// Topic names, without the configured prefix (CALORE_KAFKA_TOPIC_PREFIX,
// default "calore."). docs/events.md documents what each carries.
const (
	TopicChanges    = "changes"    // outbox: every create/update/delete of a domain record, keyed by aggregate id
	TopicTracking   = "tracking"   // email opens, link clicks, web beacons, keyed by contact or anonymous id
	TopicDeadLetter = "deadletter" // messages the sink could not use, with the error in headers
)

// Topics lists every topic Calore needs.
var Topics = []string{TopicChanges, TopicTracking, TopicDeadLetter}

// TopicSpec says how to create the topics.
type TopicSpec struct {
	Prefix      string
	Partitions  int
	Replication int
}

// TopicResult is what EnsureTopics did.
type TopicResult struct {
	Created  []string
	Existing []string
}

func (r TopicResult) String() string {
	if len(r.Created) == 0 {
		return fmt.Sprintf("kafka: nothing to do (%d topics exist)", len(r.Existing))
	}
	return fmt.Sprintf("kafka: created %v", r.Created)
}

// EnsureTopics creates every missing topic of names (prefixed) on the cluster
// k reaches; topics that exist are left as they are.
func EnsureTopics(ctx context.Context, k Kafka, spec TopicSpec, names ...string) (TopicResult, error) {
	var res TopicResult
	ctrl, err := controller(ctx, k)
	if err != nil {
		return res, err
	}
	defer ctrl.Close()
	existing, err := existingTopics(ctrl)
	if err != nil {
		return res, err
	}
	var configs []kafka.TopicConfig
	for _, n := range names {
		full := spec.Prefix + n
		if existing[full] {
			res.Existing = append(res.Existing, full)
			continue
		}
		configs = append(configs, kafka.TopicConfig{Topic: full, NumPartitions: spec.Partitions, ReplicationFactor: spec.Replication})
		res.Created = append(res.Created, full)
	}
	if len(configs) == 0 {
		return res, nil
	}
	if err := ctrl.CreateTopics(configs...); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return res, fmt.Errorf("create kafka topics %v: %w", res.Created, err)
	}
	return res, waitTopics(ctx, k, res.Created)
}

// DeleteTopics removes topics (full names); missing ones are ignored.
func DeleteTopics(ctx context.Context, k Kafka, names ...string) error {
	ctrl, err := controller(ctx, k)
	if err != nil {
		return err
	}
	defer ctrl.Close()
	if err := ctrl.DeleteTopics(names...); err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
		return fmt.Errorf("delete kafka topics %v: %w", names, err)
	}
	return nil
}

// controller dials the cluster's controller, where topics are created.
func controller(ctx context.Context, k Kafka) (*kafka.Conn, error) {
	var errs []error
	d := k.Dialer()
	for _, b := range k.Brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := conn.Controller()
		conn.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("find kafka controller via %s: %w", b, err))
			continue
		}
		ctrl, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
		if err != nil {
			errs = append(errs, fmt.Errorf("dial kafka controller %s:%d: %w", c.Host, c.Port, err))
			continue
		}
		return ctrl, nil
	}
	return nil, fmt.Errorf("reach kafka %v: %w", k.Brokers, errors.Join(errs...))
}

func existingTopics(conn *kafka.Conn) (map[string]bool, error) {
	parts, err := conn.ReadPartitions()
	if err != nil {
		return nil, fmt.Errorf("list kafka topics: %w", err)
	}
	out := map[string]bool{}
	for _, p := range parts {
		out[p.Topic] = true
	}
	return out, nil
}

// waitTopics waits until every topic has a leader for each partition, so that
// the first produce after creation does not fail.
func waitTopics(ctx context.Context, k Kafka, topics []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := k.Dialer().DialContext(ctx, "tcp", k.Brokers[0])
		if err == nil {
			parts, perr := conn.ReadPartitions(topics...)
			conn.Close()
			if perr == nil && allLed(parts) {
				return nil
			}
			err = perr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka topics %v not ready after 30s: %w", topics, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func allLed(parts []kafka.Partition) bool {
	if len(parts) == 0 {
		return false
	}
	for _, p := range parts {
		if p.Leader.Host == "" {
			return false
		}
	}
	return true
}
