package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
)

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// filter is one query parameter of a search: it narrows on a column of the
// record's table with an operator; kind says how to parse the value.
type filter struct {
	param string
	col   string
	op    string
	kind  string // "text", "int", "bool", "time", "date", "lower" (lower-case ASCII), "key" (as a name key)
}

// resource is the CRUD, search and export of one kind of record through the
// store.
type resource[T any] struct {
	path     string // URL segment: "people"
	noun     string // audit entity and error noun: "person"
	scope    string // access resource
	personal bool   // reads are audited (personal data, R7.3)
	meta     func(*T) *calore.Meta
	get      func(context.Context, int64) (*T, error)
	search   func(context.Context, postgres.SearchQuery) ([]*T, int64, error)
	// Changes take the store to run on: the change and its audit line
	// commit in one transaction (method expressions of *postgres.Store).
	create  func(*postgres.Store, context.Context, *T) error
	update  func(*postgres.Store, context.Context, *T) error
	del     func(*postgres.Store, context.Context, int64, int) error
	filters []filter
	// owned makes the records office-owned (docs/access.md, "Record
	// scopes"): the functions above stay nil and every handler reaches the
	// store through these, scoped to the caller (bind).
	owned *owned[T]
}

// owned are the store functions of an office-owned kind of record, each
// taking the caller's scope.
type owned[T any] struct {
	get    func(context.Context, postgres.Scope, int64) (*T, error)
	search func(context.Context, postgres.Scope, postgres.SearchQuery) ([]*T, int64, error)
	create func(*postgres.Store, context.Context, postgres.Scope, *T) error
	update func(*postgres.Store, context.Context, postgres.Scope, *T) error
	del    func(*postgres.Store, context.Context, postgres.Scope, int64, int) error
	// defaults fills in what a caller may leave out of a record it writes
	// (its own office, when it has one).
	defaults func(*T, access.RecordScope)
}

// bind returns res for the request's caller: for an office-owned kind, its
// store functions narrowed to the record scope of the caller's roles (built
// from the principal, never from the request), so that lists, exports,
// reads, updates and deletes see only what the caller may.
func (res resource[T]) bind(r *http.Request) resource[T] {
	o := res.owned
	if o == nil {
		return res
	}
	rs := principal(r).RecordScope(res.scope)
	sc := postgres.Scope(rs)
	res.get = func(ctx context.Context, id int64) (*T, error) { return o.get(ctx, sc, id) }
	res.search = func(ctx context.Context, q postgres.SearchQuery) ([]*T, int64, error) { return o.search(ctx, sc, q) }
	res.create = func(st *postgres.Store, ctx context.Context, rec *T) error {
		o.defaults(rec, rs)
		return o.create(st, ctx, sc, rec)
	}
	res.update = func(st *postgres.Store, ctx context.Context, rec *T) error {
		o.defaults(rec, rs)
		return o.update(st, ctx, sc, rec)
	}
	res.del = func(st *postgres.Store, ctx context.Context, id int64, version int) error {
		return o.del(st, ctx, sc, id, version)
	}
	return res
}

// page is a list response.
type page[T any] struct {
	Items      []T    `json:"items"`
	Total      int64  `json:"total"`
	Limit      int    `json:"limit"`
	Offset     int    `json:"offset"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (res resource[T]) routes(s *Server) []route {
	base := "/api/" + res.path
	read, write := access.Permission{Resource: res.scope, Action: access.Read}, access.Permission{Resource: res.scope, Action: access.Write}
	return []route{
		{http.MethodGet, base, read, func(w http.ResponseWriter, r *http.Request) { res.list(s, w, r) }},
		{http.MethodPost, base, write, func(w http.ResponseWriter, r *http.Request) { res.doCreate(s, w, r) }},
		{http.MethodGet, base + "/export", read, func(w http.ResponseWriter, r *http.Request) { res.export(s, w, r) }},
		{http.MethodGet, base + "/{id}", read, func(w http.ResponseWriter, r *http.Request) { res.read(s, w, r) }},
		{http.MethodPut, base + "/{id}", write, func(w http.ResponseWriter, r *http.Request) { res.doUpdate(s, w, r) }},
		{http.MethodDelete, base + "/{id}", write, func(w http.ResponseWriter, r *http.Request) { res.doDelete(s, w, r) }},
	}
}

// query reads the filters and the page of a search from the URL.
func (res resource[T]) query(r *http.Request) (postgres.SearchQuery, error) {
	v := r.URL.Query()
	var q postgres.SearchQuery
	var err error
	if q.Limit, err = intParam(v.Get("limit"), "limit", 50, 1, 1000); err != nil {
		return q, err
	}
	if q.Offset, err = intParam(v.Get("offset"), "offset", 0, 0, math32); err != nil {
		return q, err
	}
	if c := v.Get("cursor"); c != "" {
		if q.AfterID, err = strconv.ParseInt(c, 10, 64); err != nil || q.AfterID < 0 {
			return q, invalid("cursor", "%q is not a cursor of this list", c)
		}
	}
	for _, f := range res.filters {
		raw := v.Get(f.param)
		if raw == "" {
			continue
		}
		val, err := parseValue(f, raw)
		if err != nil {
			return q, err
		}
		q.Conds = append(q.Conds, postgres.Cond{Col: f.col, Op: f.op, Value: val})
	}
	return q, nil
}

// math32 bounds offsets and versions taken from a URL.
const math32 = 1<<31 - 1

func intParam(raw, name string, def, lo, hi int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, "%q is not a whole number from %d to %d", raw, lo, hi)
	}
	return n, nil
}

func parseValue(f filter, raw string) (any, error) {
	switch f.kind {
	case "int":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, invalid(f.param, "%q is not a whole number", raw)
		}
		return n, nil
	case "bool":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, invalid(f.param, "%q is not true or false", raw)
		}
		return b, nil
	case "time", "date":
		t, err := parseTime(raw)
		if err != nil {
			return nil, invalid(f.param, "%q is not a date (YYYY-MM-DD) or an RFC 3339 time", raw)
		}
		return t, nil
	case "lower":
		return strings.ToLower(postgres.ASCII(raw)), nil
	case "key": // as people.name_key: lower-case ASCII letters and digits, words apart
		k := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == ' ':
				return r
			}
			return -1
		}, strings.ToLower(postgres.ASCII(raw)))
		return strings.Join(strings.Fields(k), " "), nil
	}
	return raw, nil
}

func parseTime(raw string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, raw)
}

func (res resource[T]) list(s *Server, w http.ResponseWriter, r *http.Request) {
	res = res.bind(r)
	q, err := res.query(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, total, err := res.search(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := page[*T]{Items: items, Total: total, Limit: q.Limit, Offset: q.Offset}
	if len(items) == q.Limit {
		out.NextCursor = strconv.FormatInt(res.meta(items[len(items)-1]).ID, 10)
	}
	if res.personal {
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = res.meta(it).ID
		}
		if err := auditRead(s.store, r, "read", res.noun, "", ids, nil); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func pathID(r *http.Request) (int64, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("id", "%q is not a record id", raw)
	}
	return id, nil
}

func (res resource[T]) read(s *Server, w http.ResponseWriter, r *http.Request) {
	res = res.bind(r)
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := res.get(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.personal {
		if err := s.audit(r, "read", res.noun, strconv.FormatInt(id, 10), nil); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, rec)
}

// decode reads a JSON body into v, refusing unknown fields and text with a
// NUL byte (which PostgreSQL cannot store), naming the field.
func decode(r *http.Request, w http.ResponseWriter, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("request body over %d bytes: %w", maxBody, errTooLarge)
	} else if err != nil {
		return invalid("", "could not read the request body")
	}
	if bytes.Contains(body, []byte(`\u0000`)) { // JSON writes a NUL only so
		var raw any
		if json.Unmarshal(body, &raw) == nil {
			if field, ok := nulField(raw, ""); ok {
				return invalid(field, "%s holds a NUL byte", field)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return invalid(typeErr.Field, "expected %s", typeErr.Type)
		case errors.Is(err, io.EOF):
			return invalid("", "the request needs a JSON body")
		}
		return invalid("", "the body is not valid JSON: %s", err.Error())
	}
	return nil
}

// nulField finds a string (or object key) holding a NUL byte in decoded
// JSON and returns its path, e.g. "emails[0].address".
func nulField(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.ContainsRune(x, 0)
	case []any:
		for i, e := range x {
			if f, ok := nulField(e, fmt.Sprintf("%s[%d]", path, i)); ok {
				return f, true
			}
		}
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.ContainsRune(k, 0) {
				return strings.ReplaceAll(p, "\x00", `\0`), true
			}
			if f, ok := nulField(e, p); ok {
				return f, true
			}
		}
	}
	return "", false
}

func (res resource[T]) doCreate(s *Server, w http.ResponseWriter, r *http.Request) {
	res = res.bind(r)
	rec := new(T)
	if err := decode(r, w, rec); err != nil {
		s.writeError(w, r, err)
		return
	}
	*res.meta(rec) = calore.Meta{}
	err := s.change(r, func(st *postgres.Store) error {
		if err := res.create(st, r.Context(), rec); err != nil {
			return err
		}
		return s.auditWith(st, r, "create", res.noun, strconv.FormatInt(res.meta(rec).ID, 10), nil)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := res.meta(rec).ID
	w.Header().Set("Location", fmt.Sprintf("/api/%s/%d", res.path, id))
	writeJSON(w, http.StatusCreated, rec)
}

// doUpdate replaces the record with the body, which carries the version it
// was read at: a stale version is 409 naming the record. Child lists left
// out (null) are left as they are.
func (res resource[T]) doUpdate(s *Server, w http.ResponseWriter, r *http.Request) {
	res = res.bind(r)
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec := new(T)
	if err := decode(r, w, rec); err != nil {
		s.writeError(w, r, err)
		return
	}
	m := res.meta(rec)
	if m.Version <= 0 {
		s.writeError(w, r, invalid("version", "required: the version of the %s you read", res.noun))
		return
	}
	if m.ID != 0 && m.ID != id {
		s.writeError(w, r, invalid("id", "the body is %s %d, the URL %d", res.noun, m.ID, id))
		return
	}
	m.ID = id
	err = s.change(r, func(st *postgres.Store) error {
		if err := res.update(st, r.Context(), rec); err != nil {
			return err
		}
		return s.auditWith(st, r, "update", res.noun, strconv.FormatInt(id, 10), nil)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// doDelete removes the record read at ?version=N.
func (res resource[T]) doDelete(s *Server, w http.ResponseWriter, r *http.Request) {
	res = res.bind(r)
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := intParam(r.URL.Query().Get("version"), "version", 0, 1, math32)
	if err == nil && version == 0 {
		err = invalid("version", "required: ?version= the version of the %s you read", res.noun)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	err = s.change(r, func(st *postgres.Store) error {
		if err := res.del(st, r.Context(), id, version); err != nil {
			return err
		}
		return s.auditWith(st, r, "delete", res.noun, strconv.FormatInt(id, 10), nil)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// change runs fn on a store inside one transaction: a change through the
// API, its outbox event and its audit line commit together or not at all.
func (s *Server) change(r *http.Request, fn func(*postgres.Store) error) error {
	return pgx.BeginFunc(r.Context(), s.deps.Pool, func(tx pgx.Tx) error { return fn(postgres.NewStore(tx)) })
}

// audit writes one line of the audit log for the request's user.
func (s *Server) audit(r *http.Request, action, entity, entityID string, detail map[string]string) error {
	return s.auditWith(s.store, r, action, entity, entityID, detail)
}

// auditWith writes the audit line through st (a transaction's store).
func (s *Server) auditWith(st *postgres.Store, r *http.Request, action, entity, entityID string, detail map[string]string) error {
	return writeAudit(st, r, action, entity, entityID, detail)
}

// writeAudit writes one audit line through st for the request's user.
func writeAudit(st *postgres.Store, r *http.Request, action, entity, entityID string, detail map[string]string) error {
	a := &calore.AuditEntry{Action: action, Entity: entity, EntityID: entityID, Detail: map[string]string{"route": r.Method + " " + r.URL.Path}}
	for k, v := range detail {
		a.Detail[k] = v
	}
	if p := principal(r); p != nil {
		a.UserID = &p.User.ID
		if p.TokenID != 0 {
			a.Detail["api_token"] = strconv.FormatInt(p.TokenID, 10)
		}
	}
	if err := st.Audit(r.Context(), a); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}
