package tracking

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSpoolAppendReplayReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, quietLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := s.Append([]byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Pending(); n != 10 {
		t.Fatalf("pending %d, want 10", n)
	}
	var got []string
	// a failing delivery leaves everything in place
	if _, err := s.Replay(100, 4, func([][]byte) error { return errors.New("kafka down") }); err == nil {
		t.Fatal("replay with failing delivery: no error")
	}
	// deliver 6 (two batches of 3... limited to 6), then "crash" (close and reopen)
	n, err := s.Replay(6, 3, func(v [][]byte) error {
		for _, b := range v {
			got = append(got, string(b))
		}
		return nil
	})
	if err != nil || n != 6 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	// appended after the replay started: goes to a new segment, after the old one
	if err := s.Append([]byte(`{"n":10}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// a torn last line, as a crash mid-write would leave
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	f, _ := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"n":`)
	f.Close()

	s, err = OpenSpool(dir, quietLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Pending(); n != 5 {
		t.Fatalf("pending after reopen %d, want 5", n)
	}
	for s.Pending() > 0 {
		if _, err := s.Replay(100, 2, func(v [][]byte) error {
			for _, b := range v {
				got = append(got, string(b))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i <= 10; i++ {
		if got[i] != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("replayed %v: want 0..10 in order, each once", got)
		}
	}
	if len(got) != 11 {
		t.Fatalf("replayed %d, want 11: %v", len(got), got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("spool dir not empty after full replay: %v", left)
	}
	if ev, b := s.Size(); ev != 0 || b != 0 {
		t.Errorf("size after replay: %d events %d bytes", ev, b)
	}
}

func TestSpoolRefusesNewlines(t *testing.T) {
	s, err := OpenSpool(t.TempDir(), quietLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append([]byte("a\nb")); err == nil {
		t.Error("appended a value with a newline")
	}
}
