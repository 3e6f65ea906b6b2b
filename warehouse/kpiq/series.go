package kpiq

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/calore-crm/calore/scoring"
)

// FunnelResult is a funnel over the period, from scoring.RunFunnel.
type FunnelResult struct {
	Funnel string                  `json:"funnel"`
	From   string                  `json:"from"`
	To     string                  `json:"to"`
	Steps  []scoring.FunnelStep    `json:"steps"`
	By     []scoring.FunnelSegment `json:"segments,omitempty"` // by segment kind, when one was asked for
}

// rollupFunnels are the funnels whose entities are read from a rollup
// table (the campaign funnels still read the facts), filled from the
// funnel's own entities query (rollupSQL): funnel → the table and the
// entities query's columns in it.
var rollupFunnels = map[string]struct{ table, columns string }{
	"student_journey":   {"rollup_journeys", "programme, source, country, t1, t2, t3, t4"},
	"company_lifecycle": {"rollup_company_funnel", "organisation_id, size, sector, t1, t2, t3, t4"},
}

// Funnel runs funnel name (scoring.Funnels) for entities whose first step
// falls in the period, over all entities and, when segmentKind is not ""
// or "all", by that segment kind too.
func Funnel(ctx context.Context, conn driver.Conn, name string, f Filter, segmentKind string) (FunnelResult, error) {
	out := FunnelResult{Funnel: name, From: day(f.From), To: day(f.To)}
	def, err := scoring.FunnelByName(name)
	if err != nil {
		return out, err
	}
	env := &scoring.Env{Warehouse: conn}
	kinds := []string{"all"}
	if segmentKind != "" && segmentKind != "all" {
		kinds = append(kinds, segmentKind)
	}
	var segs []scoring.FunnelSegment
	if rf, ok := rollupFunnels[name]; ok {
		entities := "SELECT " + rf.columns + " FROM " + rf.table +
			" WHERE refresh_id = (SELECT max(refresh_id) FROM rollup_refreshes)"
		segs, err = scoring.RunFunnelQuery(ctx, env, def, def.Over(entities), kinds, f.From, f.To)
	} else {
		segs, err = scoring.RunFunnel(ctx, env, def, kinds, f.From, f.To)
	}
	if err != nil {
		return out, err
	}
	for _, s := range segs {
		if s.Kind == "all" {
			out.Steps = s.Steps
		} else {
			out.By = append(out.By, s)
		}
	}
	if out.Steps == nil {
		for i, s := range def.Steps {
			out.Steps = append(out.Steps, scoring.FunnelStep{Step: i + 1, Name: s})
		}
	}
	return out, nil
}

// CampaignMonth is campaign performance in one month of sending.
type CampaignMonth struct {
	Month       string `json:"month"` // YYYY-MM
	Sends       int64  `json:"sends"`
	HumanOpens  int64  `json:"human_opens"`  // sends opened by a person
	RawOpens    int64  `json:"raw_opens"`    // sends with any open, machine ones (privacy proxies, scanners) included
	HumanClicks int64  `json:"human_clicks"` // sends clicked by a person
}

// Campaigns returns campaign performance by month of sending.
func Campaigns(ctx context.Context, conn driver.Conn, f Filter) ([]CampaignMonth, error) {
	out := []CampaignMonth{}
	err := scan(ctx, conn, "campaigns", queries.Get("campaigns.sql"), f.named(), func(r driver.Rows) error {
		var m time.Time
		var s, ho, ro, hc uint64
		if err := r.Scan(&m, &s, &ho, &ro, &hc); err != nil {
			return err
		}
		out = append(out, CampaignMonth{Month: m.Format("2006-01"), Sends: int64(s), HumanOpens: int64(ho), RawOpens: int64(ro), HumanClicks: int64(hc)})
		return nil
	})
	return out, err
}

// EventMonth is event attendance for events starting in one month.
type EventMonth struct {
	Month      string `json:"month"` // YYYY-MM
	Events     int64  `json:"events"`
	Registered int64  `json:"registered"`
	Attended   int64  `json:"attended"`
}

// Events returns registrations and attendance by month of the event.
func Events(ctx context.Context, conn driver.Conn, f Filter) ([]EventMonth, error) {
	out := []EventMonth{}
	err := scan(ctx, conn, "events", queries.Get("events.sql"), f.named(), func(r driver.Rows) error {
		var m time.Time
		var e, reg, att uint64
		if err := r.Scan(&m, &e, &reg, &att); err != nil {
			return err
		}
		out = append(out, EventMonth{Month: m.Format("2006-01"), Events: int64(e), Registered: int64(reg), Attended: int64(att)})
		return nil
	})
	return out, err
}

// HeatLabels names the heat levels 1-4.
var HeatLabels = []string{"", "cold", "cool", "warm", "hot"}

// HeatSnapshot is the number of people at each heat level (index 1-4) on
// one as_of day.
type HeatSnapshot struct {
	AsOf   string   `json:"as_of"`
	Levels [5]int64 `json:"levels"` // index = level; 0 unused
}

// HeatResult is the heat distribution (the newest snapshot in the period)
// and its trend (every snapshot in the period).
type HeatResult struct {
	Scores ScoreInfo      `json:"scores"` // the newest snapshot's model and version
	Latest *HeatSnapshot  `json:"latest"` // nil: no heat scores in the period
	Trend  []HeatSnapshot `json:"trend"`
}

// Heat returns the heat snapshots with as_of in [From, To] (as_of T scores
// what happened before T, so as_of = To is within the period).
func Heat(ctx context.Context, conn driver.Conn, f Filter) (HeatResult, error) {
	out := HeatResult{Trend: []HeatSnapshot{}}
	info, err := latestScores(ctx, conn, "heat", f.To)
	if err != nil {
		return out, err
	}
	out.Scores = info
	byDay := map[string]*HeatSnapshot{}
	err = scan(ctx, conn, "heat levels", queries.Get("heat_levels.sql"), f.named(), func(r driver.Rows) error {
		var asOf time.Time
		var level int32
		var n uint64
		if err := r.Scan(&asOf, &level, &n); err != nil {
			return err
		}
		d := day(asOf)
		s := byDay[d]
		if s == nil {
			out.Trend = append(out.Trend, HeatSnapshot{AsOf: d})
			s = &out.Trend[len(out.Trend)-1]
			byDay[d] = s
		}
		if level >= 1 && level <= 4 {
			s.Levels[level] = int64(n)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if n := len(out.Trend); n > 0 {
		l := out.Trend[n-1]
		out.Latest = &l
	}
	return out, nil
}

// CohortHeat is the heat of one graduation decade's alumni on one day.
type CohortHeat struct {
	AsOf      string  `json:"as_of"`
	Decade    int     `json:"decade"` // e.g. 1990
	People    int64   `json:"people"`
	MeanLevel float64 `json:"mean_level"` // 1 (cold) to 4 (hot)
	Warm      int64   `json:"warm_or_hot"`
}

// CohortHeatResult is heat over time by cohort.
type CohortHeatResult struct {
	Scores ScoreInfo    `json:"scores"`
	Rows   []CohortHeat `json:"rows"`
}

// HeatByCohort returns the alumni's heat by graduation decade for each heat
// snapshot with as_of in [From, To].
func HeatByCohort(ctx context.Context, conn driver.Conn, f Filter) (CohortHeatResult, error) {
	out := CohortHeatResult{Rows: []CohortHeat{}}
	info, err := latestScores(ctx, conn, "heat", f.To)
	if err != nil {
		return out, err
	}
	out.Scores = info
	err = scan(ctx, conn, "heat by cohort", queries.Get("heat_cohorts.sql"), f.named(), func(r driver.Rows) error {
		var asOf time.Time
		var decade int64
		var n, warm uint64
		var mean float64
		if err := r.Scan(&asOf, &decade, &n, &mean, &warm); err != nil {
			return err
		}
		out.Rows = append(out.Rows, CohortHeat{AsOf: day(asOf), Decade: int(decade), People: int64(n), MeanLevel: mean, Warm: int64(warm)})
		return nil
	})
	return out, err
}

// MonthAmount is the money raised in one month and up to its end.
type MonthAmount struct {
	Month      string  `json:"month"` // YYYY-MM
	Amount     float64 `json:"amount"`
	Gifts      int64   `json:"gifts"`
	Cumulative float64 `json:"cumulative"`
}

// FundraisingResult is fundraising year to date against the targets.
type FundraisingResult struct {
	Year    int           `json:"year"`
	Through string        `json:"through"` // the last day counted, YYYY-MM-DD
	Total   float64       `json:"total"`
	Gifts   int64         `json:"gifts"`
	Level   string        `json:"level"` // below threshold, threshold, target, excellence
	Targets Targets       `json:"targets"`
	Months  []MonthAmount `json:"months"`
}

// Fundraising returns the donations (EUR) of the calendar year of the
// period's last day, up to that day, by month, against t: Donations of that
// day, with its level.
func Fundraising(ctx context.Context, conn driver.Conn, f Filter, t Targets) (FundraisingResult, error) {
	d, err := Donations(ctx, conn, f.To.AddDate(0, 0, -1))
	out := FundraisingResult{Year: d.Year, Through: d.Through, Total: d.Total, Gifts: d.Gifts, Targets: t, Months: d.Months}
	out.Level = t.Level(out.Total)
	return out, err
}

// DonationsYTD is the fundraising of one calendar year up to a day included.
type DonationsYTD struct {
	Year    int           `json:"year"`
	Through string        `json:"through"` // the last day counted, YYYY-MM-DD
	Total   float64       `json:"total"`   // EUR, rounded to the cent
	Gifts   int64         `json:"gifts"`
	Donors  int64         `json:"donors"` // distinct people; organisations' gifts count none
	Months  []MonthAmount `json:"months"`
}

// Donations is the one source of the fundraising figure: the donations of
// the calendar year of the day through, from January 1st up to through
// included, in EUR (a record without currency counts as EUR), latest
// versions, deleted ones left out. The dashboards' fundraising widget, the
// API's /api/kpis/donations and the notebooks read it; bi.fundraising_days
// applies the same rule for Power BI (TestDonationsOneFigure holds them
// equal).
func Donations(ctx context.Context, conn driver.Conn, through time.Time) (DonationsYTD, error) {
	through = through.UTC().Truncate(24 * time.Hour)
	out := DonationsYTD{Year: through.Year(), Through: day(through), Months: []MonthAmount{}}
	args := []any{clickhouse.Named("to_day", day(through.AddDate(0, 0, 1)))}
	rows, err := conn.Query(ctx, queries.Get("fundraising.sql"), args...)
	if err != nil {
		return out, fmt.Errorf("query fundraising: %w", err)
	}
	defer rows.Close()
	var total float64
	var m time.Time
	var amount float64
	var gifts, donors uint64
	for rows.Next() {
		if err := rows.Scan(&m, &amount, &gifts, &donors); err != nil {
			return out, fmt.Errorf("read fundraising: %w", err)
		}
		total += amount
		out.Gifts += int64(gifts)
		out.Months = append(out.Months, MonthAmount{Month: m.Format("2006-01"), Amount: round2(amount), Gifts: int64(gifts), Cumulative: round2(total)})
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read fundraising: %w", err)
	}
	out.Total = round2(total)
	if len(out.Months) == 0 {
		return out, nil
	}
	// the year's distinct donors: the totals row
	if err := rows.Totals(&m, &amount, &gifts, &donors); err != nil {
		return out, fmt.Errorf("read fundraising totals: %w", err)
	}
	out.Donors = int64(donors)
	return out, nil
}

// Level names the level an amount reaches.
func (t Targets) Level(v float64) string {
	switch {
	case v >= t.Excellence:
		return "excellence"
	case v >= t.Target:
		return "target"
	case v >= t.Threshold:
		return "threshold"
	}
	return "below threshold"
}

func round2(v float64) float64 {
	if v < 0 {
		return -round2(-v)
	}
	return float64(int64(v*100+0.5)) / 100
}

// CompaniesResult is the companies and research contracts as of a day.
type CompaniesResult struct {
	AsOf           string           `json:"as_of"`
	Companies      int64            `json:"companies"`       // organisations of kind company
	ActivePartners int64            `json:"active_partners"` // with an active partnership
	Contacted      int64            `json:"contacted"`       // with an interaction in the period
	Contracts      map[string]int64 `json:"contracts"`       // research contracts by state: active, expired, not started, draft, cancelled
}

// Companies returns the company counts and research contracts by state as
// of the period's end.
func Companies(ctx context.Context, conn driver.Conn, f Filter) (CompaniesResult, error) {
	out := CompaniesResult{AsOf: day(f.To), Contracts: map[string]int64{"active": 0, "expired": 0}}
	var companies, active, contacted uint64
	if err := conn.QueryRow(ctx, queries.Get("companies.sql"), f.named()...).Scan(&companies, &active, &contacted); err != nil {
		return out, fmt.Errorf("query companies: %w", err)
	}
	out.Companies, out.ActivePartners, out.Contacted = int64(companies), int64(active), int64(contacted)
	err := scan(ctx, conn, "contracts", queries.Get("contracts.sql"), f.named(), func(r driver.Rows) error {
		var state string
		var n uint64
		if err := r.Scan(&state, &n); err != nil {
			return err
		}
		out.Contracts[state] = int64(n)
		return nil
	})
	return out, err
}

// Count is a labelled count.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// GeographyResult is people by country and by Italian region.
type GeographyResult struct {
	Countries []Count `json:"countries"` // every country, most people first; "" unknown
	Regions   []Count `json:"regions"`   // regions of people in Italy (IT), most people first
}

// Geography returns people by country and region (of Italy).
func Geography(ctx context.Context, conn driver.Conn, f Filter) (GeographyResult, error) {
	countries := map[string]int64{}
	regions := map[string]int64{}
	err := scan(ctx, conn, "geography", queries.Get("geography.sql"), f.named(), func(r driver.Rows) error {
		var country, region string
		var n uint64
		if err := r.Scan(&country, &region, &n); err != nil {
			return err
		}
		countries[country] += int64(n)
		if country == "IT" {
			regions[region] += int64(n)
		}
		return nil
	})
	return GeographyResult{Countries: sorted(countries), Regions: sorted(regions)}, err
}

func sorted(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Name: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ClusterPoint is one organisation in the cluster scatter chart.
type ClusterPoint struct {
	OrganisationID int64   `json:"organisation_id"`
	Name           string  `json:"name"`
	Cluster        int     `json:"cluster"`
	X              float64 `json:"x"`
	Y              float64 `json:"y"`
}

// ClusterProfile is one cluster's size and mean features.
type ClusterProfile struct {
	Cluster          int     `json:"cluster"`
	Label            string  `json:"label"`
	Organisations    int64   `json:"organisations"`
	Size             float64 `json:"size"` // size class 0-3
	LogRevenue       float64 `json:"log_revenue"`
	Interactions     float64 `json:"interactions"`
	Placements       float64 `json:"placements"`
	LogContractValue float64 `json:"log_contract_value"`
	PartnershipLevel float64 `json:"partnership_level"` // 0 none … 3 active
}

// ClustersResult is the newest company clustering on or before the period's
// end.
type ClustersResult struct {
	Scores   ScoreInfo        `json:"scores"`
	Points   []ClusterPoint   `json:"points"`
	Profiles []ClusterProfile `json:"profiles"`
}

// Clusters returns the company clusters of the newest run as of the period's
// end.
func Clusters(ctx context.Context, conn driver.Conn, f Filter) (ClustersResult, error) {
	out := ClustersResult{Scores: ScoreInfo{Model: "clusters"}, Points: []ClusterPoint{}, Profiles: []ClusterProfile{}}
	var asOf time.Time
	var version string
	var n uint64
	if err := conn.QueryRow(ctx, queries.Get("cluster_latest.sql"), clickhouse.Named("to_day", day(f.To))).Scan(&asOf, &version, &n); err != nil {
		return out, fmt.Errorf("latest clusters: %w", err)
	}
	if n == 0 {
		return out, nil
	}
	out.Scores.AsOf, out.Scores.Version = day(asOf), version
	args := []any{clickhouse.Named("as_of", out.Scores.AsOf)}
	err := scan(ctx, conn, "cluster points", queries.Get("cluster_points.sql"), args, func(r driver.Rows) error {
		var p ClusterPoint
		var cluster int32
		var label, v string
		if err := r.Scan(&p.OrganisationID, &p.Name, &cluster, &label, &p.X, &p.Y, &v); err != nil {
			return err
		}
		p.Cluster = int(cluster)
		out.Points = append(out.Points, p)
		return nil
	})
	if err != nil {
		return out, err
	}
	err = scan(ctx, conn, "cluster profiles", queries.Get("cluster_profiles.sql"), args, func(r driver.Rows) error {
		var p ClusterProfile
		var cluster int32
		var n uint64
		if err := r.Scan(&cluster, &p.Label, &n, &p.Size, &p.LogRevenue, &p.Interactions, &p.Placements, &p.LogContractValue, &p.PartnershipLevel); err != nil {
			return err
		}
		p.Cluster, p.Organisations = int(cluster), int64(n)
		out.Profiles = append(out.Profiles, p)
		return nil
	})
	return out, err
}
