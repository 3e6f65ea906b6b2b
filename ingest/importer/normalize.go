package importer

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-unidecode"

	"github.com/calore-crm/calore"
	"golang.org/x/text/unicode/norm"
)

// CleanText trims s, turns every run of white space (including non-breaking
// spaces and line breaks inside a spreadsheet cell) into one space, drops
// control and format characters (zero-width spaces, BOMs) and composes it to
// NFC, so that "José" typed two ways compares equal. The result keeps its
// script: it is the "original" a person record stores.
func CleanText(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFC.String(s) {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// ASCII transliterates s to printable ASCII for CSV-safe exports and
// searching (R4.3): accents are folded and foreign scripts romanised with
// unidecode ("Иван" → "Ivan", "Nguyễn" → "Nguyen", "Işık" → "Isik",
// "Γιώργος" → "Giorgos"). Characters unidecode has no spelling for are
// dropped; white space is collapsed. The caller keeps the original next to it.
func ASCII(s string) string {
	s = CleanText(s)
	if isASCII(s) {
		return s
	}
	t := strings.ReplaceAll(unidecode.Unidecode(s), "[?]", " ") // [?]: no spelling known
	var b strings.Builder
	b.Grow(len(t))
	space := false
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			continue
		case c < 0x20 || c >= 0x7f || c == '`': // unidecode writes ` for the Arabic ain
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Fold is the comparison form of a name or a header: transliterated to ASCII,
// lower case, letters and digits only, words separated by one space.
// "  D'Àngelo-Rossi " and "d angelo rossi" fold alike.
func Fold(s string) string {
	a := ASCII(s)
	var b strings.Builder
	b.Grow(len(a))
	sep := false
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte(' ')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

// NameKey is the key two people are matched on when no email matches:
// calore.NameKey of the names transliterated by ASCII ("D'Àngelo" →
// "dangelo", "Thị Minh" → "thiminh", then "first last"). It equals the SQL
// calore_name_key(first_name_ascii, last_name_ascii) behind people.name_key,
// which the merge itself uses; the tests check that the two agree. Empty
// when either name has no letter or digit: a half name never matches.
func NameKey(first, last string) string {
	return calore.NameKey(ASCII(first), ASCII(last))
}

// Errors of the normalisers; row errors quote them as the reason.
var (
	errEmail = errors.New("not an email address")
	errPhone = errors.New("not a phone number")
)

// NormEmail returns the comparison form of an email address: trimmed, a
// "mailto:" prefix or a "Name <addr>" wrapper removed, lower case. The local
// part is lower-cased too: mail systems in practice ignore its case, and the
// match must not miss "Mario.Rossi@…" against "mario.rossi@…". Dots and
// "+tags" are kept (they are significant outside a few providers).
func NormEmail(s string) (string, error) {
	s = strings.TrimSpace(CleanText(s))
	if s == "" {
		return "", nil
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	if strings.ContainsAny(s, "<>") {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return "", errEmail
		}
		s = a.Address
	}
	s = strings.ToLower(strings.Trim(s, " .;,"))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 {
		return "", errEmail
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(local, " \"(),:;<>@[\\]") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", errEmail
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", errEmail
	}
	for _, r := range domain {
		if !(r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return "", errEmail
		}
	}
	return s, nil
}

// NormPhone returns a phone number as "+" and digits (E.164 shape): spaces,
// dots, dashes, slashes and brackets removed, a leading "00" turned into "+",
// and defaultCC (e.g. "39") put in front of a number written without a
// country code. Between 6 and 15 digits, as E.164 allows.
func NormPhone(s, defaultCC string) (string, error) {
	s = CleanText(s)
	if s == "" {
		return "", nil
	}
	var d strings.Builder
	plus := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == '+' && d.Len() == 0 && !plus:
			plus = true
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')':
		default:
			return "", errPhone
		}
	}
	digits := d.String()
	switch {
	case plus:
	case strings.HasPrefix(digits, "00"):
		digits = digits[2:]
	default:
		digits = defaultCC + digits
	}
	if len(digits) < 6 || len(digits) > 15 || digits[0] == '0' {
		return "", errPhone
	}
	return "+" + digits, nil
}
