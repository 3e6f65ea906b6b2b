package models

import (
	"math/rand/v2"
	"testing"
)

// TestClusterFindsPlantedGroups plants well separated groups and checks that
// the silhouette picks their number and that each group lands in one cluster.
func TestClusterFindsPlantedGroups(t *testing.T) {
	tests := []struct {
		name    string
		centres [][]float64
	}{
		{"three groups", [][]float64{{0, 0, 0}, {10, 0, 5}, {0, 10, -5}}},
		{"four groups", [][]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {10, 10, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			var X [][]float64
			var truth []int
			for g, c := range tt.centres {
				for i := 0; i < 60; i++ {
					X = append(X, []float64{c[0] + rng.NormFloat64(), c[1] + rng.NormFloat64(), c[2] + rng.NormFloat64()})
					truth = append(truth, g)
				}
			}
			c, err := Cluster(X, []string{"size", "revenue", "contracts"}, ClusterOptions{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if c.K != len(tt.centres) {
				t.Fatalf("k = %d, want %d (silhouettes %v)", c.K, len(tt.centres), c.Tried)
			}
			// every planted group maps to exactly one cluster, and vice versa
			g2c := map[int]int{}
			for i, a := range c.Assign {
				if prev, ok := g2c[truth[i]]; ok && prev != a {
					t.Fatalf("group %d split across clusters %d and %d", truth[i], prev, a)
				}
				g2c[truth[i]] = a
			}
			if len(g2c) != c.K {
				t.Errorf("groups merged: %v", g2c)
			}
			if c.Silhouette < 0.5 || len(c.Projection) != len(X) || c.Explained[0] <= 0 || c.Explained[0]+c.Explained[1] > 1+1e-9 {
				t.Errorf("silhouette %.3f, projection %d rows, explained %v", c.Silhouette, len(c.Projection), c.Explained)
			}
		})
	}
}

func TestClusterRejects(t *testing.T) {
	if _, err := Cluster([][]float64{{1}, {2}}, []string{"x"}, ClusterOptions{}); err == nil {
		t.Error("two rows: no error")
	}
	if _, err := Cluster([][]float64{{1, 2}, {2}, {3, 4}, {5, 6}}, []string{"x", "y"}, ClusterOptions{}); err == nil {
		t.Error("ragged rows: no error")
	}
}
