package access

import (
	"strings"
	"testing"

	"github.com/calore-crm/calore"
)

func TestLevelOf(t *testing.T) {
	cases := []struct {
		name     string
		roles    []calore.Role
		resource string
		want     Level
	}{
		{"editor gets the office's level", []calore.Role{{Office: CareerService, Role: calore.RoleEditor}}, Organisations, Write},
		{"read-only is capped at read", []calore.Role{{Office: CareerService, Role: calore.RoleReadOnly}}, Organisations, Read},
		{"read-only of nothing stays nothing", []calore.Role{{Office: CareerService, Role: calore.RoleReadOnly}}, Donations, None},
		{"the best of several roles", []calore.Role{{Office: Alumni, Role: calore.RoleReadOnly}, {Office: Fundraising, Role: calore.RoleEditor}}, Donations, Write},
		{"read-only in one office, editor in another", []calore.Role{{Office: Fundraising, Role: calore.RoleReadOnly}, {Office: Alumni, Role: calore.RoleEditor}}, Donations, Read},
		{"admin anywhere", []calore.Role{{Office: Orientation, Role: calore.RoleAdmin}}, Audit, Write},
		{"unknown role", []calore.Role{{Office: Fundraising, Role: "boss"}}, Donations, None},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := LevelOf(c.roles, c.resource); got != c.want {
				t.Errorf("LevelOf = %s, want %s", got, c.want)
			}
		})
	}
}

func TestMatrixCoversResourcesAndOffices(t *testing.T) {
	for _, r := range Resources {
		if _, ok := Matrix[r]; !ok {
			t.Errorf("resource %s has no row", r)
		}
	}
	for r, row := range Matrix {
		for o := range row {
			if err := ValidateRoles([]calore.Role{{Office: o, Role: calore.RoleEditor}}); err != nil {
				t.Errorf("matrix row %s names unknown office %s", r, o)
			}
		}
	}
	if len(Profiles()) != 2*(len(Offices)-1)+1 {
		t.Errorf("profiles: %d", len(Profiles()))
	}
	if md := MatrixMarkdown(); !strings.Contains(md, "| `donations` | none | none | none | none | none | write | write |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestSecretsAndPasswords(t *testing.T) {
	a, ha, err := NewSecret(TokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := NewSecret(TokenPrefix)
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) != len(TokenPrefix)+43 || string(ha) != string(HashSecret(a)) || len(ha) != 32 {
		t.Errorf("secret %q hash %x", a, ha)
	}
	s, err := NewService(nil, Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"short", strings.Repeat("x", 73)} {
		if _, err := s.HashPassword(pw); err == nil {
			t.Errorf("password of %d bytes accepted", len(pw))
		}
	}
	h, err := s.HashPassword("a good long password")
	if err != nil || !strings.HasPrefix(h, "$2a$04$") {
		t.Errorf("hash %q %v", h, err)
	}
}
