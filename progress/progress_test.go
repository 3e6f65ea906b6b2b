package progress

import (
	"strings"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	clock := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	tick := func(d time.Duration) { clock = clock.Add(d) }
	var out strings.Builder
	l := &lineProgress{w: &out, label: "seed", every: 5 * time.Second, now: func() time.Time { return clock }}
	l.Phase("people", 200)
	tick(time.Second)
	l.Set(10) // within the interval: no line
	tick(5 * time.Second)
	l.Set(100)
	l.Phase("merging", -1) // ends the first phase
	tick(6 * time.Second)
	l.Set(7)
	tick(time.Second)
	l.Done()
	l.Done() // nothing: no phase
	want := "seed: people…\n" +
		"seed: people 50% (100/200)\n" +
		"seed: people done in 6s\n" +
		"seed: merging…\n" +
		"seed: merging 7\n" +
		"seed: merging done in 7s\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
