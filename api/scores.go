package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/postgres"
	"github.com/calore-crm/calore/scoring"
	"github.com/calore-crm/calore/warehouse/kpiq"
)

// donors is the donor list: people with a donation score, most probable
// first, filtered by tier, heat, cohort, course and country (R5.2).
func (s *Server) donors(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := postgres.DonorQuery{Course: v.Get("course"), Country: v.Get("country")}
	var err error
	for _, t := range splitList(v.Get("tier")) {
		t = strings.ToUpper(t)
		if !slices.Contains([]string{"A", "B", "C", "D"}, t) {
			s.writeError(w, r, invalid("tier", "%q is not A, B, C or D", t))
			return
		}
		q.Tiers = append(q.Tiers, t)
	}
	for _, h := range splitList(v.Get("heat")) {
		n, err := intParam(h, "heat", 0, 1, 4)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		q.HeatLevels = append(q.HeatLevels, n)
	}
	for _, p := range []struct {
		name   string
		dst    *int
		lo, hi int
	}{{"min_heat", &q.MinHeat, 1, 4}, {"graduation_year_from", &q.GraduationFrom, 1863, 2200}, {"graduation_year_to", &q.GraduationTo, 1863, 2200},
		{"offset", &q.Offset, 0, math32}} {
		if *p.dst, err = intParam(v.Get(p.name), p.name, 0, p.lo, p.hi); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if q.Limit, err = intParam(v.Get("limit"), "limit", 50, 1, 1000); err != nil {
		s.writeError(w, r, err)
		return
	}
	items, total, err := s.store.Donors(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.PersonID
	}
	if err := auditRead(s.store, r, "read", "donor_scores", "", ids, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page[postgres.Donor]{Items: items, Total: total, Limit: q.Limit, Offset: q.Offset})
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clusterProfile is one cluster: its size, label, centre in the projection
// and mean features.
type clusterProfile struct {
	Cluster  int32              `json:"cluster"`
	Label    string             `json:"label"`
	Size     int                `json:"size"`
	X        float64            `json:"x"`
	Y        float64            `json:"y"`
	Features map[string]float64 `json:"mean_features"`
}

// clustering reads the company clusters of ?as_of= (default the newest).
func (s *Server) clustering(ctx context.Context, r *http.Request) (string, string, []kpiq.ClusterMember, error) {
	if s.deps.Warehouse == nil {
		return "", "", nil, calore.Errorf(calore.ErrUnavailable, "the warehouse is not configured")
	}
	var asOf time.Time
	if raw := r.URL.Query().Get("as_of"); raw != "" {
		t, err := time.Parse(time.DateOnly, raw)
		if err != nil {
			return "", "", nil, invalid("as_of", "%q is not a date (YYYY-MM-DD)", raw)
		}
		asOf = t
	}
	return kpiq.ClusterMembers(ctx, s.deps.Warehouse, asOf)
}

// clusters lists the clusters of companies with their profiles (R5.3).
func (s *Server) clusters(w http.ResponseWriter, r *http.Request) {
	asOf, version, members, err := s.clustering(r.Context(), r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	byID := map[int32]*clusterProfile{}
	var order []int32
	for _, m := range members {
		p := byID[m.Cluster]
		if p == nil {
			p = &clusterProfile{Cluster: m.Cluster, Label: m.Label, Features: map[string]float64{}}
			byID[m.Cluster] = p
			order = append(order, m.Cluster)
		}
		p.Size++
		p.X += m.X
		p.Y += m.Y
		for k, v := range m.Features {
			p.Features[k] += v
		}
	}
	slices.Sort(order)
	profiles := []clusterProfile{}
	for _, c := range order {
		p := byID[c]
		n := float64(p.Size)
		p.X, p.Y = p.X/n, p.Y/n
		for k := range p.Features {
			p.Features[k] /= n
		}
		profiles = append(profiles, *p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": asOf, "model_version": version, "organisations": len(members), "clusters": profiles})
}

// clusterMembers lists the organisations of one cluster with their
// projection and features (the scatter chart), paginated.
func (s *Server) clusterMembers(w http.ResponseWriter, r *http.Request) {
	c, err := strconv.Atoi(chi.URLParam(r, "cluster"))
	if err != nil {
		s.writeError(w, r, invalid("cluster", "%q is not a cluster number", chi.URLParam(r, "cluster")))
		return
	}
	limit, err := intParam(r.URL.Query().Get("limit"), "limit", 100, 1, 1000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	offset, err := intParam(r.URL.Query().Get("offset"), "offset", 0, 0, math32)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	_, _, members, err := s.clustering(r.Context(), r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := []kpiq.ClusterMember{}
	for _, m := range members {
		if int(m.Cluster) == c {
			in = append(in, m)
		}
	}
	total := len(in)
	in = in[min(offset, total):min(offset+limit, total)]
	writeJSON(w, http.StatusOK, page[kpiq.ClusterMember]{Items: in, Total: int64(total), Limit: limit, Offset: offset})
}

// funnelList lists the funnels and their segment kinds.
func (s *Server) funnelList(w http.ResponseWriter, _ *http.Request) {
	type def struct {
		Name     string   `json:"name"`
		Steps    []string `json:"steps"`
		Segments []string `json:"segments"`
	}
	out := []def{}
	for _, f := range scoring.Funnels {
		out = append(out, def{Name: f.Name, Steps: f.Steps, Segments: append([]string{"all"}, f.Segments...)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"funnels": out})
}

// period reads ?from= and ?to= (dates); default the year up to today.
func (s *Server) period(r *http.Request) (time.Time, time.Time, error) {
	to := s.now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	from := to.AddDate(-1, 0, 0)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if raw := r.URL.Query().Get(p.name); raw != "" {
			t, err := time.Parse(time.DateOnly, raw)
			if err != nil {
				return from, to, invalid(p.name, "%q is not a date (YYYY-MM-DD)", raw)
			}
			*p.dst = t
		}
	}
	if !from.Before(to) {
		return from, to, invalid("from", "from must be before to")
	}
	return from, to, nil
}

// funnel runs one funnel on the warehouse for ?from=&to= (the first step's
// period) by ?segment= (comma separated kinds; default all) (R5.4).
func (s *Server) funnel(w http.ResponseWriter, r *http.Request) {
	def, err := scoring.FunnelByName(chi.URLParam(r, "name"))
	if err != nil {
		s.writeError(w, r, calore.Errorf(calore.ErrNotFound, "funnel %q", chi.URLParam(r, "name")))
		return
	}
	segs := splitList(r.URL.Query().Get("segment"))
	if len(segs) == 0 {
		segs = []string{"all"}
	}
	for _, seg := range segs {
		if seg != "all" && !slices.Contains(def.Segments, seg) {
			s.writeError(w, r, invalid("segment", "funnel %s has segments all, %s", def.Name, strings.Join(def.Segments, ", ")))
			return
		}
	}
	from, to, err := s.period(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.deps.Warehouse == nil {
		s.writeError(w, r, calore.Errorf(calore.ErrUnavailable, "the warehouse is not configured"))
		return
	}
	out, err := runFunnel(r.Context(), &scoring.Env{Warehouse: s.deps.Warehouse, Logger: s.log}, def, segs, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"funnel": def.Name, "segment": segs, "from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "segments": out})
}

// asOf reads ?as_of= (a date), default today.
func (s *Server) asOf(r *http.Request) (time.Time, error) {
	raw := r.URL.Query().Get("as_of")
	if raw == "" {
		return s.now().UTC().Truncate(24 * time.Hour), nil
	}
	t, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		return t, invalid("as_of", "%q is not a date (YYYY-MM-DD)", raw)
	}
	return t, nil
}

// kpiDonations is fundraising year to date against the year's threshold,
// target and excellence (R6.5): kpiq.Donations, the figure the dashboards'
// fundraising widget and bi.fundraising_days show.
func (s *Server) kpiDonations(w http.ResponseWriter, r *http.Request) {
	day, err := s.asOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.deps.Warehouse == nil {
		s.writeError(w, r, calore.Errorf(calore.ErrUnavailable, "the warehouse is not configured"))
		return
	}
	k, err := kpiq.Donations(r.Context(), s.deps.Warehouse, day)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("donations year to date: %w", err))
		return
	}
	t := s.deps.Targets
	writeJSON(w, http.StatusOK, map[string]any{
		"donations": donationKPI{Year: k.Year, AsOf: k.Through, Total: strconv.FormatFloat(k.Total, 'f', 2, 64), Gifts: k.Gifts, Donors: k.Donors},
		"targets":   t, "level": t.Level(k.Total), "share_of_target": k.Total / t.Target})
}

// donationKPI is the JSON of the API's donations KPI (its shape from before
// it read the warehouse: the total a decimal string).
type donationKPI struct {
	Year   int    `json:"year"`
	AsOf   string `json:"as_of"`
	Total  string `json:"total_eur"`
	Gifts  int64  `json:"gifts"`
	Donors int64  `json:"donors"`
}

func (s *Server) kpiCompanies(w http.ResponseWriter, r *http.Request) {
	day, err := s.asOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.store.Companies(r.Context(), day)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (s *Server) kpiContracts(w http.ResponseWriter, r *http.Request) {
	day, err := s.asOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.store.Contracts(r.Context(), day)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

func (s *Server) kpiEvents(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.period(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.store.EventTurnout(r.Context(), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}
