package calore

import (
	"slices"
	"strings"
	"time"
)

// oneOf returns a field error when v is not among allowed.
func oneOf(field, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return FieldError(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// required returns a field error when id is not set.
func required(field string, id int64) error {
	if id > 0 {
		return nil
	}
	return FieldError(field, "required")
}

// ordered returns a field error when end is before start.
func ordered(field string, start, end *time.Time) error {
	if start != nil && end != nil && end.Before(*start) {
		return FieldError(field, "before the start")
	}
	return nil
}
