package access

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/calore-crm/calore"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 12

// maxPasswordBytes is what bcrypt reads of a password.
const maxPasswordBytes = 72

// commonPasswordsGz is Django's list of 20,000 common passwords (lower
// case, one a line), from the leaks Royce Williams compiled; BSD licence,
// see common-passwords.LICENSE.
//
//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// loadCommonPasswords reads the embedded list into a set.
func loadCommonPasswords() (map[string]struct{}, error) {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		return nil, fmt.Errorf("common passwords: %w", err)
	}
	set := make(map[string]struct{}, 20000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			set[strings.ToLower(w)] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("common passwords: %w", err)
	}
	return set, nil
}

// CheckPassword applies the password policy to the password of username and
// names every rule it breaks: at least MinPasswordLength characters, at most
// 72 bytes (bcrypt), not the username nor containing it (ignoring case), not
// one of the 20,000 most common passwords (ignoring case).
func (s *Service) CheckPassword(username, password string) error {
	var errs []error
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		errs = append(errs, calore.FieldError("password", "too short (rule: at least %d characters; this one has %d)", MinPasswordLength, n))
	}
	if len(password) > maxPasswordBytes {
		errs = append(errs, calore.FieldError("password", "too long (rule: at most %d bytes, what bcrypt reads)", maxPasswordBytes))
	}
	lp, lu := strings.ToLower(password), strings.ToLower(strings.TrimSpace(username))
	switch {
	case lu != "" && lp == lu:
		errs = append(errs, calore.FieldError("password", "is the username (rule: the password must not be or contain the username)"))
	case lu != "" && strings.Contains(lp, lu):
		errs = append(errs, calore.FieldError("password", "contains the username (rule: the password must not be or contain the username)"))
	}
	if _, common := s.common[lp]; common {
		errs = append(errs, calore.FieldError("password", "is one of the 20,000 most common passwords (rule: no common or breached password); choose another"))
	}
	return errors.Join(errs...)
}

// HashPassword returns the bcrypt hash of a password of acceptable length
// (CheckPassword applies the whole policy).
func (s *Service) HashPassword(password string) (string, error) {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return "", calore.FieldError("password", "too short (rule: at least %d characters)", MinPasswordLength)
	}
	if len(password) > maxPasswordBytes {
		return "", calore.FieldError("password", "too long (rule: at most %d bytes, what bcrypt reads)", maxPasswordBytes)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.opt.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// SetPassword checks a user's new password against the policy, hashes it
// and stores it.
func (s *Service) SetPassword(ctx context.Context, userID int64, password string) error {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := s.CheckPassword(u.Username, password); err != nil {
		return err
	}
	h, err := s.HashPassword(password)
	if err != nil {
		return err
	}
	return s.store.SetPasswordHash(ctx, userID, h)
}

// GeneratePassword returns a random password for a password reset: 26
// characters of base32 from crypto/rand.Text (128 bits).
func GeneratePassword() string { return rand.Text() }
