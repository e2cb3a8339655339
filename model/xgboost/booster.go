package xgboost

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// maxFeatures bounds num_feature: every feature is an input column of the model.
const maxFeatures = 1 << 20

// maxCategory is XGBoost's OutOfRangeCat (2^24 - 1 + 1): category values at or
// above it, or below zero, are invalid and take the left branch
// (src/common/categorical.h, InvalidCat and Decision).
const maxCategory = 1 << 24

type boosterKind uint8

const (
	kindTree boosterKind = iota
	kindDart
	kindLinear
)

// node is one tree node in the flat layout. The children of a split are stored
// next to each other: the right child is left+1.
type node struct {
	left int32   // absolute index of the left child; -1 for a leaf
	feat uint32  // feature index | flagDefaultLeft | flagCategorical
	val  float32 // threshold (numerical split), leaf value, or category-set index bits
}

const (
	flagDefaultLeft = 1 << 31
	flagCategorical = 1 << 30
	featMask        = 1<<30 - 1
)

// booster is a validated, immutable model ready to predict.
type booster struct {
	kind       boosterKind
	obj        objective
	numFeature int
	numOutput  int       // output groups: num_class, or num_target
	base       []float32 // intercept in margin space, one per output

	// Tree ensembles.
	nodes      []node
	treeStart  []int32   // index of each tree's root in nodes
	treeGroup  []int32   // output group of each tree (tree_info)
	treeCat    []bool    // tree has categorical splits
	treeWeight []float32 // DART weight_drop, nil for gbtree
	catSets    [][]int32 // sorted category sets of categorical splits
	layerEnds  []int     // trees in the first i+1 boosting rounds

	// The fixed-depth layout of numerical trees, for rows without NaN.
	fixed      []fixedNode
	fixedLeaf  []float32 // leaf value of each fixed node
	fixedStart []int32   // root of each tree in fixed
	fixedDepth []int32   // steps to walk; 0 when the tree uses the general walk

	// gblinear: weights[f*numOutput+g], bias at weights[numFeature*numOutput+g].
	weights []float32

	featureNames []string
	featureTypes []string
	attributes   map[string]string
	version      [3]int
	format       string
}

func (b *booster) numTrees() int { return len(b.treeStart) }

// build validates a decoded model and lays its trees out for prediction. Every
// index is checked: node children must be in range and reached once (no cycles,
// no shared subtrees), split features below num_feature, array lengths consistent.
func build(raw *rawModel) (*booster, error) {
	b := &booster{
		featureNames: raw.featureNames,
		featureTypes: raw.featureTypes,
		attributes:   raw.attributes,
		version:      raw.version,
		format:       raw.format,
	}
	var err error
	if b.obj, err = lookupObjective(raw.objective); err != nil {
		return nil, err
	}
	if raw.numFeature < 0 || raw.numFeature > maxFeatures {
		return nil, fmt.Errorf("num_feature is %d; mlbatch takes 0 to %d features", raw.numFeature, maxFeatures)
	}
	b.numFeature = int(raw.numFeature)
	if raw.numClass < 0 || raw.numClass > math.MaxInt32 || raw.numTarget < 0 || raw.numTarget > math.MaxInt32 {
		return nil, fmt.Errorf("invalid num_class %d / num_target %d", raw.numClass, raw.numTarget)
	}
	if raw.numClass > 1 && raw.numTarget > 1 {
		return nil, fmt.Errorf("num_class %d with num_target %d: multi-target multi-class models are not supported", raw.numClass, raw.numTarget)
	}
	b.numOutput = int(max(raw.numClass, raw.numTarget, 1))
	if b.numOutput > 1<<16 {
		return nil, fmt.Errorf("%d outputs is more than mlbatch supports", b.numOutput)
	}
	if b.obj.transform == transSoftprob || b.obj.transform == transSoftmax {
		if raw.numClass < 1 {
			return nil, fmt.Errorf("objective %s needs num_class, which is %d", b.obj.name, raw.numClass)
		}
	}
	if n := len(b.featureNames); n != 0 && n != b.numFeature {
		return nil, fmt.Errorf("%d feature_names for num_feature %d", n, b.numFeature)
	}
	if n := len(b.featureTypes); n != 0 && n != b.numFeature {
		return nil, fmt.Errorf("%d feature_types for num_feature %d", n, b.numFeature)
	}
	if err := b.setBase(raw); err != nil {
		return nil, err
	}

	switch raw.booster {
	case "gbtree", "dart":
		b.kind = kindTree
		if raw.booster == "dart" {
			b.kind = kindDart
		}
		if err := b.buildTrees(raw); err != nil {
			return nil, err
		}
		b.buildFixed()
	case "gblinear":
		b.kind = kindLinear
		want := (b.numFeature + 1) * b.numOutput
		if len(raw.linearWeights) != want {
			return nil, fmt.Errorf("gblinear has %d weights; want (num_feature+1) x outputs = %d", len(raw.linearWeights), want)
		}
		b.weights = raw.linearWeights
	default:
		return nil, fmt.Errorf("gradient booster %q is not supported (gbtree, dart and gblinear are)", raw.booster)
	}
	return b, nil
}

// setBase turns the stored intercept into margins, one per output.
func (b *booster) setBase(raw *rawModel) error {
	bs := raw.baseScore
	switch len(bs) {
	case 1:
		v := bs[0]
		bs = make([]float32, b.numOutput)
		for i := range bs {
			bs[i] = v
		}
	case b.numOutput:
		bs = slices.Clone(bs)
	default:
		return fmt.Errorf("base_score has %d values for %d outputs", len(bs), b.numOutput)
	}
	for i, v := range bs {
		if raw.marginBase && !strings.HasPrefix(b.obj.name, "multi:") {
			v = b.obj.transformOne(v)
		}
		m, err := b.obj.probToMargin(v)
		if err != nil {
			return err
		}
		bs[i] = m
	}
	b.base = bs
	return nil
}

func (b *booster) buildTrees(raw *rawModel) error {
	n := len(raw.trees)
	if len(raw.treeInfo) != n {
		return fmt.Errorf("tree_info has %d entries for %d trees", len(raw.treeInfo), n)
	}
	if b.kind == kindDart {
		if len(raw.weightDrop) != n {
			return fmt.Errorf("dart weight_drop has %d entries for %d trees", len(raw.weightDrop), n)
		}
		b.treeWeight = raw.weightDrop
	}
	total := 0
	for i := range raw.trees {
		total += len(raw.trees[i].left)
		if total > math.MaxInt32-2 {
			return fmt.Errorf("more than %d nodes", math.MaxInt32-2)
		}
	}
	b.nodes = make([]node, 0, total)
	b.treeStart = make([]int32, n)
	b.treeGroup = make([]int32, n)
	b.treeCat = make([]bool, n)
	for i := range raw.trees {
		g := raw.treeInfo[i]
		if g < 0 || int(g) >= b.numOutput {
			return fmt.Errorf("tree %d: tree_info %d is not an output group (0..%d)", i, g, b.numOutput-1)
		}
		b.treeGroup[i] = g
		b.treeStart[i] = int32(len(b.nodes))
		hasCat, err := b.addTree(&raw.trees[i])
		if err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
		b.treeCat[i] = hasCat
	}

	// Boosting rounds ("layers"), for the sklearn API's best_iteration.
	if ip := raw.iterationIndptr; len(ip) > 0 {
		if ip[0] != 0 || ip[len(ip)-1] != int64(n) {
			return fmt.Errorf("iteration_indptr must run from 0 to the number of trees (%d)", n)
		}
		for i := 1; i < len(ip); i++ {
			if ip[i] < ip[i-1] {
				return fmt.Errorf("iteration_indptr is not sorted")
			}
			b.layerEnds = append(b.layerEnds, int(ip[i]))
		}
	} else {
		npt := raw.numParallelTree
		if npt < 1 || npt > math.MaxInt32 {
			return fmt.Errorf("num_parallel_tree is %d", npt)
		}
		per := int(npt) * b.numOutput
		for end := per; ; end += per {
			if end >= n {
				if n > 0 {
					b.layerEnds = append(b.layerEnds, n)
				}
				break
			}
			b.layerEnds = append(b.layerEnds, end)
		}
	}
	return nil
}

// addTree validates one tree and appends it to b.nodes in breadth-first order
// with siblings adjacent.
func (b *booster) addTree(t *rawTree) (hasCat bool, err error) {
	n := len(t.left)
	if n == 0 {
		return false, fmt.Errorf("no nodes")
	}
	if len(t.right) != n || len(t.splitIndex) != n || len(t.cond) != n || len(t.defaultLeft) != n {
		return false, fmt.Errorf("inconsistent node arrays: left_children %d, right_children %d, split_indices %d, split_conditions %d, default_left %d",
			n, len(t.right), len(t.splitIndex), len(t.cond), len(t.defaultLeft))
	}
	if t.splitType != nil && len(t.splitType) != n {
		return false, fmt.Errorf("split_type has %d entries for %d nodes", len(t.splitType), n)
	}

	// Category sets, keyed by node.
	sets := map[int32]int{}
	if len(t.catNodes) > 0 || len(t.catSegments) > 0 || len(t.catSizes) > 0 {
		if len(t.catSegments) != len(t.catNodes) || len(t.catSizes) != len(t.catNodes) {
			return false, fmt.Errorf("categories_nodes %d, categories_segments %d and categories_sizes %d differ in length",
				len(t.catNodes), len(t.catSegments), len(t.catSizes))
		}
		for j, nd := range t.catNodes {
			if nd < 0 || int(nd) >= n {
				return false, fmt.Errorf("categories_nodes[%d] = %d is not a node", j, nd)
			}
			if j > 0 && nd <= t.catNodes[j-1] {
				return false, fmt.Errorf("categories_nodes is not strictly increasing")
			}
			seg, size := t.catSegments[j], t.catSizes[j]
			if seg < 0 || size < 0 || seg > int64(len(t.categories)) || size > int64(len(t.categories))-seg {
				return false, fmt.Errorf("node %d: category segment %d+%d is outside the %d categories", nd, seg, size, len(t.categories))
			}
			set := slices.Clone(t.categories[seg : seg+size])
			for _, c := range set {
				if c < 0 {
					return false, fmt.Errorf("node %d: negative category %d", nd, c)
				}
			}
			slices.Sort(set)
			set = slices.Compact(set)
			sets[nd] = len(b.catSets)
			b.catSets = append(b.catSets, set)
		}
	}

	base := int32(len(b.nodes))
	slot := make([]int32, n) // new position (relative to base) of each old node, -1 before it is reached
	for i := range slot {
		slot[i] = -1
	}
	slot[0] = 0
	b.nodes = append(b.nodes, node{})
	queue := []int32{0}
	for qi := 0; qi < len(queue); qi++ {
		old := queue[qi]
		at := base + slot[old]
		l, r := t.left[old], t.right[old]
		if l == -1 {
			b.nodes[at] = node{left: -1, val: t.cond[old]}
			continue
		}
		if l < 0 || int(l) >= n || r < 0 || int(r) >= n {
			return false, fmt.Errorf("node %d: children %d and %d are out of range (0..%d)", old, l, r, n-1)
		}
		if l == r || slot[l] >= 0 || slot[r] >= 0 {
			return false, fmt.Errorf("node %d: child %d or %d is reached twice (a cycle or a shared subtree)", old, l, r)
		}
		f := t.splitIndex[old]
		if f < 0 || f >= int64(b.numFeature) {
			return false, fmt.Errorf("node %d: split feature %d is not below num_feature %d", old, f, b.numFeature)
		}
		nd := node{feat: uint32(f), val: t.cond[old]}
		if t.defaultLeft[old] {
			nd.feat |= flagDefaultLeft
		}
		if t.splitType != nil && t.splitType[old] == 1 {
			hasCat = true
			nd.feat |= flagCategorical
			idx, ok := sets[old]
			if !ok {
				// A categorical split without stored categories: the empty set,
				// so every valid category goes left.
				idx = len(b.catSets)
				b.catSets = append(b.catSets, nil)
			}
			nd.val = math.Float32frombits(uint32(idx))
		}
		rel := int32(len(b.nodes)) - base
		slot[l], slot[r] = rel, rel+1
		nd.left = base + rel
		b.nodes[at] = nd
		b.nodes = append(b.nodes, node{}, node{})
		queue = append(queue, l, r)
	}
	return hasCat, nil
}

// treeEndFor returns how many trees the sklearn API uses for iteration_range
// (0, rounds); rounds <= 0 means all trees.
func (b *booster) treeEndFor(rounds int) (int, error) {
	if rounds <= 0 {
		return b.numTrees(), nil
	}
	if rounds > len(b.layerEnds) {
		return 0, fmt.Errorf("best_iteration %d is beyond the %d boosting rounds of the model", rounds-1, len(b.layerEnds))
	}
	return b.layerEnds[rounds-1], nil
}
