// Package config reads Calore's configuration from CALORE_* environment
// variables. Every variable has a default that points at the local stack
// started by scripts/stack, so a fresh checkout works without any setting.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Config is the whole configuration of the calore binary.
type Config struct {
	PostgresDSN string // CALORE_PG_DSN

	KafkaBrokers     []string // CALORE_KAFKA_BROKERS, comma separated
	KafkaPartitions  int      // CALORE_KAFKA_PARTITIONS: partitions of each topic `calore migrate` creates
	KafkaReplication int      // CALORE_KAFKA_REPLICATION: replication factor of those topics
	KafkaTopicPrefix string   // CALORE_KAFKA_TOPIC_PREFIX: prefix of every topic name

	ClickHouse ClickHouse

	HTTPAddr string     // CALORE_HTTP_ADDR
	LogLevel slog.Level // CALORE_LOG_LEVEL: debug, info, warn, error
}

// ClickHouse is how to reach the warehouse, over the native protocol.
type ClickHouse struct {
	Addr     []string // CALORE_CLICKHOUSE_ADDR, comma separated host:port (native protocol)
	User     string   // CALORE_CLICKHOUSE_USER
	Password string   // CALORE_CLICKHOUSE_PASSWORD
	Database string   // CALORE_CLICKHOUSE_DATABASE
}

// Defaults match scripts/stack.
const (
	DefaultPostgresDSN = "postgres://calore:calore@127.0.0.1:15432/calore?sslmode=disable"
	DefaultKafka       = "127.0.0.1:19092"
	DefaultClickHouse  = "127.0.0.1:19000"
	DefaultHTTPAddr    = "127.0.0.1:8080"
)

// FromEnv reads the configuration through getenv (os.Getenv in main, a map in
// tests) and validates it; the error lists every problem at once.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	var problems []error
	atoi := func(key, def string) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %q is not a whole number", key, get(key, def)))
		}
		return n
	}
	c := Config{
		PostgresDSN:      get("CALORE_PG_DSN", DefaultPostgresDSN),
		KafkaBrokers:     splitList(get("CALORE_KAFKA_BROKERS", DefaultKafka)),
		KafkaPartitions:  atoi("CALORE_KAFKA_PARTITIONS", "6"),
		KafkaReplication: atoi("CALORE_KAFKA_REPLICATION", "1"),
		KafkaTopicPrefix: get("CALORE_KAFKA_TOPIC_PREFIX", "calore."),
		ClickHouse: ClickHouse{
			Addr:     splitList(get("CALORE_CLICKHOUSE_ADDR", DefaultClickHouse)),
			User:     get("CALORE_CLICKHOUSE_USER", "calore"),
			Password: get("CALORE_CLICKHOUSE_PASSWORD", "calore"),
			Database: get("CALORE_CLICKHOUSE_DATABASE", "calore"),
		},
		HTTPAddr: get("CALORE_HTTP_ADDR", DefaultHTTPAddr),
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("CALORE_LOG_LEVEL", "info"))); err != nil {
		problems = append(problems, fmt.Errorf("CALORE_LOG_LEVEL: %w", err))
	}
	if err := errors.Join(append(problems, c.Validate())...); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// Validate reports every problem of the configuration, joined.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.PostgresDSN); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, errors.New("CALORE_PG_DSN: want a postgres:// URL"))
	}
	errs = append(errs, hostPorts("CALORE_KAFKA_BROKERS", c.KafkaBrokers), hostPorts("CALORE_CLICKHOUSE_ADDR", c.ClickHouse.Addr))
	if c.KafkaPartitions < 1 {
		errs = append(errs, fmt.Errorf("CALORE_KAFKA_PARTITIONS: %d, want at least 1", c.KafkaPartitions))
	}
	if c.KafkaReplication < 1 {
		errs = append(errs, fmt.Errorf("CALORE_KAFKA_REPLICATION: %d, want at least 1", c.KafkaReplication))
	}
	if c.ClickHouse.Database == "" || strings.ContainsAny(c.ClickHouse.Database, "`'\" .;") {
		errs = append(errs, fmt.Errorf("CALORE_CLICKHOUSE_DATABASE: %q is not a plain database name", c.ClickHouse.Database))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("CALORE_HTTP_ADDR: %w", err))
	}
	return errors.Join(errs...)
}

func hostPorts(key string, addrs []string) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%s: empty", key)
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("%s: %q: %w", key, a, err)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
