package api

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.yaml.in/yaml/v3"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

// TestOpenAPIMatchesRouter: every route of the router is in the OpenAPI
// document and every operation of the document is a route.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %q", doc.OpenAPI)
	}
	inDoc := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				inDoc[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	inRouter := map[string]bool{}
	err := chi.Walk(e.srv.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		for _, mount := range []string{"/t/", "/dashboards/", "/metrics"} {
			if strings.HasPrefix(route, mount) {
				return nil
			}
		}
		inRouter[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range inRouter {
		if !inDoc[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for r := range inDoc {
		if !inRouter[r] {
			t.Errorf("openapi.yaml has %s, the router does not", r)
		}
	}
	if len(inRouter) != len(e.srv.routes) {
		t.Errorf("router has %d routes, the route table %d", len(inRouter), len(e.srv.routes))
	}
	resp := e.do("GET", "/api/openapi.yaml", "", nil)
	want(t, resp, 200, "openapi.yaml")
	if string(resp.body) != string(openapiYAML) {
		t.Error("served document differs from the embedded one")
	}
}

// TestAccessDocMatchesMatrix: docs/access.md shows the matrix the router uses.
func TestAccessDocMatchesMatrix(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/access.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), access.MatrixMarkdown()) {
		t.Errorf("docs/access.md does not contain the current matrix; paste:\n%s", access.MatrixMarkdown())
	}
}

// fillPath puts harmless values in a route's parameters: records that do
// not exist, so allowed writes change nothing.
func fillPath(p string) string {
	r := strings.NewReplacer("{id}", "999999999", "{cluster}", "0", "{name}", "campaign")
	return r.Replace(p)
}

// TestRBACMatrix calls every route as every profile (an editor and a
// read-only user of each office, and an admin): a route the matrix allows is
// never 401/403, one it does not is 403. Without credentials every
// non-public route is 401.
func TestRBACMatrix(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, prof := range access.Profiles() {
		_, tok := e.user(prof.Roles...)
		t.Run(prof.Name, func(t *testing.T) {
			for _, rt := range e.srv.routes {
				if rt.perm == access.Public {
					continue
				}
				var body any
				if rt.method == http.MethodPost || rt.method == http.MethodPut {
					body = "{}"
				}
				resp := e.do(rt.method, fillPath(rt.pattern), tok, body)
				allowed := access.Allowed(prof.Roles, rt.perm)
				switch {
				case allowed && (resp.status == 401 || resp.status == 403):
					t.Errorf("%s %s (%s): %d, want allowed: %s", rt.method, rt.pattern, rt.perm, resp.status, resp.body)
				case !allowed && resp.status != 403:
					t.Errorf("%s %s (%s): %d, want 403: %s", rt.method, rt.pattern, rt.perm, resp.status, resp.body)
				case !allowed && resp.errCode(t) != "forbidden":
					t.Errorf("%s %s: error code %q", rt.method, rt.pattern, resp.errCode(t))
				}
			}
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		for _, rt := range e.srv.routes {
			if rt.perm == access.Public {
				continue
			}
			if resp := e.do(rt.method, fillPath(rt.pattern), "", nil); resp.status != 401 {
				t.Errorf("%s %s without a user: %d, want 401", rt.method, rt.pattern, resp.status)
			}
		}
	})
}

// TestMatrixRules pins the rules of the brief that the matrix encodes.
func TestMatrixRules(t *testing.T) {
	t.Parallel()
	role := func(office, r string) []calore.Role { return []calore.Role{{Office: office, Role: r}} }
	cases := []struct {
		name  string
		roles []calore.Role
		perm  access.Permission
		want  bool
	}{
		{"fundraising reads donations", role(access.Fundraising, calore.RoleEditor), perm(access.Donations, access.Read), true},
		{"fundraising read-only cannot write donations", role(access.Fundraising, calore.RoleReadOnly), perm(access.Donations, access.Write), false},
		{"alumni cannot read donations", role(access.Alumni, calore.RoleManager), perm(access.Donations, access.Read), false},
		{"alumni cannot read predictions", role(access.Alumni, calore.RoleEditor), perm(access.Predictions, access.Read), false},
		{"career service annotates companies", role(access.CareerService, calore.RoleEditor), perm(access.Organisations, access.Write), true},
		{"career service does not see research contracts", role(access.CareerService, calore.RoleManager), perm(access.KPIContracts, access.Read), false},
		{"research sees contracts", role(access.Research, calore.RoleReadOnly), perm(access.KPIContracts, access.Read), true},
		{"read-only never writes people", role(access.Orientation, calore.RoleReadOnly), perm(access.People, access.Write), false},
		{"admin of any office does everything", role(access.Alumni, calore.RoleAdmin), perm(access.Audit, access.Read), true},
		{"no roles, nothing", nil, perm(access.Self, access.Read), false},
		{"unknown office, nothing", role("press", calore.RoleEditor), perm(access.People, access.Read), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := access.Allowed(c.roles, c.perm); got != c.want {
				t.Errorf("Allowed = %v, want %v", got, c.want)
			}
		})
	}
	// every resource has a row in the matrix
	for _, res := range access.Resources {
		if _, ok := access.Matrix[res]; !ok {
			t.Errorf("resource %s has no row in the matrix", res)
		}
	}
	if !slices.Contains(access.Offices, access.Central) {
		t.Error("central office missing")
	}
}
