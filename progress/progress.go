// Package progress shows how far a long job is: a bar on a terminal, plain
// lines every few seconds in logs and CI. Imports, seeding and scoring use
// it.
package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Reporter hears how far a job is. The job calls Phase when a step starts
// (total -1 when its size is not known), Set as it goes, and Done at the
// end. Implementations need not be safe for concurrent use.
type Reporter interface {
	Phase(name string, total int64)
	Set(done int64)
	Done()
}

// None reports nothing.
type None struct{}

func (None) Phase(string, int64) {}
func (None) Set(int64)           {}
func (None) Done()               {}

// New returns a progress bar when w is a terminal, else plain lines every
// interval (for logs and CI); label names the job, e.g. with label "import":
// "import: reading 41% (4100/10000)".
func New(w io.Writer, terminal bool, label string, interval time.Duration) Reporter {
	if terminal {
		return &barProgress{w: w, label: label}
	}
	return &lineProgress{w: w, label: label, every: interval, now: time.Now}
}

type barProgress struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
}

func (b *barProgress) Phase(name string, total int64) {
	b.Done()
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(b.label+": "+name),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionSetRenderBlankState(true), // show the phase at once, also one with no steps (merging)
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
	)
}

func (b *barProgress) Set(done int64) {
	if b.bar != nil {
		_ = b.bar.Set64(done)
	}
}

func (b *barProgress) Done() {
	if b.bar != nil {
		_ = b.bar.Finish()
		b.bar = nil
	}
}

type lineProgress struct {
	w     io.Writer
	label string
	every time.Duration
	now   func() time.Time

	name        string
	total, done int64
	start, last time.Time
}

func (l *lineProgress) Phase(name string, total int64) {
	l.Done()
	l.name, l.total, l.done = name, total, 0
	l.start = l.now()
	l.last = l.start
	fmt.Fprintf(l.w, "%s: %s…\n", l.label, name)
}

func (l *lineProgress) Set(done int64) {
	l.done = done
	if now := l.now(); now.Sub(l.last) >= l.every {
		l.last = now
		l.line()
	}
}

func (l *lineProgress) line() {
	if l.total > 0 {
		fmt.Fprintf(l.w, "%s: %s %d%% (%d/%d)\n", l.label, l.name, l.done*100/l.total, l.done, l.total)
	} else {
		fmt.Fprintf(l.w, "%s: %s %d\n", l.label, l.name, l.done)
	}
}

func (l *lineProgress) Done() {
	if l.name == "" {
		return
	}
	fmt.Fprintf(l.w, "%s: %s done in %s\n", l.label, l.name, l.now().Sub(l.start).Round(time.Millisecond))
	l.name = ""
}
