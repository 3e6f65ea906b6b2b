// Package itest decides whether an integration test may run: it reads the
// CALORE_* variable naming a server, skips the test on a developer laptop
// where the variable is unset, and fails it when CI=true, so that a CI run
// without its servers can never pass by skipping.
package itest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// Env returns the value of key, or skips (fails under CI=true) when unset.
func Env(t testing.TB, key string) string {
	t.Helper()
	v := os.Getenv(key)
	if v != "" {
		return v
	}
	const how = "start the stack with `scripts/stack up` and load it with `eval \"$(scripts/stack env)\"`, or run `make test`"
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is unset but CI=true: integration tests need the real servers; %s", key, how)
	}
	t.Skipf("%s is unset: skipping integration test (%s)", key, how)
	return ""
}

// Name returns prefix followed by 12 random hex digits: a name no other test
// run uses, valid for PostgreSQL and ClickHouse databases and Kafka topics.
func Name(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return prefix + hex.EncodeToString(b)
}

// Getenv is os.Getenv, for config.FromEnv in test helpers.
func Getenv(key string) string { return os.Getenv(key) }
