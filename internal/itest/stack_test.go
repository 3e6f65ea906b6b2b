package itest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/calore-crm/calore/internal/itest"
)

// TestStackFilesArePrivate checks the running local stack's files
// (scripts/stack): the secrets directory 0700 and every secret 0600, the
// ClickHouse configuration with its password hashes 0600, the ClickHouse and
// Kafka directories (topic segments hold personal data) 0700, the Kafka
// properties with passwords 0600, no topic file readable by others. Seen
// failing after `chmod 644` on a secret, on users.xml and on a topic segment
// (the mode a broker started without umask 077 gives it).
func TestStackFilesArePrivate(t *testing.T) {
	itest.Env(t, "CALORE_KAFKA_BROKERS") // a stack is running
	dir := os.Getenv("CALORE_STACK_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".stack")
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets")); err != nil {
		t.Skipf("no local stack at %s (another server set?): %v", dir, err)
	}
	want := map[string]os.FileMode{
		"secrets":                     0o700,
		"clickhouse":                  0o700,
		"clickhouse/users.xml":        0o600,
		"clickhouse/config.xml":       0o600,
		"kafka":                       0o700,
		"kafka/data":                  0o700,
		"kafka/server.properties":     0o600,
		"kafka/admin.properties":      0o600,
		"secrets/kafka_sink_password": 0o600,
	}
	secrets, err := os.ReadDir(filepath.Join(dir, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		want[filepath.Join("secrets", s.Name())] = 0o600
	}
	// every topic segment and log the broker wrote: its user's alone
	err = filepath.WalkDir(filepath.Join(dir, "kafka", "data"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o: readable beyond the broker's user", path, fi.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf(".stack/%s has mode %04o, want %04o", name, got, mode)
		}
	}
}
