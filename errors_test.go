package calore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/calore-crm/calore"
)

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind error
		text string
	}{
		{"field", calore.FieldError("email", "%q is not an address", "x@"), calore.ErrInvalid, `invalid: email: "x@" is not an address`},
		{"plain", calore.Errorf(calore.ErrNotFound, "person %d", 7), calore.ErrNotFound, "not found: person 7"},
		{"wrapped", fmt.Errorf("update person 7: %w", calore.Errorf(calore.ErrConflict, "changed since version 3")), calore.ErrConflict, "update person 7: conflict: changed since version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.kind)
			}
			if errors.Is(tt.err, calore.ErrForbidden) {
				t.Errorf("errors.Is(%v, ErrForbidden) = true", tt.err)
			}
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
		})
	}
}
