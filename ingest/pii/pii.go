// Package pii seals the personal fields of change payloads with per-person
// data keys (crypto-shredding, docs/gdpr.md): `calore relay` seals before
// publishing to Kafka, `calore sink` opens before storing in the warehouse,
// and `calore gdpr erase` destroys the person's key in PostgreSQL, after
// which every copy of those fields left in Kafka is unreadable.
//
// Which fields are personal, and whose, is part of the contract
// (schemas.PersonalFields). A sealed field's value is replaced by
//
//	{"enc":"v1:<kid>[.<kid>…]:<base64 of nonce ‖ AES-256-GCM(JSON value)>"}
//
// The additional data binds the ciphertext to its key ids and field name. A
// field about several people (a collaboration's person and counterpart) is
// sealed with SHA-256 of all their keys, in key-id order, so that erasing
// any one of them makes it unreadable. Opening without a key (destroyed at
// erasure) gives null: the field reads as erased.
package pii

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/calore-crm/calore/ingest/schemas"
)

// KeySize is the size of a data key: AES-256.
const KeySize = 32

// Version is the prefix of every sealed value.
const Version = "v1"

// Key is one person's data key and its id (the kid in sealed values).
type Key struct {
	ID     int64
	Secret []byte
}

// NewSecret returns a fresh random data key.
func NewSecret() ([]byte, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("pii: new data key: %w", err)
	}
	return b, nil
}

// WrappedSize is the size of a data key wrapped by a master key: nonce,
// key, GCM tag.
const WrappedSize = 12 + KeySize + 16

// Wrapper wraps data keys with a master key (CALORE_DATA_KEY_MASTER), so
// that the key table alone opens nothing. A nil *Wrapper wraps nothing.
type Wrapper struct{ aead cipher.AEAD }

// NewWrapper returns a wrapper for a 32-byte master key; nil for none.
func NewWrapper(master []byte) (*Wrapper, error) {
	if len(master) == 0 {
		return nil, nil
	}
	aead, err := newAEAD([][]byte{master})
	if err != nil {
		return nil, fmt.Errorf("pii: master key: %w", err)
	}
	return &Wrapper{aead: aead}, nil
}

func wrapAD(person int64) []byte {
	return []byte("calore-data-key|" + Version + "|" + strconv.FormatInt(person, 10))
}

// Wrap returns a person's new data key as it is to be stored.
func (w *Wrapper) Wrap(person int64, secret []byte) ([]byte, error) {
	if w == nil {
		return secret, nil
	}
	nonce := make([]byte, w.aead.NonceSize(), WrappedSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("pii: nonce: %w", err)
	}
	return w.aead.Seal(nonce, nonce, secret, wrapAD(person)), nil
}

// ErrWrapped: a stored data key is wrapped and no (or another) master key
// is configured. Never a reason to treat the key as destroyed.
var ErrWrapped = errors.New("pii: data key wrapped by a master key this process does not have (CALORE_DATA_KEY_MASTER)")

// Unwrap returns a stored data key in clear. A key stored before a master
// key was configured (32 bytes) is returned as it is.
func (w *Wrapper) Unwrap(person int64, stored []byte) ([]byte, error) {
	switch {
	case len(stored) == KeySize:
		return stored, nil
	case len(stored) != WrappedSize || w == nil:
		return nil, ErrWrapped
	}
	ns := w.aead.NonceSize()
	secret, err := w.aead.Open(nil, stored[:ns], stored[ns:], wrapAD(person))
	if err != nil {
		return nil, ErrWrapped
	}
	return secret, nil
}

// sealedMark is how a sealed value begins once the relay has encoded it.
var sealedMark = []byte(`{"enc":"` + Version + `:`)

// MaySeal is a cheap test: false means payload certainly holds no sealed
// value, so the sink need not parse it.
func MaySeal(payload []byte) bool { return bytes.Contains(payload, sealedMark) }

// Doc is a change payload parsed for sealing or for opening.
type Doc struct {
	spec   schemas.Personal
	fields map[string]json.RawMessage
	seal   []string // fields to seal
	people []int64  // whose keys seal them, distinct, ascending
	sealed map[string]sealedValue
}

type sealedValue struct {
	kids []int64
	kidS string // as written
	data []byte // nonce ‖ ciphertext
}

// ForSealing parses a payload of change type typ ("person.updated") and
// returns what needs sealing, or nil when nothing does: a type without
// personal fields, a payload naming nobody, or personal fields all empty
// (no key is created for nothing).
func ForSealing(typ string, payload []byte) (*Doc, error) {
	spec, ok := schemas.Sealed(typ)
	if !ok {
		return nil, nil
	}
	if spec.Keep == nil && !mentions(payload, spec.Seal) {
		return nil, nil // none of the fields at all: no need to parse
	}
	d := &Doc{spec: spec}
	if err := json.Unmarshal(payload, &d.fields); err != nil {
		// Not a JSON object: the contract refuses it (the sink dead-letters
		// it) whatever it holds; sealing cannot help.
		return nil, nil
	}
	for _, k := range spec.People {
		raw, ok := d.fields[k]
		if !ok || isEmpty(raw) {
			continue
		}
		id, err := strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 64)
		if err != nil || id < 1 {
			return nil, fmt.Errorf("pii: %s payload: %s is not a person id: %s", typ, k, raw)
		}
		if !slices.Contains(d.people, id) {
			d.people = append(d.people, id)
		}
	}
	if len(d.people) == 0 {
		return nil, nil
	}
	slices.Sort(d.people)
	if spec.Keep != nil {
		for k, raw := range d.fields {
			if !slices.Contains(spec.Keep, k) && !slices.Contains(spec.People, k) && !isEmpty(raw) {
				d.seal = append(d.seal, k)
			}
		}
	} else {
		for _, k := range spec.Seal {
			if raw, ok := d.fields[k]; ok && !isEmpty(raw) {
				d.seal = append(d.seal, k)
			}
		}
	}
	if len(d.seal) == 0 {
		return nil, nil
	}
	slices.Sort(d.seal)
	return d, nil
}

// Strip returns the payload with its personal fields set to null: for a
// payload ForSealing refuses (a person id that is not one), which can be
// neither sealed nor published in clear.
func Strip(typ string, payload []byte) ([]byte, error) {
	spec, ok := schemas.Sealed(typ)
	if !ok {
		return payload, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, fmt.Errorf("pii: strip %s payload: %w", typ, err)
	}
	for k := range fields {
		if spec.Keep != nil && !slices.Contains(spec.Keep, k) || slices.Contains(spec.Seal, k) {
			fields[k] = json.RawMessage("null")
		}
	}
	out, err := marshalPayload(fields)
	if err != nil {
		return nil, fmt.Errorf("pii: strip %s payload: %w", typ, err)
	}
	return out, nil
}

// mentions reports whether payload contains any of keys as a quoted
// string (a cheap superset of "has one of these fields").
func mentions(payload []byte, keys []string) bool {
	var buf [64]byte
	for _, k := range keys {
		q := append(append(append(buf[:0], '"'), k...), '"')
		if bytes.Contains(payload, q) {
			return true
		}
	}
	return false
}

// isEmpty: null, "", [], {} carry nothing worth a key.
func isEmpty(raw json.RawMessage) bool {
	switch string(bytes.TrimSpace(raw)) {
	case "null", `""`, "[]", "{}":
		return true
	}
	return false
}

// People are the ids of the people whose keys Seal needs.
func (d *Doc) People() []int64 { return d.people }

// Seal returns the payload with its personal fields sealed, keys being the
// data keys by person id (every id of People).
func (d *Doc) Seal(keys map[int64]Key) ([]byte, error) {
	ks := make([]Key, 0, len(d.people))
	for _, p := range d.people {
		k, ok := keys[p]
		if !ok || len(k.Secret) != KeySize {
			return nil, fmt.Errorf("pii: no data key for person %d", p)
		}
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b Key) int { return cmp.Compare(a.ID, b.ID) })
	kids := make([]int64, len(ks))
	secrets := make([][]byte, len(ks))
	for i, k := range ks {
		kids[i], secrets[i] = k.ID, k.Secret
	}
	kidS := formatKids(kids)
	aead, err := newAEAD(secrets)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	nonces := make([]byte, ns*len(d.seal))
	if _, err := rand.Read(nonces); err != nil {
		return nil, fmt.Errorf("pii: nonce: %w", err)
	}
	enc := base64.RawStdEncoding
	for i, f := range d.seal {
		plain := d.fields[f]
		data := make([]byte, ns, ns+len(plain)+aead.Overhead())
		copy(data, nonces[i*ns:])
		data = aead.Seal(data, data, plain, additional(kidS, f))
		// {"enc":"v1:<kids>:<base64>"}: no character here needs escaping
		v := make([]byte, 0, len(sealedMark)+len(kidS)+1+enc.EncodedLen(len(data))+2)
		v = append(v, sealedMark...)
		v = append(v, kidS...)
		v = append(v, ':')
		v = enc.AppendEncode(v, data)
		d.fields[f] = append(v, '"', '}')
	}
	out, err := marshalPayload(d.fields)
	if err != nil {
		return nil, fmt.Errorf("pii: encode sealed payload: %w", err)
	}
	return out, nil
}

// ForOpening parses a payload and returns its sealed values, or nil when it
// has none.
func ForOpening(payload []byte) (*Doc, error) {
	if !MaySeal(payload) {
		return nil, nil
	}
	d := &Doc{}
	if err := json.Unmarshal(payload, &d.fields); err != nil {
		return nil, fmt.Errorf("pii: parse payload: %w", err)
	}
	for k, raw := range d.fields {
		if !bytes.HasPrefix(raw, sealedMark) {
			continue
		}
		var enc map[string]string
		if err := json.Unmarshal(raw, &enc); err != nil || len(enc) != 1 {
			continue // not a sealed value after all; kept as it is
		}
		sv, ok := parseSealed(enc["enc"])
		if d.sealed == nil {
			d.sealed = map[string]sealedValue{}
		}
		if !ok {
			sv = sealedValue{} // malformed: opens as erased
		}
		d.sealed[k] = sv
	}
	if len(d.sealed) == 0 {
		return nil, nil
	}
	return d, nil
}

func parseSealed(s string) (sealedValue, bool) {
	v, rest, ok := strings.Cut(s, ":")
	if !ok || v != Version {
		return sealedValue{}, false
	}
	kidS, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return sealedValue{}, false
	}
	var kids []int64
	for _, p := range strings.Split(kidS, ".") {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id < 1 {
			return sealedValue{}, false
		}
		kids = append(kids, id)
	}
	data, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return sealedValue{}, false
	}
	return sealedValue{kids: kids, kidS: kidS, data: data}, true
}

// KeyIDs are the key ids Open needs.
func (d *Doc) KeyIDs() []int64 {
	var out []int64
	for _, sv := range d.sealed {
		for _, k := range sv.kids {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Open returns the payload with its sealed fields opened, keys being the
// data keys by key id. A field whose key is missing (destroyed by an
// erasure), or that does not open, becomes null; erased counts them.
func (d *Doc) Open(keys map[int64][]byte) (payload []byte, erased int, err error) {
	aeads := map[string]cipher.AEAD{}
	for f, sv := range d.sealed {
		d.fields[f] = json.RawMessage("null")
		plain, ok := sv.open(keys, aeads, f)
		if !ok {
			erased++
			continue
		}
		d.fields[f] = plain
	}
	out, err := marshalPayload(d.fields)
	if err != nil {
		return nil, erased, fmt.Errorf("pii: encode opened payload: %w", err)
	}
	return out, erased, nil
}

func (sv sealedValue) open(keys map[int64][]byte, aeads map[string]cipher.AEAD, field string) ([]byte, bool) {
	if len(sv.kids) == 0 {
		return nil, false
	}
	aead, ok := aeads[sv.kidS]
	if !ok {
		secrets := make([][]byte, len(sv.kids))
		for i, k := range sv.kids {
			if secrets[i] = keys[k]; len(secrets[i]) != KeySize {
				return nil, false
			}
		}
		var err error
		if aead, err = newAEAD(secrets); err != nil {
			return nil, false
		}
		aeads[sv.kidS] = aead
	}
	if len(sv.data) < aead.NonceSize()+aead.Overhead() {
		return nil, false
	}
	ns := aead.NonceSize()
	plain, err := aead.Open(nil, sv.data[:ns], sv.data[ns:], additional(sv.kidS, field))
	if err != nil || !json.Valid(plain) {
		return nil, false
	}
	return plain, true
}

// newAEAD is AES-256-GCM under one key, or under SHA-256 of several.
func newAEAD(secrets [][]byte) (cipher.AEAD, error) {
	key := secrets[0]
	if len(secrets) > 1 {
		h := sha256.New()
		h.Write([]byte("calore-pii-" + Version))
		for _, s := range secrets {
			h.Write(s)
		}
		key = h.Sum(nil)
	}
	if len(key) != KeySize {
		return nil, errors.New("pii: data key of the wrong size")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pii: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pii: gcm: %w", err)
	}
	return aead, nil
}

func additional(kidS, field string) []byte {
	return []byte("calore-pii|" + Version + "|" + kidS + "|" + field)
}

func formatKids(kids []int64) string {
	var b strings.Builder
	for i, k := range kids {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatInt(k, 10))
	}
	return b.String()
}

// marshalPayload encodes a payload's fields without HTML escaping: the
// warehouse reads some fields straight from the payload text with
// visitParamExtractString, which does not unescape "\u003c", so a region
// "<b>" escaped by encoding/json's default would read "?" there. The
// payload is JSON data, never HTML, and pages escape it when they show it.
func marshalPayload(fields map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
