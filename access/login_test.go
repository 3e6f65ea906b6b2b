package access_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/postgres/pgtest"
)

// clock is an injected clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// loginEnv is the access service on a database of its own, with a clock.
type loginEnv struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *postgres.Store
	svc   *access.Service
	clock *clock
}

func newLoginEnv(t *testing.T) *loginEnv {
	t.Helper()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	c := &clock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	svc, err := access.NewService(store, access.Options{BcryptCost: bcrypt.MinCost, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &loginEnv{t: t, pool: pool, store: store, svc: svc, clock: c}
}

// user creates a user with a password.
func (e *loginEnv) user(name, password string) *calore.User {
	e.t.Helper()
	u := &calore.User{Username: name, Roles: []calore.Role{{Office: access.Alumni, Role: calore.RoleEditor}}}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.SetPassword(context.Background(), u.ID, password); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// try logs in from addr and returns "ok", "401" or "429 <retry after>".
func (e *loginEnv) try(username, password, addr string) string {
	e.t.Helper()
	_, _, err := e.svc.Login(context.Background(), access.LoginAttempt{Username: username, Password: password, Address: netip.MustParseAddr(addr)})
	var tm *access.TooManyAttempts
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &tm):
		return fmt.Sprintf("429 %s", tm.RetryAfter)
	case errors.Is(err, access.ErrUnauthenticated):
		return "401"
	}
	e.t.Fatalf("login %s from %s: %v", username, addr, err)
	return ""
}

func (e *loginEnv) expect(username, password, addr, want string) {
	e.t.Helper()
	if got := e.try(username, password, addr); got != want {
		e.t.Fatalf("login %s from %s at %s: %s, want %s", username, addr, e.clock.Now().Format(time.TimeOnly), got, want)
	}
}

const goodPassword = "staple battery horse correct"

// TestLoginBackoff: after five failures for an account each attempt waits
// 1 s, 2 s, 4 s … up to 15 minutes, answered without looking at the
// password (even the right one waits); a quiet day forgets. Seen failing
// with admit() always admitting (no 429 after the fifth failure).
func TestLoginBackoff(t *testing.T) {
	t.Parallel()
	e := newLoginEnv(t)
	e.user("anna", goodPassword)
	const addr = "192.0.2.10"
	for range 5 {
		e.expect("anna", "wrong password!", addr, "401")
	}
	var waits []string
	for range 13 {
		got := e.try("anna", goodPassword, addr) // the right password, refused unchecked
		waits = append(waits, got)
		d, err := time.ParseDuration(strings.TrimPrefix(got, "429 "))
		if err != nil {
			t.Fatalf("expected a 429, got %q", got)
		}
		e.clock.Add(d)
		e.expect("anna", "wrong password!", addr, "401") // admitted once the wait is over
	}
	want := "[429 1s 429 2s 429 4s 429 8s 429 16s 429 32s 429 1m4s 429 2m8s 429 4m16s 429 8m32s 429 15m0s 429 15m0s 429 15m0s]"
	if fmt.Sprint(waits) != want {
		t.Errorf("waits %v\nwant  %s", waits, want)
	}
	// half a wait later: still refused, with the rest of the wait
	e.clock.Add(7*time.Minute + 30*time.Second)
	e.expect("anna", goodPassword, addr, "429 7m30s")
	e.clock.Add(7*time.Minute + 30*time.Second)
	e.expect("anna", goodPassword, addr, "ok")
	// a day without attempts forgets the failures
	e.clock.Add(25 * time.Hour)
	for range 5 {
		e.expect("anna", "wrong password!", addr, "401")
	}
	e.expect("anna", goodPassword, addr, "429 1s")
}

// TestLoginPerAddress: one address guessing over many usernames is slowed
// down after twenty failures, whatever the username, while another address
// logs in; and a success from the throttled address gives back only its own
// attempt, not the failures before it. Seen failing with the address key
// left out of Login's keys (the 21st attempt got a 401), and with the
// success resetting the counters to zero (the attempt after it was admitted).
func TestLoginPerAddress(t *testing.T) {
	t.Parallel()
	e := newLoginEnv(t)
	e.user("bruno", goodPassword)
	const attacker, other = "198.51.100.7", "203.0.113.5"
	for i := range 20 {
		e.expect(fmt.Sprintf("guess%d", i), "password123456", attacker, "401")
	}
	e.expect("bruno", goodPassword, attacker, "429 1s") // a new username changes nothing
	e.expect("bruno", goodPassword, other, "ok")
	e.clock.Add(time.Second)
	e.expect("bruno", goodPassword, attacker, "ok") // the wait is over: one attempt, a success
	// the success did not wipe the address's twenty failures
	e.expect("guess99", "password123456", attacker, "429 1s")
	// IPv6: one /64 is one address
	for i := range 20 {
		e.expect(fmt.Sprintf("v6guess%d", i), "password123456", fmt.Sprintf("2001:db8:1:2::%x", i+1), "401")
	}
	e.expect("bruno", goodPassword, "2001:db8:1:2:ffff::1", "429 1s")
	e.expect("bruno", goodPassword, "2001:db8:1:3::1", "ok")
}

// TestLoginNotWeaponisable: attackers on many addresses keep an account in
// its longest backoff, yet its user still logs in from an address it used
// before (counted per account and address), and from a new address at most
// 15 minutes later. Seen failing with the known-address rule disabled
// (keys[1] always the account: the user's known address got a 429).
func TestLoginNotWeaponisable(t *testing.T) {
	t.Parallel()
	e := newLoginEnv(t)
	e.user("carla", goodPassword)
	const home = "192.0.2.44"
	e.expect("carla", goodPassword, home, "ok")
	e.clock.Add(time.Hour)
	// twenty attackers, each a few failures: the account reaches its cap
	n := 0
	for i := 0; n < 40; i++ {
		got := e.try("carla", "letmein-"+fmt.Sprint(i), fmt.Sprintf("198.51.100.%d", i%20+1))
		if got == "401" {
			n++
			continue
		}
		d, _ := time.ParseDuration(strings.TrimPrefix(got, "429 "))
		e.clock.Add(d)
	}
	e.expect("carla", goodPassword, "203.0.113.99", "429 15m0s") // a new address waits for the account
	e.expect("carla", goodPassword, home, "ok")                  // home does not
	e.clock.Add(15 * time.Minute)
	e.expect("carla", goodPassword, "203.0.113.99", "ok") // and the wait is capped
}

// TestLoginConcurrent: 39 wrong passwords and the right one at once, all
// from one address, at one instant: at most five wrong passwords are
// checked (the account's allowance; fewer when the right one, admitted,
// holds a slot), the right one succeeds only if it was admitted, everything
// else is a 429 unchecked. Seen failing with the FOR UPDATE removed from
// Store.ThrottleLogin (13 wrong passwords checked).
func TestLoginConcurrent(t *testing.T) {
	t.Parallel()
	e := newLoginEnv(t)
	e.user("dora", goodPassword)
	results := make([]string, 40)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Go(func() {
			pw := fmt.Sprintf("wrong password %d", i)
			if i == 20 {
				pw = goodPassword
			}
			<-start
			_, _, err := e.svc.Login(context.Background(), access.LoginAttempt{Username: "dora", Password: pw, Address: netip.MustParseAddr("192.0.2.1")})
			switch {
			case err == nil:
				results[i] = "ok"
			case errors.Is(err, access.ErrTooManyAttempts):
				results[i] = "429"
			case errors.Is(err, access.ErrUnauthenticated):
				results[i] = "401"
			default:
				results[i] = err.Error()
			}
		})
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	// at most five wrong passwords checked; at least five attempts admitted
	// (the right one, when admitted, holds a slot until it gives it back)
	if count["401"] > 5 || count["401"]+count["ok"] < 5 || count["ok"] > 1 || count["401"]+count["ok"]+count["429"] != 40 {
		t.Fatalf("results %v: want at most 5 wrong passwords checked, at most one success, the rest 429", count)
	}
	if results[20] == "401" {
		t.Errorf("the right password was checked and refused")
	}
	// the counters hold the five failures; a success gave back only its own
	var failures []int
	rows, err := e.pool.Query(context.Background(), `SELECT failures FROM login_counters ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var f int
		if err := rows.Scan(&f); err != nil {
			t.Fatal(err)
		}
		failures = append(failures, f)
	}
	if want := fmt.Sprint([]int{count["401"], count["401"]}); fmt.Sprint(failures) != want {
		t.Errorf("counters %v, want %s (account, address): one per wrong password", failures, want)
	}
}

// TestFailedLoginsAudited: each failed login writes login_failed with its
// reason, the client address and the user id or the username's hash, never
// the password. Seen failing with auditFailure not called (no lines).
func TestFailedLoginsAudited(t *testing.T) {
	t.Parallel()
	e := newLoginEnv(t)
	u := e.user("emil", goodPassword)
	off := e.user("fritz", goodPassword)
	if _, _, err := e.svc.SetDisabled(context.Background(), off.ID, true); err != nil {
		t.Fatal(err)
	}
	const addr = "192.0.2.77"
	e.expect("emil", "Secret-Guess-4711", addr, "401")
	e.expect("nobody-here", "Secret-Guess-4712", addr, "401")
	e.expect("fritz", goodPassword, addr, "401")
	for range 4 {
		e.expect("emil", "Secret-Guess-4713", addr, "401")
	}
	e.expect("emil", "Secret-Guess-4714", addr, "429 1s")
	lines, err := e.store.AuditLog(context.Background(), postgres.AuditQuery{Action: "login_failed"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range lines {
		if a.Detail["address"] != addr || a.UserID != nil || a.Detail["username_sha256"] == "" {
			t.Errorf("line %+v", a)
		}
		got = append(got, a.EntityID+" "+a.Detail["reason"])
	}
	uid, oid := fmt.Sprint(u.ID), fmt.Sprint(off.ID)
	want := []string{uid + " throttled", uid + " bad_password", uid + " bad_password", uid + " bad_password", uid + " bad_password",
		oid + " disabled", " unknown_user", uid + " bad_password"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit lines %q\nwant %q", got, want)
	}
	if lines[6].Detail["username_sha256"] != access.AccountKey("Nobody-Here") {
		t.Errorf("unknown user's hash %q", lines[6].Detail["username_sha256"])
	}
	if hits := pgtest.FindText(t, e.pool, "Secret-Guess", "nobody-here"); len(hits) > 0 {
		t.Errorf("typed password or unknown username stored: %v", hits)
	}
}
