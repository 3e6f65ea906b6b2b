package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// AuditHashPrefix marks a keyed hash in an audit line's details.
const AuditHashPrefix = "hmac:"

// AuditKey returns the per-install secret of the audit log's keyed hashes
// (table audit_key, made by migration 00110).
func (s *Store) AuditKey(ctx context.Context) ([]byte, error) {
	var key []byte
	if err := s.db.QueryRow(ctx, `SELECT secret FROM audit_key WHERE id = 1`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read audit key: %w", translate(err))
	}
	return key, nil
}

// AuditHash is how free text (a search string) is written into an audit
// line: "hmac:" and the first 16 bytes, in hex, of HMAC-SHA256 under key of
// the text normalised as the name search normalises it (ASCII, lower case,
// words one space apart), so "Rossi", " ROSSI " and "Rössi" hash alike and
// an erasure can find the hashes of a person's identifiers.
func AuditHash(key []byte, text string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(auditNormal(text)))
	return AuditHashPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

func auditNormal(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(ASCII(s))), " ")
}
