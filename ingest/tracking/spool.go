package tracking

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Spool is a durable, append-only local queue of Kafka message values, used
// while Kafka is unreachable. It is a directory of segment files
// (<20-digit sequence>.spool), one message per line, appended in order and
// fsynced by Sync (the producer calls it on a short interval and on close).
// Replay reads the oldest segment from its delivered offset (kept in
// <segment>.pos after every delivered batch) and deletes a segment once all
// of it is delivered. A crash between delivering a batch and writing .pos
// replays that batch again: at-least-once, and the sink drops repeated event
// ids.
type Spool struct {
	dir    string
	logger *slog.Logger
	onSize func(events, bytes int64)

	mu        sync.Mutex
	active    *os.File // segment being appended to; nil until the next Append
	activeSeq uint64
	nextSeq   uint64
	dirty     bool
	events    int64 // undelivered messages
	bytes     int64 // undelivered bytes
}

const (
	segmentSuffix  = ".spool"
	posSuffix      = ".pos"
	maxSegmentSize = 64 << 20
)

// OpenSpool opens (creating) the spool in dir and counts what it holds from
// earlier runs. onSize, if not nil, is told the undelivered events and bytes
// after every change.
func OpenSpool(dir string, logger *slog.Logger, onSize func(events, bytes int64)) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, logger: logger, onSize: onSize, nextSeq: 1}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	for _, seq := range segs {
		n, b, err := s.countFrom(seq)
		if err != nil {
			return nil, err
		}
		s.events += n
		s.bytes += b
		s.nextSeq = max(s.nextSeq, seq+1)
	}
	if s.events > 0 {
		logger.Info("tracking spool holds undelivered events", "dir", dir, "events", s.events, "bytes", s.bytes)
	}
	s.report()
	return s, nil
}

// Pending is the number of undelivered messages.
func (s *Spool) Pending() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// Size is the number of undelivered messages and their bytes.
func (s *Spool) Size() (events, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events, s.bytes
}

// Append writes values (one message each, no newlines inside) at the end of
// the spool, in one write.
func (s *Spool) Append(values ...[]byte) error {
	if len(values) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, v := range values {
		if bytes.IndexByte(v, '\n') >= 0 {
			return errors.New("spool append: message contains a newline")
		}
		buf.Write(v)
		buf.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		if err := s.openActive(); err != nil {
			return err
		}
	}
	if n, err := s.active.Write(buf.Bytes()); err != nil {
		if n > 0 { // keep the segment line-aligned for the next append
			if fi, serr := s.active.Stat(); serr == nil {
				_ = s.active.Truncate(fi.Size() - int64(n))
			}
		}
		return fmt.Errorf("spool append to %s: %w", s.active.Name(), err)
	}
	s.dirty = true
	s.events += int64(len(values))
	s.bytes += int64(buf.Len())
	s.report()
	if fi, err := s.active.Stat(); err == nil && fi.Size() >= maxSegmentSize {
		return s.closeActive()
	}
	return nil
}

// Sync makes everything appended so far durable.
func (s *Spool) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil || !s.dirty {
		return nil
	}
	s.dirty = false
	if err := s.active.Sync(); err != nil {
		return fmt.Errorf("spool fsync %s: %w", s.active.Name(), err)
	}
	return nil
}

// Close syncs and closes the active segment; the spool's content stays for
// the next run.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeActive()
}

// Replay delivers up to limit messages from the oldest segment, in order,
// in batches of at most batch, through deliver. It returns how many were
// delivered; an error from deliver stops it, and the failed batch stays in
// the spool to be replayed next time.
func (s *Spool) Replay(limit, batch int, deliver func(values [][]byte) error) (int, error) {
	seq, ok, err := s.oldestClosed()
	if err != nil || !ok {
		return 0, err
	}
	path := s.segPath(seq)
	pos, err := readPos(path + posSuffix)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("spool replay: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		return 0, fmt.Errorf("spool replay seek %s: %w", path, err)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	delivered := 0
	var values [][]byte
	var size int64
	flush := func() error {
		if len(values) == 0 {
			return nil
		}
		if err := deliver(values); err != nil {
			return err
		}
		pos += size
		delivered += len(values)
		if err := os.WriteFile(path+posSuffix, []byte(strconv.FormatInt(pos, 10)), 0o640); err != nil {
			return fmt.Errorf("spool replay: record position: %w", err)
		}
		s.mu.Lock()
		s.events -= int64(len(values))
		s.bytes -= size
		s.report()
		s.mu.Unlock()
		values, size = values[:0], 0
		return nil
	}
	for delivered+len(values) < limit {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				// A torn last line: the process died mid-write before the
				// data was synced. It was never complete; drop it.
				s.logger.Warn("tracking spool: dropping a torn last line", "segment", path, "bytes", len(line))
			}
			if err := flush(); err != nil {
				return delivered, err
			}
			if err := os.Remove(path); err != nil {
				return delivered, fmt.Errorf("spool: remove delivered segment: %w", err)
			}
			_ = os.Remove(path + posSuffix)
			return delivered, nil
		}
		if err != nil {
			return delivered, fmt.Errorf("spool replay read %s: %w", path, err)
		}
		size += int64(len(line))
		values = append(values, line[:len(line)-1])
		if len(values) >= batch {
			if err := flush(); err != nil {
				return delivered, err
			}
		}
	}
	return delivered, flush()
}

// oldestClosed returns the oldest segment, first closing the active one if
// that is the oldest (so the next Append starts a new segment).
func (s *Spool) oldestClosed() (uint64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	segs, err := s.segments()
	if err != nil || len(segs) == 0 {
		return 0, false, err
	}
	if s.active != nil && segs[0] == s.activeSeq {
		if err := s.closeActive(); err != nil {
			return 0, false, err
		}
	}
	return segs[0], true, nil
}

func (s *Spool) openActive() error {
	seq := s.nextSeq
	f, err := os.OpenFile(s.segPath(seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("spool: new segment: %w", err)
	}
	s.active, s.activeSeq, s.nextSeq = f, seq, seq+1
	if d, err := os.Open(s.dir); err == nil { // make the new file's name durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// closeActive must be called with s.mu held.
func (s *Spool) closeActive() error {
	if s.active == nil {
		return nil
	}
	f := s.active
	s.active, s.dirty = nil, false
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("spool fsync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool close %s: %w", f.Name(), err)
	}
	return nil
}

func (s *Spool) segPath(seq uint64) string { return segmentPath(s.dir, seq, segmentSuffix) }

func (s *Spool) segments() ([]uint64, error) {
	out, err := listSegments(s.dir, segmentSuffix)
	if err != nil {
		return nil, fmt.Errorf("list spool %s: %w", s.dir, err)
	}
	return out, nil
}

// segmentPath names segment seq of a directory of numbered segment files
// (the spool's and the write-ahead log's): zero-padded, so names sort as
// numbers.
func segmentPath(dir string, seq uint64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// listSegments returns the sequence numbers of dir's segment files with
// suffix, in order.
func listSegments(dir, suffix string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), suffix)
		if !ok || e.IsDir() {
			continue
		}
		if seq, err := strconv.ParseUint(name, 10, 64); err == nil {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out, nil
}

// countFrom counts the undelivered complete lines and bytes of a segment.
func (s *Spool) countFrom(seq uint64) (int64, int64, error) {
	path := s.segPath(seq)
	pos, err := readPos(path + posSuffix)
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("spool count: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		return 0, 0, fmt.Errorf("spool count seek %s: %w", path, err)
	}
	var n, b int64
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return n, b, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("spool count %s: %w", path, err)
		}
		n++
		b += int64(len(line))
	}
}

func readPos(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("spool position: %w", err)
	}
	pos, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || pos < 0 {
		return 0, fmt.Errorf("spool position %s: %q is not an offset", path, b)
	}
	return pos, nil
}

// report must be called with s.mu held.
func (s *Spool) report() {
	if s.onSize != nil {
		s.onSize(s.events, s.bytes)
	}
}
