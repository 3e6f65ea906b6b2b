package access

import (
	"context"
	"fmt"
	"time"

	"github.com/calore-crm/calore"
)

// User administration shared by `calore user` and the admin API
// (docs/access.md). The callers audit what they did.

// SetDisabled disables or re-enables a user. Disabling also ends the user's
// web sessions (Authenticate refuses a disabled user's sessions and tokens
// anyway; its tokens stay, revoked or not, for when it is enabled again).
// It returns the user and how many sessions ended.
func (s *Service) SetDisabled(ctx context.Context, userID int64, disabled bool) (*calore.User, int64, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return nil, 0, fmt.Errorf("disable user %d: %w", userID, err)
	}
	u.Disabled = disabled
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return nil, 0, fmt.Errorf("disable user %d: %w", userID, err)
	}
	if !disabled {
		return u, 0, nil
	}
	n, err := s.store.DeleteUserSessions(ctx, userID)
	if err != nil {
		return nil, 0, fmt.Errorf("disable user %d: %w", userID, err)
	}
	return u, n, nil
}

// ResetPassword sets a user's password, a generated one when password is
// "" (returned, to be handed over once), and ends the user's sessions.
func (s *Service) ResetPassword(ctx context.Context, userID int64, password string) (string, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("reset password of user %d: %w", userID, err)
	}
	generated := password == ""
	for generated && (password == "" || s.CheckPassword(u.Username, password) != nil) {
		password = GeneratePassword()
	}
	if err := s.SetPassword(ctx, userID, password); err != nil {
		return "", err
	}
	if _, err := s.store.DeleteUserSessions(ctx, userID); err != nil {
		return "", fmt.Errorf("reset password of user %d: %w", userID, err)
	}
	if !generated {
		return "", nil
	}
	return password, nil
}

// RevokeSessions ends every web session of a user and, with tokens, revokes
// its API tokens too; it says how many of each.
func (s *Service) RevokeSessions(ctx context.Context, userID int64, tokens bool) (sessions, revoked int64, err error) {
	if _, err := s.store.User(ctx, userID); err != nil {
		return 0, 0, fmt.Errorf("revoke sessions of user %d: %w", userID, err)
	}
	if sessions, err = s.store.DeleteUserSessions(ctx, userID); err != nil {
		return 0, 0, err
	}
	if tokens {
		if revoked, err = s.store.RevokeUserAPITokens(ctx, userID, s.opt.Now()); err != nil {
			return sessions, 0, err
		}
	}
	return sessions, revoked, nil
}

// CheckTokenExpiry refuses an API token that would be born expired: an
// expiry at or before now.
func CheckTokenExpiry(expiresAt *time.Time, now time.Time) error {
	if expiresAt != nil && !expiresAt.After(now) {
		return calore.FieldError("expires", "%s is not in the future: a token cannot be created already expired", expiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.opt.Now() }
