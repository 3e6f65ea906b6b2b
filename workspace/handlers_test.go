package workspace

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
)

// fakeStore is an in-memory Store: people by id, and the directory queries
// it was asked.
type fakeStore struct {
	people  map[int64]*calore.Person
	queries []postgres.DirectoryQuery
}

func (f *fakeStore) Directory(_ context.Context, q postgres.DirectoryQuery) ([]postgres.DirectoryEntry, error) {
	f.queries = append(f.queries, q)
	var out []postgres.DirectoryEntry
	for id, p := range f.people {
		out = append(out, postgres.DirectoryEntry{Entity: postgres.EntityPerson, ID: id, Name: p.FirstName + " " + p.LastName, Kind: p.Kind})
	}
	return out, nil
}
func (f *fakeStore) Person(_ context.Context, id int64) (*calore.Person, error) {
	if p, ok := f.people[id]; ok {
		return p, nil
	}
	return nil, calore.Errorf(calore.ErrNotFound, "person %d", id)
}
func (f *fakeStore) PersonScores(context.Context, int64) (json.RawMessage, error) { return nil, nil }
func (f *fakeStore) FindDuplicatePeople(context.Context, postgres.DuplicateQuery) ([]calore.DuplicateCandidate, error) {
	return nil, nil
}
func (f *fakeStore) ListAffiliations(context.Context, postgres.Filter) ([]*calore.Affiliation, error) {
	return nil, nil
}
func (f *fakeStore) ListConsents(context.Context, postgres.Filter) ([]*calore.Consent, error) {
	return nil, nil
}
func (f *fakeStore) ListRegistrations(context.Context, postgres.Filter) ([]*calore.Registration, error) {
	return nil, nil
}
func (f *fakeStore) ListPartnerships(context.Context, postgres.Filter) ([]*calore.Partnership, error) {
	return nil, nil
}
func (f *fakeStore) ListResearchContracts(context.Context, postgres.Filter) ([]*calore.ResearchContract, error) {
	return nil, nil
}
func (f *fakeStore) Event(context.Context, int64) (*calore.CalendarEvent, error) {
	return nil, calore.ErrNotFound
}
func (f *fakeStore) Organisation(context.Context, int64) (*calore.Organisation, error) {
	return nil, calore.Errorf(calore.ErrNotFound, "no organisations here")
}
func (f *fakeStore) ClusterOf(context.Context, int64) (*postgres.OrganisationCluster, error) {
	return nil, nil
}
func (f *fakeStore) InteractionIn(context.Context, postgres.Scope, int64) (*calore.Interaction, error) {
	return nil, calore.ErrNotFound
}
func (f *fakeStore) SearchInteractionsIn(context.Context, postgres.Scope, postgres.SearchQuery) ([]*calore.Interaction, int64, error) {
	return nil, 0, nil
}
func (f *fakeStore) SearchDonationsIn(context.Context, postgres.Scope, postgres.SearchQuery) ([]*calore.Donation, int64, error) {
	return nil, 0, nil
}

type fakeWriter struct{ created []*calore.Interaction }

func (f *fakeWriter) CreateInteraction(_ *http.Request, _ postgres.Scope, in *calore.Interaction) error {
	f.created = append(f.created, in)
	return nil
}
func (f *fakeWriter) UpdateInteraction(*http.Request, postgres.Scope, *calore.Interaction) error {
	return nil
}
func (f *fakeWriter) ErasePerson(*http.Request, int64, string) error { return nil }

func newFake(t *testing.T, roles ...calore.Role) (*Workspace, *fakeStore, *fakeWriter) {
	t.Helper()
	merged := int64(1)
	st := &fakeStore{people: map[int64]*calore.Person{
		1: {Meta: calore.Meta{ID: 1}, Kind: calore.KindAlumnus, FirstName: "Niccolò", LastName: "Rossi"},
		2: {Meta: calore.Meta{ID: 2}, Kind: calore.KindAlumnus, FirstName: "N.", LastName: "Rossi", MergedInto: &merged, Status: calore.StatusDuplicate},
	}}
	wr := &fakeWriter{}
	p := &access.Principal{User: &calore.User{Meta: calore.Meta{ID: 9}, Username: "tester", Roles: roles}, Via: "session"}
	w, err := New(Deps{Store: st, Writer: wr, Principal: func(*http.Request) *access.Principal { return p },
		Audit: func(*http.Request, string, string, []int64, map[string]string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return w, st, wr
}

func serve(w http.Handler, method, target string, form url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	rec := httptest.NewRecorder()
	// the workspace is mounted at /workspace: strip it as chi's Mount does
	req.URL.Path = strings.TrimPrefix(req.URL.Path, "/workspace")
	w.ServeHTTP(rec, req)
	return rec
}

func TestHandlers(t *testing.T) {
	alumni := calore.Role{Office: access.Alumni, Role: calore.RoleEditor}
	tests := []struct {
		name      string
		roles     []calore.Role
		method    string
		target    string
		form      url.Values
		status    int
		location  string
		body      []string
		directory int // queries the store was asked
	}{
		{name: "search", roles: []calore.Role{alumni}, method: "GET", target: "/workspace/?q=rossi", status: 200, body: []string{"Niccolò Rossi", `href="/workspace/people/1"`}, directory: 1},
		{name: "bad filters, no query", roles: []calore.Role{alumni}, method: "GET", target: "/workspace/?kind=wizard&cohort=abc", status: 400, body: []string{"wizard", "a year such as 1990"}},
		{name: "no role", roles: nil, method: "GET", target: "/workspace/", status: 403, body: []string{"Your roles do not allow this page."}},
		{name: "merged person", roles: []calore.Role{alumni}, method: "GET", target: "/workspace/people/2", status: 303, location: "/workspace/people/1"},
		{name: "unknown person", roles: []calore.Role{alumni}, method: "GET", target: "/workspace/people/77", status: 404, body: []string{"Back to search"}},
		{name: "erase form needs gdpr", roles: []calore.Role{alumni}, method: "GET", target: "/workspace/people/1/erase", status: 403},
		{name: "language", roles: []calore.Role{alumni}, method: "POST", target: "/workspace/language", form: url.Values{"lang": {"it"}, "back": {"/workspace/?q=x"}}, status: 303, location: "/workspace/?q=x"},
		{name: "language, foreign back", roles: []calore.Role{alumni}, method: "POST", target: "/workspace/language", form: url.Values{"lang": {"it"}, "back": {"//evil.example/"}}, status: 303, location: "/workspace/"},
		{name: "log form, office defaulted", roles: []calore.Role{alumni}, method: "GET", target: "/workspace/people/1/log", status: 200, body: []string{"<option selected>alumni</option>"}},
		{name: "log, missing channel", roles: []calore.Role{alumni}, method: "POST", target: "/workspace/people/1/log", form: url.Values{"subject": {"hello"}, "office": {"alumni"}}, status: 422, body: []string{`class="fielderr"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, st, _ := newFake(t, tt.roles...)
			rec := serve(w, tt.method, tt.target, tt.form)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.location != "" && rec.Header().Get("Location") != tt.location {
				t.Errorf("location %q, want %q", rec.Header().Get("Location"), tt.location)
			}
			for _, s := range tt.body {
				if !strings.Contains(rec.Body.String(), s) {
					t.Errorf("body lacks %q", s)
				}
			}
			if len(st.queries) != tt.directory {
				t.Errorf("%d directory queries, want %d", len(st.queries), tt.directory)
			}
		})
	}
}

func TestLogCreates(t *testing.T) {
	w, _, wr := newFake(t, calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	rec := serve(w, "POST", "/workspace/people/1/log", url.Values{"channel": {"phone"}, "direction": {"outbound"}, "subject": {"Call"}, "office": {"alumni"}, "when": {"2026-01-02T10:00"}})
	if rec.Code != http.StatusSeeOther || len(wr.created) != 1 {
		t.Fatalf("status %d, %d created", rec.Code, len(wr.created))
	}
	in := wr.created[0]
	if *in.PersonID != 1 || in.Channel != "phone" || in.Office != "alumni" || *in.StaffUserID != 9 || in.OccurredAt.Format("2006-01-02 15:04") != "2026-01-02 10:00" {
		t.Errorf("stored %+v", in)
	}
}

// TestCatalogComplete: every message the templates translate has its
// Italian.
func TestCatalogComplete(t *testing.T) {
	re := regexp.MustCompile(`\.T "([^"]+)"`)
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := templateFS.ReadFile("templates/" + e.Name())
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := italian[m[1]]; !ok {
				t.Errorf("%s: %q has no Italian", e.Name(), m[1])
			}
		}
	}
	for _, k := range timelineKinds {
		if _, ok := italian[k.Label]; !ok {
			t.Errorf("timeline filter %q has no Italian", k.Label)
		}
	}
}
