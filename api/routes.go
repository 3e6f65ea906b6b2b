package api

import (
	_ "embed"
	"net/http"

	"github.com/calore-crm/calore"
	"github.com/calore-crm/calore/access"
	"github.com/calore-crm/calore/postgres"
)

//go:embed openapi.yaml
var openapiYAML []byte

func perm(resource string, action access.Action) access.Permission {
	return access.Permission{Resource: resource, Action: action}
}

// routeTable is every route of the server with the permission it needs: the
// router, the RBAC matrix test and the OpenAPI test read it.
func (s *Server) routeTable() []route {
	st := s.store
	text := func(p string) filter { return filter{param: p, col: p, op: postgres.OpEq, kind: "text"} }
	id := func(p string) filter { return filter{param: p, col: p, op: postgres.OpEq, kind: "int"} }
	var rs []route
	rs = append(rs, resource[calore.Person]{
		path: "people", noun: "person", scope: access.People, personal: true,
		meta: func(p *calore.Person) *calore.Meta { return &p.Meta },
		get:  st.Person, create: (*postgres.Store).CreatePerson, update: (*postgres.Store).UpdatePerson, del: (*postgres.Store).DeletePerson, search: st.SearchPeople,
		filters: []filter{
			{param: "q", col: "name_key", op: postgres.OpLike, kind: "key"},
			text("kind"), text("status"), text("country"), text("region"), text("province"), text("city"),
			text("degree_course"), text("macro_category"), text("top_category"), text("language"), text("nationality"),
			{param: "graduation_year_from", col: "graduation_year", op: postgres.OpGte, kind: "int"},
			{param: "graduation_year_to", col: "graduation_year", op: postgres.OpLte, kind: "int"},
			{param: "tag", col: "tags", op: postgres.OpContains, kind: "text"},
			{param: "office", col: "offices", op: postgres.OpContains, kind: "text"},
			{param: "competence", col: "competences", op: postgres.OpContains, kind: "text"},
			{param: "is_minor", col: "is_minor", op: postgres.OpEq, kind: "bool"},
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.Organisation]{
		path: "organisations", noun: "organisation", scope: access.Organisations,
		meta: func(o *calore.Organisation) *calore.Meta { return &o.Meta },
		get:  st.Organisation, create: (*postgres.Store).CreateOrganisation, update: (*postgres.Store).UpdateOrganisation, del: (*postgres.Store).DeleteOrganisation, search: st.SearchOrganisations,
		filters: []filter{
			{param: "q", col: "legal_name_ascii", op: postgres.OpLike, kind: "lower"},
			text("kind"), text("status"), text("country"), text("region"), text("province"), text("city"),
			text("size_class"), text("functional_area"), text("legal_status"), text("territory"),
			{param: "vat_number", col: "vat_number", op: postgres.OpEq, kind: "text"},
			{param: "label", col: "labels", op: postgres.OpContains, kind: "text"},
			{param: "ateco_code", col: "ateco_codes", op: postgres.OpContains, kind: "text"},
			id("parent_id"), id("account_manager_id"),
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.Affiliation]{
		path: "affiliations", noun: "affiliation", scope: access.Affiliations, personal: true,
		meta: func(a *calore.Affiliation) *calore.Meta { return &a.Meta },
		get:  st.Affiliation, create: (*postgres.Store).CreateAffiliation, update: (*postgres.Store).UpdateAffiliation, del: (*postgres.Store).DeleteAffiliation, search: st.SearchAffiliations,
		filters: []filter{
			id("person_id"), id("organisation_id"), text("seniority"), text("source"), text("source_id"),
			{param: "is_referent", col: "is_referent", op: postgres.OpEq, kind: "bool"},
			{param: "q", col: "role", op: postgres.OpLike, kind: "text"},
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.Interaction]{
		path: "interactions", noun: "interaction", scope: access.Interactions, personal: true,
		meta: func(i *calore.Interaction) *calore.Meta { return &i.Meta },
		owned: &owned[calore.Interaction]{
			get: st.InteractionIn, create: (*postgres.Store).CreateInteractionIn, update: (*postgres.Store).UpdateInteractionIn, del: (*postgres.Store).DeleteInteractionIn, search: st.SearchInteractionsIn,
			defaults: func(i *calore.Interaction, sc access.RecordScope) {
				if i.Office == "" {
					i.Office = sc.DefaultOffice()
				}
			},
		},
		filters: []filter{
			id("person_id"), id("organisation_id"), id("event_id"), id("campaign_id"), id("staff_user_id"),
			text("channel"), text("direction"), text("office"),
			{param: "from", col: "occurred_at", op: postgres.OpGte, kind: "time"},
			{param: "to", col: "occurred_at", op: postgres.OpLte, kind: "time"},
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.CalendarEvent]{
		path: "events", noun: "event", scope: access.Events,
		meta: func(e *calore.CalendarEvent) *calore.Meta { return &e.Meta },
		get:  st.Event, create: (*postgres.Store).CreateEvent, update: (*postgres.Store).UpdateEvent, del: (*postgres.Store).DeleteEvent, search: st.SearchEvents,
		filters: []filter{
			{param: "q", col: "name", op: postgres.OpLike, kind: "text"},
			text("kind"), text("office"), id("parent_id"), id("series_id"),
			{param: "is_online", col: "is_online", op: postgres.OpEq, kind: "bool"},
			{param: "from", col: "starts_at", op: postgres.OpGte, kind: "time"},
			{param: "to", col: "starts_at", op: postgres.OpLte, kind: "time"},
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.Registration]{
		path: "registrations", noun: "registration", scope: access.Registrations, personal: true,
		meta: func(r *calore.Registration) *calore.Meta { return &r.Meta },
		get:  st.Registration, create: (*postgres.Store).CreateRegistration, update: (*postgres.Store).UpdateRegistration, del: (*postgres.Store).DeleteRegistration, search: st.SearchRegistrations,
		filters: []filter{
			id("event_id"), id("person_id"), text("status"), text("source"),
			{param: "is_vip", col: "is_vip", op: postgres.OpEq, kind: "bool"},
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.Campaign]{
		path: "campaigns", noun: "campaign", scope: access.Campaigns,
		meta: func(c *calore.Campaign) *calore.Meta { return &c.Meta },
		get:  st.Campaign, create: (*postgres.Store).CreateCampaign, update: (*postgres.Store).UpdateCampaign, del: (*postgres.Store).DeleteCampaign, search: st.SearchCampaigns,
		filters: []filter{
			{param: "q", col: "name", op: postgres.OpLike, kind: "text"},
			text("channel"), text("status"), text("office"), text("newsletter"), id("reminder_of"),
			{param: "from", col: "sent_at", op: postgres.OpGte, kind: "time"},
			{param: "to", col: "sent_at", op: postgres.OpLte, kind: "time"},
		},
	}.routes(s)...)
	rs = append(rs, resource[calore.Donation]{
		path: "donations", noun: "donation", scope: access.Donations, personal: true,
		meta: func(d *calore.Donation) *calore.Meta { return &d.Meta },
		owned: &owned[calore.Donation]{
			get: st.DonationIn, create: (*postgres.Store).CreateDonationIn, update: (*postgres.Store).UpdateDonationIn, del: (*postgres.Store).DeleteDonationIn, search: st.SearchDonationsIn,
			defaults: func(*calore.Donation, access.RecordScope) {},
		},
		filters: []filter{
			id("person_id"), id("organisation_id"), id("campaign_id"),
			text("currency"), text("purpose"), text("periodicity"),
			{param: "from", col: "donated_on", op: postgres.OpGte, kind: "date"},
			{param: "to", col: "donated_on", op: postgres.OpLte, kind: "date"},
			{param: "min_amount", col: "amount", op: postgres.OpGte, kind: "text"},
			{param: "max_amount", col: "amount", op: postgres.OpLte, kind: "text"},
		},
	}.routes(s)...)

	pub := access.Public
	rs = append(rs,
		route{http.MethodGet, "/healthz", pub, s.healthz},
		route{http.MethodGet, "/readyz", pub, s.readyz},
		route{http.MethodGet, "/login", pub, s.loginForm},
		route{http.MethodPost, "/login", pub, s.login},
		route{http.MethodPost, "/logout", pub, s.logout},
		route{http.MethodGet, "/api/openapi.yaml", pub, s.openapi},
		route{http.MethodGet, "/api/me", perm(access.Self, access.Read), s.me},

		route{http.MethodPost, "/api/imports", perm(access.Imports, access.Write), s.startImport},
		route{http.MethodGet, "/api/imports/{id}", perm(access.Imports, access.Read), s.importStatus},

		route{http.MethodGet, "/api/scores/donors", perm(access.Predictions, access.Read), s.donors},
		route{http.MethodGet, "/api/clusters", perm(access.Clusters, access.Read), s.clusters},
		route{http.MethodGet, "/api/clusters/{cluster}", perm(access.Clusters, access.Read), s.clusterMembers},
		route{http.MethodGet, "/api/funnels", perm(access.Funnels, access.Read), s.funnelList},
		route{http.MethodGet, "/api/funnels/{name}", perm(access.Funnels, access.Read), s.funnel},
		route{http.MethodGet, "/api/kpis/donations", perm(access.KPIDonations, access.Read), s.kpiDonations},
		route{http.MethodGet, "/api/kpis/companies", perm(access.KPICompanies, access.Read), s.kpiCompanies},
		route{http.MethodGet, "/api/kpis/contracts", perm(access.KPIContracts, access.Read), s.kpiContracts},
		route{http.MethodGet, "/api/kpis/events", perm(access.KPIEvents, access.Read), s.kpiEvents},

		route{http.MethodGet, "/api/people/{id}/gdpr-export", perm(access.GDPR, access.Read), s.gdprExport},
		route{http.MethodPost, "/api/people/{id}/erase", perm(access.GDPR, access.Write), s.gdprErase},
		route{http.MethodGet, "/api/audit", perm(access.Audit, access.Read), s.auditLog},

		route{http.MethodPost, "/api/users/{id}/disable", perm(access.Users, access.Write), s.setDisabled(true)},
		route{http.MethodPost, "/api/users/{id}/enable", perm(access.Users, access.Write), s.setDisabled(false)},
		route{http.MethodPost, "/api/users/{id}/reset-password", perm(access.Users, access.Write), s.resetPassword},
		route{http.MethodGet, "/api/users/{id}/sessions", perm(access.Users, access.Read), s.userSessions},
		route{http.MethodPost, "/api/users/{id}/revoke-sessions", perm(access.Users, access.Write), s.revokeSessions},
		route{http.MethodPost, "/api/users/{id}/tokens", perm(access.Users, access.Write), s.createToken},
	)
	return rs
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	_, _ = w.Write(openapiYAML)
}
