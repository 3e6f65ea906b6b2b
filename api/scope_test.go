package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"mime/multipart"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

// scopeOffices are the offices of the interactions in the record-scope
// matrix: every office, the "career" label the synthetic university writes
// for the career service, and none.
var scopeOffices = []string{access.Orientation, access.CareerService, access.Engagement, access.Research, access.Alumni, access.Fundraising, "career", ""}

// scopeProfiles is the record-scope matrix of docs/access.md, written out by
// hand (not computed from access.ScopeOf): for each profile, the offices of
// the interactions it reads and changes ("*": all, also those of no office),
// and what it may do with donations.
var scopeProfiles = []struct {
	name        string
	roles       []calore.Role
	read, write string // record offices, space separated
	donations   access.Level
}{
	{"orientation editor", roles(access.Orientation, calore.RoleEditor), "orientation", "orientation", access.None},
	{"orientation read-only", roles(access.Orientation, calore.RoleReadOnly), "orientation", "", access.None},
	{"career_service editor", roles(access.CareerService, calore.RoleEditor), "career_service career", "career_service career", access.None},
	{"career_service read-only", roles(access.CareerService, calore.RoleReadOnly), "career_service career", "", access.None},
	{"engagement editor", roles(access.Engagement, calore.RoleEditor), "engagement", "engagement", access.None},
	{"engagement read-only", roles(access.Engagement, calore.RoleReadOnly), "engagement", "", access.None},
	{"research editor", roles(access.Research, calore.RoleEditor), "research", "research", access.None},
	{"research read-only", roles(access.Research, calore.RoleReadOnly), "research", "", access.None},
	{"alumni editor", roles(access.Alumni, calore.RoleEditor), "alumni", "alumni", access.None},
	{"alumni manager", roles(access.Alumni, calore.RoleManager), "alumni", "alumni", access.None},
	{"alumni read-only", roles(access.Alumni, calore.RoleReadOnly), "alumni", "", access.None},
	{"fundraising editor", roles(access.Fundraising, calore.RoleEditor), "fundraising alumni", "fundraising", access.Write},
	{"fundraising read-only", roles(access.Fundraising, calore.RoleReadOnly), "fundraising alumni", "", access.Read},
	{"alumni read-only + research editor", append(roles(access.Alumni, calore.RoleReadOnly), roles(access.Research, calore.RoleEditor)...), "alumni research", "research", access.None},
	{"central (no admin role)", roles(access.Central, calore.RoleEditor), "", "", access.None},
	{"admin", roles(access.Central, calore.RoleAdmin), "*", "*", access.Write},
}

func roles(office, role string) []calore.Role { return []calore.Role{{Office: office, Role: role}} }

func inList(list, office string) bool {
	return list == "*" || (office != "" && slices.Contains(strings.Fields(list), office))
}

// TestRecordScopeMatrix calls, as every profile of scopeProfiles, every
// operation (list, list narrowed by office=, export, get, update, delete) on
// an interaction of every office and on a donation, over the real store,
// and checks each answer and the stored record against the hand-written
// matrix: outside what a profile may read a record is 404 and missing from
// lists and exports; readable but not writable, 403; a denied change leaves
// the record as it was.
// Seen failing with the scope condition disabled (postgres.scopeCond
// returning no condition and mayWrite allowing all): every profile but the
// admin read, listed, exported, changed and deleted other offices' records.
func TestRecordScopeMatrix(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	for _, prof := range scopeProfiles {
		_, tok := e.user(prof.roles...)
		// each profile gets records of its own, so its changes touch no one else's
		person := &calore.Person{Kind: calore.KindAlumnus, LastName: "Scope " + prof.name}
		if err := e.store.CreatePerson(ctx, person); err != nil {
			t.Fatal(err)
		}
		ids := map[string]int64{}
		for _, o := range scopeOffices {
			i := &calore.Interaction{PersonID: &person.ID, Channel: calore.ChannelNote, OccurredAt: time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC),
				Subject: "note of " + o, Notes: "private to " + o, Office: o}
			if err := e.store.CreateInteraction(ctx, i); err != nil {
				t.Fatal(err)
			}
			ids[o] = i.ID
		}
		t.Run(prof.name, func(t *testing.T) {
			var wantIDs []int64
			for _, o := range scopeOffices {
				if inList(prof.read, o) {
					wantIDs = append(wantIDs, ids[o])
				}
			}
			if prof.read == "" { // no role that reads interactions: the route refuses everything
				for _, path := range []string{"", "/export", fmt.Sprintf("/%d", ids[access.Fundraising])} {
					want(t, e.do("GET", fmt.Sprintf("/api/interactions%s?person_id=%d", path, person.ID), tok, nil), 403, "GET "+path)
				}
				want(t, e.do("DELETE", fmt.Sprintf("/api/interactions/%d?version=1", ids[access.Fundraising]), tok, nil), 403, "delete")
				checkDonationScope(t, e, tok, person.ID, prof.donations)
				return
			}
			// list and export: exactly the readable records
			var pg page[calore.Interaction]
			resp := e.do("GET", fmt.Sprintf("/api/interactions?person_id=%d", person.ID), tok, nil)
			want(t, resp, 200, "list")
			resp.json(t, &pg)
			var got []int64
			for _, it := range pg.Items {
				got = append(got, it.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(wantIDs) || pg.Total != int64(len(wantIDs)) {
				t.Errorf("list: ids %v total %d, want %v", got, pg.Total, wantIDs)
			}
			if exported := exportIDs(t, e, tok, person.ID); fmt.Sprint(exported) != fmt.Sprint(wantIDs) {
				t.Errorf("export: ids %v, want %v", exported, wantIDs)
			}
			for _, o := range scopeOffices {
				id := ids[o]
				what := fmt.Sprintf("interaction of office %q", o)
				readable, writable := inList(prof.read, o), inList(prof.write, o)
				// office= narrows, never widens
				if o != "" {
					resp := e.do("GET", fmt.Sprintf("/api/interactions?person_id=%d&office=%s", person.ID, o), tok, nil)
					want(t, resp, 200, "list office="+o)
					var pg page[calore.Interaction]
					resp.json(t, &pg)
					if n := map[bool]int64{true: 1, false: 0}[readable]; pg.Total != n || int64(len(pg.Items)) != n {
						t.Errorf("list office=%s: %d rows, want %d", o, pg.Total, n)
					}
				}
				getStatus := map[bool]int{true: 200, false: 404}[readable]
				expect(t, e.do("GET", fmt.Sprintf("/api/interactions/%d", id), tok, nil), getStatus, "get "+what)

				changeStatus := 404 // not even readable: not found
				switch {
				case prof.write == "":
					changeStatus = 403 // the role never writes: refused by the route
				case writable:
					changeStatus = 200
				case readable:
					changeStatus = 403
				}
				body := map[string]any{"version": 1, "person_id": person.ID, "channel": "note", "occurred_at": "2025-04-01T09:00:00Z",
					"subject": "changed", "notes": "overwritten", "office": o}
				expect(t, e.do("PUT", fmt.Sprintf("/api/interactions/%d", id), tok, body), changeStatus, "update "+what)
				stored, err := e.store.Interaction(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if changed := stored.Notes == "overwritten"; changed != (changeStatus == 200) {
					t.Errorf("update %s answered %d, stored notes now %q", what, changeStatus, stored.Notes)
				}
				if changeStatus == 200 {
					changeStatus = 204
				}
				expect(t, e.do("DELETE", fmt.Sprintf("/api/interactions/%d?version=%d", id, stored.Version), tok, nil), changeStatus, "delete "+what)
				_, err = e.store.Interaction(ctx, id)
				if gone := errors.Is(err, calore.ErrNotFound); gone != (changeStatus == 204) {
					t.Errorf("delete %s answered %d, record gone: %v (%v)", what, changeStatus, gone, err)
				}
			}
			checkDonationScope(t, e, tok, person.ID, prof.donations)
		})
	}
}

// checkDonationScope reads, lists, exports, changes and deletes a donation
// as a user who may do lvl with donations: only the fundraising office (and
// admins) see or touch them.
func checkDonationScope(t *testing.T, e *testEnv, tok string, person int64, lvl access.Level) {
	t.Helper()
	ctx := context.Background()
	d := &calore.Donation{PersonID: &person, Amount: "5000.00", DonatedOn: time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC), PurposeDetail: "bequest"}
	if err := e.store.CreateDonation(ctx, d); err != nil {
		t.Fatal(err)
	}
	read, write := map[bool]int{true: 200, false: 403}[lvl >= access.Read], map[bool]int{true: 200, false: 403}[lvl >= access.Write]
	want(t, e.do("GET", fmt.Sprintf("/api/donations/%d", d.ID), tok, nil), read, "get donation")
	resp := e.do("GET", fmt.Sprintf("/api/donations?person_id=%d", person), tok, nil)
	want(t, resp, read, "list donations")
	if read == 200 && !strings.Contains(string(resp.body), `"bequest"`) {
		t.Errorf("list donations: %s", resp.body)
	}
	want(t, e.do("GET", fmt.Sprintf("/api/donations/export?person_id=%d", person), tok, nil), read, "export donations")
	body := map[string]any{"version": 1, "person_id": person, "amount": "1.00", "donated_on": "2025-04-02T00:00:00Z"}
	want(t, e.do("PUT", fmt.Sprintf("/api/donations/%d", d.ID), tok, body), write, "update donation")
	stored, err := e.store.Donation(ctx, d.ID)
	if err != nil || (stored.Amount == "1.00") != (write == 200) {
		t.Errorf("update donation answered %d, stored %+v %v", write, stored, err)
	}
}

// exportIDs are the ids of the person's interactions in the CSV export.
func exportIDs(t *testing.T, e *testEnv, tok string, person int64) []int64 {
	t.Helper()
	resp := e.do("GET", fmt.Sprintf("/api/interactions/export?person_id=%d", person), tok, nil)
	want(t, resp, 200, "export")
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(resp.body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) == 0 || rows[0][0] != "id" {
		t.Fatalf("export: %v %v", rows, err)
	}
	var ids []int64
	for _, r := range rows[1:] {
		var id int64
		if _, err := fmt.Sscan(r[0], &id); err != nil {
			t.Fatalf("export id %q: %v", r[0], err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestRecordScopeCreate: an interaction is created only for an office the
// user may write; one left without an office gets the user's own office
// when it has exactly one.
// Seen failing with mayWrite allowing all: an alumni editor created
// fundraising and research interactions (201).
func TestRecordScopeCreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	pid, _, _, _ := e.fixtures()
	_, alumni := e.user(roles(access.Alumni, calore.RoleEditor)...)
	_, both := e.user(append(roles(access.Alumni, calore.RoleEditor), roles(access.Research, calore.RoleEditor)...)...)
	admin := e.admin()
	cases := []struct {
		name, token, office string
		status              int
		stored              string // the office the created record has
	}{
		{"own office", alumni, "alumni", 201, "alumni"},
		{"no office: the one office of the user", alumni, "", 201, "alumni"},
		{"another office", alumni, "fundraising", 403, ""},
		{"a label of another office", alumni, "career", 403, ""},
		{"an office that does not exist", alumni, "Alumni ", 403, ""},
		{"two offices: either", both, "research", 201, "research"},
		{"two offices: none given", both, "", 400, ""},
		{"admin: any office", admin, "fundraising", 201, "fundraising"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do("POST", "/api/interactions", c.token, map[string]any{"person_id": pid, "channel": "phone", "occurred_at": "2025-01-02T10:00:00Z", "office": c.office})
			expect(t, resp, c.status, "create")
			if resp.status != 201 {
				return
			}
			var got calore.Interaction
			resp.json(t, &got)
			if got.Office != c.stored {
				t.Errorf("created with office %q, want %q", got.Office, c.stored)
			}
		})
	}
	// /api/me tells the user its record scopes
	var me struct {
		Scopes map[string]access.RecordScope `json:"record_scopes"`
	}
	e.do("GET", "/api/me", both, nil).json(t, &me)
	if got := fmt.Sprint(me.Scopes[access.Interactions], me.Scopes[access.Donations]); got != "{false [alumni research] [alumni research]} {false [] []}" {
		t.Errorf("record scopes in /api/me: %s", got)
	}
	// moving one's own record to another office is a write on that office
	resp := e.do("POST", "/api/interactions", alumni, map[string]any{"person_id": pid, "channel": "phone", "occurred_at": "2025-01-02T10:00:00Z"})
	want(t, resp, 201, "create")
	var own calore.Interaction
	resp.json(t, &own)
	own.Office = access.Fundraising
	want(t, e.do("PUT", fmt.Sprintf("/api/interactions/%d", own.ID), alumni, own), 403, "move to fundraising")
	if stored, err := e.store.Interaction(context.Background(), own.ID); err != nil || stored.Office != access.Alumni || stored.Version != 1 {
		t.Errorf("after a refused move: %+v %v", stored, err)
	}
}

// TestAuditFinding9 replays the audit's finding: a career-service read-only
// user asked for /api/interactions?office=fundraising and read a note about
// a bequest; an alumni editor changed it.
// Seen failing with the scope condition disabled (postgres.scopeCond
// returning no condition): the note came back, the PUT answered 200 and
// changed it.
func TestAuditFinding9(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	pid, _, _, _ := e.fixtures()
	bequest := &calore.Interaction{PersonID: &pid, Channel: calore.ChannelMeeting, OccurredAt: time.Date(2025, 6, 3, 15, 0, 0, 0, time.UTC),
		Subject: "legacy gift", Notes: "intends to leave a bequest of 2 M EUR", Office: access.Fundraising}
	if err := e.store.CreateInteraction(ctx, bequest); err != nil {
		t.Fatal(err)
	}
	_, career := e.user(roles(access.CareerService, calore.RoleReadOnly)...)
	_, alumni := e.user(roles(access.Alumni, calore.RoleEditor)...)

	for _, path := range []string{"/api/interactions?office=fundraising", "/api/interactions", fmt.Sprintf("/api/interactions?person_id=%d", pid),
		"/api/interactions/export?office=fundraising", fmt.Sprintf("/api/interactions/%d", bequest.ID)} {
		resp := e.do("GET", path, career, nil)
		if strings.Contains(string(resp.body), "bequest") || (resp.status != 200 && resp.status != 404) {
			t.Errorf("career service read-only GET %s: %d %s", path, resp.status, resp.body)
		}
	}
	var pg page[calore.Interaction]
	resp := e.do("GET", "/api/interactions?office=fundraising", career, nil)
	resp.json(t, &pg)
	if pg.Total != 0 || len(pg.Items) != 0 {
		t.Errorf("office=fundraising as the career service: %s", resp.body)
	}
	expect(t, e.do("GET", fmt.Sprintf("/api/interactions/%d", bequest.ID), career, nil), 404, "get the bequest note")

	edit := *bequest
	edit.Notes = "nothing to see"
	resp = e.do("PUT", fmt.Sprintf("/api/interactions/%d", bequest.ID), alumni, edit)
	expect(t, resp, 404, "alumni editor changes the bequest note")
	stored, err := e.store.Interaction(ctx, bequest.ID)
	if err != nil || stored.Notes != bequest.Notes || stored.Version != 1 {
		t.Errorf("the note after the change: %+v %v", stored, err)
	}
	expect(t, e.do("DELETE", fmt.Sprintf("/api/interactions/%d?version=1", bequest.ID), alumni, nil), 404, "alumni editor deletes it")
	if _, err := e.store.Interaction(ctx, bequest.ID); err != nil {
		t.Errorf("the note after the delete: %v", err)
	}
	// the fundraising office still reads it
	_, fundraising := e.user(roles(access.Fundraising, calore.RoleReadOnly)...)
	resp = e.do("GET", "/api/interactions?office=fundraising", fundraising, nil)
	want(t, resp, 200, "fundraising reads its notes")
	if !strings.Contains(string(resp.body), "bequest") {
		t.Errorf("fundraising: %s", resp.body)
	}
}

// expect reports (and goes on) unless the response has the status.
func expect(t *testing.T, r response, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %.200s", what, r.status, status, r.body)
	}
}

// TestRecordScopeImport: an import of interactions through the API stays
// within the user's offices: a row of another office is left out, a row
// without one gets the user's office, and a row whose natural key is that
// of another office's interaction does not change it.
// Seen failing with the import's Offices option left unset (api/imports.go):
// the fundraising row was imported and the fundraising note overwritten.
func TestRecordScopeImport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	person := &calore.Person{Kind: calore.KindAlumnus, FirstName: "Maria", LastName: "Rossi",
		Emails: []calore.Email{{Type: calore.EmailPersonal, Address: "maria.rossi@example.org"}}}
	if err := e.store.CreatePerson(ctx, person); err != nil {
		t.Fatal(err)
	}
	bequest := &calore.Interaction{PersonID: &person.ID, Channel: calore.ChannelMeeting, OccurredAt: time.Date(2025, 6, 3, 15, 0, 0, 0, time.UTC),
		Subject: "legacy gift", Notes: "intends to leave a bequest", Office: access.Fundraising}
	if err := e.store.CreateInteraction(ctx, bequest); err != nil {
		t.Fatal(err)
	}
	_, tok := e.user(roles(access.Alumni, calore.RoleEditor)...)
	csv := "Email;Canale;Data;Oggetto;Note;Ufficio\n" +
		"maria.rossi@example.org;phone;2025-02-01T10:00:00Z;call;alumni call;alumni\n" +
		"maria.rossi@example.org;phone;2025-02-02T10:00:00Z;call;planted;fundraising\n" +
		"maria.rossi@example.org;phone;2025-02-03T10:00:00Z;call;no office;\n" +
		"maria.rossi@example.org;meeting;2025-06-03T15:00:00Z;legacy gift;overwritten;alumni\n"
	j := e.importFile(tok, "interactions", "notes.csv", csv, "policy", "*=overwrite")
	if j.Report == nil || j.Report.Created != 3 || j.Report.Updated != 0 || len(j.Report.Conflicts)+len(j.Report.Errors) != 1 {
		t.Fatalf("report: %s %+v", j.Error, j.Report)
	}
	stored, err := e.store.Interaction(ctx, bequest.ID)
	if err != nil || stored.Notes != bequest.Notes || stored.Version != 1 {
		t.Errorf("the fundraising note after the import: %+v %v", stored, err)
	}
	var offices string
	if err := e.deps.Pool.QueryRow(ctx, `SELECT string_agg(office || ':' || notes, ', ' ORDER BY occurred_at) FROM interactions`).Scan(&offices); err != nil {
		t.Fatal(err)
	}
	if want := "alumni:alumni call, alumni:no office, fundraising:intends to leave a bequest, alumni:overwritten"; offices != want {
		t.Errorf("interactions after the import: %s, want %s", offices, want)
	}
}

// importFile uploads a file through the API and waits for its job.
func (e *testEnv) importFile(tok, kind, name, content string, fields ...string) *job {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("kind", kind)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	resp := e.do("POST", "/api/imports", tok, &buf, "Content-Type", mw.FormDataContentType())
	want(e.t, resp, 202, "upload")
	j := new(job)
	resp.json(e.t, j)
	for deadline := time.Now().Add(30 * time.Second); j.Status == "running" && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		e.do("GET", "/api/imports/"+j.ID, tok, nil).json(e.t, j)
	}
	return j
}

// TestAccessDocMatchesScopes: docs/access.md shows the record scopes the
// store applies.
func TestAccessDocMatchesScopes(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/access.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), access.ScopeMarkdown()) {
		t.Errorf("docs/access.md does not contain the current record scopes; paste:\n%s", access.ScopeMarkdown())
	}
}
