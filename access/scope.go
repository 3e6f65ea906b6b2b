package access

// Record-level rules (docs/access.md, "Record scopes"): within a resource
// the route matrix allows, which records a user may read and change. Records
// of an office-owned resource belong to one office; a user acts on the
// records of the offices its roles allow, and reads also those its office's
// shares name. The store applies the scope in its queries (postgres.Scope),
// so lists, single reads, exports, updates and deletes are all narrowed in
// one place.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/calore-crm/calore"
)

// OwnedBy says, for each office-owned resource, where a record's office
// comes from: "" means the record's own office column; an office name means
// every record of the resource belongs to that office.
var OwnedBy = map[string]string{
	Interactions: "",          // interactions.office: who recorded it (R2.1)
	Donations:    Fundraising, // gifts, amounts and purposes are the fundraising office's
}

// ReadShares are the records an office may read, but not change, besides its
// own: resource → office → the offices whose records it also reads. The
// fundraising office reads the alumni office's interactions (one area in the
// tender, U5: cultivating a donor starts from the alumni relation); the
// reverse is not true.
var ReadShares = map[string]map[string][]string{
	Interactions: {Fundraising: {Alumni}},
}

// OfficeLabels are other values of a record's office column that mean an
// office: the synthetic university, the dashboards and older imports write
// "career" for the career service and "press" for the engagement office.
var OfficeLabels = map[string][]string{
	CareerService: {"career"},
	Engagement:    {"press"},
}

// RecordScope is what a user may do with the records of one office-owned
// resource: the values of the records' office (OwnedBy) it may read and
// change. The zero RecordScope allows no record.
type RecordScope struct {
	All   bool     `json:"all"`   // an admin: every record, also those of no known office
	Read  []string `json:"read"`  // office values of the records the user may read
	Write []string `json:"write"` // office values of the records the user may create, change and delete
}

// ScopeOf is the record scope of roles on a resource. An admin role allows
// all; otherwise each role reads (and, with write, changes) the records of
// its own office as far as Matrix and RoleCap allow, and reads those its
// office's ReadShares name.
func ScopeOf(roles []calore.Role, resource string) RecordScope {
	s := RecordScope{Read: []string{}, Write: []string{}}
	for _, r := range roles {
		if r.Role == calore.RoleAdmin {
			return RecordScope{All: true}
		}
		lvl := min(Matrix[resource][r.Office], RoleCap(r.Role))
		if lvl >= Read {
			s.Read = append(s.Read, labels(r.Office)...)
			for _, o := range ReadShares[resource][r.Office] {
				s.Read = append(s.Read, labels(o)...)
			}
		}
		if lvl >= Write {
			s.Write = append(s.Write, labels(r.Office)...)
		}
	}
	slices.Sort(s.Read)
	slices.Sort(s.Write)
	s.Read, s.Write = slices.Compact(s.Read), slices.Compact(s.Write)
	return s
}

// labels are the record office values that mean office.
func labels(office string) []string {
	return append([]string{office}, OfficeLabels[office]...)
}

// CanRead reports whether a record of the office may be read.
func (s RecordScope) CanRead(office string) bool { return s.All || slices.Contains(s.Read, office) }

// CanWrite reports whether a record of the office may be created, changed
// or deleted.
func (s RecordScope) CanWrite(office string) bool { return s.All || slices.Contains(s.Write, office) }

// DefaultOffice is the office a new record gets when its creator leaves it
// out: the one office whose records the user may write, "" when there are
// none or several (admins included), so the creator must name it.
func (s RecordScope) DefaultOffice() string {
	var own []string
	for _, o := range s.Write {
		if slices.Contains(Offices, o) {
			own = append(own, o)
		}
	}
	if s.All || len(own) != 1 {
		return ""
	}
	return own[0]
}

// RecordScope is the principal's record scope on a resource.
func (p *Principal) RecordScope(resource string) RecordScope {
	if p == nil {
		return RecordScope{}
	}
	return ScopeOf(p.User.Roles, resource)
}

// ScopeMarkdown renders the record scopes of interactions and donations as
// the table of docs/access.md: one row per office (its editors and
// managers; read-only users read the same and change nothing), and the
// admin.
func ScopeMarkdown() string {
	var b strings.Builder
	b.WriteString("| role in office | reads interactions of | changes interactions of | donations |\n|---|---|---|---|\n")
	list := func(offices []string) string {
		if len(offices) == 0 {
			return "none"
		}
		return "`" + strings.Join(offices, "`, `") + "`"
	}
	for _, o := range Offices {
		ed := ScopeOf([]calore.Role{{Office: o, Role: calore.RoleEditor}}, Interactions)
		don := "none"
		if d := ScopeOf([]calore.Role{{Office: o, Role: calore.RoleEditor}}, Donations); d.CanWrite(OwnedBy[Donations]) {
			don = "all (read-only users: read)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", o, list(ed.Read), list(ed.Write), don)
	}
	b.WriteString("| admin (any office) | all, also of no office | all, also of no office | all |\n")
	return b.String()
}
