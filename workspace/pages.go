package workspace

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/web"
)

// pageSize is the search's page.
const pageSize = 25

// searchPage is the search page's data.
type searchPage struct {
	Q, Entity, Kind, Tier, Country string
	Heat, Cohort                   int
	Errors                         map[string]string // field → message, shown next to it
	Results                        []postgres.DirectoryEntry
	Next, First                    string // links to the next and first pages
	Kinds                          []string
	CanOrgs, CanTier               bool
	Searched                       bool
}

// search is one box over people and organisations with filters and keyset
// paging; the people shown are audited as the API audits a list.
func (w *Workspace) search(rw http.ResponseWriter, r *http.Request) {
	p := w.deps.Principal(r)
	v := r.URL.Query()
	l := pickLocale(r, w.cat)
	d := searchPage{Q: strings.TrimSpace(v.Get("q")), Entity: v.Get("entity"), Kind: v.Get("kind"), Tier: v.Get("tier"),
		Country: strings.ToUpper(strings.TrimSpace(v.Get("country"))), Errors: map[string]string{}, Kinds: calore.PersonKinds,
		CanOrgs: p.Can(perm(access.Organisations, access.Read)), CanTier: p.Can(perm(access.Predictions, access.Read))}
	q := postgres.DirectoryQuery{Text: d.Q, Limit: pageSize, Country: d.Country}
	switch d.Entity {
	case "", postgres.EntityPerson:
	case postgres.EntityOrganisation:
		if !d.CanOrgs {
			d.Errors["entity"] = l.T("Your roles do not allow this page.")
		}
	default:
		d.Errors["entity"] = fmt.Sprintf("%q: person or organisation", d.Entity)
	}
	q.Entity = d.Entity
	if !d.CanOrgs {
		q.Entity = postgres.EntityPerson
	}
	if d.Kind != "" && !slices.Contains(calore.PersonKinds, d.Kind) {
		d.Errors["kind"] = fmt.Sprintf("%q: one of %s", d.Kind, strings.Join(calore.PersonKinds, ", "))
	}
	q.PersonKind = d.Kind
	if h := v.Get("heat"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 1 || n > 4 {
			d.Errors["heat"] = fmt.Sprintf("%q: 1 to 4", h)
		}
		d.Heat, q.Heat = n, n
	}
	if d.Tier != "" {
		switch {
		case !d.CanTier:
			d.Errors["tier"] = l.T("Your roles do not allow this page.")
		case !slices.Contains([]string{"A", "B", "C", "D"}, d.Tier):
			d.Errors["tier"] = fmt.Sprintf("%q: A, B, C or D", d.Tier)
		}
		q.Tier = d.Tier
	}
	if c := v.Get("cohort"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1860 || n > 2200 {
			d.Errors["cohort"] = fmt.Sprintf("%q: a year such as 1990", c)
		}
		d.Cohort, q.Cohort = n, n
	}
	if d.Country != "" && (len(d.Country) != 2 || strings.Trim(d.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		d.Errors["country"] = fmt.Sprintf("%q: a two-letter code such as IT", d.Country)
	}
	if a := v.Get("after"); a != "" {
		ent, id, ok := strings.Cut(a, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || n < 0 || (ent != postgres.EntityPerson && ent != postgres.EntityOrganisation) {
			d.Errors["after"] = fmt.Sprintf("%q is not a page of this search", a)
		}
		q.After = postgres.DirectoryCursor{Entity: ent, ID: n}
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	} else {
		res, err := w.deps.Store.Directory(r.Context(), q)
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		d.Results, d.Searched = res, true
		var ids []int64
		for _, e := range res {
			if e.Entity == postgres.EntityPerson {
				ids = append(ids, e.ID)
			}
		}
		if err := w.deps.Audit(r, "read", "person", ids, map[string]string{"page": "workspace search"}); err != nil {
			w.fail(rw, r, err)
			return
		}
		if len(res) == pageSize {
			last := res[len(res)-1]
			next := url.Values{}
			for k, vs := range v {
				next[k] = vs
			}
			next.Set("after", last.Entity+":"+strconv.FormatInt(last.ID, 10))
			d.Next = w.deps.Base + "/?" + next.Encode()
		}
		if q.After != (postgres.DirectoryCursor{}) {
			first := url.Values{}
			for k, vs := range v {
				first[k] = vs
			}
			first.Del("after")
			d.First = w.deps.Base + "/?" + first.Encode()
		}
	}
	view := w.view(r, l.T("Search"), d)
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "results" {
		w.renderPart(rw, r, "search", "results", view)
		return
	}
	w.render(rw, r, status, "search", view)
}

// pathID reads the {id} of the URL.
func pathID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, calore.Errorf(calore.ErrNotFound, "%q is not a record id", raw)
	}
	return id, nil
}

// scores are a person's latest scores as `calore score` stored them.
type scores struct {
	HeatLevel   *int     `json:"heat_level"`
	HeatScore   *float64 `json:"heat_score"`
	HeatReasons *struct {
		Contributions []struct {
			Kind  string
			Count float64
			Score float64
		} `json:"contributions"`
		Relevance int64 `json:"relevance"`
	} `json:"heat_reasons"`
	HeatModel    string   `json:"heat_model"`
	HeatAsOf     string   `json:"heat_as_of"`
	Probability  *float64 `json:"donor_probability"`
	Tier         string   `json:"donor_tier"`
	Expected     *float64 `json:"expected_amount"`
	Ask          *float64 `json:"suggested_ask"`
	DonorReasons []struct {
		Text    string  `json:"text"`
		LogOdds float64 `json:"log_odds"`
	} `json:"donor_reasons"`
	DonorModel string `json:"donor_model"`
	DonorAsOf  string `json:"donor_as_of"`
}

// Day parses a stored date for the locale's formatting.
func (scores) Day(s string) time.Time {
	t, _ := time.Parse("2006-01-02", s)
	return t
}

// affiliation is an affiliation with its organisation's name.
type affiliation struct {
	*calore.Affiliation
	OrgName string
}

// registration is a registration with its event's name.
type registration struct {
	*calore.Registration
	EventName string
}

// entry is one line of the timeline.
type entry struct {
	At      time.Time
	Kind    string // interaction, registration, donation, send, open, click, pageview
	Title   string
	Detail  string
	Machine bool
	EditURL string
}

// timelineKinds are the timeline's filters, in order.
var timelineKinds = []struct{ Kind, Label string }{
	{"", "All"}, {"interaction", "Interactions"}, {"registration", "Registrations"}, {"donation", "Donations"},
	{"send", "Sends"}, {"open", "Opens"}, {"click", "Clicks"}, {"pageview", "Web visits"},
}

// personPage is the person page's data.
type personPage struct {
	P                 *calore.Person
	Scores            *scores
	Affiliations      []affiliation
	Consents          []*calore.Consent
	Duplicates        []calore.DuplicateCandidate
	Timeline          []entry
	TimelineKind      string
	Kinds             []struct{ Kind, Label string }
	WarehouseDown     bool
	CanDonor, CanLog  bool
	CanErase, CanOrgs bool
	Saved             bool
}

// person is the 360° page; a merged person's page sends to the winner.
func (w *Workspace) person(rw http.ResponseWriter, r *http.Request) {
	d, err := w.personData(r)
	if err != nil {
		var m *mergedError
		if errors.As(err, &m) {
			http.Redirect(rw, r, fmt.Sprintf("%s/people/%d", w.deps.Base, m.into), http.StatusSeeOther)
			return
		}
		w.fail(rw, r, err)
		return
	}
	name := strings.TrimSpace(d.P.FirstName + " " + d.P.LastName)
	w.render(rw, r, http.StatusOK, "person", w.view(r, name, d))
}

// timelinePart is the timeline alone, for htmx's filter.
func (w *Workspace) timelinePart(rw http.ResponseWriter, r *http.Request) {
	d, err := w.personData(r)
	if err != nil {
		var m *mergedError
		if errors.As(err, &m) {
			http.Redirect(rw, r, fmt.Sprintf("%s/people/%d/timeline?%s", w.deps.Base, m.into, r.URL.RawQuery), http.StatusSeeOther)
			return
		}
		w.fail(rw, r, err)
		return
	}
	w.renderPart(rw, r, "person", "timeline", w.view(r, "", d))
}

type mergedError struct{ into int64 }

func (e *mergedError) Error() string { return fmt.Sprintf("merged into %d", e.into) }

func (w *Workspace) personData(r *http.Request) (*personPage, error) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	p := w.deps.Principal(r)
	per, err := w.deps.Store.Person(ctx, id)
	if err != nil {
		return nil, err
	}
	if per.MergedInto != nil {
		return nil, &mergedError{into: *per.MergedInto}
	}
	kind := r.URL.Query().Get("kind")
	if !slices.ContainsFunc(timelineKinds, func(k struct{ Kind, Label string }) bool { return k.Kind == kind }) {
		return nil, calore.FieldError("kind", "%q is not a kind of the timeline", kind)
	}
	d := &personPage{P: per, TimelineKind: kind, Kinds: timelineKinds,
		CanDonor: p.Can(perm(access.Predictions, access.Read)), CanLog: p.Can(perm(access.Interactions, access.Write)),
		CanErase: p.Can(perm(access.GDPR, access.Write)), CanOrgs: p.Can(perm(access.Organisations, access.Read)),
		Saved: r.URL.Query().Get("saved") == "1"}
	raw, err := w.deps.Store.PersonScores(ctx, id)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		d.Scores = new(scores)
		if err := json.Unmarshal(raw, d.Scores); err != nil {
			return nil, fmt.Errorf("scores of person %d: %w", id, err)
		}
		if !d.CanDonor { // donor data only for the roles the API shows it to
			d.Scores.Probability, d.Scores.Tier, d.Scores.Expected, d.Scores.Ask, d.Scores.DonorReasons, d.Scores.DonorModel = nil, "", nil, nil, nil, ""
		}
	}
	affs, err := w.deps.Store.ListAffiliations(ctx, postgres.Filter{PersonID: id, Limit: 100})
	if err != nil {
		return nil, err
	}
	for _, a := range affs {
		af := affiliation{Affiliation: a}
		if d.CanOrgs {
			if o, err := w.deps.Store.Organisation(ctx, a.OrganisationID); err == nil {
				af.OrgName = o.LegalName
			} else if !errors.Is(err, calore.ErrNotFound) {
				return nil, err
			}
		}
		d.Affiliations = append(d.Affiliations, af)
	}
	if d.Consents, err = w.deps.Store.ListConsents(ctx, postgres.Filter{PersonID: id, Limit: 200}); err != nil {
		return nil, err
	}
	if d.Duplicates, err = w.deps.Store.FindDuplicatePeople(ctx, postgres.DuplicateQuery{ID: id, Limit: 10}); err != nil {
		return nil, err
	}
	if d.Timeline, d.WarehouseDown, err = w.timeline(r, p, id, kind); err != nil {
		return nil, err
	}
	if err := w.deps.Audit(r, "read", "person", []int64{id}, map[string]string{"page": "workspace person"}); err != nil {
		return nil, err
	}
	return d, nil
}

// timeline merges the store's records the user may read with the
// warehouse's events, newest first.
func (w *Workspace) timeline(r *http.Request, p *access.Principal, id int64, kind string) ([]entry, bool, error) {
	ctx := r.Context()
	l := pickLocale(r, w.cat)
	want := func(k string) bool { return kind == "" || kind == k }
	var out []entry
	byPerson := postgres.SearchQuery{Conds: []postgres.Cond{{Col: "person_id", Op: postgres.OpEq, Value: id}}, Limit: 1000}
	if want("interaction") && p.Can(perm(access.Interactions, access.Read)) {
		// the caller's record scope, as the API's list: an office's own
		// interactions (and those shared with it), never another's
		sc := postgres.Scope(p.RecordScope(access.Interactions))
		items, _, err := w.deps.Store.SearchInteractionsIn(ctx, sc, byPerson)
		if err != nil {
			return nil, false, err
		}
		write := p.RecordScope(access.Interactions)
		for _, in := range items {
			e := entry{At: in.OccurredAt, Kind: "interaction", Title: l.T(in.Channel) + " · " + in.Subject, Detail: strings.TrimSpace(in.Office + " " + l.T(in.Direction))}
			if write.CanWrite(in.Office) {
				e.EditURL = fmt.Sprintf("%s/people/%d/log?interaction=%d", w.deps.Base, id, in.ID)
			}
			out = append(out, e)
		}
	}
	if want("registration") && p.Can(perm(access.Registrations, access.Read)) {
		regs, err := w.deps.Store.ListRegistrations(ctx, postgres.Filter{PersonID: id, Limit: 1000})
		if err != nil {
			return nil, false, err
		}
		for _, g := range regs {
			at := g.CreatedAt
			for _, t := range []*time.Time{g.AttendedAt, g.RegisteredAt, g.InvitedAt} {
				if t != nil {
					at = *t
					break
				}
			}
			name := fmt.Sprintf("#%d", g.EventID)
			if ev, err := w.deps.Store.Event(ctx, g.EventID); err == nil {
				name = ev.Name
			}
			out = append(out, entry{At: at, Kind: "registration", Title: name, Detail: g.Status})
		}
	}
	if want("donation") && p.Can(perm(access.Donations, access.Read)) {
		sc := postgres.Scope(p.RecordScope(access.Donations))
		gifts, _, err := w.deps.Store.SearchDonationsIn(ctx, sc, byPerson)
		if err != nil {
			return nil, false, err
		}
		for _, g := range gifts {
			amt, _ := strconv.ParseFloat(g.Amount, 64)
			out = append(out, entry{At: g.DonatedOn, Kind: "donation", Title: l.Amount(amt, g.Currency), Detail: strings.TrimSpace(g.Purpose + " " + g.Periodicity)})
		}
	}
	down := false
	whKinds := kind == "" || slices.Contains([]string{"send", "open", "click", "pageview"}, kind)
	if w.deps.Events != nil && whKinds && p.Can(perm(access.Campaigns, access.Read)) {
		evs, err := w.deps.Events.PersonEvents(ctx, id, 500)
		if err != nil {
			w.deps.Logger.Warn("workspace: warehouse timeline", "person", id, "err", err)
			down = true
		}
		for _, e := range evs {
			if !want(e.Kind) {
				continue
			}
			t := entry{At: e.At, Kind: e.Kind, Machine: e.Machine, Detail: e.Status}
			switch e.Kind {
			case "send", "open", "click":
				t.Title = fmt.Sprintf("campaign #%d", e.CampaignID)
				if e.URL != "" {
					t.Detail = e.URL
				}
			default:
				t.Title = e.URL
			}
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b entry) int { return b.At.Compare(a.At) })
	return out, down, nil
}

// logPage is the interaction form's data.
type logPage struct {
	PersonID   int64
	PersonName string
	In         *calore.Interaction
	When       string // datetime-local value
	Errors     map[string]string
	Channels   []string
	Offices    []string
	Mine       *calore.Interaction // a conflict: what the user sent
}

var channels = []string{calore.ChannelPhone, calore.ChannelMeeting, calore.ChannelEmail, calore.ChannelNote, calore.ChannelSMS,
	calore.ChannelSocial, calore.ChannelLetter, calore.ChannelEvent, calore.ChannelChatbot, calore.ChannelOther}

// logForm is the contact report: a new interaction, or ?interaction=ID to
// edit one the user may change.
func (w *Workspace) logForm(rw http.ResponseWriter, r *http.Request) {
	d, err := w.logData(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if raw := r.URL.Query().Get("interaction"); raw != "" {
		iid, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			w.fail(rw, r, calore.FieldError("interaction", "%q is not a record id", raw))
			return
		}
		in, err := w.deps.Store.InteractionIn(r.Context(), postgres.Scope(w.deps.Principal(r).RecordScope(access.Interactions)), iid)
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		if in.PersonID == nil || *in.PersonID != d.PersonID {
			w.fail(rw, r, calore.Errorf(calore.ErrNotFound, "interaction %d is not this person's", iid))
			return
		}
		d.In, d.When = in, in.OccurredAt.UTC().Format("2006-01-02T15:04")
	}
	l := pickLocale(r, w.cat)
	w.render(rw, r, http.StatusOK, "log", w.view(r, l.T("Log an interaction"), d))
}

func (w *Workspace) logData(r *http.Request) (*logPage, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	per, err := w.deps.Store.Person(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if per.MergedInto != nil {
		return nil, calore.Errorf(calore.ErrNotFound, "person %d was merged into %d", id, *per.MergedInto)
	}
	sc := w.deps.Principal(r).RecordScope(access.Interactions)
	offices := sc.Write
	if sc.All {
		offices = access.Offices
	}
	now := w.deps.Now().UTC()
	return &logPage{PersonID: id, PersonName: strings.TrimSpace(per.FirstName + " " + per.LastName), Errors: map[string]string{}, Channels: channels,
		Offices: offices, When: now.Format("2006-01-02T15:04"),
		In: &calore.Interaction{PersonID: &id, Channel: calore.ChannelPhone, Direction: "outbound", Office: sc.DefaultOffice(), OccurredAt: now}}, nil
}

// logPost stores the contact report through the store; a stale version
// shows both the user's and the stored values.
func (w *Workspace) logPost(rw http.ResponseWriter, r *http.Request) {
	d, err := w.logData(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.fail(rw, r, calore.FieldError("", "the form could not be read"))
		return
	}
	l := pickLocale(r, w.cat)
	f := r.PostForm
	in := d.In
	in.Channel, in.Direction, in.Subject, in.Notes, in.Office = f.Get("channel"), f.Get("direction"), strings.TrimSpace(f.Get("subject")), strings.TrimSpace(f.Get("notes")), f.Get("office")
	uid := w.deps.Principal(r).User.ID
	in.StaffUserID = &uid
	d.When = f.Get("when")
	if d.When != "" {
		t, err := time.Parse("2006-01-02T15:04", d.When)
		if err != nil {
			d.Errors["occurred_at"] = fmt.Sprintf("%q is not a date and time", d.When)
		}
		in.OccurredAt = t
	}
	if raw := f.Get("id"); raw != "" {
		iid, err1 := strconv.ParseInt(raw, 10, 64)
		ver, err2 := strconv.Atoi(f.Get("version"))
		if err1 != nil || err2 != nil || ver <= 0 {
			d.Errors["version"] = "the form's record and version are not valid"
		}
		in.ID, in.Version = iid, ver
	}
	if len(in.Subject) > 500 {
		d.Errors["subject"] = "at most 500 characters"
	}
	if len(d.Errors) == 0 {
		err = in.Validate()
	}
	if err == nil && len(d.Errors) == 0 {
		sc := postgres.Scope(w.deps.Principal(r).RecordScope(access.Interactions))
		if in.ID != 0 {
			err = w.deps.Writer.UpdateInteraction(r, sc, in)
			if errors.Is(err, calore.ErrConflict) {
				theirs, rerr := w.deps.Store.InteractionIn(r.Context(), sc, in.ID)
				if rerr != nil {
					w.fail(rw, r, rerr)
					return
				}
				d.Mine, d.In = in, theirs
				d.Mine.Version = theirs.Version // "save mine" overwrites knowingly, at the version just shown
				d.When = in.OccurredAt.UTC().Format("2006-01-02T15:04")
				w.render(rw, r, http.StatusConflict, "conflict", w.view(r, l.T("Someone changed this interaction while you were editing it."), d))
				return
			}
		} else {
			err = w.deps.Writer.CreateInteraction(r, sc, in)
		}
		if err == nil {
			http.Redirect(rw, r, fmt.Sprintf("%s/people/%d?saved=1", w.deps.Base, d.PersonID), http.StatusSeeOther)
			return
		}
	}
	if err != nil {
		fieldErrors(err, d.Errors)
		if len(d.Errors) == 0 {
			w.fail(rw, r, err)
			return
		}
	}
	w.render(rw, r, http.StatusUnprocessableEntity, "log", w.view(r, l.T("Log an interaction"), d))
}

// fieldErrors collects the field errors of err (joined or single) into m.
func fieldErrors(err error, m map[string]string) {
	var ce *calore.Error
	if errors.As(err, &ce) && ce.Field != "" {
		m[ce.Field] = ce.Message
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			fieldErrors(e, m)
		}
	}
}

// erasePage is the confirmation step of a GDPR erasure.
type erasePage struct {
	PersonID   int64
	PersonName string
	Errors     map[string]string
}

func (w *Workspace) eraseForm(rw http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	per, err := w.deps.Store.Person(r.Context(), id)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	l := pickLocale(r, w.cat)
	w.render(rw, r, http.StatusOK, "erase", w.view(r, l.T("Erase this person"), erasePage{PersonID: id, PersonName: strings.TrimSpace(per.FirstName + " " + per.LastName), Errors: map[string]string{}}))
}

// erasePost erases after the confirmation: the form must carry the
// person's id typed again ("confirm"), so that one stray click erases
// nothing.
func (w *Workspace) erasePost(rw http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.fail(rw, r, calore.FieldError("", "the form could not be read"))
		return
	}
	l := pickLocale(r, w.cat)
	if r.PostForm.Get("confirm") != strconv.FormatInt(id, 10) {
		w.render(rw, r, http.StatusUnprocessableEntity, "erase", w.view(r, l.T("Erase this person"), erasePage{PersonID: id,
			Errors: map[string]string{"confirm": fmt.Sprintf("type %d to confirm", id)}}))
		return
	}
	if err := w.deps.Writer.ErasePerson(r, id, strings.TrimSpace(r.PostForm.Get("reason"))); err != nil {
		w.fail(rw, r, err)
		return
	}
	http.Redirect(rw, r, fmt.Sprintf("%s/people/%d", w.deps.Base, id), http.StatusSeeOther)
}

// orgPage is the organisation page's data.
type orgPage struct {
	O            *calore.Organisation
	Referents    []referent
	Partnerships []*calore.Partnership
	Contracts    []*calore.ResearchContract
	Interactions []*calore.Interaction
	Cluster      *postgres.OrganisationCluster
	Today        time.Time
}

type referent struct {
	*calore.Affiliation
	Name string
}

func (w *Workspace) organisation(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	o, err := w.deps.Store.Organisation(ctx, id)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if o.MergedInto != nil {
		http.Redirect(rw, r, fmt.Sprintf("%s/organisations/%d", w.deps.Base, *o.MergedInto), http.StatusSeeOther)
		return
	}
	p := w.deps.Principal(r)
	d := orgPage{O: o, Today: w.deps.Now().UTC()}
	affs, err := w.deps.Store.ListAffiliations(ctx, postgres.Filter{OrganisationID: id, Limit: 500})
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	var ids []int64
	canPeople := p.Can(perm(access.People, access.Read))
	for _, a := range affs {
		ref := referent{Affiliation: a}
		if canPeople {
			if per, err := w.deps.Store.Person(ctx, a.PersonID); err == nil {
				ref.Name = strings.TrimSpace(per.FirstName + " " + per.LastName)
				ids = append(ids, a.PersonID)
			}
		}
		d.Referents = append(d.Referents, ref)
	}
	slices.SortStableFunc(d.Referents, func(a, b referent) int {
		if a.IsReferent != b.IsReferent {
			if a.IsReferent {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if d.Partnerships, err = w.deps.Store.ListPartnerships(ctx, postgres.Filter{OrganisationID: id, Limit: 200}); err != nil {
		w.fail(rw, r, err)
		return
	}
	if p.Can(perm(access.KPIContracts, access.Read)) {
		if d.Contracts, err = w.deps.Store.ListResearchContracts(ctx, postgres.Filter{OrganisationID: id, Limit: 200}); err != nil {
			w.fail(rw, r, err)
			return
		}
	}
	if p.Can(perm(access.Interactions, access.Read)) {
		sc := postgres.Scope(p.RecordScope(access.Interactions))
		q := postgres.SearchQuery{Conds: []postgres.Cond{{Col: "organisation_id", Op: postgres.OpEq, Value: id}}, Limit: 200}
		if d.Interactions, _, err = w.deps.Store.SearchInteractionsIn(ctx, sc, q); err != nil {
			w.fail(rw, r, err)
			return
		}
		slices.SortStableFunc(d.Interactions, func(a, b *calore.Interaction) int { return b.OccurredAt.Compare(a.OccurredAt) })
	}
	if p.Can(perm(access.Clusters, access.Read)) {
		if d.Cluster, err = w.deps.Store.ClusterOf(ctx, id); err != nil {
			w.fail(rw, r, err)
			return
		}
	}
	if err := w.deps.Audit(r, "read", "person", ids, map[string]string{"page": "workspace organisation", "organisation": strconv.FormatInt(id, 10)}); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, r, http.StatusOK, "organisation", w.view(r, o.LegalName, d))
}

// language keeps the user's choice of language in a cookie and goes back.
func (w *Workspace) language(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		w.fail(rw, r, calore.FieldError("lang", "the form could not be read"))
		return
	}
	lang := r.PostForm.Get("lang")
	if lang != "it" && lang != "en" {
		w.fail(rw, r, calore.FieldError("lang", "%q: it or en", lang))
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(rw, r, web.LocalPath(r.PostForm.Get("back"), w.deps.Base+"/"), http.StatusSeeOther)
}
