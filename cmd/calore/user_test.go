package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/config"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

func TestUserCommand(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewMigrated(t).App // the command runs as the application role
	ctx := context.Background()
	pool, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cfg, err := config.FromEnv(func(k string) string {
		if k == "CALORE_PG_DSN" {
			return dsn
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	user := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := cmdUser(ctx, cfg, slog.New(slog.DiscardHandler), args, strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		ok    bool
		out   string
	}{
		{"add with password", "a long enough password\n", []string{"add", "--username", "anna", "--office", "fundraising", "--role", "editor", "--grant", "alumni:read_only", "--password-stdin"}, true, "fundraising:editor"},
		{"add admin without password", "", []string{"add", "--username", "root", "--grant", "central:admin"}, true, "API tokens only"},
		{"add intern", "", []string{"add", "--username", "intern", "--grant", "orientation:editor", "--expires", "2020-01-01"}, true, "created"},
		{"taken username", "", []string{"add", "--username", "anna"}, false, "conflict"},
		{"unknown office", "", []string{"add", "--username", "x", "--grant", "press:editor"}, false, "is not one of"},
		{"bad role", "", []string{"add", "--username", "y", "--grant", "alumni:boss"}, false, "role"},
		{"short password", "short\n", []string{"add", "--username", "z", "--password-stdin"}, false, "at least 10"},
		{"token for nobody", "", []string{"token", "--username", "ghost"}, false, "not found"},
	}
	for _, c := range cases {
		out, err := user(c.stdin, c.args...)
		if (err == nil) != c.ok || !strings.Contains(out+errText(err), c.out) {
			t.Errorf("%s: err %v, output %q", c.name, err, out)
		}
	}
	store := postgres.NewStore(pool)
	acc, err := access.NewService(store, access.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := acc.Login(ctx, "anna", "a long enough password"); err != nil {
		t.Errorf("login with the password set by the command: %v", err)
	}
	if _, _, err := acc.Login(ctx, "intern", "anything at all"); err == nil {
		t.Error("expired intern logged in")
	}

	out, err := user("", "token", "--username", "anna", "--name", "crm-sync")
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`calore_[A-Za-z0-9_-]{43}`).FindString(out)
	if tok == "" {
		t.Fatalf("no token in %q", out)
	}
	uid, tid, err := store.APITokenUser(ctx, access.HashSecret(tok), time.Now())
	if err != nil || uid == 0 {
		t.Fatalf("token lookup: %v", err)
	}
	out, err = user("", "list")
	if err != nil || !regexp.MustCompile(`anna\s+alumni:read_only,fundraising:editor\s+-\s+active\s+1`).MatchString(out) ||
		!regexp.MustCompile(`intern\s+orientation:editor\s+2020-01-01\s+expired`).MatchString(out) {
		t.Errorf("list: %v\n%s", err, out)
	}
	if _, err := user("", "revoke", strconvI(tid)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.APITokenUser(ctx, access.HashSecret(tok), time.Now()); err == nil {
		t.Error("revoked token still works")
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }
