package calore

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"time"
)

// Kinds of person (R1.1). A person has one primary kind; further roles show
// through tags, affiliations and alumni data.
const (
	KindProspect   = "prospect"
	KindStudent    = "student"
	KindAlumnus    = "alumnus"
	KindFaculty    = "faculty" // including experts, with Competences
	KindStaff      = "staff"
	KindReferent   = "referent" // company referent
	KindJournalist = "journalist"
	KindVIP        = "vip" // VIPs and institutional guests
	KindInternal   = "internal"
	KindOther      = "other"
)

// PersonKinds lists the valid Person.Kind values.
var PersonKinds = []string{KindProspect, KindStudent, KindAlumnus, KindFaculty, KindStaff,
	KindReferent, KindJournalist, KindVIP, KindInternal, KindOther}

// Email types (R1.2).
const (
	EmailInstitutional = "institutional"
	EmailPersonal      = "personal"
	EmailSecondary     = "secondary"
)

// Phone types.
const (
	PhoneMobile   = "mobile"
	PhoneLandline = "landline"
	PhoneWork     = "work"
)

// Top-alumni categories (R1.4).
const (
	TopPrestige   = "prestige"   // CEOs, public figures, academics
	TopEconomic   = "economic"   // entrepreneurs, recurring donors
	TopVisibility = "visibility" // artists, politicians
)

// Person is one entry of the registry of people (R1.1-R1.4, R1.7).
type Person struct {
	Meta
	// Source and SourceID: the record's key in the system it came from (a
	// student number, an event code), unique per source; the importer matches
	// on it before email and name (docs/import.md).
	Source   string `json:"source,omitempty"`
	SourceID string `json:"source_id,omitempty"`
	Kind     string `json:"kind"`

	// Names as written, in any script, and their transliterated accent-free
	// ASCII form (R4.3). The store fills an empty ASCII name from the
	// original; NameKey (read-only, computed by the database) matches people.
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	FirstNameASCII string `json:"first_name_ascii"`
	LastNameASCII  string `json:"last_name_ascii"`
	NameKey        string `json:"name_key"`

	BirthDate   *time.Time `json:"birth_date,omitempty"` // date only, UTC midnight
	IsMinor     bool       `json:"is_minor"`
	Language    string     `json:"language,omitempty"`    // ISO 639-1
	Nationality string     `json:"nationality,omitempty"` // ISO 3166-1 alpha-2
	Country     string     `json:"country,omitempty"`     // ISO 3166-1 alpha-2
	Region      string     `json:"region,omitempty"`
	Province    string     `json:"province,omitempty"`
	City        string     `json:"city,omitempty"`

	// Alumni data (R1.3); roles and employers are Affiliations.
	GraduationYear *int   `json:"graduation_year,omitempty"`
	DegreeCourse   string `json:"degree_course,omitempty"`
	MacroCategory  string `json:"macro_category,omitempty"`

	// Top alumni (R1.4): category ("" when not one) and relevance 1-5.
	TopCategory string `json:"top_category,omitempty"`
	Relevance   *int   `json:"relevance,omitempty"`

	Competences []string          `json:"competences"` // faculty experts
	Tags        []string          `json:"tags"`
	Offices     []string          `json:"offices"` // owning offices
	Extra       map[string]string `json:"extra"`   // configurable extra fields

	Emails  []Email        `json:"emails"`
	Phones  []Phone        `json:"phones"`
	Sources []PersonSource `json:"sources"`
	// PreferredEmail is derived, never stored: the most recently confirmed
	// address (see PreferredEmail). Empty when the person has none.
	PreferredEmail string `json:"preferred_email,omitempty"`

	Status     string `json:"status"`                // StatusActive or StatusDuplicate
	MergedInto *int64 `json:"merged_into,omitempty"` // the winner, when a duplicate
}

// Email is one address of a person.
type Email struct {
	ID              int64      `json:"id,omitempty"`
	Type            string     `json:"type"`
	Address         string     `json:"address"`
	LastConfirmedAt *time.Time `json:"last_confirmed_at,omitempty"`
}

// Phone is one phone number of a person.
type Phone struct {
	ID     int64  `json:"id,omitempty"`
	Type   string `json:"type"`
	Number string `json:"number"`
}

// PersonSource is a marketing source that brought the person in (R1.7): a
// portal, a form, an imported file.
type PersonSource struct {
	Source      string    `json:"source"`
	FirstSeenAt time.Time `json:"first_seen_at"` // zero: now, when stored
}

// PreferredEmail returns the preferred address among emails (R1.2): the most
// recently confirmed one; never-confirmed addresses come after confirmed
// ones; ties go to the earlier in the slice (the store lists them in the
// order they were added). It returns "" for no emails. The view
// person_preferred_email applies the same rule in SQL.
func PreferredEmail(emails []Email) string {
	best := -1
	for i, e := range emails {
		if best < 0 {
			best = i
			continue
		}
		b := emails[best]
		switch {
		case e.LastConfirmedAt == nil:
		case b.LastConfirmedAt == nil || e.LastConfirmedAt.After(*b.LastConfirmedAt):
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return emails[best].Address
}

// Validate checks the rules of a person that need no database; it returns
// every problem at once, each an *Error naming its field.
func (p *Person) Validate() error {
	var errs []error
	if !slices.Contains(PersonKinds, p.Kind) {
		errs = append(errs, FieldError("kind", "%q is not one of %v", p.Kind, PersonKinds))
	}
	if p.FirstName == "" && p.LastName == "" {
		errs = append(errs, FieldError("last_name", "a person needs a first or a last name"))
	}
	if !IsASCII(p.FirstNameASCII) {
		errs = append(errs, FieldError("first_name_ascii", "%q is not ASCII", p.FirstNameASCII))
	}
	if !IsASCII(p.LastNameASCII) {
		errs = append(errs, FieldError("last_name_ascii", "%q is not ASCII", p.LastNameASCII))
	}
	if p.GraduationYear != nil && (*p.GraduationYear < 1863 || *p.GraduationYear > 2200) {
		errs = append(errs, FieldError("graduation_year", "%d is out of range", *p.GraduationYear))
	}
	if !slices.Contains([]string{"", TopPrestige, TopEconomic, TopVisibility}, p.TopCategory) {
		errs = append(errs, FieldError("top_category", "%q is not prestige, economic or visibility", p.TopCategory))
	}
	if p.Relevance != nil && (*p.Relevance < 1 || *p.Relevance > 5) {
		errs = append(errs, FieldError("relevance", "%d is not between 1 and 5", *p.Relevance))
	}
	if p.Status != "" && p.Status != StatusActive && p.Status != StatusDuplicate {
		errs = append(errs, FieldError("status", "%q is not active or duplicate", p.Status))
	}
	seen := map[string]bool{}
	for i, e := range p.Emails {
		field := fmt.Sprintf("emails[%d]", i)
		if err := e.Validate(); err != nil {
			errs = append(errs, prefixField(field, err))
		}
		n := NormaliseEmail(e.Address)
		if seen[n] {
			errs = append(errs, FieldError(field, "%q appears twice", e.Address))
		}
		seen[n] = true
	}
	for i, ph := range p.Phones {
		if !slices.Contains([]string{PhoneMobile, PhoneLandline, PhoneWork}, ph.Type) {
			errs = append(errs, FieldError(fmt.Sprintf("phones[%d].type", i), "%q is not mobile, landline or work", ph.Type))
		}
		if ph.Number == "" {
			errs = append(errs, FieldError(fmt.Sprintf("phones[%d].number", i), "empty"))
		}
	}
	sources := map[string]bool{}
	for i, s := range p.Sources {
		if s.Source == "" || sources[s.Source] {
			errs = append(errs, FieldError(fmt.Sprintf("sources[%d]", i), "empty or repeated source %q", s.Source))
		}
		sources[s.Source] = true
	}
	return errors.Join(errs...)
}

// Validate checks one email address and its type.
func (e Email) Validate() error {
	var errs []error
	if !slices.Contains([]string{EmailInstitutional, EmailPersonal, EmailSecondary}, e.Type) {
		errs = append(errs, FieldError("type", "%q is not institutional, personal or secondary", e.Type))
	}
	if a, err := mail.ParseAddress(e.Address); err != nil || a.Address != e.Address || a.Name != "" {
		errs = append(errs, FieldError("address", "%q is not a plain email address", e.Address))
	}
	return errors.Join(errs...)
}

// prefixField puts prefix before the field of every *Error in err.
func prefixField(prefix string, err error) error {
	var out []error
	for _, e := range unjoin(err) {
		var ce *Error
		if errors.As(e, &ce) {
			c := *ce
			c.Field = prefix + "." + c.Field
			out = append(out, &c)
			continue
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
