package calore_test

import (
	"testing"

	"github.com/calore-crm/calore"
)

func TestNameKey(t *testing.T) {
	tests := []struct{ first, last, want string }{
		{"Mario", "Rossi", "mario rossi"},
		{"  Anna Maria ", "D'Angelo-Bianchi", "annamaria dangelobianchi"},
		{"", "Rossi", ""},
		{"Mario", "--", ""},
		{"Jose", "Garcia 2", "jose garcia2"},
		{"Jos\u00e9", "Rossi", "jos rossi"}, // not ASCII: the store transliterates first
	}
	for _, tt := range tests {
		t.Run(tt.first+"_"+tt.last, func(t *testing.T) {
			if got := calore.NameKey(tt.first, tt.last); got != tt.want {
				t.Errorf("NameKey(%q, %q) = %q, want %q", tt.first, tt.last, got, tt.want)
			}
		})
	}
}

func TestOrganisationKey(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Acme S.p.A.", "acme"},
		{"ACME SPA", "acme"},
		{"Acme Co. Ltd", "acme"},
		{"Spa", "spa"},
		{"Politecnico di Milano", "politecnico di milano"},
		{"  Bianchi & Figli s.r.l. ", "bianchi figli"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := calore.OrganisationKey(tt.name); got != tt.want {
				t.Errorf("OrganisationKey(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	if got := calore.NormaliseEmail("  Mario.Rossi@Example.COM "); got != "mario.rossi@example.com" {
		t.Errorf("NormaliseEmail = %q", got)
	}
	if got := calore.NormaliseVAT("it 012-345.678 90"); got != "IT01234567890" {
		t.Errorf("NormaliseVAT = %q", got)
	}
}
