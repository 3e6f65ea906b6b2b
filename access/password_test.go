package access

import (
	"net/netip"
	"strings"
	"testing"
)

// TestPasswordPolicy: each rule refuses what it should, names itself, and a
// good password passes. Seen failing with each rule of CheckPassword
// commented out in turn (its rows passed when they should not).
func TestPasswordPolicy(t *testing.T) {
	s, err := NewService(nil, Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, username, password string
		rules                    []string // what the error must say; none: accepted
	}{
		{"good", "anna", "staple battery horse correct", nil},
		{"good, unicode, 12 characters", "anna", "ÀÉÎÕÜàéîõüçñ", nil},
		{"11 characters", "anna", "xK9#mQ2$vL7", []string{"at least 12 characters"}},
		{"short and common", "anna", "123456", []string{"at least 12 characters", "most common passwords"}},
		{"too long for bcrypt", "anna", strings.Repeat("é", 37), []string{"at most 72 bytes"}},
		{"the username", "giovanna.rossi", "Giovanna.Rossi", []string{"is the username"}},
		{"contains the username", "mrossi", "zz-MRossi-2026-zz", []string{"contains the username"}},
		{"common", "anna", "qwerty123456", []string{"most common passwords"}},
		{"common, other case", "anna", "PassWord1234", []string{"most common passwords"}},
		{"common 12+ from the list", "anna", "1qaz2wsx3edc", []string{"most common passwords"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.CheckPassword(c.username, c.password)
			if len(c.rules) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, r := range c.rules {
				if !strings.Contains(err.Error(), r) || !strings.Contains(err.Error(), "rule") {
					t.Errorf("error %q does not name the rule %q", err, r)
				}
			}
		})
	}
	if len(s.common) < 19000 {
		t.Errorf("%d common passwords loaded", len(s.common))
	}
}

// TestAddressKey: what the throttle counts as one client address.
func TestAddressKey(t *testing.T) {
	cases := map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"":                     "unknown",
	}
	for in, want := range cases {
		var a netip.Addr
		if in != "" {
			a = netip.MustParseAddr(in)
		}
		if got := AddressKey(a); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
