package dashboards

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/warehouse/kpiq"
)

var officeRE = regexp.MustCompile(`^[a-z_-]{1,40}$`)

// Offices are offered in the office filter (campaigns, events and
// interactions carry their owning office; any office name is accepted).
var Offices = []string{"alumni", "career", "engagement", "fundraising", "orientation", "press", "research"}

// Segments are the kinds of person a dashboard can filter by.
var Segments = calore.PersonKinds

// filterKeys are the query parameters of every dashboard, in the order they
// are written back into links.
var filterKeys = []string{"from", "to", "office", "segment", "tier", "heat", "cohort", "course", "country", "limit"}

// params are a request's filters.
type params struct {
	Filter   kpiq.Filter
	Prospect kpiq.ProspectFilter
	values   url.Values // the filters as given (only filterKeys)
}

// parseParams reads the filters from q; the period defaults to the twelve
// months before today (as [from, to), days in UTC).
func parseParams(q url.Values, now time.Time) (params, error) {
	var p params
	var errs []error
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	p.Filter.To = today
	if s := q.Get("to"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			errs = append(errs, fmt.Errorf("to %q is not a date YYYY-MM-DD", s))
		} else {
			p.Filter.To = t
		}
	}
	p.Filter.From = p.Filter.To.AddDate(-1, 0, 0)
	if s := q.Get("from"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			errs = append(errs, fmt.Errorf("from %q is not a date YYYY-MM-DD", s))
		} else {
			p.Filter.From = t
		}
	}
	p.Filter.Office = q.Get("office")
	if p.Filter.Office != "" && !officeRE.MatchString(p.Filter.Office) {
		errs = append(errs, fmt.Errorf("office %q is not an office name (lower-case letters, - and _)", p.Filter.Office))
	}
	p.Filter.Segment = q.Get("segment")
	if p.Filter.Segment != "" && !slices.Contains(Segments, p.Filter.Segment) {
		errs = append(errs, fmt.Errorf("segment %q is not one of %s", p.Filter.Segment, strings.Join(Segments, ", ")))
	}
	p.Prospect.Tier = q.Get("tier")
	p.Prospect.Course = q.Get("course")
	p.Prospect.Country = strings.ToUpper(q.Get("country"))
	for key, dst := range map[string]*int{"heat": &p.Prospect.Heat, "cohort": &p.Prospect.Cohort, "limit": &p.Prospect.Limit} {
		if s := q.Get(key); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q is not a whole number", key, s))
				continue
			}
			*dst = n
		}
	}
	if err := p.Filter.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := p.Prospect.Validate(); err != nil {
		errs = append(errs, err)
	}
	p.values = url.Values{}
	for _, k := range filterKeys {
		if v := q.Get(k); v != "" {
			p.values.Set(k, v)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return p, fmt.Errorf("%w: %w", calore.ErrInvalid, err)
	}
	return p, nil
}

// query returns the filters as given, for links (from and to always set).
func (p params) query() url.Values {
	v := url.Values{}
	for k, vs := range p.values {
		v[k] = vs
	}
	v.Set("from", p.Filter.From.Format("2006-01-02"))
	v.Set("to", p.Filter.To.Format("2006-01-02"))
	return v
}

// Filters returns the filters as a map, to save with a dashboard.
func (p params) Filters() map[string]string {
	m := map[string]string{}
	for k := range p.values {
		m[k] = p.values.Get(k)
	}
	return m
}
