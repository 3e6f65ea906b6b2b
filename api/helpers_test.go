package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/ingest/kafkatest"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
	"github.com/calore-crm/calore/warehouse/warehousetest"
)

// testEnv is a server on its own PostgreSQL and ClickHouse databases.
type testEnv struct {
	t     *testing.T
	srv   *Server
	http  *httptest.Server
	store *postgres.Store
	deps  Deps
}

var userSeq atomic.Int64

func newTestEnv(t *testing.T, tweak ...func(*Deps)) *testEnv {
	t.Helper()
	pool := pgtest.New(t)
	deps := Deps{
		Pool: pool, Warehouse: warehousetest.New(t), KafkaBrokers: kafkatest.Brokers(t), KafkaSASL: kafkatest.Kafka(t).SASL,
		Access:    access.Options{BcryptCost: bcrypt.MinCost},
		UploadDir: t.TempDir(),
	}
	for _, f := range tweak {
		f(&deps)
	}
	srv, err := NewServer(deps)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return &testEnv{t: t, srv: srv, http: hs, store: postgres.NewStore(pool), deps: deps}
}

// user creates a user with roles and returns it with an API token.
func (e *testEnv) user(roles ...calore.Role) (*calore.User, string) {
	e.t.Helper()
	ctx := context.Background()
	u := &calore.User{Username: fmt.Sprintf("user%d", userSeq.Add(1)), Roles: roles}
	if err := e.store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	tok, hash, err := access.NewSecret(access.TokenPrefix)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.CreateAPIToken(ctx, u.ID, "test", hash, nil); err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

func (e *testEnv) admin() string {
	_, tok := e.user(calore.Role{Office: access.Central, Role: calore.RoleAdmin})
	return tok
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) errCode(t *testing.T) string {
	t.Helper()
	var e errorBody
	r.json(t, &e)
	return e.Error.Code
}

// do sends a request with a bearer token ("" for none); body is JSON
// unless it is an io.Reader.
func (e *testEnv) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// want fails unless the response has the status.
func want(t *testing.T, r response, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
}

func auditQuery(action, entity string) postgres.AuditQuery {
	return postgres.AuditQuery{Action: action, Entity: entity}
}
