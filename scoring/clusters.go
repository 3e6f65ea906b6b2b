package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/calore-crm/calore/models"
)

// The company-cluster job (R5.3): k-means on standardised company features,
// k chosen by the silhouette, a readable profile per cluster and a 2-D PCA
// projection for the scatter chart.
//
// Sector is part of each cluster's profile (its most common sector) but not
// of the distance: one-hot columns for a dozen ATECO sections would outweigh
// the six numeric features and split clusters by sector alone.
type clusterJob struct{}

func (clusterJob) Name() string { return "clusters" }

// CompanyFeatureNames are the clustering features, in column order.
var CompanyFeatureNames = []string{"size", "log_revenue", "interactions", "placements", "log_contract_value", "partnership_level"}

// Company is one organisation's clustering input.
type Company struct {
	ID            int64
	Name          string
	Sector        string
	Revenue       float64
	ContractValue float64
	X             []float64
}

var sizeRank = map[string]float64{"micro": 0, "small": 1, "medium": 2, "large": 3}

// CompanyFeatures reads the clustering features of every current
// organisation as of asOf.
func CompanyFeatures(ctx context.Context, env *Env, asOf time.Time) ([]Company, error) {
	at := clickhouse.Named("as_of", dateTime(asOf))
	var cs []Company
	index := map[int64]int{}
	if err := scan(ctx, env, "company_base.sql", nil, func(r rowScanner) error {
		var c Company
		var size, ateco, disc string
		if err := r.Scan(&c.ID, &c.Name, &size, &c.Revenue, &ateco, &disc); err != nil {
			return err
		}
		c.Sector = firstOf(disc)
		if c.Sector == "" {
			c.Sector = firstOf(ateco)
		}
		c.X = make([]float64, len(CompanyFeatureNames))
		c.X[0] = sizeRank[size]
		c.X[1] = math.Log10(1 + c.Revenue)
		index[c.ID] = len(cs)
		cs = append(cs, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(ctx, env, "company_activity.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var inter, place uint64
		if err := r.Scan(&id, &inter, &place); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			cs[i].X[2], cs[i].X[3] = float64(inter), float64(place)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(ctx, env, "company_contracts.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var value float64
		var n uint64
		if err := r.Scan(&id, &value, &n); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			cs[i].ContractValue = value
			cs[i].X[4] = math.Log10(1 + value)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(ctx, env, "company_partnerships.sql", []any{at}, func(r rowScanner) error {
		var id int64
		var level uint8
		if err := r.Scan(&id, &level); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			cs[i].X[5] = float64(level)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].ID < cs[b].ID })
	return cs, nil
}

func firstOf(jsonArray string) string {
	var xs []string
	if json.Unmarshal([]byte(jsonArray), &xs) != nil || len(xs) == 0 {
		return ""
	}
	return xs[0]
}

// ClusterProfile describes one cluster for people.
type ClusterProfile struct {
	Cluster       int                `json:"cluster"`
	Label         string             `json:"label"`
	Size          int                `json:"size"`
	Means         map[string]float64 `json:"means"` // raw (unstandardised) feature means
	MeanRevenue   float64            `json:"mean_revenue"`
	MeanContracts float64            `json:"mean_contract_value"`
	TopSector     string             `json:"top_sector"`
}

var featureWords = map[string]string{
	"size": "size", "log_revenue": "revenue", "interactions": "account activity", "placements": "placements",
	"log_contract_value": "research contracts", "partnership_level": "partnership",
}

// labelCentroid names a cluster by its two most distinctive features
// (standardised centroid coordinates beyond ±0.25).
func labelCentroid(centroid []float64) string {
	type fz struct {
		name string
		z    float64
	}
	var fs []fz
	for i, z := range centroid {
		if math.Abs(z) >= 0.25 {
			fs = append(fs, fz{CompanyFeatureNames[i], z})
		}
	}
	sort.Slice(fs, func(a, b int) bool { return math.Abs(fs[a].z) > math.Abs(fs[b].z) })
	if len(fs) == 0 {
		return "average on every feature"
	}
	var parts []string
	for _, f := range fs[:min(2, len(fs))] {
		w := "high "
		if f.z < 0 {
			w = "low "
		}
		parts = append(parts, w+featureWords[f.name])
	}
	return strings.Join(parts, ", ")
}

// Profiles summarises each cluster of c over companies cs.
func Profiles(c *models.Clustering, cs []Company) []ClusterProfile {
	ps := make([]ClusterProfile, c.K)
	sectors := make([]map[string]int, c.K)
	for k := range ps {
		ps[k] = ClusterProfile{Cluster: k, Label: labelCentroid(c.Centroids[k]), Means: map[string]float64{}}
		sectors[k] = map[string]int{}
	}
	for i, co := range cs {
		k := c.Assign[i]
		ps[k].Size++
		for j, v := range co.X {
			ps[k].Means[CompanyFeatureNames[j]] += v
		}
		ps[k].MeanRevenue += co.Revenue
		ps[k].MeanContracts += co.ContractValue
		sectors[k][co.Sector]++
	}
	for k := range ps {
		if ps[k].Size == 0 {
			continue
		}
		n := float64(ps[k].Size)
		for f := range ps[k].Means {
			ps[k].Means[f] = math.Round(ps[k].Means[f]/n*100) / 100
		}
		ps[k].MeanRevenue = math.Round(ps[k].MeanRevenue / n)
		ps[k].MeanContracts = math.Round(ps[k].MeanContracts / n)
		best := 0
		for s, cnt := range sectors[k] {
			if cnt > best || cnt == best && s < ps[k].TopSector {
				best, ps[k].TopSector = cnt, s
			}
		}
	}
	return ps
}

func (j clusterJob) Run(ctx context.Context, env *Env, asOf time.Time) (Summary, error) {
	start := time.Now()
	sum := Summary{Job: j.Name(), AsOf: asOf}
	cs, err := CompanyFeatures(ctx, env, asOf)
	if err != nil {
		return sum, err
	}
	env.progress("clusters: features", 1, 2)
	X := make([][]float64, len(cs))
	for i, c := range cs {
		X[i] = c.X
	}
	cl, err := models.Cluster(X, CompanyFeatureNames, models.ClusterOptions{Seed: uint64(asOf.Unix())})
	if err != nil {
		return sum, fmt.Errorf("cluster %d companies: %w", len(cs), err)
	}
	env.progress("clusters: features", 2, 2)
	profiles := Profiles(cl, cs)
	version := fmt.Sprintf("kmeans-k%d", cl.K)
	computed := env.now()
	b, err := env.Warehouse.PrepareBatch(ctx, `INSERT INTO company_clusters (model_version, as_of, organisation_id, cluster, label, x, y, features, computed_at)`)
	if err != nil {
		return sum, fmt.Errorf("write clusters: %w", err)
	}
	for i, c := range cs {
		feats := map[string]float64{}
		for j, v := range c.X {
			feats[CompanyFeatureNames[j]] = v
		}
		fj, _ := json.Marshal(feats)
		k := cl.Assign[i]
		if err := b.Append(version, asOf, c.ID, int32(k), profiles[k].Label, cl.Projection[i][0], cl.Projection[i][1], string(fj), computed); err != nil {
			b.Abort()
			return sum, fmt.Errorf("write cluster of organisation %d: %w", c.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return sum, fmt.Errorf("write clusters: %w", err)
	}
	if env.Store != nil {
		if err := storeClusters(ctx, env, cs, cl, profiles, version, asOf); err != nil {
			return sum, err
		}
	}
	sum.Rows, sum.Took = len(cs), time.Since(start)
	var tried []string
	for k := 2; k <= 8; k++ {
		if s, ok := cl.Tried[k]; ok {
			tried = append(tried, fmt.Sprintf("k=%d %.3f", k, s))
		}
	}
	sum.Lines = append(sum.Lines, fmt.Sprintf("company clusters as of %s: %d organisations, k = %d by silhouette (%s); PCA explains %.0f%% + %.0f%%",
		day(asOf), len(cs), cl.K, strings.Join(tried, ", "), 100*cl.Explained[0], 100*cl.Explained[1]))
	for _, p := range profiles {
		sum.Lines = append(sum.Lines, fmt.Sprintf("  cluster %d (%d): %s; mean revenue %.0f EUR, contracts %.0f EUR, interactions %.1f, placements %.1f, partnership %.1f; mostly %s",
			p.Cluster, p.Size, p.Label, p.MeanRevenue, p.MeanContracts, p.Means["interactions"], p.Means["placements"], p.Means["partnership_level"], p.TopSector))
	}
	return sum, nil
}

func storeClusters(ctx context.Context, env *Env, cs []Company, cl *models.Clustering, ps []ClusterProfile, version string, asOf time.Time) error {
	return pgx.BeginFunc(ctx, env.Store, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, query("pg_stage_clusters.sql")); err != nil {
			return fmt.Errorf("stage clusters: %w", err)
		}
		rows := make([][]any, len(cs))
		for i, c := range cs {
			rows[i] = []any{c.ID, int32(cl.Assign[i]), ps[cl.Assign[i]].Label}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cluster_stage"}, []string{"organisation_id", "cluster", "label"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy clusters: %w", err)
		}
		if _, err := tx.Exec(ctx, query("pg_upsert_clusters.sql"), version, day(asOf)); err != nil {
			return fmt.Errorf("store clusters: %w", err)
		}
		return nil
	})
}
