package notebooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calore-crm/calore/internal/itest"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/synthetic"
	"github.com/calore-crm/calore/synthetic/load"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

func notebookFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d notebooks, want the 4 of issue 7 at least", len(files))
	}
	return files
}

// TestNotebooksCarryNoOutputs: committed notebooks hold code, not results
// (strip them with `python notebooks/run.py --strip`).
func TestNotebooksCarryNoOutputs(t *testing.T) {
	for _, f := range notebookFiles(t) {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var nb struct {
				Metadata struct {
					Kernelspec struct{ Name string } `json:"kernelspec"`
				} `json:"metadata"`
				Cells []struct {
					CellType       string            `json:"cell_type"`
					Outputs        []json.RawMessage `json:"outputs"`
					ExecutionCount *int              `json:"execution_count"`
				} `json:"cells"`
			}
			if err := json.Unmarshal(b, &nb); err != nil {
				t.Fatalf("not a notebook: %v", err)
			}
			if nb.Metadata.Kernelspec.Name != "python3" {
				t.Errorf("kernel %q, want python3", nb.Metadata.Kernelspec.Name)
			}
			for i, c := range nb.Cells {
				if c.CellType == "code" && (len(c.Outputs) > 0 || c.ExecutionCount != nil) {
					t.Errorf("cell %d carries outputs or an execution count: strip the notebook (python notebooks/run.py --strip)", i)
				}
			}
		})
	}
}

// TestNotebooksRun executes every notebook headless against a small
// synthetic university of its own, scored as of 2026-01-01, through a bi
// database of its own, and fails if a notebook raises or shows no chart or
// no table. The notebooks run in a Python venv under .stack/venv made from
// requirements.txt (reused while the requirements and the Python are the
// same). With CI=true a missing python3 fails the test instead of skipping.
func TestNotebooksRun(t *testing.T) {
	itest.Env(t, "CALORE_CLICKHOUSE_ADDR")
	itest.Env(t, "CALORE_PG_DSN")
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 is not installed but CI=true: the notebooks must run (install python3 and python3-venv)")
		}
		t.Skip("python3 is not installed: skipping the notebooks")
	}
	venvPython := ensureVenv(t, python)

	ctx := context.Background()
	pool := pgtest.New(t)
	conn, c := warehousetest.NewBI(t)
	s, err := synthetic.ScaleByName("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Alumni, s.NewsletterContacts, s.Journalists, s.Referents, s.ProspectsPerYear, s.Organisations = 1500, 800, 20, 200, 150, 30
	s.DonorsPerYear, s.EventsPerYear = 30, 10
	if _, err := load.Run(ctx, pool, conn, s, 1, nil); err != nil {
		t.Fatalf("load the synthetic university: %v", err)
	}
	heat, err := scoring.DefaultHeatConfig()
	if err != nil {
		t.Fatal(err)
	}
	env := &scoring.Env{Warehouse: conn, Store: pool, Logger: slog.New(slog.DiscardHandler), Heat: heat}
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, j := range scoring.Jobs() {
		if _, err := j.Run(ctx, env, asOf); err != nil {
			t.Fatalf("score %s: %v", j.Name(), err)
		}
	}

	out := t.TempDir()
	cmd := exec.Command(venvPython, append([]string{"run.py", "--save", out}, notebookFiles(t)...)...)
	cmd.Env = append(withoutCalore(os.Environ()),
		"CALORE_CLICKHOUSE_ADDR="+c.Addr[0],
		"CALORE_CLICKHOUSE_BI_DATABASE="+c.BIDatabase,
		// the powerbi user may open only the database named bi; this test's
		// bi database is read as the writer, with readonly = 1 (calore_bi.py)
		"CALORE_BI_USER="+c.User,
		"CALORE_BI_PASSWORD="+c.Password,
		"MPLCONFIGDIR="+t.TempDir(),
		"IPYTHONDIR="+t.TempDir(),
	)
	b, err := cmd.CombinedOutput()
	t.Logf("notebooks:\n%s", lastLines(string(b), 200))
	if err != nil {
		t.Fatalf("a notebook failed: %v", err)
	}
}

// ensureVenv returns the python of .stack/venv, creating the venv and
// installing requirements.txt when the venv is missing or was made from
// other requirements or another Python.
func ensureVenv(t *testing.T, python string) string {
	t.Helper()
	req, err := os.ReadFile("requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	ver, err := exec.Command(python, "-c", "import sys; print(sys.version)").Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	sum := sha256.Sum256(append(req, ver...))
	want := hex.EncodeToString(sum[:])

	stack, err := filepath.Abs(filepath.Join("..", ".stack"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(stack, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(stack, "venv.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	venv := filepath.Join(stack, "venv")
	venvPython := filepath.Join(venv, "bin", "python")
	stamp := filepath.Join(venv, ".calore-requirements")
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		if _, err := os.Stat(venvPython); err == nil {
			return venvPython
		}
	}
	t.Logf("creating %s from requirements.txt", venv)
	if err := os.RemoveAll(venv); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, lastLines(string(b), 40))
		}
	}
	run(python, "-m", "venv", venv)
	run(venvPython, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r", "requirements.txt")
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return venvPython
}

// withoutCalore drops the stack's CALORE_* settings, so the notebooks reach
// only the test's own databases.
func withoutCalore(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CALORE_") {
			out = append(out, kv)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
