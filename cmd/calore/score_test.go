package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestScoreEmptyUniversity scores a migrated store with no data at all, as a
// university's first day would: the jobs that cannot build a model say
// "skipped" with the reason, the others run, and the command succeeds. It
// used to exit 1 on "cluster: 0 rows are too few for k=2", print nothing for
// the jobs that had succeeded and cancel the other job's store write (seen
// failing so before the jobs were made independent).
func TestScoreEmptyUniversity(t *testing.T) {
	t.Parallel()
	getenv, _ := migrated(t)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"score", "--as-of", "2026-01-01"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("score on an empty university: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{"clusters: skipped (", "rows are too few", "heat: ran ("} {
		if !strings.Contains(got, want) {
			t.Errorf("score output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "FAILED") {
		t.Errorf("a job failed on an empty university:\n%s", got)
	}
}
