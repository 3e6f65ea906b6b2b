package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
)

// errorBody is the one error shape of the API:
// {"error":{"code","message","field","request_id"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// errTooLarge: the request body is over the limit (413).
var errTooLarge = errors.New("too large")

// kinds maps the error kinds to a status and a code, in the order checked.
var kinds = []struct {
	kind   error
	status int
	code   string
}{
	{access.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{access.ErrTooManyAttempts, http.StatusTooManyRequests, "too_many_requests"},
	{calore.ErrForbidden, http.StatusForbidden, "forbidden"},
	{calore.ErrNotFound, http.StatusNotFound, "not_found"},
	{calore.ErrConflict, http.StatusConflict, "conflict"},
	{calore.ErrInvalid, http.StatusBadRequest, "invalid"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{calore.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// writeError is the one place errors become responses: the kind decides the
// status, the message is the error's own for the caller's mistakes and a
// generic one (the details only in the log) for ours.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	d := errorDetail{Code: "internal", Message: "internal error", RequestID: middleware.GetReqID(r.Context())}
	status := http.StatusInternalServerError
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			status, d.Code, d.Message = k.status, k.code, err.Error()
			break
		}
	}
	var ce *calore.Error
	if errors.As(err, &ce) {
		d.Field = ce.Field
	}
	var pe *pgconn.PgError
	switch {
	case status < 500 && errors.As(err, &pe):
		// the store refused the input: the caller reads Calore's message,
		// PostgreSQL's own (which quotes values) stays in the log
		s.log.Info("api: refused by the store", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("request_id", d.RequestID), slog.String("pg_code", pe.Code), slog.String("constraint", pe.ConstraintName),
			slog.String("pg_message", pe.Message), slog.String("pg_detail", pe.Detail))
	case status == http.StatusServiceUnavailable:
		s.log.Warn("api: unavailable", slog.String("path", r.URL.Path), slog.String("request_id", d.RequestID), slog.Any("err", err))
		d.Message = "a server Calore depends on does not answer; try again later"
	case status >= 500:
		s.log.Error("api: request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("request_id", d.RequestID), slog.Any("err", err))
	}
	writeJSON(w, status, errorBody{Error: d})
}

// writeJSON writes v as the JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// invalid returns an ErrInvalid error naming the field at fault.
func invalid(field, format string, args ...any) error {
	return calore.FieldError(field, format, args...)
}

func errorsIsUnauth(err error) bool { return errors.Is(err, access.ErrUnauthenticated) }
