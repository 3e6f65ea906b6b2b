package api

import (
	"context"
	"fmt"
	"testing"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

func TestGDPRErase(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	pid, _, _, _ := e.fixtures()
	_, editor := e.user(calore.Role{Office: access.Alumni, Role: calore.RoleEditor})
	want(t, e.do("POST", fmt.Sprintf("/api/people/%d/erase", pid), editor, `{"reason":"ticket 9"}`), 403, "erase as alumni editor")
	if p, err := e.store.Person(ctx, pid); err != nil || p.FirstName != "Ada" {
		t.Fatalf("person changed by a refused erase: %+v %v", p, err)
	}
	admin := e.admin()
	resp := e.do("POST", fmt.Sprintf("/api/people/%d/erase", pid), admin, `{"reason":"ticket 9"}`)
	want(t, resp, 202, "erase as admin")
	var out struct {
		EventID  string           `json:"event_id"`
		PersonID int64            `json:"person_id"`
		Rows     map[string]int64 `json:"rows"`
	}
	resp.json(t, &out)
	if out.EventID == "" || out.PersonID != pid || out.Rows["people"] != 1 {
		t.Errorf("erase response: %s", resp.body)
	}
	p, err := e.store.Person(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.FirstName != "" || p.LastName != "" {
		t.Errorf("not anonymised: %+v", p)
	}
	trail, err := e.store.AuditTrail(ctx, "person", fmt.Sprint(pid))
	if err != nil || len(trail) == 0 || trail[len(trail)-1].Detail["kind"] != "gdpr-erase" || trail[len(trail)-1].UserID == nil {
		t.Errorf("audit: %+v %v", trail, err)
	}
	want(t, e.do("POST", "/api/people/999999999/erase", admin, nil), 404, "erase missing person")
	want(t, e.do("POST", fmt.Sprintf("/api/people/%d/erase", pid), admin, `{"nope":1}`), 400, "unknown field")
}
