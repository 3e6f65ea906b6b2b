package calore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore"
)

// TestValidate checks one valid and several invalid records of each kind;
// an invalid one names the field at fault.
func TestValidate(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before := at.Add(-time.Hour)
	one := int64(1)
	bad := 9
	tests := []struct {
		name  string
		rec   interface{ Validate() error }
		field string // "" when valid
	}{
		{"person ok", &calore.Person{Kind: calore.KindStudent, LastName: "Rossi", Emails: []calore.Email{{Type: calore.EmailPersonal, Address: "a@b.it"}}}, ""},
		{"person kind", &calore.Person{Kind: "wizard", LastName: "Rossi"}, "kind"},
		{"person nameless", &calore.Person{Kind: calore.KindStudent}, "last_name"},
		{"person ascii", &calore.Person{Kind: calore.KindStudent, LastName: "Çelik", LastNameASCII: "Çelik"}, "last_name_ascii"},
		{"person relevance", &calore.Person{Kind: calore.KindAlumnus, LastName: "R", Relevance: &bad}, "relevance"},
		{"person email", &calore.Person{Kind: calore.KindAlumnus, LastName: "R", Emails: []calore.Email{{Type: calore.EmailPersonal, Address: "Mario <m@x.it>"}}}, "emails[0].address"},
		{"person email twice", &calore.Person{Kind: calore.KindAlumnus, LastName: "R", Emails: []calore.Email{{Type: calore.EmailPersonal, Address: "m@x.it"}, {Type: calore.EmailSecondary, Address: "M@x.it"}}}, "emails[1]"},
		{"organisation ok", &calore.Organisation{Kind: calore.OrgCompany, LegalName: "Acme", Revenue: "10.5", SDGs: []int{1, 17}}, ""},
		{"organisation sdg", &calore.Organisation{Kind: calore.OrgCompany, LegalName: "Acme", SDGs: []int{18}}, "sdgs"},
		{"organisation revenue", &calore.Organisation{Kind: calore.OrgCompany, LegalName: "Acme", Revenue: "1,5"}, "revenue"},
		{"affiliation dates", &calore.Affiliation{PersonID: 1, OrganisationID: 1, StartDate: &at, EndDate: &before}, "end_date"},
		{"interaction no one", &calore.Interaction{Channel: calore.ChannelNote, OccurredAt: at}, "person_id"},
		{"event ends before it starts", &calore.CalendarEvent{Name: "x", StartsAt: at, EndsAt: &before}, "ends_at"},
		{"registration status", &calore.Registration{EventID: 1, PersonID: 1, Status: "maybe"}, "status"},
		{"campaign scheduled without time", &calore.Campaign{Name: "x", Channel: "email", Status: "scheduled"}, "scheduled_at"},
		{"send ok", &calore.CampaignSend{CampaignID: 1, PersonID: 1}, ""},
		{"donation ok", &calore.Donation{PersonID: &one, Amount: "10", DonatedOn: at}, ""},
		{"donation negative", &calore.Donation{PersonID: &one, Amount: "-10", DonatedOn: at}, "amount"},
		{"donation currency", &calore.Donation{PersonID: &one, Amount: "10", Currency: "eur", DonatedOn: at}, "currency"},
		{"collaboration kind", &calore.Collaboration{PersonID: &one, Kind: "friendship"}, "kind"},
		{"partnership product", &calore.Partnership{OrganisationID: 1}, "product"},
		{"contract number", &calore.ResearchContract{}, "contract_number"},
		{"journey stage", &calore.JourneyStage{PersonID: 1, Programme: "MSc", Stage: "graduation", ReachedAt: at}, "stage"},
		{"consent purpose", &calore.Consent{PersonID: 1, Purpose: "spam", RecordedAt: at}, "purpose"},
		{"user role", &calore.User{Username: "u", Roles: []calore.Role{{Office: "alumni", Role: "god"}}}, "roles[0].role"},
		{"user office twice", &calore.User{Username: "u", Roles: []calore.Role{{Office: "a", Role: "admin"}, {Office: "a", Role: "editor"}}}, "roles[1].office"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rec.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("valid record refused: %v", err)
				}
				return
			}
			if !errors.Is(err, calore.ErrInvalid) || !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestPreferredEmailRule(t *testing.T) {
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.AddDate(0, 1, 0)
	got := calore.PreferredEmail([]calore.Email{{Address: "old@x"}, {Address: "a@x", LastConfirmedAt: &t1}, {Address: "b@x", LastConfirmedAt: &t2}})
	if got != "b@x" {
		t.Errorf("PreferredEmail = %q, want b@x", got)
	}
}
