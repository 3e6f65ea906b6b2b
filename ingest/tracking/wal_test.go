package tracking

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestWALRecoversUnreleasedLines: lines appended (and so acknowledged) but
// not released are moved into the spool at the next open, a torn last line
// is dropped, and released lines of a retired segment are deleted.
func TestWALRecoversUnreleasedLines(t *testing.T) {
	dir := t.TempDir()
	spool, err := OpenSpool(dir, quietLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, n, err := OpenWAL(filepath.Join(dir, "wal"), spool, quietLogger(), false)
	if err != nil || n != 0 {
		t.Fatalf("open: %d recovered, %v", n, err)
	}
	var wg sync.WaitGroup
	segs := make([]uint64, 50)
	for i := range 50 {
		wg.Go(func() {
			seg, err := w.Append([]byte(fmt.Sprintf(`{"n":%d}`, i)))
			if err != nil {
				t.Error(err)
			}
			segs[i] = seg
		})
	}
	wg.Wait()
	// release the first 20, as if Kafka acknowledged them
	for i := range 20 {
		w.Release(segs[i], 1)
	}
	// "crash": no Close; a torn line as if killed mid-write
	f, err := os.OpenFile(w.segPath(w.seq), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"torn`)
	f.Close()
	spool2, err := OpenSpool(t.TempDir(), quietLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// released lines of the live segment are still in it (it was not
	// retired): all 50 come back; the sink drops repeated ids.
	w2, n, err := OpenWAL(filepath.Join(dir, "wal"), spool2, quietLogger(), false)
	if err != nil {
		t.Fatal(err)
	}
	if n != 50 || spool2.Pending() != 50 {
		t.Fatalf("recovered %d, spool holds %d; want 50", n, spool2.Pending())
	}
	if got := w2.Segments(); got != 0 {
		t.Fatalf("%d segments left after recovery, want 0", got)
	}
	// a released, retired segment is deleted
	seg, err := w2.Append([]byte(`{"n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	w2.Release(seg, 1)
	deadline := time.Now().Add(5 * time.Second)
	for w2.Segments() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("released segment not removed after rotation")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
}
