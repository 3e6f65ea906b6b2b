// Package tracking is Calore's tracking front door: signed tokens for email
// opens and link clicks, the HTTP endpoints that record them and web beacons
// (/t/o/{token}, /t/c/{token}, /t/e, /t/calore.js), machine-hit flagging, IP
// truncation, and an asynchronous batching Kafka producer that spools to a
// local file while Kafka is unreachable. docs/tracking.md describes the
// endpoints and the token format.
package tracking

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/calore-crm/calore/config"
)

// Kind says what a token is for.
type Kind byte

const (
	KindOpen     Kind = 'o' // tracking pixel of one send
	KindClick    Kind = 'c' // one link of one send
	KindIdentify Kind = 'i' // ties a browser's web hits to a contact (beacon contact_token)
)

const (
	tokenVersion   = 1
	flagIdentify   = 1 << 0 // click: append calore_id=<identify token> to the target URL
	maxTokenLen    = 4096
	maxURLLen      = 2048
	seedLen        = 16
	signatureLen   = sha256.Size
	signingContext = "calore-tracking-v1|"
)

// Token is what a tracking token carries, signed.
type Token struct {
	Kind       Kind
	CampaignID int64
	SendID     int64
	ContactID  int64
	Issued     time.Time // when the token was minted, i.e. when the email was sent (second precision)
	Seed       [seedLen]byte
	URL        string // click: where to redirect
	// Identify (clicks only) makes the redirect append calore_id=<identify
	// token> to URL, so calore.js on a university site can link the
	// browser's anonymous id to the contact. Use only for the university's
	// own sites.
	Identify bool
}

// ErrBadToken is every reason a token is refused: malformed, forged,
// altered, or signed by a key that is unknown or retired. Callers answer 404
// whatever the reason.
var ErrBadToken = errors.New("bad tracking token")

// Keys signs tokens with the first configured key and verifies them with any.
type Keys struct {
	signID string
	verify map[string][]byte
}

// NewKeys builds Keys from the configuration (config.Tracking.Keys): the first
// key signs, all verify.
func NewKeys(keys []config.TrackingKey) (*Keys, error) {
	if len(keys) == 0 {
		return nil, errors.New("tracking keys: none configured")
	}
	k := &Keys{signID: keys[0].ID, verify: make(map[string][]byte, len(keys))}
	for _, key := range keys {
		if key.ID == "" || strings.ContainsAny(key.ID, ".") || len(key.Secret) < 32 {
			return nil, fmt.Errorf("tracking key %q: want an id without '.' and a secret of at least 32 bytes", key.ID)
		}
		if _, dup := k.verify[key.ID]; dup {
			return nil, fmt.Errorf("tracking key %q: configured twice", key.ID)
		}
		k.verify[key.ID] = key.Secret
	}
	return k, nil
}

// OpenToken mints the tracking-pixel token of one send.
func (k *Keys) OpenToken(campaignID, sendID, contactID int64) (string, error) {
	return k.Sign(Token{Kind: KindOpen, CampaignID: campaignID, SendID: sendID, ContactID: contactID})
}

// ClickToken mints the token of one link of one send.
func (k *Keys) ClickToken(campaignID, sendID, contactID int64, target string) (string, error) {
	return k.Sign(Token{Kind: KindClick, CampaignID: campaignID, SendID: sendID, ContactID: contactID, URL: target})
}

// IdentifyToken mints a token that links a browser to a contact (the
// beacon's contact_token).
func (k *Keys) IdentifyToken(contactID int64) (string, error) {
	return k.Sign(Token{Kind: KindIdentify, ContactID: contactID})
}

// Sign validates t, fills a zero Issued with now and a zero Seed with random
// bytes, and returns the token string.
func (k *Keys) Sign(t Token) (string, error) {
	if err := t.validate(); err != nil {
		return "", fmt.Errorf("sign tracking token: %w", err)
	}
	if t.Issued.IsZero() {
		t.Issued = time.Now()
	}
	if t.Seed == [seedLen]byte{} {
		if _, err := rand.Read(t.Seed[:]); err != nil {
			return "", fmt.Errorf("sign tracking token: seed: %w", err)
		}
	}
	payload := base64.RawURLEncoding.EncodeToString(t.encode())
	signed := k.signID + "." + payload
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac(k.verify[k.signID], signed)), nil
}

// Parse verifies s and returns what it carries; any failure is ErrBadToken
// (wrapped with the reason, for logs only).
func (k *Keys) Parse(s string) (Token, error) {
	if len(s) > maxTokenLen {
		return Token{}, fmt.Errorf("%w: too long", ErrBadToken)
	}
	kid, rest, ok := strings.Cut(s, ".")
	if !ok {
		return Token{}, fmt.Errorf("%w: no key id", ErrBadToken)
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return Token{}, fmt.Errorf("%w: no signature", ErrBadToken)
	}
	secret, ok := k.verify[kid]
	if !ok {
		return Token{}, fmt.Errorf("%w: unknown key id %q", ErrBadToken, kid)
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(got) != signatureLen {
		return Token{}, fmt.Errorf("%w: malformed signature", ErrBadToken)
	}
	if !hmac.Equal(got, mac(secret, s[:len(kid)+1+len(payload)])) {
		return Token{}, fmt.Errorf("%w: signature mismatch", ErrBadToken)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return Token{}, fmt.Errorf("%w: malformed payload", ErrBadToken)
	}
	t, err := decode(raw)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if err := t.validate(); err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return t, nil
}

func mac(secret []byte, signed string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signingContext))
	m.Write([]byte(signed))
	return m.Sum(nil)
}

func (t Token) validate() error {
	switch t.Kind {
	case KindOpen, KindClick:
		if t.CampaignID < 1 || t.SendID < 1 || t.ContactID < 1 {
			return fmt.Errorf("%c token: campaign, send and contact ids must be positive", t.Kind)
		}
	case KindIdentify:
		if t.ContactID < 1 || t.CampaignID != 0 || t.SendID != 0 {
			return errors.New("identify token: want a positive contact id only")
		}
	default:
		return fmt.Errorf("unknown token kind %q", byte(t.Kind))
	}
	if t.Kind == KindClick {
		if err := checkRedirectURL(t.URL); err != nil {
			return err
		}
	} else if t.URL != "" || t.Identify {
		return fmt.Errorf("%c token: URL and identify belong to clicks", t.Kind)
	}
	return nil
}

// checkRedirectURL accepts only absolute http(s) URLs with a host.
func checkRedirectURL(s string) error {
	if len(s) > maxURLLen {
		return fmt.Errorf("url longer than %d bytes", maxURLLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("url has control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: want an absolute http or https URL", s)
	}
	return nil
}

// encode: version, kind, flags, uvarint campaign, send, contact, issued
// (unix seconds), 16-byte seed, then the URL to the end.
func (t Token) encode() []byte {
	b := make([]byte, 0, 3+4*binary.MaxVarintLen64+seedLen+len(t.URL))
	var flags byte
	if t.Identify {
		flags |= flagIdentify
	}
	b = append(b, tokenVersion, byte(t.Kind), flags)
	b = binary.AppendUvarint(b, uint64(t.CampaignID))
	b = binary.AppendUvarint(b, uint64(t.SendID))
	b = binary.AppendUvarint(b, uint64(t.ContactID))
	b = binary.AppendUvarint(b, uint64(t.Issued.Unix()))
	b = append(b, t.Seed[:]...)
	return append(b, t.URL...)
}

func decode(b []byte) (Token, error) {
	var t Token
	if len(b) < 3 || b[0] != tokenVersion {
		return t, errors.New("unknown token version")
	}
	t.Kind, t.Identify = Kind(b[1]), b[2]&flagIdentify != 0
	if b[2]&^flagIdentify != 0 {
		return t, errors.New("unknown token flags")
	}
	b = b[3:]
	var nums [4]uint64
	for i := range nums {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<62 {
			return t, errors.New("malformed token number")
		}
		nums[i], b = v, b[n:]
	}
	t.CampaignID, t.SendID, t.ContactID = int64(nums[0]), int64(nums[1]), int64(nums[2])
	t.Issued = time.Unix(int64(nums[3]), 0).UTC()
	if len(b) < seedLen {
		return t, errors.New("short token")
	}
	copy(t.Seed[:], b)
	t.URL = string(b[seedLen:])
	return t, nil
}
