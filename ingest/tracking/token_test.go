package tracking

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calore-crm/calore/config"
)

func testKey(id string, fill byte) config.TrackingKey {
	return config.TrackingKey{ID: id, Secret: bytes.Repeat([]byte{fill}, 32)}
}

func mustKeys(t testing.TB, keys ...config.TrackingKey) *Keys {
	t.Helper()
	k, err := NewKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTokenSignVerify(t *testing.T) {
	old := mustKeys(t, testKey("k1", 1))
	rotated := mustKeys(t, testKey("k2", 2), testKey("k1", 1)) // k2 signs, k1 still verifies
	retired := mustKeys(t, testKey("k2", 2))                   // k1 dropped
	forger := mustKeys(t, testKey("k1", 9))                    // right id, wrong secret

	click, err := old.ClickToken(7, 8, 9, "https://www.example.edu/alumni?x=1")
	if err != nil {
		t.Fatal(err)
	}
	open, err := old.OpenToken(7, 8, 9)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := forger.ClickToken(7, 8, 9, "https://evil.example.com/")
	newClick, _ := rotated.ClickToken(7, 8, 9, "https://www.example.edu/")

	// alter the URL inside a valid token, keeping its signature
	kid, rest, _ := strings.Cut(click, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	altered := kid + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte("www.example.edu"), []byte("evil.example.co"), 1)) + "." + sig
	flipped := []byte(click)
	flipped[len(flipped)-3] ^= 1

	tests := []struct {
		name    string
		keys    *Keys
		token   string
		wantErr bool
		wantURL string
	}{
		{"valid click", old, click, false, "https://www.example.edu/alumni?x=1"},
		{"valid open", old, open, false, ""},
		{"rotated: old token still verifies", rotated, click, false, "https://www.example.edu/alumni?x=1"},
		{"rotated: new token verifies", rotated, newClick, false, "https://www.example.edu/"},
		{"new token on a server without the new key", old, newClick, true, ""},
		{"retired key id", retired, click, true, ""},
		{"forged with a guessed secret", old, forged, true, ""},
		{"altered URL", old, altered, true, ""},
		{"flipped signature bit", old, string(flipped), true, ""},
		{"unknown kid", old, "zz" + click[2:], true, ""},
		{"empty", old, "", true, ""},
		{"no signature", old, kid + "." + payload, true, ""},
		{"padding in signature", old, click + "=", true, ""},
		{"too long", old, strings.Repeat("a", 5000), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.keys.Parse(tt.token)
			if tt.wantErr {
				if !errors.Is(err, ErrBadToken) {
					t.Fatalf("Parse = %+v, %v; want ErrBadToken", tok, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tok.CampaignID != 7 || tok.SendID != 8 || tok.ContactID != 9 || tok.URL != tt.wantURL {
				t.Errorf("token = %+v", tok)
			}
			if time.Since(tok.Issued) > time.Minute || tok.Seed == [seedLen]byte{} {
				t.Errorf("issued %v, seed %x", tok.Issued, tok.Seed)
			}
		})
	}
}

func TestTokenSignRefuses(t *testing.T) {
	k := mustKeys(t, testKey("k1", 1))
	tests := []struct {
		name string
		tok  Token
	}{
		{"javascript URL", Token{Kind: KindClick, CampaignID: 1, SendID: 1, ContactID: 1, URL: "javascript:alert(1)"}},
		{"relative URL", Token{Kind: KindClick, CampaignID: 1, SendID: 1, ContactID: 1, URL: "/path"}},
		{"protocol-relative URL", Token{Kind: KindClick, CampaignID: 1, SendID: 1, ContactID: 1, URL: "//evil.example.com"}},
		{"URL with newline", Token{Kind: KindClick, CampaignID: 1, SendID: 1, ContactID: 1, URL: "https://a.example/\r\nSet-Cookie: x"}},
		{"open without send", Token{Kind: KindOpen, CampaignID: 1, ContactID: 1}},
		{"open with URL", Token{Kind: KindOpen, CampaignID: 1, SendID: 1, ContactID: 1, URL: "https://a.example/"}},
		{"identify with campaign", Token{Kind: KindIdentify, CampaignID: 1, ContactID: 1}},
		{"unknown kind", Token{Kind: 'x', CampaignID: 1, SendID: 1, ContactID: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := k.Sign(tt.tok); err == nil {
				t.Errorf("Sign = %q, want an error", s)
			}
		})
	}
}

func TestNewKeysRefuses(t *testing.T) {
	for name, keys := range map[string][]config.TrackingKey{
		"none":         nil,
		"short secret": {{ID: "a", Secret: []byte("short")}},
		"dot in id":    {{ID: "a.b", Secret: bytes.Repeat([]byte{1}, 32)}},
		"duplicate":    {testKey("a", 1), testKey("a", 2)},
	} {
		if _, err := NewKeys(keys); err == nil {
			t.Errorf("%s: NewKeys accepted %v", name, keys)
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts re-signs to a token
// that parses to the same content.
func FuzzParse(f *testing.F) {
	k := mustKeys(f, testKey("k1", 1))
	click, _ := k.ClickToken(1, 2, 3, "https://www.example.edu/")
	open, _ := k.OpenToken(1, 2, 3)
	for _, s := range []string{click, open, "", ".", "..", "k1..", "k1.AAAA.AAAA", click + "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := k.Parse(s)
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("error not ErrBadToken: %v", err)
			}
			return
		}
		again, err := k.Sign(tok)
		if err != nil {
			t.Fatalf("accepted token does not re-sign: %+v: %v", tok, err)
		}
		tok2, err := k.Parse(again)
		if err != nil || tok2 != tok {
			t.Fatalf("round trip: %+v vs %+v (%v)", tok, tok2, err)
		}
	})
}

func TestDecodeFuzzedPayloads(t *testing.T) {
	// decode on arbitrary payloads (what a key holder could sign) never panics
	for _, b := range [][]byte{nil, {1}, {1, 'c', 0}, {1, 'c', 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, {2, 'o', 0}} {
		_, _ = decode(b)
	}
}

// FuzzDecode goes behind the signature: any payload a key holder could sign
// either decodes to a valid token that encodes back to the same bytes, or
// is refused, and never panics.
func FuzzDecode(f *testing.F) {
	k := mustKeys(f, testKey("k1", 1))
	click, _ := k.ClickToken(1, 2, 3, "https://www.example.edu/")
	_, rest, _ := strings.Cut(click, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	f.Add(raw)
	f.Add([]byte{1, 'o', 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := decode(b)
		if err != nil || tok.validate() != nil {
			return
		}
		if !bytes.Equal(tok.encode(), b) && tok.Issued.Unix() >= 0 {
			// non-minimal varints decode but re-encode shorter; the signature
			// covers the bytes as sent, so this is harmless: only check content
			back, err := decode(tok.encode())
			if err != nil || back != tok {
				t.Fatalf("re-encoding changed the token: %+v vs %+v (%v)", tok, back, err)
			}
		}
	})
}
