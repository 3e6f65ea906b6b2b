package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
)

// User administration for admins (resource `users`, docs/access.md): the
// same operations as `calore user disable|enable|reset-password|sessions|
// revoke-sessions|token`, each audited as an update of the user.

// decodeOptional reads an optional JSON body: none (or blank) leaves v as is.
func decodeOptional(r *http.Request, w http.ResponseWriter, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return fmt.Errorf("request body over %d bytes: %w", maxBody, errTooLarge)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decode(r, w, v)
}

// setDisabled is POST /api/users/{id}/disable and /enable.
func (s *Server) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		u, ended, err := s.access.SetDisabled(r.Context(), id, disabled)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		change := "enabled"
		if disabled {
			change = "disabled"
		}
		if err := s.audit(r, "update", "user", strconv.FormatInt(id, 10), map[string]string{"change": change, "sessions_ended": strconv.FormatInt(ended, 10)}); err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": u, "sessions_ended": ended})
	}
}

// resetPassword is POST /api/users/{id}/reset-password: {"password": …}
// sets that one (checked against the policy); without it a generated
// password is returned once. The user's sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body struct {
		Password string `json:"password"`
	}
	if err := decodeOptional(r, w, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	generated, err := s.access.ResetPassword(r.Context(), id, body.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, "update", "user", strconv.FormatInt(id, 10), map[string]string{"change": "password_reset"}); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"user_id": id}
	if generated != "" {
		out["password"] = generated
	}
	writeJSON(w, http.StatusOK, out)
}

// userSessions is GET /api/users/{id}/sessions: the live web sessions.
func (s *Server) userSessions(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.User(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := s.store.Sessions(r.Context(), id, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if items == nil {
		items = []postgres.Session{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// revokeSessions is POST /api/users/{id}/revoke-sessions: ends every web
// session; {"tokens": true} revokes the API tokens too.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body struct {
		Tokens bool `json:"tokens"`
	}
	if err := decodeOptional(r, w, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	sessions, tokens, err := s.access.RevokeSessions(r.Context(), id, body.Tokens)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, "update", "user", strconv.FormatInt(id, 10), map[string]string{"change": "sessions_revoked",
		"sessions_ended": strconv.FormatInt(sessions, 10), "tokens_revoked": strconv.FormatInt(tokens, 10)}); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions_ended": sessions, "tokens_revoked": tokens})
}

// createToken is POST /api/users/{id}/tokens: {"name", "expires_at" (RFC
// 3339 or YYYY-MM-DD) or "expires_in" (a duration such as "720h")}; the
// token is in the answer, once. An expiry not in the future is refused.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body struct {
		Name      string `json:"name"`
		ExpiresAt string `json:"expires_at"`
		ExpiresIn string `json:"expires_in"`
	}
	if err := decodeOptional(r, w, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	var exp *time.Time
	switch {
	case body.ExpiresAt != "" && body.ExpiresIn != "":
		s.writeError(w, r, invalid("expires_in", "give expires_at or expires_in, not both"))
		return
	case body.ExpiresAt != "":
		t, err := parseTime(body.ExpiresAt)
		if err != nil {
			s.writeError(w, r, invalid("expires_at", "%q is not a date or RFC 3339 time", body.ExpiresAt))
			return
		}
		exp = &t
	case body.ExpiresIn != "":
		d, err := time.ParseDuration(body.ExpiresIn)
		if err != nil || d <= 0 {
			s.writeError(w, r, invalid("expires_in", "%q is not a positive duration such as \"720h\": a token cannot be created already expired", body.ExpiresIn))
			return
		}
		t := now.Add(d)
		exp = &t
	}
	if err := access.CheckTokenExpiry(exp, now); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.User(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, hash, err := access.NewSecret(access.TokenPrefix)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.store.CreateAPIToken(r.Context(), id, body.Name, hash, exp)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, "create", "api_token", strconv.FormatInt(t.ID, 10), map[string]string{"user_id": strconv.FormatInt(id, 10)}); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}
