package api

import (
	"net/http"

	"github.com/calore-crm/calore/postgres"
)

// gdprEraseRequest is the optional body of POST /api/people/{id}/erase.
type gdprEraseRequest struct {
	Reason string `json:"reason"` // travels in the erasure event and the audit log: name nobody
}

// gdprErase is the right to be forgotten (R7.3), admin only: the person and
// the people merged into them are anonymised in the store at once and
// "person.erased" is written; the sink then removes them from the warehouse
// and its bi copies and writes the receipt (docs/gdpr.md). 202 with what the
// store did and the erasure event's id.
func (s *Server) gdprErase(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req gdprEraseRequest
	if r.ContentLength != 0 {
		if err := decode(r, w, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	by := ""
	if p := principal(r); p != nil {
		by = p.User.Username
	}
	e, err := s.store.ErasePerson(r.Context(), id, postgres.ErasureRequest{By: by, Reason: req.Reason})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, e)
}
