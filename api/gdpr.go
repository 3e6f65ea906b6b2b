package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
)

// listAll reads every record of a list, page by page.
func listAll[T any](ctx context.Context, list func(context.Context, postgres.Filter) ([]*T, error), f postgres.Filter, meta func(*T) *calore.Meta) ([]*T, error) {
	out := []*T{}
	f.Limit = 1000
	for {
		items, err := list(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < f.Limit {
			return out, nil
		}
		f.AfterID = meta(items[len(items)-1]).ID
	}
}

// gdprExport is everything the store holds about one person (R7.3, the
// right of access), as one JSON document.
func (s *Server) gdprExport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.personData(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, "export", "person", strconv.FormatInt(id, 10), map[string]string{"kind": "gdpr"}); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="person-%d.json"`, id))
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) personData(ctx context.Context, id int64) (map[string]any, error) {
	st := s.store
	p, err := st.Person(ctx, id)
	if err != nil {
		return nil, err
	}
	f := postgres.Filter{PersonID: id}
	out := map[string]any{"person": p, "exported_at": s.now().UTC()}
	var errs error
	put := func(name string, v any, err error) {
		if err != nil && errs == nil {
			errs = fmt.Errorf("gdpr export of person %d: %s: %w", id, name, err)
		}
		out[name] = v
	}
	aff, err := listAll(ctx, st.ListAffiliations, f, func(a *calore.Affiliation) *calore.Meta { return &a.Meta })
	put("affiliations", aff, err)
	inter, err := listAll(ctx, st.ListInteractions, f, func(a *calore.Interaction) *calore.Meta { return &a.Meta })
	put("interactions", inter, err)
	regs, err := listAll(ctx, st.ListRegistrations, f, func(a *calore.Registration) *calore.Meta { return &a.Meta })
	put("registrations", regs, err)
	sends, err := listAll(ctx, st.ListCampaignSends, f, func(a *calore.CampaignSend) *calore.Meta { return &a.Meta })
	put("campaign_sends", sends, err)
	dons, err := listAll(ctx, st.ListDonations, f, func(a *calore.Donation) *calore.Meta { return &a.Meta })
	put("donations", dons, err)
	colls, err := listAll(ctx, st.ListCollaborations, f, func(a *calore.Collaboration) *calore.Meta { return &a.Meta })
	put("collaborations", colls, err)
	stages, err := listAll(ctx, st.ListJourneyStages, f, func(a *calore.JourneyStage) *calore.Meta { return &a.Meta })
	put("journey_stages", stages, err)
	cons, err := listAll(ctx, st.ListConsents, f, func(a *calore.Consent) *calore.Meta { return &a.Meta })
	put("consents", cons, err)
	scores, err := st.PersonScores(ctx, id)
	put("scores", scores, err)
	merges, err := st.Merges(ctx, "person", id)
	put("merges", merges, err)
	trail, err := st.AuditTrail(ctx, "person", strconv.FormatInt(id, 10))
	put("audit_trail", trail, err)
	return out, errs
}
