package calore

import "time"

// Meta is the bookkeeping every stored domain record carries. Version is the
// optimistic lock (R7.4): an update or delete passes the version it read, and
// the store refuses it with ErrConflict when the record changed since.
type Meta struct {
	ID        int64     `json:"id"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Record statuses shared by people and organisations.
const (
	StatusActive    = "active"
	StatusArchived  = "archived"  // organisations only
	StatusDuplicate = "duplicate" // merged into another record (MergedInto)
)

// ConflictError returns an error of kind ErrConflict saying that a record
// changed since the version the caller read, e.g. "person 42 changed since
// version 3".
func ConflictError(aggregate string, id int64, version int) *Error {
	return Errorf(ErrConflict, "%s %d changed since version %d", aggregate, id, version)
}

// NotFoundError returns an error of kind ErrNotFound naming the record.
func NotFoundError(aggregate string, id int64) *Error {
	return Errorf(ErrNotFound, "%s %d", aggregate, id)
}
