// Command benchreport turns the `go test -bench … -json` output of `make
// bench` into bench/REPORT.md and bench/report.json: for every metric the
// median of the runs, the limit measured in the same run, their ratio, the
// target where an issue sets one, and the machine. Nothing in the report is
// typed by hand: a metric whose benchmark did not run shows as "not run".
//
//	go test -run '^$' -bench . -count 3 -json ./... > bench/raw.json
//	go run ./scripts/benchreport -in bench/raw.json -out bench
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	in := flag.String("in", "bench/raw.json", "go test -json output")
	out := flag.String("out", "bench", "directory for REPORT.md and report.json")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// Row is one line of the report.
type Row struct {
	Area   string `json:"area"`
	Metric string `json:"metric"`
	Bench  string `json:"bench"` // benchmark name without the -N suffix
	Unit   string `json:"unit"`  // as reported; "s/op" is ns/op in seconds
	Limit  string `json:"limit,omitempty"`
	LUnit  string `json:"limit_unit,omitempty"`
	Target string `json:"target,omitempty"`
	// Want is how the figure must compare with TargetValue: "<=" or ">=".
	Want        string  `json:"-"`
	TargetValue float64 `json:"-"`
	// Fault marks a fault run (warehousetest.Faults): its figure is the
	// counts, Value and Runs are the events lost, and it meets its target
	// when no run lost or double-counted an event.
	Fault bool `json:"fault,omitempty"`

	Value      *float64  `json:"value"`
	Runs       []float64 `json:"runs"`
	LimitValue *float64  `json:"limit_value"`
	Ratio      *float64  `json:"ratio"`
	Meets      *bool     `json:"meets_target"`
	// Counts of a fault row by unit: the worst run for lost and dup, the
	// median for the others.
	Counts map[string]float64 `json:"counts,omitempty"`
}

// faultUnits are what a fault benchmark reports (warehousetest.ReportFaults).
var faultUnits = []string{"sent", "counted", "lost", "dup", "redelivered-rows", "resent", "outage-s", "recovery-s"}

// faultTarget is the target of every fault row.
const faultTarget = "lost = 0, double-counted = 0 (every run)"

// rows is what the report shows, in order. Benchmarks live next to the code
// they measure; each names its limit.
var rows = []Row{
	{Area: "import", Metric: "10,000 contacts merged into 200,000", Bench: "BenchmarkImportContacts/merge-10k", Unit: "s/op", Limit: "BenchmarkImportContacts/raw-copy-10k", LUnit: "s/op", Target: "≤ 2 s", Want: "<=", TargetValue: 2},
	{Area: "import", Metric: "100,000 contacts merged into 200,000", Bench: "BenchmarkImportContacts/merge-100k", Unit: "s/op", Limit: "BenchmarkImportContacts/raw-copy-100k", LUnit: "s/op", Target: "≤ 15 s", Want: "<=", TargetValue: 15},
	{Area: "pipeline", Metric: "relay throughput", Bench: "BenchmarkRelay", Unit: "events/s"},
	{Area: "pipeline", Metric: "sink throughput", Bench: "BenchmarkSink", Unit: "events/s", Limit: "BenchmarkRawBatchInsert", LUnit: "events/s", Target: "≥ 100,000 events/s", Want: ">=", TargetValue: 100_000},
	{Area: "pipeline", Metric: "hit to queryable, p95", Bench: "BenchmarkHitToQueryable", Unit: "p95-ms", Target: "< 3,000 ms", Want: "<=", TargetValue: 3000},
	{Area: "tracking", Metric: "tracking endpoint throughput", Bench: "BenchmarkTrackingEndpoint", Unit: "req/s", Limit: "BenchmarkBareHandler", LUnit: "req/s", Target: "≥ 10,000 req/s", Want: ">=", TargetValue: 10_000},
	{Area: "tracking", Metric: "tracking endpoint p99", Bench: "BenchmarkTrackingEndpoint", Unit: "p99-ms", Limit: "BenchmarkBareHandler", LUnit: "p99-ms", Target: "< 20 ms", Want: "<=", TargetValue: 20},
	{Area: "scoring", Metric: "all jobs, full university", Bench: "BenchmarkScoreFull/all", Unit: "s/op", Target: "≤ 60 s", Want: "<=", TargetValue: 60},
	{Area: "scoring", Metric: "all jobs, peak RSS", Bench: "BenchmarkScoreFull/all", Unit: "peak-rss-MiB", Target: "≤ 4,096 MiB", Want: "<=", TargetValue: 4096},
	{Area: "scoring", Metric: "heat", Bench: "BenchmarkScoreFull/heat", Unit: "s/op"},
	{Area: "scoring", Metric: "heat, peak RSS", Bench: "BenchmarkScoreFull/heat", Unit: "peak-rss-MiB"},
	{Area: "scoring", Metric: "donation", Bench: "BenchmarkScoreFull/donation", Unit: "s/op"},
	{Area: "scoring", Metric: "donation, peak RSS", Bench: "BenchmarkScoreFull/donation", Unit: "peak-rss-MiB"},
	{Area: "scoring", Metric: "clusters", Bench: "BenchmarkScoreFull/clusters", Unit: "s/op"},
	{Area: "scoring", Metric: "clusters, peak RSS", Bench: "BenchmarkScoreFull/clusters", Unit: "peak-rss-MiB"},
	{Area: "scoring", Metric: "funnels", Bench: "BenchmarkScoreFull/funnels", Unit: "s/op"},
	{Area: "scoring", Metric: "funnels, peak RSS", Bench: "BenchmarkScoreFull/funnels", Unit: "peak-rss-MiB"},
	{Area: "scoring", Metric: "turnout", Bench: "BenchmarkScoreFull/turnout", Unit: "s/op"},
	{Area: "scoring", Metric: "turnout, peak RSS", Bench: "BenchmarkScoreFull/turnout", Unit: "peak-rss-MiB"},
	{Area: "dashboards", Metric: "managers: all queries of the page, p95", Bench: "BenchmarkDashboard/managers", Unit: "p95-ms", Limit: "BenchmarkDashboardGroupBy/managers", LUnit: "p95-ms", Target: "≤ 300 ms", Want: "<=", TargetValue: 300},
	{Area: "dashboards", Metric: "fundraisers, p95", Bench: "BenchmarkDashboard/fundraisers", Unit: "p95-ms", Limit: "BenchmarkDashboardGroupBy/fundraisers", LUnit: "p95-ms", Target: "≤ 300 ms", Want: "<=", TargetValue: 300},
	{Area: "dashboards", Metric: "companies, p95", Bench: "BenchmarkDashboard/companies", Unit: "p95-ms", Limit: "BenchmarkDashboardGroupBy/companies", LUnit: "p95-ms", Target: "≤ 300 ms", Want: "<=", TargetValue: 300},
	{Area: "dashboards", Metric: "engagement, p95", Bench: "BenchmarkDashboard/engagement", Unit: "p95-ms", Limit: "BenchmarkDashboardGroupBy/engagement", LUnit: "p95-ms", Target: "≤ 300 ms", Want: "<=", TargetValue: 300},
	{Area: "dashboards", Metric: "rollup refresh, every table (what the pages no longer compute)", Bench: "BenchmarkRollupRefresh", Unit: "s/op"},
	{Area: "scoring", Metric: "donation model ROC AUC (test window)", Bench: "BenchmarkScoreFull/donation", Unit: "roc-auc", Limit: "BenchmarkScoreFull/donation", LUnit: "bayes-auc", Target: "within 0.02 of the Bayes AUC"},
	{Area: "models", Metric: "donation model ROC AUC, test window, demo university", Bench: "BenchmarkModelsDemo", Unit: "roc-auc", Limit: "BenchmarkModelsDemo", LUnit: "bayes-auc", Target: "within 0.02 of the Bayes AUC"},
	{Area: "models", Metric: "donation model lift in the top decile, test window", Bench: "BenchmarkModelsDemo", Unit: "lift-top10"},
	{Area: "models", Metric: "baseline: heat level alone, ROC AUC (limit: the model's)", Bench: "BenchmarkModelsDemo", Unit: "heat-level-auc", Limit: "BenchmarkModelsDemo", LUnit: "roc-auc", Target: "below the model"},
	{Area: "models", Metric: "baseline: gave in the last 12 months, ROC AUC", Bench: "BenchmarkModelsDemo", Unit: "gave-12m-auc", Limit: "BenchmarkModelsDemo", LUnit: "roc-auc", Target: "below the model"},
	{Area: "models", Metric: "baseline: count of past gift years, ROC AUC", Bench: "BenchmarkModelsDemo", Unit: "gift-years-auc", Limit: "BenchmarkModelsDemo", LUnit: "roc-auc", Target: "below the model"},
	{Area: "models", Metric: "heat back-test: heat 3 months before ranks next quarter's engagement, ROC AUC", Bench: "BenchmarkModelsDemo", Unit: "heat-backtest-auc"},
	{Area: "models", Metric: "heat back-test, lift in the top decile", Bench: "BenchmarkModelsDemo", Unit: "heat-backtest-lift"},
	{Area: "models", Metric: "turnout back-test MAE, people per event (limit: last edition's rate)", Bench: "BenchmarkModelsDemo", Unit: "turnout-mae", Limit: "BenchmarkModelsDemo", LUnit: "turnout-naive-mae", Target: "below the naive baseline"},
	{Area: "faults", Metric: "sink killed with SIGKILL mid-stream, another started ({sent} hits, {resent} written twice)", Bench: "BenchmarkFaultSinkKill", Unit: "lost", Fault: true, Target: faultTarget},
	{Area: "faults", Metric: "ClickHouse cut off 30 s during ingest ({sent} events, {resent} written twice)", Bench: "BenchmarkFaultClickHouseDown", Unit: "lost", Fault: true, Target: faultTarget},
	{Area: "faults", Metric: "Kafka cut off 30 s during tracking hits, spool replayed ({sent} hits)", Bench: "BenchmarkFaultKafkaDown", Unit: "lost", Fault: true, Target: faultTarget},
}

// result is one benchmark line: name → unit → value.
type result map[string]map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads go test -json output and returns every run of every benchmark.
func parse(r io.Reader) (map[string]map[string][]float64, error) {
	runs := map[string]map[string][]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var pending strings.Builder
	for sc.Scan() {
		var ev struct {
			Action string
			Output string
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue // a line that is not JSON (build output): ignore
		}
		if ev.Action != "output" {
			continue
		}
		// benchmark lines can arrive in pieces: join until the newline
		pending.WriteString(ev.Output)
		if !strings.HasSuffix(ev.Output, "\n") {
			continue
		}
		line := strings.TrimSpace(pending.String())
		pending.Reset()
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			unit := f[i+1]
			if unit == "ns/op" {
				unit, v = "s/op", v/1e9
			}
			if runs[name] == nil {
				runs[name] = map[string][]float64{}
			}
			runs[name][unit] = append(runs[name][unit], v)
		}
	}
	return runs, sc.Err()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	runs, err := parse(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	report := make([]Row, len(rows))
	for i, r := range rows {
		if r.Fault {
			report[i] = fault(r, runs[r.Bench])
			continue
		}
		if xs := runs[r.Bench][r.Unit]; len(xs) > 0 {
			v := median(xs)
			r.Value, r.Runs = &v, xs
			if r.Want != "" {
				ok := (r.Want == "<=" && v <= r.TargetValue) || (r.Want == ">=" && v >= r.TargetValue)
				r.Meets = &ok
			}
		}
		if r.Limit != "" {
			if xs := runs[r.Limit][r.LUnit]; len(xs) > 0 {
				l := median(xs)
				r.LimitValue = &l
				if r.Value != nil && l != 0 {
					ratio := *r.Value / l
					r.Ratio = &ratio
				}
			}
		}
		if r.Unit == "roc-auc" && r.Value != nil && r.LimitValue != nil {
			ok := *r.LimitValue-*r.Value <= 0.02
			r.Meets = &ok
		}
		if strings.HasPrefix(r.Target, "below the") && r.Value != nil && r.LimitValue != nil {
			ok := *r.Value < *r.LimitValue
			r.Meets = &ok
		}
		report[i] = r
	}
	m := machine()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(map[string]any{"machine": m, "rows": report, "all": runs}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "report.json"), js, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "REPORT.md"), []byte(markdown(m, report, runs)), 0o644)
}

// fault fills a fault row from its benchmark's runs: the worst run for lost
// and dup, so that one bad run of three shows, the median for the rest.
func fault(r Row, units map[string][]float64) Row {
	lost, dup := units["lost"], units["dup"]
	if len(lost) == 0 || len(dup) == 0 {
		r.Metric = faultLabel(r.Metric, nil)
		return r
	}
	r.Counts = map[string]float64{}
	for _, u := range faultUnits {
		xs := units[u]
		if len(xs) == 0 {
			continue
		}
		if u == "lost" || u == "dup" {
			r.Counts[u] = slices.Max(xs)
		} else {
			r.Counts[u] = median(xs)
		}
	}
	worst := r.Counts["lost"]
	r.Value, r.Runs = &worst, lost
	ok := r.Counts["lost"] == 0 && r.Counts["dup"] == 0
	r.Meets = &ok
	r.Metric = faultLabel(r.Metric, r.Counts)
	return r
}

var placeholder = regexp.MustCompile(`\{([a-z-]+)\}`)

// faultLabel fills a fault row's label: {unit} becomes the run's measured
// count of that unit (the median of the runs), "?" when not measured, so
// that the label describes what the runs did, not what they were meant to.
func faultLabel(metric string, c map[string]float64) string {
	return placeholder.ReplaceAllStringFunc(metric, func(m string) string {
		if v, ok := c[m[1:len(m)-1]]; ok {
			return thousands(v)
		}
		return "?"
	})
}

// faultFigure is a fault row's figure: the counts, then the timings.
func faultFigure(r Row) string {
	if r.Counts == nil {
		return "not run"
	}
	c := r.Counts
	s := fmt.Sprintf("sent %s, counted %s, lost %s, double-counted %s",
		thousands(c["sent"]), thousands(c["counted"]), thousands(c["lost"]), thousands(c["dup"]))
	if v, ok := c["redelivered-rows"]; ok {
		s += fmt.Sprintf(" (%s rows stored twice, deduplicated by the queries)", thousands(v))
	}
	if v, ok := c["outage-s"]; ok {
		s += fmt.Sprintf("; down %.1f s", v)
	}
	if v, ok := c["recovery-s"]; ok {
		s += fmt.Sprintf(", all counted %.1f s after it came back", v)
	}
	if len(r.Runs) == 1 {
		return s + "; 1 run"
	}
	return s + fmt.Sprintf("; %d runs", len(r.Runs))
}

func machine() map[string]string {
	m := map[string]string{
		"date":  time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		"cores": strconv.Itoa(runtime.NumCPU()),
		"go":    runtime.Version(),
		"os":    runtime.GOOS + "/" + runtime.GOARCH,
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
				m["memory"] = fmt.Sprintf("%.1f GiB", kb/1024/1024)
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	m["clickhouse"] = "ClickHouse version unknown"
	if b, err := exec.Command("clickhouse-client", "--version").CombinedOutput(); err == nil {
		m["clickhouse"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		// a shared machine shows here: what else ran during the benchmarks
		m["load"] = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

func fmtv(v *float64, unit string) string {
	if v == nil {
		return "not run"
	}
	x := *v
	switch {
	case strings.HasSuffix(unit, "-auc"):
		return fmt.Sprintf("%.4f", x)
	case strings.HasPrefix(unit, "lift") || strings.HasSuffix(unit, "-lift") || strings.HasSuffix(unit, "mae"):
		return fmt.Sprintf("%.2f", x)
	case unit == "s/op" || unit == "outage-s" || unit == "recovery-s":
		return fmt.Sprintf("%.2f s", x)
	case x >= 1000:
		return fmt.Sprintf("%s %s", thousands(x), unit)
	default:
		return fmt.Sprintf("%.1f %s", x, unit)
	}
}

func thousands(x float64) string {
	s := strconv.FormatFloat(x, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func markdown(m map[string]string, report []Row, runs map[string]map[string][]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark report\n\nGenerated by `make bench` on %s. Machine: %s cores (%s), %s memory, %s, %s; %s; load average (1, 5, 15 min) when the report was written: %s.\n",
		m["date"], m["cores"], m["cpu"], m["memory"], m["os"], m["go"], m["clickhouse"], m["load"])
	b.WriteString("Each figure is the median of the runs listed in `report.json`; the limit is measured in the same run.\n" +
		"The servers (PostgreSQL, Kafka, ClickHouse) run on the same machine as the benchmarks.\n\n")
	b.WriteString("| area | metric | figure | limit (same run) | ratio | target | meets |\n|---|---|---|---|---|---|---|\n")
	for _, r := range report {
		ratio, meets := "", ""
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *r.Ratio)
		}
		if r.Meets != nil {
			meets = map[bool]string{true: "yes", false: "**no**"}[*r.Meets]
		}
		limit := ""
		if r.Limit != "" {
			limit = fmtv(r.LimitValue, r.LUnit)
		}
		figure := fmtv(r.Value, r.Unit)
		if r.Fault {
			figure = faultFigure(r)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Area, r.Metric, figure, limit, ratio, r.Target, meets)
	}
	b.WriteString("\n## Every benchmark that ran\n\n| benchmark | unit | median | runs |\n|---|---|---|---|\n")
	var names []string
	for n := range runs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var units []string
		for u := range runs[n] {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			med := median(runs[n][u])
			fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", n, u, fmtv(&med, u), len(runs[n][u]))
		}
	}
	return b.String()
}
