package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

var users = &table[calore.User]{
	aggregate: "user",
	name:      "users",
	meta:      func(u *calore.User) *calore.Meta { return &u.Meta },
	fields: func(u *calore.User) []field {
		return []field{
			{col: "username", ptr: &u.Username},
			{col: "email", ptr: &u.Email},
			{col: "display_name", ptr: &u.DisplayName},
			{col: "expires_at", ptr: &u.ExpiresAt},
			{col: "disabled", ptr: &u.Disabled},
		}
	},
	validate:     func(u *calore.User) error { return u.Validate() },
	saveChildren: saveRoles,
	loadChildren: loadRoles,
	filterCols:   map[string]bool{},
}

// CreateUser stores a back-office user with its roles per office; a username
// already taken is a conflict. Writes "user.created".
func (s *Store) CreateUser(ctx context.Context, u *calore.User) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return users.insert(ctx, tx, u) })
}

// User reads one user with its roles.
func (s *Store) User(ctx context.Context, id int64) (*calore.User, error) {
	return users.get(ctx, s.db, id)
}

// UpdateUser writes u read at u.Version; its roles replace the stored ones.
func (s *Store) UpdateUser(ctx context.Context, u *calore.User) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return users.update(ctx, tx, u) })
}

// DeleteUser removes a user read at version.
func (s *Store) DeleteUser(ctx context.Context, id int64, version int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return users.delete(ctx, tx, id, version) })
}

// ListUsers lists users in id order.
func (s *Store) ListUsers(ctx context.Context, f Filter) ([]*calore.User, error) {
	return users.list(ctx, s.db, f)
}

// ExpiringUsers returns the active users whose account expires before
// `before` (R7.2: the alert ahead of an intern's end date), soonest first.
func (s *Store) ExpiringUsers(ctx context.Context, before time.Time) ([]*calore.User, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM users_active WHERE expires_at < $1 ORDER BY expires_at, id`, before)
	if err != nil {
		return nil, fmt.Errorf("list expiring users: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list expiring users: %w", err)
	}
	out := make([]*calore.User, 0, len(ids))
	for _, id := range ids {
		u, err := s.User(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("list expiring users: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// saveRoles replaces the roles of u; nil Roles leaves them untouched.
func saveRoles(ctx context.Context, tx pgx.Tx, u *calore.User) error {
	if u.Roles == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM user_roles WHERE user_id = $1`, u.ID); err != nil {
		return fmt.Errorf("save roles: %w", err)
	}
	for _, r := range u.Roles {
		if _, err := tx.Exec(ctx, `INSERT INTO user_roles (user_id, office, role) VALUES ($1, $2, $3)`, u.ID, r.Office, r.Role); err != nil {
			return fmt.Errorf("save role in %s: %w", r.Office, err)
		}
	}
	return nil
}

func loadRoles(ctx context.Context, db DB, us []*calore.User) error {
	byID := make(map[int64]*calore.User, len(us))
	ids := make([]int64, len(us))
	for i, u := range us {
		byID[u.ID], ids[i] = u, u.ID
		u.Roles = []calore.Role{}
	}
	rows, err := db.Query(ctx, `SELECT user_id, office, role FROM user_roles WHERE user_id = ANY($1) ORDER BY office`, ids)
	if err != nil {
		return fmt.Errorf("load roles: %w", err)
	}
	var uid int64
	var r calore.Role
	if _, err := pgx.ForEachRow(rows, []any{&uid, &r.Office, &r.Role}, func() error {
		byID[uid].Roles = append(byID[uid].Roles, r)
		return nil
	}); err != nil {
		return fmt.Errorf("load roles: %w", err)
	}
	return nil
}

// Audit appends one line to the audit log and sets its id and time. The
// audit log is append-only and writes no outbox event.
func (s *Store) Audit(ctx context.Context, a *calore.AuditEntry) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	err := s.db.QueryRow(ctx, `INSERT INTO audit_log (user_id, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id, at`,
		a.UserID, a.Action, a.Entity, a.EntityID, nonNilMap(a.Detail)).Scan(&a.ID, &a.At)
	if err != nil {
		return fmt.Errorf("audit %s %s %s: %w", a.Action, a.Entity, a.EntityID, translate(err))
	}
	return nil
}

// AuditTrail returns the audit lines about one record, oldest first.
func (s *Store) AuditTrail(ctx context.Context, entity, entityID string) ([]calore.AuditEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT id, at, user_id, action, entity, entity_id, detail FROM audit_log
		WHERE entity = $1 AND entity_id = $2 ORDER BY id`, entity, entityID)
	if err != nil {
		return nil, fmt.Errorf("read audit trail of %s %s: %w", entity, entityID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (calore.AuditEntry, error) {
		var a calore.AuditEntry
		err := row.Scan(&a.ID, &a.At, &a.UserID, &a.Action, &a.Entity, &a.EntityID, &a.Detail)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read audit trail of %s %s: %w", entity, entityID, err)
	}
	return out, nil
}
