package calore

import (
	"errors"
	"fmt"
	"time"
)

// Roles of a back-office user in an office (R7.1).
const (
	RoleAdmin    = "admin"
	RoleManager  = "manager"
	RoleEditor   = "editor"
	RoleReadOnly = "read_only"
)

// User is a back-office user (R7.1-R7.2). A temporary account (an intern)
// has ExpiresAt and is inactive from then on.
type User struct {
	Meta
	Username    string     `json:"username"`
	Email       string     `json:"email,omitempty"`
	DisplayName string     `json:"display_name,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	Disabled    bool       `json:"disabled"`
	Roles       []Role     `json:"roles"`
}

// Role is a user's role in one office.
type Role struct {
	Office string `json:"office"`
	Role   string `json:"role"`
}

// Active reports whether the user may work at time now.
func (u *User) Active(now time.Time) bool {
	return !u.Disabled && (u.ExpiresAt == nil || now.Before(*u.ExpiresAt))
}

// Validate checks a user.
func (u *User) Validate() error {
	var errs []error
	if u.Username == "" {
		errs = append(errs, FieldError("username", "required"))
	}
	offices := map[string]bool{}
	for i, r := range u.Roles {
		field := fmt.Sprintf("roles[%d]", i)
		if r.Office == "" || offices[r.Office] {
			errs = append(errs, FieldError(field+".office", "empty or repeated office %q", r.Office))
		}
		offices[r.Office] = true
		if err := oneOf(field+".role", r.Role, RoleAdmin, RoleManager, RoleEditor, RoleReadOnly); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// AuditEntry is one line of the audit log (R7.3): who did or read what.
type AuditEntry struct {
	ID       int64             `json:"id"`
	At       time.Time         `json:"at"`
	UserID   *int64            `json:"user_id,omitempty"`
	Action   string            `json:"action"` // read, create, update, delete, merge, export, login, login_failed
	Entity   string            `json:"entity,omitempty"`
	EntityID string            `json:"entity_id,omitempty"`
	Detail   map[string]string `json:"detail,omitempty"`
}

// Validate checks an audit entry.
func (a *AuditEntry) Validate() error {
	return oneOf("action", a.Action, "read", "create", "update", "delete", "merge", "export", "login", "login_failed")
}

// LoginCounter is the failed-login count of one throttled key (an account,
// a client address, or both): how many attempts counted as failures, and
// when the last one was admitted (zero: never). Package access decides with
// it; package postgres keeps it (login_counters).
type LoginCounter struct {
	Key      string
	Failures int
	LastAt   time.Time
}
