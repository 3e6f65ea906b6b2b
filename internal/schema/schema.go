// Package schema holds what the PostgreSQL and ClickHouse migration runners
// report, so that `calore migrate` and `calore version` speak of both alike.
package schema

import (
	"fmt"
	"strings"

	"github.com/calore-crm/calore"
)

// Status is the schema version of one store against the binary's.
type Status struct {
	Store   string // "postgres", "clickhouse"
	Current int64  // applied in the database; 0 = empty
	Latest  int64  // the newest migration embedded in this binary
}

func (s Status) String() string {
	switch {
	case s.Current == s.Latest:
		return fmt.Sprintf("%s schema %d (up to date)", s.Store, s.Current)
	case s.Current > s.Latest:
		return fmt.Sprintf("%s schema %d, NEWER than this binary's %d", s.Store, s.Current, s.Latest)
	default:
		return fmt.Sprintf("%s schema %d, binary has %d (run `calore migrate`)", s.Store, s.Current, s.Latest)
	}
}

// CheckNotNewer refuses a database migrated by a newer binary: running old
// code against it could corrupt data the newer schema relies on.
func (s Status) CheckNotNewer() error {
	if s.Current > s.Latest {
		return calore.Errorf(calore.ErrConflict,
			"%s schema is at version %d but this binary knows only up to %d: upgrade calore", s.Store, s.Current, s.Latest)
	}
	return nil
}

// Result is what one migration run did.
type Result struct {
	Store    string
	From, To int64
	Applied  []string // file names, in order
}

func (r Result) String() string {
	if len(r.Applied) == 0 {
		return fmt.Sprintf("%s: nothing to do (schema %d)", r.Store, r.To)
	}
	return fmt.Sprintf("%s: %d → %d, applied %s", r.Store, r.From, r.To, strings.Join(r.Applied, ", "))
}
