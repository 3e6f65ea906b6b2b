package postgres

// Access helpers (docs/access.md): passwords, web sessions and API tokens of
// back-office users, and the audit log query of admins. Passwords are stored
// as bcrypt hashes, sessions and tokens as SHA-256 hashes: package access
// makes and checks them; this file only keeps them.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// UserByUsername reads one user with its roles; calore.ErrNotFound when
// there is none.
func (s *Store) UserByUsername(ctx context.Context, username string) (*calore.User, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM users WHERE username = $1`, username).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, calore.Errorf(calore.ErrNotFound, "user %q", username)
	}
	if err != nil {
		return nil, fmt.Errorf("find user %q: %w", username, err)
	}
	return s.User(ctx, id)
}

// SetPasswordHash stores the password hash of a user, replacing any.
func (s *Store) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO user_passwords (user_id, hash) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = now()`, userID, hash)
	return wrap(translate(err), "set password of user %d", userID)
}

// PasswordHash returns the password hash of a user; calore.ErrNotFound when
// the user has no password (API tokens only).
func (s *Store) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	err := s.db.QueryRow(ctx, `SELECT hash FROM user_passwords WHERE user_id = $1`, userID).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", calore.Errorf(calore.ErrNotFound, "password of user %d", userID)
	}
	return h, wrap(err, "read password of user %d", userID)
}

// CreateSession stores a web session by the SHA-256 hash of its id, with
// the client address and user agent it was opened from.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, expiresAt time.Time, address, userAgent string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, address, user_agent) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash, userID, expiresAt, address, userAgent)
	return wrap(translate(err), "create session of user %d", userID)
}

// Session is one web session of a user, without its id: ID is the first
// hex digits of the id's SHA-256 hash, enough to tell sessions apart.
type Session struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Address    string    `json:"address,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
}

// Sessions lists the sessions of a user that have not expired at now,
// most recently seen first.
func (s *Store) Sessions(ctx context.Context, userID int64, now time.Time) ([]Session, error) {
	rows, err := s.db.Query(ctx, `SELECT left(encode(token_hash, 'hex'), 12), created_at, last_seen_at, expires_at, address, user_agent
		FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC, created_at DESC`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var x Session
		err := r.Scan(&x.ID, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.Address, &x.UserAgent)
		return x, err
	})
	return out, wrap(err, "list sessions of user %d", userID)
}

// DeleteUserSessions ends every session of a user and says how many.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// RevokeUserAPITokens revokes every live token of a user and says how many.
func (s *Store) RevokeUserAPITokens(ctx context.Context, userID int64, now time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, now)
	if err != nil {
		return 0, fmt.Errorf("revoke api tokens of user %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// ThrottleLogin locks the login counters of keys in one transaction
// (creating the missing ones, locking in key order so two attempts cannot
// deadlock), hands them to decide, and stores what decide left in them
// unless it returns an error, which is returned as is and writes nothing.
// Concurrent calls on the same key wait for each other: a decision and the
// count it makes are one step for every `calore serve` process.
func (s *Store) ThrottleLogin(ctx context.Context, keys []string, decide func([]calore.LoginCounter) error) error {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_counters (key) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (key) DO NOTHING`, keys); err != nil {
			return fmt.Errorf("login counters: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT key, failures, last_at FROM login_counters WHERE key = ANY($1) ORDER BY key FOR UPDATE`, keys)
		if err != nil {
			return fmt.Errorf("lock login counters: %w", err)
		}
		cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (calore.LoginCounter, error) {
			var c calore.LoginCounter
			var last *time.Time
			err := r.Scan(&c.Key, &c.Failures, &last)
			if last != nil {
				c.LastAt = *last
			}
			return c, err
		})
		if err != nil {
			return fmt.Errorf("lock login counters: %w", err)
		}
		if err := decide(cs); err != nil {
			return err
		}
		for _, c := range cs {
			var last *time.Time
			if !c.LastAt.IsZero() {
				last = &c.LastAt
			}
			if _, err := tx.Exec(ctx, `UPDATE login_counters SET failures = $2, last_at = $3 WHERE key = $1`, c.Key, max(c.Failures, 0), last); err != nil {
				return fmt.Errorf("update login counter: %w", err)
			}
		}
		return nil
	})
}

// DeleteLoginCounters forgets the counters whose last attempt is older than
// before.
func (s *Store) DeleteLoginCounters(ctx context.Context, before time.Time) error {
	_, err := s.db.Exec(ctx, `DELETE FROM login_counters WHERE last_at < $1 OR last_at IS NULL AND failures = 0`, before)
	return wrap(err, "delete old login counters")
}

// KnownLoginAddress reports whether the user logged in from address since
// `since`.
func (s *Store) KnownLoginAddress(ctx context.Context, userID int64, address string, since time.Time) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_known_addresses WHERE user_id = $1 AND address = $2 AND last_at >= $3)`,
		userID, address, since).Scan(&ok)
	return ok, wrap(err, "read known login addresses of user %d", userID)
}

// RememberLoginAddress notes that the user logged in from address at now.
func (s *Store) RememberLoginAddress(ctx context.Context, userID int64, address string, now time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO login_known_addresses (user_id, address, last_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, address) DO UPDATE SET last_at = greatest(login_known_addresses.last_at, excluded.last_at)`, userID, address, now)
	return wrap(translate(err), "remember login address of user %d", userID)
}

// SessionUser returns the user of a session that has not expired at now and
// marks it seen; calore.ErrNotFound when there is no such session.
func (s *Store) SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (int64, error) {
	var uid int64
	err := s.db.QueryRow(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id`, tokenHash, now).Scan(&uid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, calore.Errorf(calore.ErrNotFound, "session")
	}
	return uid, wrap(err, "read session")
}

// DeleteSession ends a session (logout); deleting a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return wrap(err, "delete session")
}

// DeleteExpiredSessions removes the sessions expired before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// APIToken is one API token of a user, without its secret.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIToken stores an API token by the SHA-256 hash of its secret.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name string, tokenHash []byte, expiresAt *time.Time) (*APIToken, error) {
	t := &APIToken{UserID: userID, Name: name, ExpiresAt: expiresAt}
	err := s.db.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
		userID, name, tokenHash, expiresAt).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("create api token of user %d: %w", userID, translate(err))
	}
	return t, nil
}

// APITokenUser returns the user of a token that is neither revoked nor
// expired at now and marks it used; calore.ErrNotFound otherwise.
func (s *Store) APITokenUser(ctx context.Context, tokenHash []byte, now time.Time) (userID, tokenID int64, err error) {
	err = s.db.QueryRow(ctx, `UPDATE api_tokens SET last_used_at = $2
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
		RETURNING user_id, id`, tokenHash, now).Scan(&userID, &tokenID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, calore.Errorf(calore.ErrNotFound, "api token")
	}
	return userID, tokenID, wrap(err, "read api token")
}

// APITokens lists the tokens of a user (0: of every user), newest first.
func (s *Store) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
		WHERE $1 = 0 OR user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt)
		return t, err
	})
	return out, wrap(err, "list api tokens")
}

// RevokeAPIToken revokes a token; calore.ErrNotFound when there is none.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.db.Exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("revoke api token %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return calore.Errorf(calore.ErrNotFound, "api token %d", id)
	}
	return nil
}

// AuditQuery narrows the audit log; zero fields do not filter.
type AuditQuery struct {
	UserID   int64
	Action   string
	Entity   string
	EntityID string
	From, To time.Time // [From, To)
	BeforeID int64     // keyset page, newest first: only lines with a smaller id
	Limit    int       // default 100, at most 1000
}

func (q AuditQuery) toSQL() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if q.UserID != 0 {
		add("user_id = $%d", q.UserID)
	}
	if q.Action != "" {
		add("action = $%d", q.Action)
	}
	if q.Entity != "" {
		add("entity = $%d", q.Entity)
	}
	if q.EntityID != "" {
		add("entity_id = $%d", q.EntityID)
	}
	if !q.From.IsZero() {
		add("at >= $%d", q.From)
	}
	if !q.To.IsZero() {
		add("at < $%d", q.To)
	}
	if q.BeforeID != 0 {
		add("id < $%d", q.BeforeID)
	}
	where := "true"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	return fmt.Sprintf(`SELECT id, at, user_id, action, entity, entity_id, detail FROM audit_log WHERE %s ORDER BY id DESC LIMIT %d`,
		where, Filter{Limit: q.Limit}.limit()), args
}

// AuditLog returns the audit lines matching q, newest first.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]calore.AuditEntry, error) {
	sql, args := q.toSQL()
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (calore.AuditEntry, error) {
		var a calore.AuditEntry
		err := row.Scan(&a.ID, &a.At, &a.UserID, &a.Action, &a.Entity, &a.EntityID, &a.Detail)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
