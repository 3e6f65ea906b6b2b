package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBIPbids(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "calore.pbids")
	env := map[string]string{"CALORE_CLICKHOUSE_ADDR": "ch.example.edu:9000", "CALORE_CLICKHOUSE_BI_DATABASE": "reporting"}
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"bi", "pbids", "-o", out, "-port", "8443", "-https", "-mode", "DirectQuery"},
		func(k string) string { return env[k] }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var p Pbids
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "0.1" || len(p.Connections) != 1 {
		t.Fatalf("pbids %s", b)
	}
	c := p.Connections[0]
	want := "Driver={ClickHouse ODBC Driver (Unicode)};Url=https://ch.example.edu:8443;Database=reporting;Username=powerbi"
	if c.Details.Protocol != "odbc" || c.Details.Address["connectionString"] != want || c.Mode != "DirectQuery" {
		t.Errorf("connection %+v, want connection string %s in DirectQuery", c, want)
	}
	if strings.Contains(strings.ToLower(string(b)), "password") {
		t.Error("a .pbids file must not carry a password")
	}
	if err := run(t.Context(), []string{"bi", "pbids", "-o", "-", "-mode", "Live"}, func(k string) string { return env[k] }, &stdout, &stderr); err == nil {
		t.Error("mode Live accepted")
	}
}
