package config_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/calore-crm/calore/config"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c config.Config)
		wantErr []string // substrings the error must contain; nil = no error
	}{
		{
			name: "defaults are the local stack",
			env:  nil,
			check: func(t *testing.T, c config.Config) {
				if c.PostgresDSN != config.DefaultPostgresDSN || c.KafkaBrokers[0] != "127.0.0.1:19092" ||
					c.ClickHouse.Addr[0] != "127.0.0.1:19000" || c.ClickHouse.Database != "calore" || c.LogLevel != slog.LevelInfo {
					t.Errorf("defaults: %+v", c)
				}
			},
		},
		{
			name: "lists and levels",
			env:  map[string]string{"CALORE_KAFKA_BROKERS": "k1:9092, k2:9092", "CALORE_LOG_LEVEL": "debug", "CALORE_KAFKA_PARTITIONS": "12"},
			check: func(t *testing.T, c config.Config) {
				if len(c.KafkaBrokers) != 2 || c.KafkaBrokers[1] != "k2:9092" || c.LogLevel != slog.LevelDebug || c.KafkaPartitions != 12 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name:    "every problem at once",
			env:     map[string]string{"CALORE_PG_DSN": "mysql://x", "CALORE_KAFKA_PARTITIONS": "many", "CALORE_CLICKHOUSE_ADDR": "nohost", "CALORE_LOG_LEVEL": "loud", "CALORE_CLICKHOUSE_DATABASE": "a;b"},
			wantErr: []string{"CALORE_PG_DSN", "CALORE_KAFKA_PARTITIONS", "CALORE_CLICKHOUSE_ADDR", "CALORE_LOG_LEVEL", "CALORE_CLICKHOUSE_DATABASE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("FromEnv: %v", err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatal("FromEnv: no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}
