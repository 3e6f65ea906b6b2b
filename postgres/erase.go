package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore"
)

// Erasure (GDPR, R7.3): the person.erased event and what the store did.

// VerbErased is the verb of the erasure event, "person.erased".
const VerbErased = "erased"

// EventPersonErased is the type of the erasure event.
const EventPersonErased = "person." + VerbErased

// ErasureRequest is who asks for an erasure and why.
type ErasureRequest struct {
	By     string // username of the requester (a user's id goes into the audit line when it exists)
	Reason string // free text; it travels in the erasure event, so it must name nobody
	At     time.Time
}

// ErasurePayload is the payload of "person.erased": ids and the request,
// nothing personal.
type ErasurePayload struct {
	ID          int64     `json:"id"` // = PersonID; the change contract requires id
	PersonID    int64     `json:"person_id"`
	MergedIDs   []int64   `json:"merged_ids"`
	RequestedBy string    `json:"requested_by"`
	Reason      string    `json:"reason"`
	At          time.Time `json:"at"`
}

// Erasure is what ErasePerson did in the store.
type Erasure struct {
	EventID   string           `json:"event_id"`
	PersonID  int64            `json:"person_id"`
	MergedIDs []int64          `json:"merged_ids"`
	At        time.Time        `json:"at"`
	Rows      map[string]int64 `json:"rows"` // per table (and "outbox", "audit_log"), rows anonymised or removed
}

// IDs is the person and the people merged into them.
func (e *Erasure) IDs() []int64 { return append([]int64{e.PersonID}, e.MergedIDs...) }

// eraseSteps run in order on the ids of the person and their duplicates.
var eraseSteps = []struct{ table, query string }{
	{"people", "erase_people.sql"},
	{"person_emails", "erase_emails.sql"},
	{"person_phones", "erase_phones.sql"},
	{"person_sources", "erase_sources.sql"},
	{"affiliations", "erase_affiliations.sql"},
	{"interactions", "erase_interactions.sql"},
	{"campaign_sends", "erase_sends.sql"},
	{"donations", "erase_donations.sql"},
	{"collaborations", "erase_collaborations.sql"},
	{"research_contracts", "erase_contracts.sql"},
	{"consents", "erase_consents.sql"},
	{"merges", "erase_merges.sql"},
	{"person_scores", "erase_scores.sql"},
}

// freeTextKeys are record fields that hold free text or contact data: in an
// outbox payload linked to an erased person they are blanked whatever they
// say.
var freeTextKeys = map[string]bool{
	"first_name": true, "last_name": true, "first_name_ascii": true, "last_name_ascii": true, "name_key": true,
	"preferred_email": true, "email": true, "address": true, "number": true, "number_norm": true, "address_norm": true,
	"subject": true, "notes": true, "purpose_detail": true, "scientific_lead": true, "guardian_name": true,
	"birth_date": true, "city": true, "province": true, "region": true, "role": true, "department": true,
}

// ErasePerson anonymises person id and every person merged into them, in one
// transaction: names, birth date, address, alumni and free-text fields, tags
// and extra fields are cleared; emails, phones, sources and affiliations are
// deleted; interactions, sends, donations, collaborations, contracts and
// consents keep their rows (and amounts, dates, ids) without free text or
// addresses; merge snapshots and the person_scores row go; the people's
// identifiers are scrubbed from outbox payloads and audit details. It writes
// one "person.erased" event (ErasurePayload) and an audit line. A person
// merged into another is refused (ErrInvalid): erase the survivor.
func (s *Store) ErasePerson(ctx context.Context, id int64, req ErasureRequest) (*Erasure, error) {
	if req.At.IsZero() {
		req.At = time.Now()
	}
	req.At = req.At.UTC()
	out := &Erasure{PersonID: id, MergedIDs: []int64{}, At: req.At, Rows: map[string]int64{}}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockErased(ctx, tx, out); err != nil {
			return err
		}
		ids := out.IDs()
		rows, err := tx.Query(ctx, query("erase_identifiers.sql"), ids)
		if err != nil {
			return fmt.Errorf("read identifiers: %w", err)
		}
		var idents identifiers
		var v string
		var strong bool
		if _, err := pgx.ForEachRow(rows, []any{&v, &strong}, func() error {
			idents.all = append(idents.all, v)
			if strong {
				idents.strong = append(idents.strong, v)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("read identifiers: %w", err)
		}
		for _, st := range eraseSteps {
			tag, err := tx.Exec(ctx, query(st.query), ids)
			if err != nil {
				return fmt.Errorf("%s: %w", st.table, translate(err))
			}
			out.Rows[st.table] = tag.RowsAffected()
		}
		n, err := scrubOutbox(ctx, tx, ids, idents)
		if err != nil {
			return err
		}
		out.Rows["outbox"] = n
		// The data keys last: scrubOutbox has waited for any relay holding
		// the people's unpublished rows, which may have sealed them with
		// these keys; from here on what was sealed with them cannot be
		// opened anywhere (crypto-shredding of Kafka, docs/gdpr.md).
		tag, err := tx.Exec(ctx, query("erase_keys.sql"), ids)
		if err != nil {
			return fmt.Errorf("person_keys: %w", err)
		}
		out.Rows["person_keys"] = tag.RowsAffected()
		if n, err = scrubAudit(ctx, tx, idents); err != nil {
			return err
		}
		out.Rows["audit_log"] = n
		ev, err := NewEvent("person", VerbErased, id, ErasurePayload{
			ID: id, PersonID: id, MergedIDs: out.MergedIDs, RequestedBy: req.By, Reason: req.Reason, At: req.At,
		})
		if err != nil {
			return err
		}
		ev.Time = req.At
		out.EventID = ev.ID
		if err := WriteOutbox(ctx, tx, ev); err != nil {
			return err
		}
		return auditErasure(ctx, tx, out, req)
	})
	if err != nil {
		return nil, fmt.Errorf("erase person %d: %w", id, err)
	}
	return out, nil
}

// lockErased locks the person and their duplicates and fills out.MergedIDs.
func lockErased(ctx context.Context, tx pgx.Tx, out *Erasure) error {
	rows, err := tx.Query(ctx, query("erase_lock.sql"), out.PersonID)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	var rid, into int64
	var status string
	found := false
	if _, err := pgx.ForEachRow(rows, []any{&rid, &status, &into}, func() error {
		if rid == out.PersonID {
			found = true
			if into != 0 {
				return calore.Errorf(calore.ErrInvalid, "person %d was merged into person %d: erase person %d", rid, into, into)
			}
			return nil
		}
		out.MergedIDs = append(out.MergedIDs, rid)
		return nil
	}); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if !found {
		return calore.Errorf(calore.ErrNotFound, "no person %d", out.PersonID)
	}
	return nil
}

// identifiers are the texts that identify erased people: strong ones
// (emails, phones, full names) on their own, all of them (names alone too)
// next to the person's id.
type identifiers struct{ all, strong []string }

// patterns turns identifiers into ILIKE patterns (wildcards escaped).
func patterns(idents []string) []string {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	out := make([]string, 0, len(idents))
	for _, v := range idents {
		out = append(out, "%"+esc.Replace(v)+"%")
	}
	return out
}

// scrubOutbox rewrites outbox payloads that carry the erased people: their
// own rows become {"id": …, "erased": true}; rows linked to them lose their
// free text; any other row loses the strings that contain an identifier.
func scrubOutbox(ctx context.Context, tx pgx.Tx, ids []int64, idents identifiers) (int64, error) {
	sids := make([]string, len(ids))
	for i, v := range ids {
		sids[i] = strconv.FormatInt(v, 10)
	}
	type cand struct {
		id          int64
		own, linked bool
		payload     []byte
	}
	rows, err := tx.Query(ctx, query("erase_outbox_candidates.sql"), sids, patterns(idents.strong))
	if err != nil {
		return 0, fmt.Errorf("scrub outbox: %w", err)
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cand, error) {
		var c cand
		err := r.Scan(&c.id, &c.own, &c.linked, &c.payload)
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("scrub outbox: %w", err)
	}
	var n int64
	for _, c := range cands {
		var next []byte
		if c.own {
			var rec struct {
				ID int64 `json:"id"`
			}
			_ = json.Unmarshal(c.payload, &rec) // a payload without id keeps id 0
			next, err = json.Marshal(map[string]any{"id": rec.ID, "erased": true})
		} else {
			use := idents.strong
			if c.linked {
				use = idents.all
			}
			next, err = scrubJSON(c.payload, use, c.linked)
		}
		if err != nil {
			return n, fmt.Errorf("scrub outbox row %d: %w", c.id, err)
		}
		if next == nil {
			continue
		}
		if _, err := tx.Exec(ctx, query("erase_outbox_update.sql"), c.id, next); err != nil {
			return n, fmt.Errorf("scrub outbox row %d: %w", c.id, err)
		}
		n++
	}
	return n, nil
}

// scrubAudit blanks the audit details that identify an erased person: any
// string containing a strong identifier (email, phone, full name); a
// "query" detail (lines written before search strings were hashed) whose
// decoded parameters contain any identifier, a name alone included; and a
// keyed hash (AuditHash) of any identifier, which is how search strings are
// written now. The line itself (who, when, action, ids) stays.
func scrubAudit(ctx context.Context, tx pgx.Tx, idents identifiers) (int64, error) {
	if len(idents.all) == 0 { // nothing left to look for (erased before)
		return 0, nil
	}
	var key []byte
	if err := tx.QueryRow(ctx, `SELECT secret FROM audit_key WHERE id = 1`).Scan(&key); err != nil {
		return 0, fmt.Errorf("scrub audit log: read audit key: %w", err)
	}
	hashes := map[string]bool{}
	for _, v := range idents.all {
		hashes[AuditHash(key, v)] = true
	}
	look := append([]string{}, idents.all...) // candidates: the Go side decides
	for h := range hashes {
		look = append(look, h)
	}
	rows, err := tx.Query(ctx, query("erase_audit_candidates.sql"), patterns(look))
	if err != nil {
		return 0, fmt.Errorf("scrub audit log: %w", err)
	}
	type cand struct {
		id     int64
		detail map[string]string
	}
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cand, error) {
		var c cand
		err := r.Scan(&c.id, &c.detail)
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("scrub audit log: %w", err)
	}
	contains := func(s string, idents []string) bool {
		l := strings.ToLower(s)
		for _, id := range idents {
			if id != "" && strings.Contains(l, strings.ToLower(id)) {
				return true
			}
		}
		return false
	}
	var n int64
	for _, c := range cands {
		changed := false
		for k, v := range c.detail {
			blank := contains(v, idents.strong)
			for _, word := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '&' || r == '=' }) {
				blank = blank || hashes[word]
			}
			if k == "query" {
				if q, err := url.ParseQuery(v); err == nil {
					for name, vals := range q {
						blank = blank || contains(name, idents.all)
						for _, x := range vals {
							blank = blank || contains(x, idents.all) || hashes[x]
						}
					}
				}
			}
			if blank {
				c.detail[k] = ""
				changed = true
			}
		}
		if !changed {
			continue
		}
		b, err := json.Marshal(c.detail)
		if err != nil {
			return n, fmt.Errorf("scrub audit line %d: %w", c.id, err)
		}
		if _, err := tx.Exec(ctx, query("erase_audit_update.sql"), c.id, b); err != nil {
			return n, fmt.Errorf("scrub audit line %d: %w", c.id, err)
		}
		n++
	}
	return n, nil
}

// scrubJSON blanks every string of doc that contains an identifier
// (case-insensitively) and, when linked, every free-text field. It returns
// nil when nothing changed.
func scrubJSON(doc []byte, idents []string, linked bool) ([]byte, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	lower := make([]string, len(idents))
	for i, s := range idents {
		lower[i] = strings.ToLower(s)
	}
	changed := false
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(k, e)
			}
			return x
		case []any:
			for i, e := range x {
				x[i] = walk(key, e)
			}
			return x
		case string:
			if x == "" {
				return x
			}
			if linked && freeTextKeys[key] {
				changed = true
				return ""
			}
			l := strings.ToLower(x)
			for _, id := range lower {
				if strings.Contains(l, id) {
					changed = true
					return ""
				}
			}
			return x
		default:
			return v
		}
	}
	v = walk("", v)
	if !changed {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

// auditErasure writes the audit line of an erasure: action delete, kind
// gdpr-erase, the requester's user id when the username exists.
func auditErasure(ctx context.Context, tx pgx.Tx, e *Erasure, req ErasureRequest) error {
	a := &calore.AuditEntry{Action: "delete", Entity: "person", EntityID: strconv.FormatInt(e.PersonID, 10),
		Detail: map[string]string{"kind": "gdpr-erase", "event_id": e.EventID, "by": req.By, "reason": req.Reason}}
	if len(e.MergedIDs) > 0 {
		ms := make([]string, len(e.MergedIDs))
		for i, m := range e.MergedIDs {
			ms[i] = strconv.FormatInt(m, 10)
		}
		a.Detail["merged_ids"] = strings.Join(ms, ",")
	}
	if req.By != "" {
		var uid int64
		err := tx.QueryRow(ctx, query("erase_user.sql"), req.By).Scan(&uid)
		switch {
		case err == nil:
			a.UserID = &uid
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("audit: find user %q: %w", req.By, err)
		}
	}
	return NewStore(tx).Audit(ctx, a)
}

// OutboxPublished reports whether the outbox event eventID has been
// published to Kafka by the relay; calore.ErrNotFound when there is no such
// event.
func (s *Store) OutboxPublished(ctx context.Context, eventID string) (bool, error) {
	var done bool
	err := s.db.QueryRow(ctx, query("erase_published.sql"), eventID).Scan(&done)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, calore.Errorf(calore.ErrNotFound, "no outbox event %s", eventID)
	}
	if err != nil {
		return false, fmt.Errorf("read outbox event %s: %w", eventID, err)
	}
	return done, nil
}
