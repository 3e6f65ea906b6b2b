package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// Forest is a random forest of golearn decision trees (package trees, ID3
// with numeric thresholds and a random subset of features at each split,
// trees.RandomTreeRuleGenerator), bagged here rather than with golearn's
// ensemble.RandomForest: that package also holds the liblinear SVC, which
// needs cgo, and its forest only votes classes, while a donation score
// needs a probability.
//
// golearn grows each tree until its leaves are pure; a probability is read
// from the class counts golearn keeps at every node, stopping the walk at
// MaxDepth or at a node with fewer than MinLeaf examples (a smoothed
// estimate). Each tree sees a bootstrap of the positives and NegPerPos
// negatives per positive, at most MaxRows rows: rare outcomes
// (1% of alumni give) would otherwise leave most trees without a split on
// them; the sampling is undone exactly when probabilities are averaged.
type Forest struct {
	Features    []string
	Trees       int
	MaxDepth    int
	MinLeaf     int
	NegPerPos   float64
	Importances []float64 // permutation importance on the training set: ROC AUC lost when the feature is shuffled

	roots   []*trees.DecisionTreeNode
	flat    [][]flatNode // the roots, compiled for fast walks
	col     map[string]int
	negRate float64 // share of negatives each tree saw, to undo the sampling
}

// ForestOptions tune FitForest; zero values take defaults.
type ForestOptions struct {
	Trees     int     // default 60
	Attrs     int     // features tried at each split; default √d
	MaxDepth  int     // default 6
	MinLeaf   int     // default 20
	NegPerPos float64 // default 8
	MaxRows   int     // rows per tree at most (golearn's trees slow down fast with rows); default 3000
	Seed      uint64
}

// FitForest fits a forest to y ~ X.
func FitForest(X [][]float64, y []bool, names []string, opt ForestOptions) (*Forest, error) {
	n, d := len(X), len(names)
	if n != len(y) {
		return nil, fmt.Errorf("fit forest: %d rows for %d outcomes", n, len(y))
	}
	var pos, neg []int
	for i, v := range y {
		if v {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return nil, fmt.Errorf("fit forest: %d rows with %d positive outcomes: both classes are needed: %w", n, len(pos), ErrNotEnoughData)
	}
	if opt.Trees == 0 {
		opt.Trees = 60
	}
	if opt.Attrs == 0 {
		opt.Attrs = max(1, int(math.Round(math.Sqrt(float64(d)))))
	}
	if opt.MaxDepth == 0 {
		opt.MaxDepth = 6
	}
	if opt.MinLeaf == 0 {
		opt.MinLeaf = 20
	}
	if opt.NegPerPos == 0 {
		opt.NegPerPos = 8
	}
	f := &Forest{Features: names, Trees: opt.Trees, MaxDepth: opt.MaxDepth, MinLeaf: opt.MinLeaf, NegPerPos: opt.NegPerPos, col: map[string]int{}}
	for j, name := range names {
		f.col[name] = j
	}
	if opt.MaxRows == 0 {
		opt.MaxRows = 3000
	}
	// each tree: nPos positives and nNeg negatives, drawn with replacement
	nPos := min(len(pos), int(float64(opt.MaxRows)/(1+opt.NegPerPos)))
	nNeg := min(len(neg), int(opt.NegPerPos*float64(nPos)))
	f.negRate = (float64(nNeg) / float64(len(neg))) / (float64(nPos) / float64(len(pos)))
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	for t := 0; t < opt.Trees; t++ {
		rows := make([]int, 0, nPos+nNeg)
		for range nPos {
			rows = append(rows, pos[rng.IntN(len(pos))])
		}
		for range nNeg {
			rows = append(rows, neg[rng.IntN(len(neg))])
		}
		inst, err := instances(X, y, names, rows)
		if err != nil {
			return nil, err
		}
		rule := &trees.RandomTreeRuleGenerator{Attributes: min(opt.Attrs, d)}
		root := trees.InferID3Tree(inst, rule)
		f.roots = append(f.roots, root)
		f.flat = append(f.flat, f.compile(root))
	}
	f.Importances = f.permutationImportance(X, y, rng)
	return f, nil
}

// instances builds golearn's data grid of the given rows: one float
// attribute per feature and a class attribute "0"/"1".
func instances(X [][]float64, y []bool, names []string, rows []int) (*base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(names))
	for j, name := range names {
		a := base.NewFloatAttribute(name)
		a.Precision = 6
		specs[j] = inst.AddAttribute(a)
	}
	class := base.NewCategoricalAttribute()
	class.SetName("gave")
	class.GetSysValFromString("0")
	class.GetSysValFromString("1")
	cs := inst.AddAttribute(class)
	if err := inst.AddClassAttribute(class); err != nil {
		return nil, fmt.Errorf("forest class attribute: %w", err)
	}
	if err := inst.Extend(len(rows)); err != nil {
		return nil, fmt.Errorf("forest instances: %w", err)
	}
	for r, i := range rows {
		for j := range names {
			inst.Set(specs[j], r, base.PackFloatToBytes(X[i][j]))
		}
		label := "0"
		if y[i] {
			label = "1"
		}
		inst.Set(cs, r, class.GetSysValFromString(label))
	}
	return inst, nil
}

// nodeRate is a node's share of positives among the examples that reached
// it, with a Laplace prior, and how many reached it.
func nodeRate(nd *trees.DecisionTreeNode) (float64, int) {
	p, n := nd.ClassDist["1"], nd.ClassDist["0"]+nd.ClassDist["1"]
	return (float64(p) + 0.5) / (float64(n) + 1), n
}

// flatNode is a golearn tree node compiled for walking: the split's
// feature column (-1 at a leaf or below the depth limit), its threshold,
// the node's rate, and its children's positions (-1 when the child is
// missing or has fewer than MinLeaf examples: the walk stops here).
type flatNode struct {
	feat        int
	thr, rate   float64
	left, right int
}

// compile flattens a golearn tree, cutting it at MaxDepth and MinLeaf.
func (f *Forest) compile(root *trees.DecisionTreeNode) []flatNode {
	var out []flatNode
	var add func(nd *trees.DecisionTreeNode, depth int) int
	add = func(nd *trees.DecisionTreeNode, depth int) int {
		rate, _ := nodeRate(nd)
		i := len(out)
		out = append(out, flatNode{feat: -1, rate: rate, left: -1, right: -1})
		if nd.Children == nil || nd.SplitRule == nil || nd.SplitRule.SplitAttr == nil || depth >= f.MaxDepth {
			return i
		}
		col, ok := f.col[nd.SplitRule.SplitAttr.GetName()]
		if !ok {
			return i
		}
		out[i].feat, out[i].thr = col, nd.SplitRule.SplitVal
		for branch, child := range map[string]*trees.DecisionTreeNode{"0": nd.Children["0"], "1": nd.Children["1"]} {
			c := -1
			if child != nil {
				if _, n := nodeRate(child); n >= f.MinLeaf {
					c = add(child, depth+1)
				}
			}
			if branch == "0" {
				out[i].left = c
			} else {
				out[i].right = c
			}
		}
		return i
	}
	add(root, 0)
	return out
}

// walk follows x down one compiled tree and calls visit with each node's
// rate and the column of the split that led to it (-1 at the root).
func (f *Forest) walk(t []flatNode, x []float64, visit func(col int, rate float64)) {
	i, col := 0, -1
	for {
		nd := t[i]
		visit(col, nd.rate)
		if nd.feat < 0 {
			return
		}
		next := nd.left
		if x[nd.feat] > nd.thr {
			next = nd.right
		}
		if next < 0 {
			return
		}
		i, col = next, nd.feat
	}
}

// unsample turns a rate among sampled examples into a probability among all.
func (f *Forest) unsample(q float64) float64 {
	return q / (q + (1-q)/f.negRate)
}

// Predict is the mean over trees of the probability at the node x reaches.
func (f *Forest) Predict(x []float64) float64 {
	var s float64
	for _, t := range f.flat {
		var last float64
		f.walk(t, x, func(_ int, rate float64) { last = rate })
		s += f.unsample(last)
	}
	return s / float64(len(f.flat))
}

// Contributions splits x's score into each feature's push, on the log-odds
// scale: along x's path in a tree, every split moves the node's probability,
// and that move (in log-odds) is credited to the split's feature; the
// credits are averaged over the trees (Saabas' decomposition). They add up
// to the log-odds of the score minus that of the average tree root.
func (f *Forest) Contributions(x []float64) []Contribution {
	sums := make([]float64, len(f.Features))
	for _, t := range f.flat {
		prev := math.NaN()
		f.walk(t, x, func(col int, rate float64) {
			l := logit(f.unsample(rate))
			if col >= 0 {
				sums[col] += l - prev
			}
			prev = l
		})
	}
	out := make([]Contribution, len(f.Features))
	for j, name := range f.Features {
		out[j] = Contribution{Feature: name, Value: x[j], LogOdds: sums[j] / float64(len(f.flat))}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].LogOdds > out[b].LogOdds })
	return out
}

// permutationImportance is the ROC AUC lost on (X, y) when one feature's
// column is shuffled, per feature; on a random 10,000 rows at most (every
// row costs a walk of every tree per feature).
func (f *Forest) permutationImportance(X [][]float64, y []bool, rng *rand.Rand) []float64 {
	if len(X) > 10_000 {
		idx := rng.Perm(len(X))[:10_000]
		xs, ys := make([][]float64, len(idx)), make([]bool, len(idx))
		for i, j := range idx {
			xs[i], ys[i] = X[j], y[j]
		}
		X, y = xs, ys
	}
	score := func(rows [][]float64) float64 {
		p := make([]float64, len(rows))
		for i, x := range rows {
			p[i] = f.Predict(x)
		}
		e, err := Evaluate(p, y)
		if err != nil {
			return math.NaN()
		}
		return e.ROCAUC
	}
	base := score(X)
	out := make([]float64, len(f.Features))
	shuffled := make([][]float64, len(X))
	for j := range f.Features {
		perm := rng.Perm(len(X))
		for i, x := range X {
			row := append([]float64(nil), x...)
			row[j] = X[perm[i]][j]
			shuffled[i] = row
		}
		out[j] = base - score(shuffled)
	}
	return out
}

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-9), 1-1e-9)
	return math.Log(p / (1 - p))
}
