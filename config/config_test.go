package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

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
					c.ClickHouse.Addr[0] != "127.0.0.1:19000" || c.ClickHouse.Database != "calore" || c.LogLevel != slog.LevelInfo || c.RollupEvery != time.Minute {
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
			name: "public URL and cookie: plain http by default",
			env:  nil,
			check: func(t *testing.T, c config.Config) {
				if c.PublicURL != nil || c.CookieSecure {
					t.Errorf("public url %v, secure cookie %v", c.PublicURL, c.CookieSecure)
				}
			},
		},
		{
			name: "an https public URL makes the cookie Secure",
			env:  map[string]string{"CALORE_PUBLIC_URL": "https://crm.example.edu/"},
			check: func(t *testing.T, c config.Config) {
				if c.PublicURL == nil || c.PublicURL.String() != "https://crm.example.edu" || !c.CookieSecure {
					t.Errorf("public url %v, secure cookie %v", c.PublicURL, c.CookieSecure)
				}
			},
		},
		{
			name: "CALORE_COOKIE_SECURE overrides",
			env:  map[string]string{"CALORE_PUBLIC_URL": "https://crm.example.edu", "CALORE_COOKIE_SECURE": "false"},
			check: func(t *testing.T, c config.Config) {
				if c.CookieSecure {
					t.Error("CALORE_COOKIE_SECURE=false ignored")
				}
			},
		},
		{
			name:    "bad public URL and cookie flag",
			env:     map[string]string{"CALORE_PUBLIC_URL": "crm.example.edu/app", "CALORE_COOKIE_SECURE": "maybe"},
			wantErr: []string{"CALORE_PUBLIC_URL", "CALORE_COOKIE_SECURE"},
		},
		{
			name: "kafka SASL and the migration role",
			env: map[string]string{"CALORE_KAFKA_USER": "relay", "CALORE_KAFKA_PASSWORD": "pw", "CALORE_KAFKA_SASL_MECHANISM": "scram-sha-256",
				"CALORE_PG_DSN": "postgres://app@db/calore", "CALORE_PG_MIGRATE_DSN": "postgres://owner@db/calore"},
			check: func(t *testing.T, c config.Config) {
				if c.KafkaSASL != (config.KafkaSASL{User: "relay", Password: "pw", Mechanism: config.SCRAMSHA256}) || c.PostgresMigrateDSN != "postgres://owner@db/calore" {
					t.Errorf("got %+v, migrate DSN %q", c.KafkaSASL, c.PostgresMigrateDSN)
				}
			},
		},
		{
			name: "no SASL and one role by default",
			env:  map[string]string{"CALORE_PG_DSN": "postgres://app@db/calore"},
			check: func(t *testing.T, c config.Config) {
				if c.KafkaSASL.User != "" || c.KafkaSASL.Mechanism != config.SCRAMSHA512 || c.PostgresMigrateDSN != c.PostgresDSN {
					t.Errorf("got %+v, migrate DSN %q", c.KafkaSASL, c.PostgresMigrateDSN)
				}
			},
		},
		{
			name:    "kafka SASL half set",
			env:     map[string]string{"CALORE_KAFKA_USER": "relay", "CALORE_KAFKA_SASL_MECHANISM": "GSSAPI", "CALORE_PG_MIGRATE_DSN": "mysql://x"},
			wantErr: []string{"CALORE_KAFKA_PASSWORD", "CALORE_KAFKA_SASL_MECHANISM", "CALORE_PG_MIGRATE_DSN"},
		},
		{
			name: "tracking defaults: no key, serve refuses",
			env:  nil,
			check: func(t *testing.T, c config.Config) {
				tr := c.Tracking
				if tr.DevKeys || len(tr.Keys) != 0 || tr.SpoolDir == "" || tr.RequireKeys() == nil {
					t.Errorf("tracking defaults: %+v, RequireKeys %v", tr, tr.RequireKeys())
				}
			},
		},
		{
			name: "the development key only when asked for",
			env:  map[string]string{"CALORE_TRACKING_DEV_KEY": "1"},
			check: func(t *testing.T, c config.Config) {
				tr := c.Tracking
				if !tr.DevKeys || len(tr.Keys) != 1 || tr.Keys[0].ID != "dev" || len(tr.Keys[0].Secret) < 32 || tr.RequireKeys() != nil {
					t.Errorf("tracking dev key: %+v", tr)
				}
			},
		},
		{
			// Security: seen failing with `keys == ""` removed from the dev-key case of trackingFromEnv.
			name: "real keys win over the flag: the development key is not loaded",
			env:  map[string]string{"CALORE_TRACKING_DEV_KEY": "1", "CALORE_TRACKING_KEYS": "k1:" + strings.Repeat("QUJD", 11)},
			check: func(t *testing.T, c config.Config) {
				tr := c.Tracking
				if tr.DevKeys || len(tr.Keys) != 1 || tr.Keys[0].ID != "k1" {
					t.Errorf("tracking keys: %+v", tr)
				}
			},
		},
		{
			// Security: seen failing with the dev-secret check in trackingFromEnv removed.
			name:    "the public development secret is refused among real keys",
			env:     map[string]string{"CALORE_TRACKING_KEYS": "k1:" + strings.Repeat("QUJD", 11) + "," + strings.Replace(config.DefaultTrackingKeys, "dev:", "old:", 1)},
			wantErr: []string{`key "old" is the public development key`},
		},
		{
			name:    "bad development flag",
			env:     map[string]string{"CALORE_TRACKING_DEV_KEY": "yes"},
			wantErr: []string{"CALORE_TRACKING_DEV_KEY"},
		},
		{
			name: "tracking keys, origins, proxies, spool",
			env: map[string]string{
				"CALORE_TRACKING_KEYS":            "k2:" + strings.Repeat("QUJD", 11) + ", k1:" + strings.Repeat("WFla", 11),
				"CALORE_TRACKING_ORIGINS":         "https://www.example.edu, *",
				"CALORE_TRACKING_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, 2001:db8::/32",
				"CALORE_SPOOL_DIR":                "/var/spool/calore",
			},
			check: func(t *testing.T, c config.Config) {
				tr := c.Tracking
				if tr.DevKeys || len(tr.Keys) != 2 || tr.Keys[0].ID != "k2" || string(tr.Keys[1].Secret[:3]) != "XYZ" {
					t.Errorf("keys: %+v", tr.Keys)
				}
				if len(tr.Origins) != 2 || len(tr.TrustedProxies) != 3 || tr.TrustedProxies[1].String() != "192.0.2.7/32" || tr.SpoolDir != "/var/spool/calore" {
					t.Errorf("tracking: %+v", tr)
				}
			},
		},
		{
			name: "tracking problems",
			env: map[string]string{
				"CALORE_TRACKING_KEYS":            "short:QUJD,bad id!:" + strings.Repeat("QUJD", 11) + ",nocolon,nb64:%%%",
				"CALORE_TRACKING_ORIGINS":         "www.example.edu",
				"CALORE_TRACKING_TRUSTED_PROXIES": "proxy.example.edu",
			},
			wantErr: []string{"key \"short\": secret has 3 bytes", "key id \"bad id!\"", "not kid:base64secret", "key \"nb64\": secret is not base64", "CALORE_TRACKING_ORIGINS", "CALORE_TRACKING_TRUSTED_PROXIES"},
		},
		{
			name:    "data key master not 32 bytes of base64",
			env:     map[string]string{"CALORE_DATA_KEY_MASTER": "c2hvcnQ="},
			wantErr: []string{"CALORE_DATA_KEY_MASTER"},
		},
		{
			name: "data key master",
			env:  map[string]string{"CALORE_DATA_KEY_MASTER": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="},
			check: func(t *testing.T, c config.Config) {
				if string(c.DataKeyMaster) != "0123456789abcdef0123456789abcdef" {
					t.Errorf("DataKeyMaster %q", c.DataKeyMaster)
				}
			},
		},
		{
			name: "today pinned",
			env:  map[string]string{"CALORE_TODAY": "2026-01-01"},
			check: func(t *testing.T, c config.Config) {
				if got := c.Now().Format("2006-01-02"); got != "2026-01-01" {
					t.Errorf("Now() is on %s", got)
				}
			},
		},
		{
			name:    "every problem at once",
			env:     map[string]string{"CALORE_PG_DSN": "mysql://x", "CALORE_KAFKA_PARTITIONS": "many", "CALORE_CLICKHOUSE_ADDR": "nohost", "CALORE_LOG_LEVEL": "loud", "CALORE_CLICKHOUSE_DATABASE": "a;b", "CALORE_TODAY": "1st of May", "CALORE_ROLLUP_EVERY": "often"},
			wantErr: []string{"CALORE_TODAY", "CALORE_ROLLUP_EVERY", "CALORE_PG_DSN", "CALORE_KAFKA_PARTITIONS", "CALORE_CLICKHOUSE_ADDR", "CALORE_LOG_LEVEL", "CALORE_CLICKHOUSE_DATABASE"},
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
