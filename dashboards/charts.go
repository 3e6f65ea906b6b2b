package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/calore-crm/calore/warehouse/kpiq"
)

// chartMaker turns go-echarts charts into page charts: every chart gets a
// page-unique id and fills its card's width, and ECharts comes from the
// binary (assetsHost is this handler's /assets/ path), never from a CDN.
type chartMaker struct {
	assetsHost string
	prefix     string
	n          int
	js         []string            // script URLs the charts need, in order, without repeats
	last       opts.Initialization // of the chart being drawn: init, then chart
}

// chart is one chart on a page: an empty element and its ECharts options,
// which page.html writes as JSON data (<script type="application/json">,
// escaped by html/template) and assets/calore.js hands to echarts.init and
// setOption. No chart data is ever written into script text.
type chart struct {
	ID       string
	Height   string // CSS height, set by calore.js (no inline style: the CSP refuses them)
	Theme    string
	Renderer string
	Options  map[string]any // go-echarts' options, JSON()
}

// goChart is what chartMaker needs of a go-echarts chart.
type goChart interface {
	Validate() // puts the axis data in place and prefixes the assets with AssetsHost
	JSON() map[string]any
	GetAssets() opts.Assets
}

// init starts a chart: its id, height and assets, go-echarts' defaults for
// the rest (theme, renderer).
func (c *chartMaker) init(height string) charts.GlobalOpts {
	c.n++
	c.last = opts.Initialization{Width: "100%", Height: height, AssetsHost: c.assetsHost, ChartID: fmt.Sprintf("%s%d", c.prefix, c.n)}
	c.last.Validate()
	return charts.WithInitializationOpts(c.last)
}

// chart finishes the chart started by the last init.
func (c *chartMaker) chart(ch goChart) chart {
	in := c.last
	ch.Validate()
	for _, js := range ch.GetAssets().JSAssets.Values {
		if !slices.Contains(c.js, js) {
			c.js = append(c.js, js)
		}
	}
	o := ch.JSON()
	if b, err := json.Marshal(o); err != nil || bytes.Contains(b, []byte("__f__")) {
		// opts.FuncOpts (JavaScript functions in options) would need script
		// text, which the CSP and this page refuse: use plain options.
		panic(fmt.Sprintf("dashboards: chart %s: options are not plain JSON (JavaScript function?): %v", in.ChartID, err))
	}
	return chart{ID: in.ChartID, Height: in.Height, Theme: in.Theme, Renderer: in.Renderer, Options: o}
}

var (
	noLegend  = charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)})
	legendTop = charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0", Type: "scroll"})
	tooltip   = charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"})
	gridOpts  = charts.WithGridOpts(opts.Grid{Left: "2%", Right: "4%", Top: "40", Bottom: "2%", ContainLabel: opts.Bool(true)})
	// hbarGrid leaves room right of horizontal bars for their value labels.
	hbarGrid  = charts.WithGridOpts(opts.Grid{Left: "2%", Right: "14%", Top: "10", Bottom: "2%", ContainLabel: opts.Bool(true)})
	palette   = []string{"#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc"}
	heatColor = []string{"", "#5470c6", "#73c0de", "#fac858", "#ee6666"}
)

func empty(note string) view { return view{Notes: []string{note}} }

func drawFunnel(v any, c *chartMaker) view {
	f := v.(kpiq.FunnelResult)
	if len(f.Steps) == 0 || f.Steps[0].Entered == 0 {
		return empty(fmt.Sprintf("Nobody entered this funnel between %s and %s.", f.From, f.To))
	}
	b := charts.NewBar()
	b.SetGlobalOptions(c.init("260px"), hbarGrid, noLegend, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}))
	var names []string
	var data []opts.BarData
	t := &table{Head: []string{"step", "entered", "conversion", "median time from previous"}}
	for i, s := range f.Steps {
		names = append(names, s.Name)
		data = append(data, opts.BarData{Value: s.Entered, ItemStyle: &opts.ItemStyle{Color: palette[i%len(palette)]}})
		conv, med := "", ""
		if s.Step > 1 {
			conv = pct(s.Conversion)
			if s.Entered > 0 {
				med = hours(s.MedianHours)
			}
		}
		t.Rows = append(t.Rows, []string{s.Name, num(float64(s.Entered)), conv, med})
	}
	b.SetXAxis(names).AddSeries("entered", data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right"}))
	b.XYReversal()
	return view{Charts: []chart{c.chart(b)}, Table: t, Notes: []string{fmt.Sprintf("First step between %s and %s (to excluded).", f.From, f.To)}}
}

func drawCampaigns(v any, c *chartMaker) view {
	ms := v.([]kpiq.CampaignMonth)
	if len(ms) == 0 {
		return empty("No campaign sends in this period.")
	}
	l := charts.NewLine()
	l.SetGlobalOptions(c.init("320px"), legendTop, tooltip, gridOpts)
	var x []string
	var sends, human, raw, clicks []opts.LineData
	var ts, th, tr, tc int64
	for _, m := range ms {
		x = append(x, m.Month)
		sends = append(sends, opts.LineData{Value: m.Sends})
		human = append(human, opts.LineData{Value: m.HumanOpens})
		raw = append(raw, opts.LineData{Value: m.RawOpens})
		clicks = append(clicks, opts.LineData{Value: m.HumanClicks})
		ts, th, tr, tc = ts+m.Sends, th+m.HumanOpens, tr+m.RawOpens, tc+m.HumanClicks
	}
	l.SetXAxis(x).
		AddSeries("sends", sends).
		AddSeries("opened (human)", human).
		AddSeries("opened (raw)", raw, charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"})).
		AddSeries("clicked (human)", clicks)
	note := fmt.Sprintf("In the period: %s sends; opened by a person %s (%s), raw %s (%s); clicked %s (%s).",
		num(float64(ts)), num(float64(th)), pct(ratio(th, ts)), num(float64(tr)), pct(ratio(tr, ts)), num(float64(tc)), pct(ratio(tc, ts)))
	return view{Charts: []chart{c.chart(l)}, Notes: []string{note}}
}

func drawEvents(v any, c *chartMaker) view {
	ms := v.([]kpiq.EventMonth)
	if len(ms) == 0 {
		return empty("No events with registrations in this period.")
	}
	b := charts.NewBar()
	b.SetGlobalOptions(c.init("300px"), legendTop, tooltip, gridOpts)
	var x []string
	var reg, att []opts.BarData
	var tr, ta, te int64
	for _, m := range ms {
		x = append(x, m.Month)
		reg = append(reg, opts.BarData{Value: m.Registered})
		att = append(att, opts.BarData{Value: m.Attended})
		tr, ta, te = tr+m.Registered, ta+m.Attended, te+m.Events
	}
	b.SetXAxis(x).AddSeries("registered", reg).AddSeries("attended", att)
	return view{Charts: []chart{c.chart(b)}, Notes: []string{fmt.Sprintf("%d events: %s registered, %s attended (%s).", te, num(float64(tr)), num(float64(ta)), pct(ratio(ta, tr)))}}
}

func drawHeatDistribution(v any, c *chartMaker) view {
	h := v.(kpiq.HeatResult)
	if h.Latest == nil {
		return empty(scoreNote("Heat", h.Scores))
	}
	p := charts.NewPie()
	p.SetGlobalOptions(c.init("300px"), legendTop, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
	var data []opts.PieData
	var total int64
	for lvl := 1; lvl <= 4; lvl++ {
		n := h.Latest.Levels[lvl]
		total += n
		data = append(data, opts.PieData{Name: fmt.Sprintf("%d %s", lvl, kpiq.HeatLabels[lvl]), Value: n, ItemStyle: &opts.ItemStyle{Color: heatColor[lvl]}})
	}
	p.AddSeries("people", data, charts.WithPieChartOpts(opts.PieChart{Radius: []string{"35%", "70%"}, Center: []string{"50%", "56%"}}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(false)}))
	t := &table{Head: []string{"level", "people", "share"}}
	for lvl := 1; lvl <= 4; lvl++ {
		n := h.Latest.Levels[lvl]
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%d %s", lvl, kpiq.HeatLabels[lvl]), num(float64(n)), pct(ratio(n, total))})
	}
	return view{Charts: []chart{c.chart(p)}, Table: t, Notes: []string{scoreNote("Heat", h.Scores)}}
}

func drawHeatTrend(v any, c *chartMaker) view {
	h := v.(kpiq.HeatResult)
	if len(h.Trend) == 0 {
		return empty(scoreNote("Heat", h.Scores))
	}
	b := charts.NewBar()
	coldName := fmt.Sprintf("1 %s (%%)", kpiq.HeatLabels[1])
	b.SetGlobalOptions(c.init("300px"), tooltip, gridOpts,
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "0", Type: "scroll", Selected: map[string]bool{coldName: false}}))
	var x []string
	for _, s := range h.Trend {
		x = append(x, s.AsOf)
	}
	b.SetXAxis(x)
	for lvl := 4; lvl >= 1; lvl-- {
		var d []opts.BarData
		for _, s := range h.Trend {
			var total int64
			for _, n := range s.Levels {
				total += n
			}
			d = append(d, opts.BarData{Value: math.Round(1000*ratio(s.Levels[lvl], total)) / 10})
		}
		b.AddSeries(fmt.Sprintf("%d %s (%%)", lvl, kpiq.HeatLabels[lvl]), d,
			charts.WithBarChartOpts(opts.BarChart{Stack: "heat"}), charts.WithItemStyleOpts(opts.ItemStyle{Color: heatColor[lvl]}))
	}
	notes := []string{"Share of people per level on each scoring day; cold is hidden (tap it in the legend to show it).", scoreNote("Newest heat", h.Scores)}
	if len(h.Trend) == 1 {
		notes = append(notes, "Only one scoring day in this period: run `calore score heat` regularly (or widen the period) for a trend.")
	}
	return view{Charts: []chart{c.chart(b)}, Notes: notes}
}

func drawFundraising(v any, c *chartMaker) view {
	f := v.(kpiq.FundraisingResult)
	l := charts.NewLine()
	l.SetGlobalOptions(c.init("320px"), legendTop, tooltip, gridOpts)
	var x []string
	var cum, thr, tgt, exc []opts.LineData
	months := map[string]kpiq.MonthAmount{}
	for _, m := range f.Months {
		months[m.Month] = m
	}
	last := 0.0
	end := f.Through[:7]
	for m := 1; m <= 12; m++ {
		key := fmt.Sprintf("%d-%02d", f.Year, m)
		if key > end {
			break
		}
		if a, ok := months[key]; ok {
			last = a.Cumulative
		}
		x = append(x, key)
		cum = append(cum, opts.LineData{Value: last})
		thr = append(thr, opts.LineData{Value: f.Targets.Threshold})
		tgt = append(tgt, opts.LineData{Value: f.Targets.Target})
		exc = append(exc, opts.LineData{Value: f.Targets.Excellence})
	}
	dashed := charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed"})
	noSymbol := charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)})
	l.SetXAxis(x).
		AddSeries("raised (cumulative)", cum, charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.2)})).
		AddSeries("threshold", thr, dashed, noSymbol, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#fac858"})).
		AddSeries("target", tgt, dashed, noSymbol, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#91cc75"})).
		AddSeries("excellence", exc, dashed, noSymbol, charts.WithItemStyleOpts(opts.ItemStyle{Color: "#3ba272"}))
	note := fmt.Sprintf("%d through %s: %s EUR from %d gifts, %s of the target (%s): %s.", f.Year, f.Through, num(f.Total), f.Gifts,
		pct(f.Total/f.Targets.Target), num(f.Targets.Target), f.Level)
	return view{Charts: []chart{c.chart(l)}, Notes: []string{note,
		fmt.Sprintf("Levels: threshold %s, target %s, excellence %s EUR.", num(f.Targets.Threshold), num(f.Targets.Target), num(f.Targets.Excellence))}}
}

func drawCompanies(v any, c *chartMaker) view {
	r := v.(kpiq.CompaniesResult)
	b := charts.NewBar()
	b.SetGlobalOptions(c.init("260px"), hbarGrid, noLegend, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}))
	names := []string{"companies", "active partnership", "contacted in period", "contracts active", "contracts expired"}
	vals := []int64{r.Companies, r.ActivePartners, r.Contacted, r.Contracts["active"], r.Contracts["expired"]}
	var d []opts.BarData
	for i, n := range vals {
		d = append(d, opts.BarData{Value: n, ItemStyle: &opts.ItemStyle{Color: palette[i]}})
	}
	b.SetXAxis(names).AddSeries("count", d, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right"}))
	b.XYReversal()
	var other []string
	for _, k := range sortedKeys(r.Contracts) {
		if k != "active" && k != "expired" {
			other = append(other, fmt.Sprintf("%s %d", k, r.Contracts[k]))
		}
	}
	notes := []string{fmt.Sprintf("As of %s.", r.AsOf)}
	if len(other) > 0 {
		notes = append(notes, "Other research contracts: "+strings.Join(other, ", ")+".")
	}
	return view{Charts: []chart{c.chart(b)}, Notes: notes}
}

func drawCounts(title string, cs []kpiq.Count, c *chartMaker) view {
	if len(cs) == 0 {
		return empty("Nobody matches.")
	}
	const top = 12
	var total int64
	for _, x := range cs {
		total += x.Count
	}
	if len(cs) > top {
		cs = cs[:top]
	}
	b := charts.NewBar()
	b.SetGlobalOptions(c.init(fmt.Sprintf("%dpx", 40+26*len(cs))), hbarGrid, noLegend, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Inverse: opts.Bool(true)}))
	var names []string
	var d []opts.BarData
	for _, x := range cs {
		n := x.Name
		if n == "" {
			n = "?"
		}
		names = append(names, n)
		d = append(d, opts.BarData{Value: x.Count})
	}
	b.SetXAxis(names).AddSeries(title, d, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Position: "right"}))
	b.XYReversal()
	return view{Charts: []chart{c.chart(b)}, Notes: []string{fmt.Sprintf("%s people in all.", num(float64(total)))}}
}

func drawCountries(v any, c *chartMaker) view {
	return drawCounts("people", v.(kpiq.GeographyResult).Countries, c)
}

func drawRegions(v any, c *chartMaker) view {
	return drawCounts("people", v.(kpiq.GeographyResult).Regions, c)
}

func drawProspects(v any, c *chartMaker) view {
	r := v.(kpiq.ProspectsResult)
	notes := []string{scoreNote("Donation scores", r.Scores), scoreNote("Heat", r.Heat)}
	if r.Scores.AsOf == "" {
		return view{Notes: notes}
	}
	t := &table{Head: []string{"#", "alumnus", "cohort", "course", "country", "probability", "tier", "expected", "heat", "reasons", "last gift", "suggested ask"}}
	for i, p := range r.Prospects {
		var reasons []string
		for _, x := range p.Reasons {
			reasons = append(reasons, x.Text)
		}
		gift := ""
		if p.LastGiftAt != "" {
			gift = fmt.Sprintf("%s € on %s", num(p.LastGiftAmount), p.LastGiftAt)
		}
		cohort := ""
		if p.GraduationYear > 0 {
			cohort = strconv.FormatInt(p.GraduationYear, 10)
		}
		heat := ""
		if p.Heat > 0 {
			heat = fmt.Sprintf("%d %s", p.Heat, kpiq.HeatLabels[p.Heat])
		}
		t.LinkCol = 1
		t.Links = append(t.Links, fmt.Sprintf("/workspace/people/%d", p.PersonID))
		t.Rows = append(t.Rows, []string{strconv.Itoa(i + 1), fmt.Sprintf("%s (#%d)", p.Name, p.PersonID), cohort, p.Course, p.Country,
			pct(p.Probability), p.Tier, num(p.ExpectedAmount) + " €", heat, strings.Join(reasons, "; "), gift, num(p.SuggestedAsk) + " €"})
	}
	if len(r.Prospects) == 0 {
		notes = append(notes, "No alumnus matches these filters.")
	}
	return view{Table: t, Notes: notes}
}

func drawClusters(v any, c *chartMaker) view {
	r := v.(kpiq.ClustersResult)
	if len(r.Points) == 0 {
		return empty(scoreNote("Clusters", r.Scores))
	}
	labels := map[int]string{}
	for _, p := range r.Profiles {
		labels[p.Cluster] = p.Label
	}
	byCluster := map[int][]opts.ScatterData{}
	for _, p := range r.Points {
		byCluster[p.Cluster] = append(byCluster[p.Cluster], opts.ScatterData{Name: p.Name, Value: []any{round3(p.X), round3(p.Y)}, SymbolSize: 9})
	}
	s := charts.NewScatter()
	s.SetGlobalOptions(c.init("360px"), legendTop, gridOpts, charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Scale: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Scale: opts.Bool(true)}))
	var ks []int
	for k := range byCluster {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	for _, k := range ks {
		s.AddSeries(fmt.Sprintf("%d: %s", k, labels[k]), byCluster[k], charts.WithItemStyleOpts(opts.ItemStyle{Color: palette[k%len(palette)]}))
	}
	return view{Charts: []chart{c.chart(s)}, Notes: []string{scoreNote("Clusters", r.Scores), fmt.Sprintf("%d organisations; x: first principal component, y: second.", len(r.Points))}}
}

func drawClusterProfiles(v any, c *chartMaker) view {
	r := v.(kpiq.ClustersResult)
	if len(r.Profiles) == 0 {
		return empty(scoreNote("Clusters", r.Scores))
	}
	t := &table{Head: []string{"cluster", "organisations", "size class", "log₁₀ revenue", "interactions (12 mo)", "placements (12 mo)", "log₁₀ contracts (3 y)", "partnership level"}}
	for _, p := range r.Profiles {
		t.Rows = append(t.Rows, []string{fmt.Sprintf("%d: %s", p.Cluster, p.Label), num(float64(p.Organisations)), dec(p.Size), dec(p.LogRevenue),
			dec(p.Interactions), dec(p.Placements), dec(p.LogContractValue), dec(p.PartnershipLevel)})
	}
	return view{Table: t, Notes: []string{scoreNote("Clusters", r.Scores), "Means of the raw features; partnership level: 0 none, 1 prospect or lapsed, 2 negotiation, 3 active."}}
}

func drawCohorts(v any, c *chartMaker) view {
	r := v.(kpiq.CohortHeatResult)
	if len(r.Rows) == 0 {
		return empty(scoreNote("Heat", r.Scores))
	}
	var days []string
	decades := map[int]map[string]kpiq.CohortHeat{}
	for _, x := range r.Rows {
		if len(days) == 0 || days[len(days)-1] != x.AsOf {
			days = append(days, x.AsOf)
		}
		if decades[x.Decade] == nil {
			decades[x.Decade] = map[string]kpiq.CohortHeat{}
		}
		decades[x.Decade][x.AsOf] = x
	}
	var ds []int
	for d := range decades {
		ds = append(ds, d)
	}
	sort.Ints(ds)
	var ch goChart
	if len(days) == 1 {
		// One scoring day: a bar per decade reads better than one-point lines.
		b := charts.NewBar()
		b.SetGlobalOptions(c.init("300px"), legendTop, tooltip, gridOpts, charts.WithYAxisOpts(opts.YAxis{Min: 1}))
		var x []string
		var mean, warm []opts.BarData
		for _, d := range ds {
			row := decades[d][days[0]]
			x = append(x, fmt.Sprintf("%ds", d))
			mean = append(mean, opts.BarData{Value: round3(row.MeanLevel)})
			warm = append(warm, opts.BarData{Value: row.Warm})
		}
		b.SetXAxis(x).AddSeries("mean heat level", mean)
		ch = b
	} else {
		l := charts.NewLine()
		l.SetGlobalOptions(c.init("320px"), legendTop, tooltip, gridOpts, charts.WithYAxisOpts(opts.YAxis{Min: 1}))
		l.SetXAxis(days)
		for _, d := range ds {
			var data []opts.LineData
			for _, day := range days {
				row, ok := decades[d][day]
				if !ok {
					data = append(data, opts.LineData{Value: "-"})
					continue
				}
				data = append(data, opts.LineData{Value: round3(row.MeanLevel)})
			}
			l.AddSeries(fmt.Sprintf("%ds", d), data)
		}
		ch = l
	}
	t := &table{Head: []string{"cohort", "alumni", "mean level", "warm or hot"}}
	lastDay := days[len(days)-1]
	for _, d := range ds {
		if row, ok := decades[d][lastDay]; ok {
			t.Rows = append(t.Rows, []string{fmt.Sprintf("%ds", d), num(float64(row.People)), dec(row.MeanLevel), fmt.Sprintf("%d (%s)", row.Warm, pct(ratio(row.Warm, row.People)))})
		}
	}
	notes := []string{scoreNote("Heat", r.Scores), "Table: the newest scoring day of the period."}
	if len(days) == 1 {
		notes = append(notes, "Only one scoring day in this period: run `calore score heat` regularly (or widen the period) for the trend over time.")
	}
	return view{Charts: []chart{c.chart(ch)}, Table: t, Notes: notes}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func dec(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func hours(h float64) string {
	if h >= 48 {
		return strconv.FormatFloat(h/24, 'f', 0, 64) + " days"
	}
	return strconv.FormatFloat(h, 'f', 0, 64) + " h"
}

// num writes a number with thousands separators and at most two decimals.
func num(f float64) string {
	neg := f < 0
	if neg {
		f = -f
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimSuffix(s, ".00")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

func sortedKeys(m map[string]int64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
