package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/calore-crm/calore/postgres"
)

// Reads of personal data are audited (R7.3, docs/access.md): which records
// were returned (their ids), under which filters, and never personal data
// in the line itself: free-text parameters (a name typed into a search) are
// written as keyed hashes (postgres.AuditHash), not as text.

// maxAuditIDs bounds the ids written into one audit line; beyond it the line
// keeps the first maxAuditIDs, the count and a SHA-256 of the whole list.
const maxAuditIDs = 1000

// clearParams are the query parameters whose values are codes, numbers or
// dates, written in clear when they look like one; every other parameter
// (q, city, tag, vat_number, …) is hashed.
var clearParams = map[string]bool{
	"limit": true, "offset": true, "cursor": true, "format": true, "kind": true, "status": true,
	"country": true, "office": true, "from": true, "to": true, "graduation_year_from": true,
	"graduation_year_to": true, "is_minor": true, "is_online": true, "is_vip": true, "min_amount": true,
	"max_amount": true, "min_heat": true, "heat": true, "tier": true, "segment": true, "cohort": true,
	"macro_category": true, "top_category": true, "language": true, "nationality": true,
	"size_class": true, "functional_area": true, "legal_status": true, "territory": true,
	"ateco_code": true, "action": true, "entity": true, "entity_id": true, "channel": true, "type": true,
	"sort": true, "order": true, "as_of": true, "prospect": true, "course": true,
}

// auditQueryString returns v as a query string for an audit line, names in
// order: clear parameters as they are, every other value as its keyed hash
// ("q=hmac:3f…"), a parameter name that is not plain lower-case as a hash
// too. Nothing is URL-escaped (every character left is safe), so a hash
// reads the same in the line as postgres.AuditHash returns it. The audit key
// is read only when something needs hashing.
func auditQueryString(r *http.Request, st *postgres.Store, v url.Values) (string, error) {
	var key []byte
	hash := func(s string) (string, error) {
		if key == nil {
			k, err := st.AuditKey(r.Context())
			if err != nil {
				return "", err
			}
			key = k
		}
		return postgres.AuditHash(key, s), nil
	}
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	sort.Strings(names)
	var parts []string
	for _, name := range names {
		shown := name
		if !plainParam.MatchString(name) {
			h, err := hash(name)
			if err != nil {
				return "", err
			}
			shown = h
		}
		for _, x := range v[name] {
			if (clearParams[name] || strings.HasSuffix(name, "_id")) && clearValue.MatchString(x) {
				parts = append(parts, shown+"="+x)
				continue
			}
			h, err := hash(x)
			if err != nil {
				return "", err
			}
			parts = append(parts, shown+"="+h)
		}
	}
	return strings.Join(parts, "&"), nil
}

// plainParam is a parameter name written in clear.
var plainParam = regexp.MustCompile(`^[a-z_]{1,40}$`)

// clearValue is what a value of a clear parameter must look like to be
// written as it is: no spaces, no characters a query string escapes, short.
var clearValue = regexp.MustCompile(`^[A-Za-z0-9_.:,-]{0,40}$`)

// auditIDs is the "ids" part of an audit line's details.
func auditIDs(ids []int64) map[string]string {
	var b strings.Builder
	h := sha256.New()
	for i, id := range ids {
		s := strconv.FormatInt(id, 10)
		if i < maxAuditIDs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s)
		}
		h.Write([]byte(s + ","))
	}
	d := map[string]string{"ids": b.String(), "returned": strconv.Itoa(len(ids))}
	if len(ids) > maxAuditIDs {
		d["ids_truncated"] = "true"
		d["ids_sha256"] = hex.EncodeToString(h.Sum(nil))
	}
	return d
}

// auditRead writes the audit line of a read or export (action) of personal
// data through st: the ids returned, the filters with free text hashed, and
// extra details (no personal data in them).
func auditRead(st *postgres.Store, r *http.Request, action, entity, entityID string, ids []int64, extra map[string]string) error {
	q, err := auditQueryString(r, st, r.URL.Query())
	if err != nil {
		return err
	}
	d := auditIDs(ids)
	d["query"] = q
	for k, v := range extra {
		d[k] = v
	}
	return writeAudit(st, r, action, entity, entityID, d)
}

// DashboardAudit is the dashboards' audit of personal data
// (dashboards.Deps.Audit): one line per widget or export that shows people,
// with their ids, for the user the API's dashboard guard put in the request.
func DashboardAudit(pool *pgxpool.Pool) func(r *http.Request, action, entity string, ids []int64, extra map[string]string) error {
	st := postgres.NewStore(pool)
	return func(r *http.Request, action, entity string, ids []int64, extra map[string]string) error {
		return auditRead(st, r, action, entity, "", ids, extra)
	}
}
