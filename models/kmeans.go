package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Clustering is k-means on standardised features, with k chosen by the mean
// silhouette, and a 2-D PCA projection of the points for a scatter chart.
type Clustering struct {
	K          int
	Features   []string
	Mean, Std  []float64   // standardisation of the inputs
	Centroids  [][]float64 // in standardised units
	Assign     []int       // cluster of each input row
	Silhouette float64     // mean silhouette of the chosen k
	Tried      map[int]float64
	Projection [][2]float64 // first two principal components of each row
	Explained  [2]float64   // share of variance the two components explain
}

// ClusterOptions tune Cluster; zero values take defaults.
type ClusterOptions struct {
	MinK, MaxK int    // range of k tried; default 2..8
	Restarts   int    // k-means++ restarts per k, best inertia kept; default 5
	Seed       uint64 // for reproducible runs
}

// Cluster standardises X (rows = items, columns = names), runs k-means for
// each k in range and keeps the k with the best mean silhouette.
func Cluster(X [][]float64, names []string, opt ClusterOptions) (*Clustering, error) {
	n, d := len(X), len(names)
	if opt.MinK == 0 {
		opt.MinK = 2
	}
	if opt.MaxK == 0 {
		opt.MaxK = 8
	}
	if opt.Restarts == 0 {
		opt.Restarts = 5
	}
	if n < opt.MinK+1 {
		return nil, fmt.Errorf("cluster: %d rows are too few for k=%d: %w", n, opt.MinK, ErrNotEnoughData)
	}
	opt.MaxK = min(opt.MaxK, n-1)
	c := &Clustering{Features: names, Mean: make([]float64, d), Std: make([]float64, d), Tried: map[int]float64{}}
	Z := make([][]float64, n)
	col := make([]float64, n)
	for j := 0; j < d; j++ {
		for i, row := range X {
			if len(row) != d {
				return nil, fmt.Errorf("cluster: row %d has %d features, want %d", i, len(row), d)
			}
			if math.IsNaN(row[j]) || math.IsInf(row[j], 0) {
				return nil, fmt.Errorf("cluster: row %d feature %s is %v", i, names[j], row[j])
			}
			col[i] = row[j]
		}
		c.Mean[j], c.Std[j] = stat.PopMeanStdDev(col, nil)
		if c.Std[j] == 0 {
			c.Std[j] = 1
		}
	}
	for i, row := range X {
		Z[i] = make([]float64, d)
		for j, v := range row {
			Z[i][j] = (v - c.Mean[j]) / c.Std[j]
		}
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6b6d65616e73))
	best := -2.0
	for k := opt.MinK; k <= opt.MaxK; k++ {
		var cent [][]float64
		var assign []int
		inertia := math.Inf(1)
		for r := 0; r < opt.Restarts; r++ {
			ce, as, in := kmeans(Z, k, rng)
			if in < inertia {
				cent, assign, inertia = ce, as, in
			}
		}
		s := silhouette(Z, assign, k)
		c.Tried[k] = s
		if s > best {
			best, c.K, c.Centroids, c.Assign, c.Silhouette = s, k, cent, assign, s
		}
	}
	if err := c.project(Z); err != nil {
		return nil, err
	}
	return c, nil
}

// kmeans runs Lloyd's algorithm from a k-means++ start.
func kmeans(Z [][]float64, k int, rng *rand.Rand) (cent [][]float64, assign []int, inertia float64) {
	n := len(Z)
	cent = [][]float64{append([]float64(nil), Z[rng.IntN(n)]...)}
	dist := make([]float64, n)
	for len(cent) < k {
		var sum float64
		for i, z := range Z {
			dist[i] = math.Inf(1)
			for _, c := range cent {
				dist[i] = math.Min(dist[i], sqDist(z, c))
			}
			sum += dist[i]
		}
		pick := rng.IntN(n)
		if sum > 0 {
			r := rng.Float64() * sum
			for i, dv := range dist {
				if r -= dv; r <= 0 {
					pick = i
					break
				}
			}
		}
		cent = append(cent, append([]float64(nil), Z[pick]...))
	}
	assign = make([]int, n)
	for it := 0; it < 100; it++ {
		changed := false
		inertia = 0
		for i, z := range Z {
			bi, bd := 0, math.Inf(1)
			for c := range cent {
				if dv := sqDist(z, cent[c]); dv < bd {
					bi, bd = c, dv
				}
			}
			if assign[i] != bi || it == 0 {
				changed = changed || assign[i] != bi
				assign[i] = bi
			}
			inertia += bd
		}
		if !changed && it > 0 {
			break
		}
		counts := make([]int, k)
		for c := range cent {
			for j := range cent[c] {
				cent[c][j] = 0
			}
		}
		for i, z := range Z {
			counts[assign[i]]++
			floats.Add(cent[assign[i]], z)
		}
		for c := range cent {
			if counts[c] == 0 { // an empty cluster restarts at a random point
				copy(cent[c], Z[rng.IntN(n)])
				continue
			}
			floats.Scale(1/float64(counts[c]), cent[c])
		}
	}
	return cent, assign, inertia
}

// silhouette is the mean silhouette coefficient of an assignment.
func silhouette(Z [][]float64, assign []int, k int) float64 {
	n := len(Z)
	size := make([]int, k)
	for _, a := range assign {
		size[a]++
	}
	var total float64
	sum := make([]float64, k)
	for i := range Z {
		for c := range sum {
			sum[c] = 0
		}
		for j := range Z {
			if i != j {
				sum[assign[j]] += math.Sqrt(sqDist(Z[i], Z[j]))
			}
		}
		own := assign[i]
		if size[own] <= 1 {
			continue // silhouette of a singleton is 0
		}
		a := sum[own] / float64(size[own]-1)
		b := math.Inf(1)
		for c := 0; c < k; c++ {
			if c != own && size[c] > 0 {
				b = math.Min(b, sum[c]/float64(size[c]))
			}
		}
		if m := math.Max(a, b); m > 0 && !math.IsInf(b, 1) {
			total += (b - a) / m
		}
	}
	return total / float64(n)
}

// project computes the first two principal components with gonum's PCA.
func (c *Clustering) project(Z [][]float64) error {
	n, d := len(Z), len(c.Features)
	data := mat.NewDense(n, d, nil)
	for i, z := range Z {
		data.SetRow(i, z)
	}
	var pc stat.PC
	if ok := pc.PrincipalComponents(data, nil); !ok {
		return errors.New("cluster: PCA did not converge")
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	comps := min(2, d)
	var proj mat.Dense
	proj.Mul(data, vecs.Slice(0, d, 0, comps))
	c.Projection = make([][2]float64, n)
	for i := range c.Projection {
		for j := 0; j < comps; j++ {
			c.Projection[i][j] = proj.At(i, j)
		}
	}
	vars := pc.VarsTo(nil)
	total := floats.Sum(vars)
	for j := 0; j < comps && total > 0; j++ {
		c.Explained[j] = vars[j] / total
	}
	return nil
}

func sqDist(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
