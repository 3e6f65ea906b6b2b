package calore

import (
	"strings"
	"unicode"
)

// NameKey is the matching key of a person from the transliterated ASCII
// names: each name lower-case with everything but letters and digits removed
// ("D'Angelo" becomes "dangelo"), then "first last"; "" when either name is
// empty, so nameless records never match each other. It is the Go twin of the
// SQL function calore_name_key behind people.name_key (postgres tests check
// that they agree).
func NameKey(firstASCII, lastASCII string) string {
	f := strings.ReplaceAll(asciiKey(firstASCII), " ", "")
	l := strings.ReplaceAll(asciiKey(lastASCII), " ", "")
	if f == "" || l == "" {
		return ""
	}
	return f + " " + l
}

// legalForms are trailing words OrganisationKey drops: company legal forms
// that vary between sources ("Acme S.p.A." and "ACME SPA").
var legalForms = map[string]bool{
	"spa": true, "srl": true, "srls": true, "sas": true, "snc": true, "scarl": true, "scrl": true,
	"onlus": true, "ets": true, "ltd": true, "limited": true, "plc": true, "llc": true, "llp": true,
	"inc": true, "corp": true, "co": true, "gmbh": true, "ag": true, "sa": true, "sarl": true,
	"bv": true, "nv": true, "ab": true, "oy": true, "as": true,
}

// dottedForms are legal forms written letter by letter ("s.p.a." becomes
// "s p a" once punctuation is a space).
var dottedForms = [][]string{{"s", "p", "a"}, {"s", "r", "l"}, {"s", "a", "s"}, {"s", "n", "c"}}

// OrganisationKey is the matching key of an organisation from its
// transliterated ASCII legal name: as NameKey, then without trailing legal
// forms. Go twin of the SQL function calore_org_key behind
// organisations.name_key.
func OrganisationKey(legalNameASCII string) string {
	words := strings.Fields(asciiKey(legalNameASCII))
	for len(words) > 1 { // a name that is only a legal form stays
		if legalForms[words[len(words)-1]] {
			words = words[:len(words)-1]
			continue
		}
		dropped := false
		for _, f := range dottedForms {
			if n := len(words); n > len(f) && equalWords(words[n-len(f):], f) {
				words, dropped = words[:n-len(f)], true
				break
			}
		}
		if !dropped {
			break
		}
	}
	return strings.Join(words, " ")
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// asciiKey lower-cases ASCII letters, turns every run of other characters
// into one space and trims.
func asciiKey(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			fallthrough
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
		default:
			space = true
		}
	}
	return b.String()
}

// NormaliseEmail is the form an address is matched and kept unique by:
// trimmed and lower-case. Go twin of person_emails.address_norm.
func NormaliseEmail(address string) string {
	return strings.ToLower(strings.TrimSpace(address))
}

// NormaliseVAT keeps only the letters (upper-cased) and digits of a VAT
// number. Go twin of organisations.vat_norm.
func NormaliseVAT(vat string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - ('a' - 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return -1
	}, vat)
}

// IsASCII reports whether s holds only printable ASCII.
func IsASCII(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
