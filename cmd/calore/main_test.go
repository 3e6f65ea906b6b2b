package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/ingest"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/warehouse"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// testEnv points the binary at a fresh PostgreSQL database, a fresh
// ClickHouse database and a fresh Kafka topic prefix.
func testEnv(t testing.TB) func(string) string {
	t.Helper()
	ch := warehousetest.NewEmpty(t)
	k := kafkatest.Kafka(t)
	brokers := k.Brokers
	prefix := itest.Name("test") + "."
	t.Cleanup(func() {
		names := make([]string, len(ingest.Topics))
		for i, n := range ingest.Topics {
			names[i] = prefix + n
		}
		_ = ingest.DeleteTopics(context.Background(), k, names...)
	})
	db := pgtest.NewDB(t)
	env := map[string]string{
		"CALORE_PG_DSN":              db.App,
		"CALORE_PG_MIGRATE_DSN":      db.Owner,
		"CALORE_CLICKHOUSE_ADDR":     strings.Join(ch.Addr, ","),
		"CALORE_CLICKHOUSE_USER":     ch.User,
		"CALORE_CLICKHOUSE_PASSWORD": ch.Password,
		"CALORE_CLICKHOUSE_DATABASE": ch.Database,
		"CALORE_KAFKA_BROKERS":       strings.Join(brokers, ","),
		"CALORE_KAFKA_TOPIC_PREFIX":  prefix,
		"CALORE_KAFKA_PARTITIONS":    "2",
		"CALORE_LOG_LEVEL":           "warn",
	}
	for k, v := range kafkatest.Env(t) {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestMigrateTwiceAndVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	getenv := testEnv(t)
	var out, errOut bytes.Buffer

	if err := run(ctx, []string{"version"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("version before migrate: %v", err)
	}
	if !strings.Contains(out.String(), "postgres schema 0, binary has") || !strings.Contains(out.String(), "clickhouse schema 0, binary has") {
		t.Errorf("version before migrate:\n%s", out.String())
	}

	out.Reset()
	if err := run(ctx, []string{"migrate"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("first migrate: %v\n%s", err, errOut.String())
	}
	first := out.String()
	for _, want := range []string{"postgres: 0 → ", "clickhouse: 0 → ", "kafka: created"} {
		if !strings.Contains(first, want) {
			t.Errorf("first migrate output lacks %q:\n%s", want, first)
		}
	}

	out.Reset()
	if err := run(ctx, []string{"migrate"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	second := out.String()
	if strings.Count(second, "nothing to do") != 3 {
		t.Errorf("second migrate should have nothing to do in all three stores:\n%s", second)
	}

	out.Reset()
	if err := run(ctx, []string{"version"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("version: %v", err)
	}
	v := out.String()
	if !strings.HasPrefix(v, "calore "+version+"\n") || strings.Count(v, "(up to date)") != 2 {
		t.Errorf("version after migrate:\n%s", v)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{nil, true},
		{[]string{"frobnicate"}, true},
		{[]string{"help"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errOut)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, errUsage)) {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !strings.Contains(out.String()+errOut.String(), "usage: calore") {
				t.Errorf("no usage text")
			}
		})
	}
}

// TestMigrateCreatesWarehouseDatabase migrates a warehouse database that does
// not exist yet: `calore migrate` creates it (it used to migrate PostgreSQL
// and then fail with "Database … doesn't exist"; seen failing so without
// warehouse.EnsureDatabase).
func TestMigrateCreatesWarehouseDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := testEnv(t)
	db, bi := itest.Name("fresh_"), itest.Name("fresh_bi_")
	getenv := func(k string) string {
		switch k {
		case "CALORE_CLICKHOUSE_DATABASE":
			return db
		case "CALORE_CLICKHOUSE_BI_DATABASE":
			return bi
		}
		return base(k)
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin := cfg.ClickHouse
		admin.Database = "default"
		conn, err := warehouse.Open(context.Background(), admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		for _, name := range []string{bi, db} {
			if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name); err != nil {
				t.Errorf("drop %s: %v", name, err)
			}
		}
	})
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("migrate into a new database: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "clickhouse: 0 → ") {
		t.Errorf("migrate output:\n%s", out.String())
	}
}
