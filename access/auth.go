package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/calore-crm/calore"
)

// ErrUnauthenticated: the request carries no valid session or token, or the
// account is disabled or expired. The API answers 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrTooManyAttempts: too many failed logins for a username lately. The API
// answers 429.
var ErrTooManyAttempts = errors.New("too many attempts")

// Failed logins: after loginFailures within loginWindow, a username is
// refused until the oldest of them is loginWindow old.
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
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
	CreateSession(ctx context.Context, tokenHash []byte, userID int64, expiresAt time.Time) error
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (int64, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	APITokenUser(ctx context.Context, tokenHash []byte, now time.Time) (userID, tokenID int64, err error)
	Audit(ctx context.Context, a *calore.AuditEntry) error
}

// Options configure the access service.
type Options struct {
	SessionTTL   time.Duration    // how long a web session lasts; default 12 h
	WarnBefore   time.Duration    // warn a temporary account this long before it expires; default 14 days
	Now          func() time.Time // default time.Now
	BcryptCost   int              // default bcrypt.DefaultCost
	SecureCookie bool             // mark the session cookie Secure (behind HTTPS)
}

// Service logs users in and tells who is behind a request.
type Service struct {
	store Store
	opt   Options
	dummy []byte // a bcrypt hash compared when the user is unknown, so timing does not tell

	mu    sync.Mutex
	fails map[string][]time.Time // recent failed logins per lower-cased username
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
	dummy, err := bcrypt.GenerateFromPassword([]byte("calore-dummy-password"), opt.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return &Service{store: store, opt: opt, dummy: dummy, fails: map[string][]time.Time{}}, nil
}

// HashPassword returns the bcrypt hash of a password (at least 10 characters).
func (s *Service) HashPassword(password string) (string, error) {
	if len(password) < 10 {
		return "", calore.FieldError("password", "at least 10 characters")
	}
	if len(password) > 72 {
		return "", calore.FieldError("password", "at most 72 bytes (bcrypt)")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.opt.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// SetPassword hashes and stores a user's password.
func (s *Service) SetPassword(ctx context.Context, userID int64, password string) error {
	h, err := s.HashPassword(password)
	if err != nil {
		return err
	}
	return s.store.SetPasswordHash(ctx, userID, h)
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

// Login checks a username and password and opens a session: it returns the
// session id for the cookie. Unknown users, wrong passwords, disabled and
// expired accounts all fail alike with ErrUnauthenticated.
func (s *Service) Login(ctx context.Context, username, password string) (string, *calore.User, error) {
	if wait := s.throttled(username); wait > 0 {
		return "", nil, calore.Errorf(ErrTooManyAttempts, "too many failed logins for this username: try again in %d minutes", int(wait.Minutes())+1)
	}
	id, u, err := s.login(ctx, username, password)
	s.record(username, err == nil)
	return id, u, err
}

// throttled says how long username must wait before trying again.
func (s *Service) throttled(username string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	recent := s.fails[strings.ToLower(username)][:0:0]
	for _, t := range s.fails[strings.ToLower(username)] {
		if now.Sub(t) < loginWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) < loginFailures {
		return 0
	}
	return loginWindow - now.Sub(recent[0])
}

// record notes a failed login, or forgets the failures after a success. The
// map is swept when it grows, so guessing many usernames cannot fill memory.
func (s *Service) record(username string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, now := strings.ToLower(username), s.opt.Now()
	if ok {
		delete(s.fails, key)
		return
	}
	if len(s.fails) > 10000 {
		for k, ts := range s.fails {
			if now.Sub(ts[len(ts)-1]) >= loginWindow {
				delete(s.fails, k)
			}
		}
	}
	ts := append(s.fails[key], now)
	if len(ts) > loginFailures {
		ts = ts[len(ts)-loginFailures:]
	}
	s.fails[key] = ts
}

func (s *Service) login(ctx context.Context, username, password string) (string, *calore.User, error) {
	fail := calore.Errorf(ErrUnauthenticated, "wrong username or password, or the account is disabled or expired")
	u, err := s.store.UserByUsername(ctx, username)
	if errors.Is(err, calore.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return "", nil, fail
	}
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if errors.Is(err, calore.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
		return "", nil, fail
	}
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !u.Active(s.opt.Now()) {
		return "", nil, fail
	}
	if _, err := s.store.DeleteExpiredSessions(ctx, s.opt.Now()); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	id, h, err := NewSecret("")
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if err := s.store.CreateSession(ctx, h, u.ID, s.opt.Now().Add(s.opt.SessionTTL)); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	uid := u.ID
	if err := s.store.Audit(ctx, &calore.AuditEntry{UserID: &uid, Action: "login", Entity: "user", EntityID: fmt.Sprint(uid)}); err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	return id, u, nil
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
