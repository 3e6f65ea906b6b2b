package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `{"Action":"output","Output":"goos: linux\n"}
{"Action":"output","Output":"BenchmarkSink-2   \t       1\t1186000000 ns/op\t     84000 events/s\n"}
{"Action":"output","Output":"BenchmarkSink-2   \t       1\t1186000000 ns/op\t     90000 events/s\n"}
{"Action":"output","Output":"BenchmarkSink-2   \t       1\t1186000000 ns/op\t     80000 events/s\n"}
{"Action":"output","Output":"BenchmarkRawBatchInsert-2\t"}
{"Action":"output","Output":"       1\t1186000000 ns/op\t    400000 events/s\n"}
{"Action":"output","Output":"BenchmarkImportContacts/merge-10k-2 \t 1\t1500000000 ns/op\t 6666 rows/s\n"}
not json at all
`

func TestReport(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "raw.json")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| pipeline | sink throughput | 84,000 events/s | 400,000 events/s | 0.21 | ≥ 100,000 events/s | **no** |",
		"| import | 10,000 contacts merged into 200,000 | 1.50 s | not run |  | ≤ 2 s | yes |",
		"| tracking | tracking endpoint throughput | not run |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
