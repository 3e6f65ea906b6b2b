package calore

import (
	"errors"
	"fmt"
)

// Error kinds. Stores and services return errors that wrap one of these, so
// that callers (the API, the CLI) can map them to a status without knowing
// which store produced them: errors.Is(err, calore.ErrNotFound).
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the record changed since the caller read it (optimistic
	// versioning), or a unique value is taken.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input breaks a rule of the domain.
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the caller's role does not allow the action.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: a server Calore depends on does not answer.
	ErrUnavailable = errors.New("unavailable")
)

// Error is a domain error with a kind, a message meant for the user and, when
// known, the field at fault.
type Error struct {
	Kind    error  // one of the Err* kinds above
	Field   string // the field at fault, if any
	Message string // readable by the user; never internals
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Kind, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an *Error of kind ErrInvalid naming the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}
