package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/calore-crm/calore/config"
)

// Kafka is how Calore's clients reach the cluster and who they are there: every
// kafka-go Writer, Reader and connection of the product is made from one.
type Kafka struct {
	Brokers []string
	// SASL authenticates each connection; nil connects without authentication
	// (a cluster without SASL; the local stack requires SCRAM-SHA-512).
	SASL sasl.Mechanism
}

// NewKafka builds the clients' settings from the configuration
// (CALORE_KAFKA_BROKERS, CALORE_KAFKA_USER, CALORE_KAFKA_PASSWORD,
// CALORE_KAFKA_SASL_MECHANISM).
func NewKafka(cfg config.Config) (Kafka, error) {
	m, err := Mechanism(cfg.KafkaSASL)
	if err != nil {
		return Kafka{}, err
	}
	return Kafka{Brokers: cfg.KafkaBrokers, SASL: m}, nil
}

// Mechanism is the SASL mechanism of a's user, nil when a names no user.
func Mechanism(a config.KafkaSASL) (sasl.Mechanism, error) {
	if a.User == "" {
		return nil, nil
	}
	switch a.Mechanism {
	case config.SCRAMSHA512:
		m, err := scram.Mechanism(scram.SHA512, a.User, a.Password)
		if err != nil {
			return nil, fmt.Errorf("kafka SASL %s for %q: %w", a.Mechanism, a.User, err)
		}
		return m, nil
	case config.SCRAMSHA256:
		m, err := scram.Mechanism(scram.SHA256, a.User, a.Password)
		if err != nil {
			return nil, fmt.Errorf("kafka SASL %s for %q: %w", a.Mechanism, a.User, err)
		}
		return m, nil
	case config.SASLPlain:
		return plain.Mechanism{Username: a.User, Password: a.Password}, nil
	}
	return nil, errors.New("kafka SASL: unknown mechanism " + a.Mechanism)
}

// Dialer opens single connections (topic administration, readers).
func (k Kafka) Dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 5 * time.Second, DualStack: true, SASLMechanism: k.SASL}
}

// Transport is a writer's connection pool.
func (k Kafka) Transport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: 5 * time.Second, SASL: k.SASL}
}
