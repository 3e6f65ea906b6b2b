package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/calore-crm/calore"
)

// ErrUnauthenticated: the request carries no valid session or token, or the
// account is disabled or expired. The API answers 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrTooManyAttempts: too many failed logins lately for this account or
// from this client address. The API answers 429 with Retry-After; an error
// of this kind is a *TooManyAttempts.
var ErrTooManyAttempts = errors.New("too many attempts")

// TooManyAttempts is a login refused by the throttle before the password
// was looked at: RetryAfter is how long until one more attempt is allowed.
type TooManyAttempts struct{ RetryAfter time.Duration }

func (e *TooManyAttempts) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", time.Duration(RetryAfterSeconds(e.RetryAfter))*time.Second)
}

// RetryAfterSeconds is a wait in whole seconds, rounded up (Retry-After).
func RetryAfterSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// Is makes errors.Is(err, ErrTooManyAttempts) true.
func (e *TooManyAttempts) Is(target error) bool { return target == ErrTooManyAttempts }

// Backoff is the progressive delay of one throttled key: the first Free
// failures cost nothing; after the n-th failure (n >= Free) the next
// attempt must wait Base * 2^(n-Free), at most Max. A key without an
// attempt for Forget starts again from zero. No key is ever locked for good.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Delay is the wait after failures failures.
func (b Backoff) Delay(failures int) time.Duration {
	if failures < b.Free || b.Base <= 0 {
		return 0
	}
	d := b.Base
	for i := b.Free; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Default throttles (docs/access.md says why these numbers).
var (
	// DefaultAccountBackoff: per username, whatever the address: five
	// free failures, then 1 s, 2 s, 4 s … at most 15 minutes.
	DefaultAccountBackoff = Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
	// DefaultAddressBackoff: per client address (IPv6: per /64), over all
	// usernames: twenty free failures (a shared office NAT), then 1 s, 2 s
	// … at most one hour: the stronger limit.
	DefaultAddressBackoff = Backoff{Free: 20, Base: time.Second, Max: time.Hour, Forget: 24 * time.Hour}
)

// SessionCookie is the name of the web session cookie.
const SessionCookie = "calore_session"

// TokenPrefix starts every API token, so a leaked one is easy to recognise.
const TokenPrefix = "calore_"

// Store is what access needs of the operational store (postgres.Store).
type Store interface {
	User(ctx context.Context, id int64) (*calore.User, error)
	UserByUsername(ctx context.Context, username string) (*calore.User, error)
	PasswordHash(ctx context.Context, userID int64) (string, error)
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	CreateSession(ctx context.Context, tokenHash []byte, userID int64, expiresAt time.Time, address, userAgent string) error
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (int64, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	APITokenUser(ctx context.Context, tokenHash []byte, now time.Time) (userID, tokenID int64, err error)
	Audit(ctx context.Context, a *calore.AuditEntry) error
	ThrottleLogin(ctx context.Context, keys []string, decide func([]calore.LoginCounter) error) error
	DeleteLoginCounters(ctx context.Context, before time.Time) error
	KnownLoginAddress(ctx context.Context, userID int64, address string, since time.Time) (bool, error)
	RememberLoginAddress(ctx context.Context, userID int64, address string, now time.Time) error
	UpdateUser(ctx context.Context, u *calore.User) error
	DeleteUserSessions(ctx context.Context, userID int64) (int64, error)
	RevokeUserAPITokens(ctx context.Context, userID int64, now time.Time) (int64, error)
}

// Options configure the access service.
type Options struct {
	SessionTTL   time.Duration    // how long a web session lasts; default 12 h
	WarnBefore   time.Duration    // warn a temporary account this long before it expires; default 14 days
	Now          func() time.Time // default time.Now
	BcryptCost   int              // default bcrypt.DefaultCost
	SecureCookie bool             // mark the session cookie Secure (behind HTTPS)

	AccountBackoff Backoff       // per username (and per username and known address); zero: DefaultAccountBackoff
	AddressBackoff Backoff       // per client address; zero: DefaultAddressBackoff
	KnownAddress   time.Duration // an address a user logged in from stays known this long; default 90 days
}

// Service logs users in and tells who is behind a request.
type Service struct {
	store  Store
	opt    Options
	dummy  []byte              // a bcrypt hash compared when the user is unknown, so timing does not tell
	common map[string]struct{} // common passwords, lower case
}

// NewService returns the access service on store.
func NewService(store Store, opt Options) (*Service, error) {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.WarnBefore <= 0 {
		opt.WarnBefore = 14 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BcryptCost == 0 {
		opt.BcryptCost = bcrypt.DefaultCost
	}
	if opt.AccountBackoff == (Backoff{}) {
		opt.AccountBackoff = DefaultAccountBackoff
	}
	if opt.AddressBackoff == (Backoff{}) {
		opt.AddressBackoff = DefaultAddressBackoff
	}
	if opt.KnownAddress <= 0 {
		opt.KnownAddress = 90 * 24 * time.Hour
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("calore-dummy-password"), opt.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	common, err := loadCommonPasswords()
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return &Service{store: store, opt: opt, dummy: dummy, common: common}, nil
}

// NewSecret returns a random secret (32 bytes, base64url) with a prefix and
// its SHA-256 hash, the only thing stored.
func NewSecret(prefix string) (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("random secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the SHA-256 hash under which a session id or token is stored.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// LoginAttempt is one try at logging in: the credentials and the client
// they come from (the API takes Address from the connection, or from
// X-Forwarded-For of a trusted proxy).
type LoginAttempt struct {
	Username  string
	Password  string
	Address   netip.Addr // invalid: unknown
	UserAgent string
}

// Reasons a login failed, as the audit log names them (detail.reason).
const (
	ReasonBadPassword = "bad_password"
	ReasonUnknownUser = "unknown_user"
	ReasonThrottled   = "throttled"
	ReasonDisabled    = "disabled"
	ReasonExpired     = "expired"
	ReasonNoPassword  = "no_password"
)

// AccountKey is how a username is known to the throttle and to the audit
// lines of failed logins: the SHA-256 of the lower-cased username, hex, so
// neither keeps what was typed in the username field.
func AccountKey(username string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(username))))
	return hex.EncodeToString(h[:])
}

// AddressKey is the client address the throttle counts: the address itself
// for IPv4, its /64 for IPv6 (one subscriber's block), "unknown" without one.
func AddressKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Unmap().Is4():
		return a.Unmap().String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// Login checks a username and password and opens a session: it returns the
// session id for the cookie. Unknown users, wrong passwords, disabled and
// expired accounts all fail alike with ErrUnauthenticated; every failure is
// audited (login_failed, with the reason, the client address and the user id
// or the hash of the username, never the password).
//
// Before the password is looked at, the attempt passes the throttle
// (docs/access.md): in one PostgreSQL transaction it locks the counters of
// its client address and of its account (or, from an address the user
// logged in from before, of the account at that address), refuses with
// *TooManyAttempts while any of them is in its backoff, and otherwise counts
// itself as a failure in each. A success gives back only its own count, so
// attempts sent in parallel cannot get more password checks than the
// allowance, and a success does not wipe the failures of others.
func (s *Service) Login(ctx context.Context, a LoginAttempt) (string, *calore.User, error) {
	now := s.opt.Now()
	account, address := AccountKey(a.Username), AddressKey(a.Address)
	client := "unknown" // the full address, for the audit log and the session list
	if a.Address.IsValid() {
		client = a.Address.Unmap().WithZone("").String()
	}
	u, err := s.store.UserByUsername(ctx, a.Username)
	if errors.Is(err, calore.ErrNotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	keys := []string{"address:" + address, "account:" + account}
	if u != nil {
		known, err := s.store.KnownLoginAddress(ctx, u.ID, address, now.Add(-s.opt.KnownAddress))
		if err != nil {
			return "", nil, fmt.Errorf("login: %w", err)
		}
		if known { // the user's own address: an attacker elsewhere does not slow it down
			keys[1] = "pair:" + account + ":" + address
		}
	}
	if err := s.store.ThrottleLogin(ctx, keys, func(cs []calore.LoginCounter) error { return s.admit(cs, now) }); err != nil {
		if errors.Is(err, ErrTooManyAttempts) {
			if aerr := s.auditFailure(ctx, u, account, client, ReasonThrottled); aerr != nil {
				return "", nil, aerr
			}
		}
		return "", nil, err
	}
	reason, err := s.verify(ctx, u, a.Password, now)
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if reason != "" {
		if err := s.auditFailure(ctx, u, account, client, reason); err != nil {
			return "", nil, err
		}
		return "", nil, calore.Errorf(ErrUnauthenticated, "wrong username or password, or the account is disabled or expired")
	}
	// A success gives back the count it took, and only that.
	if err := s.store.ThrottleLogin(ctx, keys, func(cs []calore.LoginCounter) error {
		for i := range cs {
			cs[i].Failures = max(cs[i].Failures-1, 0)
		}
		return nil
	}); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if err := s.store.RememberLoginAddress(ctx, u.ID, address, now); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if err := s.store.DeleteLoginCounters(ctx, now.Add(-max(s.opt.AccountBackoff.Forget, s.opt.AddressBackoff.Forget))); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	id, h, err := NewSecret("")
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if err := s.store.CreateSession(ctx, h, u.ID, now.Add(s.opt.SessionTTL), client, a.UserAgent); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	uid := u.ID
	if err := s.store.Audit(ctx, &calore.AuditEntry{UserID: &uid, Action: "login", Entity: "user", EntityID: fmt.Sprint(uid),
		Detail: map[string]string{"address": client}}); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	return id, u, nil
}

// backoff is the rule of a throttle key.
func (s *Service) backoff(key string) Backoff {
	if strings.HasPrefix(key, "address:") {
		return s.opt.AddressBackoff
	}
	return s.opt.AccountBackoff
}

// admit decides on locked counters: refused while any is in its backoff
// (nothing changes), otherwise the attempt counts as a failure in each.
func (s *Service) admit(cs []calore.LoginCounter, now time.Time) error {
	var wait time.Duration
	for i := range cs {
		b := s.backoff(cs[i].Key)
		if cs[i].LastAt.IsZero() || now.Sub(cs[i].LastAt) >= b.Forget {
			cs[i].Failures = 0
		}
		if w := cs[i].LastAt.Add(b.Delay(cs[i].Failures)).Sub(now); cs[i].Failures >= b.Free && w > wait {
			wait = w
		}
	}
	if wait > 0 {
		return &TooManyAttempts{RetryAfter: wait}
	}
	for i := range cs {
		cs[i].Failures++
		cs[i].LastAt = now
	}
	return nil
}

// verify checks the password of u (nil: unknown user) with the same bcrypt
// work whatever the outcome, and says why the login fails ("" when it
// does not).
func (s *Service) verify(ctx context.Context, u *calore.User, password string, now time.Time) (string, error) {
	if u == nil {
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return ReasonUnknownUser, nil
	}
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if errors.Is(err, calore.ErrNotFound) { // API tokens only
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return ReasonNoPassword, nil
	}
	if err != nil {
		return "", err
	}
	switch {
	case bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil:
		return ReasonBadPassword, nil
	case u.Disabled:
		return ReasonDisabled, nil
	case !u.Active(now):
		return ReasonExpired, nil
	}
	return "", nil
}

// auditFailure writes the audit line of a failed login.
func (s *Service) auditFailure(ctx context.Context, u *calore.User, account, address, reason string) error {
	a := &calore.AuditEntry{Action: "login_failed", Entity: "user",
		Detail: map[string]string{"reason": reason, "address": address, "username_sha256": account}}
	if u != nil {
		a.EntityID = fmt.Sprint(u.ID)
	}
	if err := s.store.Audit(ctx, a); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return nil
}

// Logout ends the session of r, if any.
func (s *Service) Logout(ctx context.Context, r *http.Request) error {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	return s.store.DeleteSession(ctx, HashSecret(c.Value))
}

// SessionCookie returns the cookie that carries a session id.
func (s *Service) SessionCookie(id string) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.opt.SecureCookie,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.opt.SessionTTL / time.Second)}
}

// ClearCookie returns the cookie that removes the session cookie.
func (s *Service) ClearCookie() *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.opt.SecureCookie, SameSite: http.SameSiteLaxMode, MaxAge: -1}
}

// Authenticate returns the user behind r: a bearer API token (Authorization
// header) or a session cookie. It fails with ErrUnauthenticated when there is
// neither, when it is unknown, revoked or expired, or when the account is
// disabled or past its expiry date (R7.2).
func (s *Service) Authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	now := s.opt.Now()
	p := &Principal{}
	var uid int64
	var err error
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, calore.Errorf(ErrUnauthenticated, "Authorization must be \"Bearer <token>\"")
		}
		p.Via = "token"
		uid, p.TokenID, err = s.store.APITokenUser(ctx, HashSecret(strings.TrimSpace(token)), now)
		if errors.Is(err, calore.ErrNotFound) {
			return nil, calore.Errorf(ErrUnauthenticated, "unknown, revoked or expired API token")
		}
	} else if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
		p.Via = "session"
		uid, err = s.store.SessionUser(ctx, HashSecret(c.Value), now)
		if errors.Is(err, calore.ErrNotFound) {
			return nil, calore.Errorf(ErrUnauthenticated, "the session has ended: log in again")
		}
	} else {
		return nil, calore.Errorf(ErrUnauthenticated, "log in, or send an API token as \"Authorization: Bearer <token>\"")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	u, err := s.store.User(ctx, uid)
	if errors.Is(err, calore.ErrNotFound) {
		return nil, calore.Errorf(ErrUnauthenticated, "the account no longer exists")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	switch {
	case u.Disabled:
		return nil, calore.Errorf(ErrUnauthenticated, "the account is disabled")
	case u.ExpiresAt != nil && !now.Before(*u.ExpiresAt):
		return nil, calore.Errorf(ErrUnauthenticated, "the account expired on %s", u.ExpiresAt.UTC().Format(time.DateOnly))
	case u.ExpiresAt != nil && u.ExpiresAt.Sub(now) <= s.opt.WarnBefore:
		d := u.ExpiresAt.Sub(now)
		p.ExpiresIn = &d
	}
	p.User = u
	return p, nil
}
