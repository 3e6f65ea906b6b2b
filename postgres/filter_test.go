package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/calore-crm/calore"
)

func TestFilterToSQL(t *testing.T) {
	allowed := map[string]bool{"person_id": true, "event_id": true}
	tests := []struct {
		name  string
		f     Filter
		where string
		args  string
		limit int
		err   error
	}{
		{"none", Filter{}, "true", "[]", 100, nil},
		{"person", Filter{PersonID: 7}, "true AND person_id = $1", "[7]", 100, nil},
		{"person, event, page", Filter{PersonID: 7, EventID: 3, AfterID: 40, Limit: 5}, "true AND person_id = $1 AND event_id = $2 AND id > $3", "[7 3 40]", 5, nil},
		{"limit capped", Filter{Limit: 5000}, "true", "[]", 1000, nil},
		{"column the table lacks", Filter{OrganisationID: 1}, "", "", 100, calore.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			where, args, err := tt.f.toSQL(allowed)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if where != tt.where || fmt.Sprint(args) != tt.args || tt.f.limit() != tt.limit {
				t.Errorf("toSQL = %q %v limit %d; want %q %s limit %d", where, args, tt.f.limit(), tt.where, tt.args, tt.limit)
			}
		})
	}
}

func TestASCII(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Иван Петров", "Ivan Petrov"},
		{"Γιώργος", "Giorgos"},
		{"Nguyễn Văn Thành", "Nguyen Van Thanh"},
		{"Işık Çağlar", "Isik Caglar"},
		{"José  Müller", "Jose Muller"},
		{"محمد", "mHmd"}, // unidecode keeps the case it gives; NameKey lower-cases
		{"plain", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ASCII(tt.in); got != tt.want {
				t.Errorf("ASCII(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
