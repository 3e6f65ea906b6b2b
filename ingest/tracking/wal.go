package tracking

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// WAL is the write-ahead log that makes a tracking hit durable before its
// 2xx: Publish appends the encoded event and waits until the line is
// fsynced. Appends from concurrent requests are written and fsynced
// together by one goroutine (group commit), so a request waits for at most
// about two fsyncs however many arrive at once.
//
// The log is a directory of segment files (<20-digit sequence>.wal), one
// message per line. Each line is released once it is safe elsewhere: Kafka
// acknowledged it, or it is in the fsynced spool. A segment that is no
// longer appended to (rotated by size or age) and whose lines are all
// released is deleted. At start, OpenWAL moves whatever earlier runs left
// (hits acknowledged to the client but perhaps never produced: the process
// died) into the spool, which replays them to Kafka; lines that had reached
// Kafka already are sent again and the sink drops the repeated event ids.
type WAL struct {
	dir    string
	logger *slog.Logger
	nosync bool // only to show what is lost without the fsync (tests, bench/faults.md)

	mu      sync.Mutex
	f       *os.File
	seq     uint64
	size    int64
	opened  time.Time
	cur     *walBatch       // filling; nil when nothing waits
	live    map[uint64]int  // unreleased lines by segment
	retired map[uint64]bool // segments no longer appended to
	kick    chan struct{}   // wakes the committer
	done    chan struct{}   // the committer has stopped
	stop    chan struct{}   // Close asks the committer to stop
	closed  bool
}

// walBatch is one group commit: the lines of every Append that arrived
// while the previous fsync ran.
type walBatch struct {
	buf  []byte
	seg  uint64
	done chan struct{}
	err  error
}

const (
	walSuffix     = ".wal"
	walSegmentMax = 8 << 20
	walSegmentAge = time.Second
)

// OpenWAL opens the log in dir, first moving what earlier runs left into
// spool (appended and fsynced, then the old segments removed). It returns
// the log and how many lines it recovered. nosync makes Append return
// without writing anything: acknowledged hits are then lost in a crash
// (what the log is for, shown by the SIGKILL test).
func OpenWAL(dir string, spool *Spool, logger *slog.Logger, nosync bool) (*WAL, int, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, 0, fmt.Errorf("open tracking log %s: %w", dir, err)
	}
	w := &WAL{dir: dir, logger: logger, nosync: nosync, live: map[uint64]int{}, retired: map[uint64]bool{},
		kick: make(chan struct{}, 1), done: make(chan struct{}), stop: make(chan struct{})}
	segs, err := w.segments()
	if err != nil {
		return nil, 0, err
	}
	recovered := 0
	for _, seq := range segs {
		n, err := w.recover(seq, spool)
		if err != nil {
			return nil, recovered, err
		}
		recovered += n
		w.seq = max(w.seq, seq)
	}
	if recovered > 0 {
		logger.Warn("tracking: recovered acknowledged hits from the write-ahead log into the spool", "dir", dir, "wal_recovered", recovered)
	}
	go w.commit()
	return w, recovered, nil
}

// recover appends the complete lines of segment seq to the spool, syncs
// the spool and removes the segment.
func (w *WAL) recover(seq uint64, spool *Spool) (int, error) {
	path := w.segPath(seq)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("tracking log recover: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var values [][]byte
	n := 0
	flush := func() error {
		if err := spool.Append(values...); err != nil {
			return fmt.Errorf("tracking log recover %s: %w", path, err)
		}
		n += len(values)
		values = values[:0]
		return nil
	}
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				// A torn last line was never fsynced, so never acknowledged.
				w.logger.Warn("tracking log: dropping a torn last line", "segment", path, "bytes", len(line))
			}
			break
		}
		if err != nil {
			return n, fmt.Errorf("tracking log recover read %s: %w", path, err)
		}
		values = append(values, slices.Clone(line[:len(line)-1]))
		if len(values) >= 1000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	if err := spool.Sync(); err != nil {
		return n, fmt.Errorf("tracking log recover: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return n, fmt.Errorf("tracking log recover: remove %s: %w", path, err)
	}
	return n, nil
}

// Append writes v (one message, no newline inside) and returns once it is
// durable, with the segment to Release it from later.
func (w *WAL) Append(v []byte) (uint64, error) {
	if w.nosync {
		return 0, nil
	}
	if slices.Contains(v, '\n') {
		return 0, errors.New("tracking log append: message contains a newline")
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, ErrProducerClosed
	}
	b := w.cur
	if b == nil {
		b = &walBatch{done: make(chan struct{})}
		w.cur = b
	}
	b.buf = append(b.buf, v...)
	b.buf = append(b.buf, '\n')
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	<-b.done
	if b.err != nil {
		return 0, b.err
	}
	return b.seg, nil
}

// Release marks n lines of segment seg as safe elsewhere (in Kafka or in the
// fsynced spool).
func (w *WAL) Release(seg uint64, n int) {
	if w.nosync || n == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live[seg] -= n
	w.gc(seg)
}

// gc removes segment seg if it is retired and fully released; w.mu held.
func (w *WAL) gc(seg uint64) {
	if !w.retired[seg] || w.live[seg] > 0 {
		return
	}
	if w.live[seg] < 0 {
		w.logger.Error("tracking log: released more lines than written", "segment", seg, "live", w.live[seg])
	}
	delete(w.live, seg)
	delete(w.retired, seg)
	if err := os.Remove(w.segPath(seg)); err != nil && !errors.Is(err, os.ErrNotExist) {
		w.logger.Error("tracking log: remove released segment", "err", err)
	}
}

// commit is the group-commit goroutine: it takes the filling batch, writes
// and fsyncs it, and wakes its callers.
func (w *WAL) commit() {
	defer close(w.done)
	tick := time.NewTicker(walSegmentAge)
	defer tick.Stop()
	for {
		select {
		case <-w.kick:
		case <-tick.C:
			w.mu.Lock()
			if w.f != nil && time.Since(w.opened) >= walSegmentAge {
				w.rotate()
			}
			w.mu.Unlock()
			continue
		case <-w.stop:
			w.mu.Lock()
			b := w.cur
			w.cur = nil
			w.mu.Unlock()
			if b != nil {
				w.write(b)
			}
			return
		}
		w.mu.Lock()
		b := w.cur
		w.cur = nil
		w.mu.Unlock()
		if b != nil {
			w.write(b)
		}
	}
}

// write appends batch b to the current segment (opening one if needed),
// fsyncs it and wakes b's callers.
func (w *WAL) write(b *walBatch) {
	defer close(b.done)
	lines := strings.Count(string(b.buf), "\n")
	w.mu.Lock()
	if w.f == nil || w.size >= walSegmentMax {
		w.rotate()
		if err := w.open(); err != nil {
			w.mu.Unlock()
			b.err = err
			return
		}
	}
	f, seg := w.f, w.seq
	w.live[seg] += lines // counted before the write: Release cannot come first
	w.mu.Unlock()
	_, err := f.Write(b.buf)
	if err == nil {
		err = f.Sync()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.size += int64(len(b.buf))
	if err != nil {
		// The lines may or may not be on disk; the callers get an error
		// (5xx), and a replay of any that are is at worst a duplicate the
		// sink drops. Start a new segment so the torn one is retired.
		w.live[seg] -= lines
		w.rotate()
		b.err = fmt.Errorf("tracking log append: %w", err)
		return
	}
	b.seg = seg
}

// open starts a new segment; w.mu held.
func (w *WAL) open() error {
	w.seq++
	f, err := os.OpenFile(w.segPath(w.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("tracking log: new segment: %w", err)
	}
	if d, err := os.Open(w.dir); err == nil { // make the new name durable
		_ = d.Sync()
		d.Close()
	}
	w.f, w.size, w.opened = f, 0, time.Now()
	return nil
}

// rotate retires the current segment (it is removed once released); w.mu
// held.
func (w *WAL) rotate() {
	if w.f == nil {
		return
	}
	if err := w.f.Close(); err != nil {
		w.logger.Error("tracking log: close segment", "err", err)
	}
	w.f = nil
	w.retired[w.seq] = true
	w.gc(w.seq)
}

// Close writes what waits, stops the committer and closes the current
// segment; segments with unreleased lines stay for the next start.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rotate()
	return nil
}

// Segments is how many segment files the log holds (for tests).
func (w *WAL) Segments() int {
	segs, _ := w.segments()
	return len(segs)
}

func (w *WAL) segPath(seq uint64) string { return segmentPath(w.dir, seq, walSuffix) }

func (w *WAL) segments() ([]uint64, error) {
	out, err := listSegments(w.dir, walSuffix)
	if err != nil {
		return nil, fmt.Errorf("list tracking log %s: %w", w.dir, err)
	}
	return out, nil
}
