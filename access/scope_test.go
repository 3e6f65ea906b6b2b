package access

import (
	"fmt"
	"testing"

	"github.com/calore-crm/calore"
)

func TestScopeOf(t *testing.T) {
	cases := []struct {
		name        string
		roles       []calore.Role
		resource    string
		read, write string
		def         string
	}{
		{"editor: own office and its labels", []calore.Role{{Office: CareerService, Role: calore.RoleEditor}}, Interactions, "[career career_service]", "[career career_service]", CareerService},
		{"read-only: reads, writes nothing", []calore.Role{{Office: Alumni, Role: calore.RoleReadOnly}}, Interactions, "[alumni]", "[]", ""},
		{"fundraising also reads alumni", []calore.Role{{Office: Fundraising, Role: calore.RoleManager}}, Interactions, "[alumni fundraising]", "[fundraising]", Fundraising},
		{"two offices: no default", []calore.Role{{Office: Alumni, Role: calore.RoleEditor}, {Office: Research, Role: calore.RoleEditor}}, Interactions, "[alumni research]", "[alumni research]", ""},
		{"donations: fundraising only", []calore.Role{{Office: Alumni, Role: calore.RoleEditor}}, Donations, "[]", "[]", ""},
		{"donations of fundraising", []calore.Role{{Office: Fundraising, Role: calore.RoleEditor}}, Donations, "[fundraising]", "[fundraising]", Fundraising},
		{"central without admin", []calore.Role{{Office: Central, Role: calore.RoleEditor}}, Interactions, "[]", "[]", ""},
		{"unknown role", []calore.Role{{Office: Fundraising, Role: "boss"}}, Interactions, "[]", "[]", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ScopeOf(c.roles, c.resource)
			if s.All || fmt.Sprint(s.Read) != c.read || fmt.Sprint(s.Write) != c.write || s.DefaultOffice() != c.def {
				t.Errorf("ScopeOf = %+v default %q; want read %s write %s default %q", s, s.DefaultOffice(), c.read, c.write, c.def)
			}
		})
	}
	admin := ScopeOf([]calore.Role{{Office: Alumni, Role: calore.RoleReadOnly}, {Office: Central, Role: calore.RoleAdmin}}, Interactions)
	if !admin.All || !admin.CanRead("") || !admin.CanWrite("anything") || admin.DefaultOffice() != "" {
		t.Errorf("admin: %+v", admin)
	}
	if (RecordScope{}).CanRead(Alumni) || (RecordScope{}).CanWrite(Alumni) {
		t.Error("the zero scope allows a record")
	}
}
