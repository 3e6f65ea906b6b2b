package dashboards

import (
	"context"
	"fmt"
	"strings"

	"github.com/calore-crm/calore/warehouse/kpiq"
)

// A widget is one card of a dashboard: a KPI query (package warehouse/kpiq, on the
// warehouse) and how to draw its result. Its data is also served as JSON at
// /data/{name}, so every number shown can be traced.
type widget struct {
	Name    string
	Title   string
	Help    string   // what is counted, in one sentence
	Filters []string // filters it uses: period, office, segment, prospect
	source  string   // widgets with the same source draw the same data: a page queries it once
	data    func(ctx context.Context, s *server, p params) (any, error)
	draw    func(v any, c *chartMaker) view
}

// view is a drawn widget.
type view struct {
	Charts []chart // elements with their ECharts options as JSON data
	Table  *table
	Notes  []string // as-of dates, model versions, totals
}

type table struct {
	Head []string
	Rows [][]string
	// Links, when set, hold per row the address the row's first text column
	// (LinkCol) links to, e.g. the person page of a prospect.
	Links   []string
	LinkCol int
}

// Link is the address cell (row, col) links to, "" for none.
func (t *table) Link(row, col int) string {
	if t == nil || col != t.LinkCol || row >= len(t.Links) {
		return ""
	}
	return t.Links[row]
}

// dashboard is a built-in dashboard: a named list of widgets.
type dashboard struct {
	Slug, Title, Help string
	Widgets           []string
}

var builtins = []dashboard{
	{Slug: "managers", Title: "Managers", Help: "Lead conversion, campaigns, events, engagement heat, fundraising against targets, companies and contracts, geography.",
		Widgets: []string{"lead_funnel", "campaigns", "events", "heat_distribution", "heat_trend", "fundraising", "companies", "geo_countries", "geo_regions"}},
	{Slug: "fundraisers", Title: "Fundraisers", Help: "Alumni ranked by the probability of a gift in the next 12 months, with reasons and a suggested ask.",
		Widgets: []string{"prospects"}},
	{Slug: "companies", Title: "Companies", Help: "Company clusters (PCA projection), cluster profiles and the company lifecycle funnel.",
		Widgets: []string{"clusters", "cluster_profiles", "company_funnel"}},
	{Slug: "engagement", Title: "Engagement", Help: "Alumni heat over time by graduation decade, and the heat trend.",
		Widgets: []string{"heat_cohorts", "heat_trend", "heat_distribution"}},
}

func builtin(slug string) (dashboard, bool) {
	for _, d := range builtins {
		if d.Slug == slug {
			return d, true
		}
	}
	return dashboard{}, false
}

var period = "period"

// The data of the widgets that share a source (two views of one query).
func heatData(ctx context.Context, s *server, p params) (any, error) {
	return kpiq.Heat(ctx, s.deps.Warehouse, p.Filter)
}

func geographyData(ctx context.Context, s *server, p params) (any, error) {
	return kpiq.Geography(ctx, s.deps.Warehouse, p.Filter)
}

func clustersData(ctx context.Context, s *server, p params) (any, error) {
	return kpiq.Clusters(ctx, s.deps.Warehouse, p.Filter)
}

// widgets lists every widget, in the order the composer offers them.
var widgets = []widget{
	{Name: "lead_funnel", Title: "Lead conversion: student journey", Filters: []string{period},
		Help: "Prospects whose first contact falls in the period, and how many went on to apply, be admitted and enrol (each step after the one before).",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Funnel(ctx, s.deps.Warehouse, "student_journey", p.Filter, "")
		},
		draw: drawFunnel},
	{Name: "campaigns", Title: "Campaign performance by month", Filters: []string{period, "office"},
		Help: "Emails sent in the period by month, and how many of those sends were opened by a person, opened at all (raw: privacy proxies and scanners included) and clicked by a person.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Campaigns(ctx, s.deps.Warehouse, p.Filter)
		},
		draw: drawCampaigns},
	{Name: "events", Title: "Events: registered vs attended", Filters: []string{period, "office", "segment"},
		Help: "Events starting in the period, by month: people registered (invitations and cancellations excluded) and people who attended.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Events(ctx, s.deps.Warehouse, p.Filter)
		},
		draw: drawEvents},
	{Name: "heat_distribution", source: "heat", Title: "Heat distribution", Filters: []string{period, "segment"},
		Help: "People per heat level in the newest heat scores of the period (cold < 1 ≤ cool < 4 ≤ warm < 10 ≤ hot).",
		data: heatData,
		draw: drawHeatDistribution},
	{Name: "heat_trend", source: "heat", Title: "Heat trend", Filters: []string{period, "segment"},
		Help: "People per heat level on each day the heat scores were computed in the period.",
		data: heatData,
		draw: drawHeatTrend},
	{Name: "fundraising", Title: "Fundraising year to date", Filters: []string{period},
		Help: "Donations (EUR) of the calendar year of the period's last day, cumulated by month, against the threshold, target and excellence levels.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Fundraising(ctx, s.deps.Warehouse, p.Filter, s.deps.Targets)
		},
		draw: drawFundraising},
	{Name: "companies", Title: "Companies and contracts", Filters: []string{period, "office"},
		Help: "Companies, those with an active partnership, those contacted in the period; research contracts active and expired at the period's end.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Companies(ctx, s.deps.Warehouse, p.Filter)
		},
		draw: drawCompanies},
	{Name: "geo_countries", source: "geography", Title: "People by country", Filters: []string{"segment"},
		Help: "People in the registry by country of residence (top 12; '?' unknown).",
		data: geographyData,
		draw: drawCountries},
	{Name: "geo_regions", source: "geography", Title: "People in Italy by region", Filters: []string{"segment"},
		Help: "People living in Italy by region (top 12).",
		data: geographyData,
		draw: drawRegions},
	{Name: "prospects", Title: "Donor prospects", Filters: []string{"to", "prospect"},
		Help: "Alumni ranked by the probability of a gift in the next 12 months (newest donation scores up to the period's end), with tier, expected amount, heat, the reasons, the last gift and a suggested ask.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Prospects(ctx, s.deps.Warehouse, p.Filter, p.Prospect)
		},
		draw: drawProspects},
	{Name: "clusters", source: "clusters", Title: "Company clusters", Filters: []string{"to"},
		Help: "Organisations on the two principal components of the clustering features, coloured by cluster (newest clustering up to the period's end).",
		data: clustersData,
		draw: drawClusters},
	{Name: "cluster_profiles", source: "clusters", Title: "Cluster profiles", Filters: []string{"to"},
		Help: "Per cluster: organisations and the mean of each clustering feature.",
		data: clustersData,
		draw: drawClusterProfiles},
	{Name: "company_funnel", Title: "Company lifecycle", Filters: []string{period},
		Help: "Organisations whose first partnership record falls in the period: contacted after it, in negotiation, active client.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.Funnel(ctx, s.deps.Warehouse, "company_lifecycle", p.Filter, "")
		},
		draw: drawFunnel},
	{Name: "heat_cohorts", Title: "Heat over time by cohort", Filters: []string{period},
		Help: "Mean heat level (1 cold – 4 hot) of alumni by graduation decade, on each day the heat scores were computed in the period.",
		data: func(ctx context.Context, s *server, p params) (any, error) {
			return kpiq.HeatByCohort(ctx, s.deps.Warehouse, p.Filter)
		},
		draw: drawCohorts},
}

func widgetByName(name string) (widget, bool) {
	for _, w := range widgets {
		if w.Name == name {
			return w, true
		}
	}
	return widget{}, false
}

func scoreNote(what string, s kpiq.ScoreInfo) string {
	if s.AsOf == "" {
		return fmt.Sprintf("%s: no scores computed yet for this period (run `calore score`).", what)
	}
	return fmt.Sprintf("%s as of %s, model %s", what, s.AsOf, s.Version)
}

func filterNames(fs []string) string { return strings.Join(fs, ", ") }
