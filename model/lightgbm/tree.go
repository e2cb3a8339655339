package lightgbm

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Node kinds. They fold LightGBM's decision_type bits (bit 0 categorical, bit 1
// default_left, bits 2-3 missing type) into the three cases the walk needs.
const (
	// kindNum: missing type None or NaN. Left iff x <= threshold; NaN goes to
	// nanSide (None: NaN is read as 0, so left iff 0 <= threshold; NaN: the
	// default direction).
	kindNum uint8 = iota
	// kindNumZero: missing type Zero. NaN (read as 0) and zero (|x| <=
	// kZeroThreshold, already flushed to 0 in the row buffer) go to the default
	// direction; otherwise left iff x <= threshold.
	kindNumZero
	// kindCat: categorical. NaN, negative and too large values go right; else left
	// iff bit int(x) is set in the node's bitset.
	kindCat
)

// node is one split node (or a leaf's self-looping node, see tree). child[0] is
// the left child, child[1] the right: node indices, leaves being the nodes from
// tree.split on (in the text, and until parseNodes remaps them, leaves are ^leaf).
type node struct {
	thr   float64
	feat  int32
	child [2]int32
	catLo int32 // kindCat: the node's bitset words are cat[catLo:catHi]
	catHi int32
	kind  uint8
	// nanSide is where NaN goes (0 left, 1 right) for kindNum, and where zero
	// and NaN go for kindNumZero (the default direction).
	nanSide uint8
}

// tree is one LightGBM tree in flat arrays. nodes holds the split nodes
// [0, split) followed by one self-looping node per leaf [split, split+leaves):
// a walk steps until it reaches index split or above, and several rows can be
// stepped together without a per-row exit test. A one-leaf tree has no nodes.
type tree struct {
	nodes  []node
	split  int32
	leaves []float64
	cat    []uint32
	lin    *linear
}

// linear holds the per-leaf linear models of a linear tree (linear_tree=true):
// leaf i predicts konst[i] + sum coeff[j]*x[feat[j]] for j in [start[i],
// start[i+1]), or leaves[i] when any of those features is NaN.
type linear struct {
	konst []float64
	start []int32
	feat  []int32
	coeff []float64
}

func (t *tree) hasCat() bool {
	for i := range t.nodes[:t.split] {
		if t.nodes[i].kind == kindCat {
			return true
		}
	}
	return false
}

// leaf returns the index of the leaf row reaches. row holds every feature, with
// values |x| <= kZeroThreshold flushed to 0 (as LightGBM's dense-row reader does).
func (t *tree) leaf(row []float64) int32 {
	if len(t.nodes) == 0 {
		return 0
	}
	var i int32
	for i < t.split {
		i = t.step(i, row)
	}
	return i - t.split
}

// step moves from node i to the child row goes to (a leaf node stays put).
func (t *tree) step(i int32, row []float64) int32 {
	n := &t.nodes[i]
	return n.child[t.side(n, row[n.feat])]
}

// side is where x goes at node n: 0 left, 1 right.
func (t *tree) side(n *node, x float64) uint8 {
	// Set without a data-dependent branch in the numerical cases (the compiler
	// emits a flag set).
	var side uint8
	switch n.kind {
	case kindNum:
		if !(x <= n.thr) {
			side = 1
		}
		if x != x {
			side = n.nanSide
		}
	case kindNumZero:
		if !(x <= n.thr) {
			side = 1
		}
		if x == 0 || x != x {
			side = n.nanSide
		}
	default:
		if !t.catLeft(n, x) {
			side = 1
		}
	}
	return side & 1
}

// walkGroup is the number of rows walked through a tree in lock step: their
// independent chains of loads overlap instead of waiting on each other.
const walkGroup = 8

// leavesOf finds the leaves of rows [r0, r0+walkGroup) of the row-major block
// buf (nf values per row).
func (t *tree) leavesOf(buf []float64, nf, r0 int, out *[walkGroup]int32) {
	if t.split == 0 { // a one-leaf (linear) tree
		*out = [walkGroup]int32{}
		return
	}
	var cur [walkGroup]int32
	var rows [walkGroup][]float64
	for k := range rows {
		rows[k] = buf[(r0+k)*nf : (r0+k+1)*nf]
	}
	nodes := t.nodes
	for {
		lowest := t.split
		for k := range cur {
			n := &nodes[cur[k]]
			x := rows[k][n.feat]
			// The common numerical case inline; the rest through side.
			var s uint8
			if n.kind == kindNum {
				if !(x <= n.thr) {
					s = 1
				}
				if x != x {
					s = n.nanSide
				}
			} else {
				s = t.side(n, x)
			}
			c := n.child[s&1]
			cur[k] = c
			lowest = min(lowest, c)
		}
		if lowest >= t.split {
			break
		}
	}
	for k := range cur {
		out[k] = cur[k] - t.split
	}
}

// catLeft is LightGBM's CategoricalDecision: NaN goes right; otherwise the value
// is truncated to an int and a negative one goes right; else left iff its bit is
// set in the bitset (values past the bitset are not set). Values at or beyond
// 2^31 go right too: the C++ conversion overflows there (to INT_MIN on x86-64,
// INT_MAX on arm64, both of which end on the right).
func (t *tree) catLeft(n *node, x float64) bool {
	if !(x > -1 && x < 2147483648) { // NaN included
		return false
	}
	c := uint32(int32(x)) // truncation toward zero; (-1, 0) is category 0
	w := int32(c / 32)
	if w >= n.catHi-n.catLo {
		return false
	}
	return t.cat[n.catLo+w]>>(c%32)&1 == 1
}

// output is the tree's output for row, which reaches leaf l.
func (t *tree) output(l int32, row []float64) float64 {
	if t.lin == nil {
		return t.leaves[l]
	}
	lin := t.lin
	out := lin.konst[l]
	for j := lin.start[l]; j < lin.start[l+1]; j++ {
		x := row[lin.feat[j]]
		if x != x {
			return t.leaves[l]
		}
		// The conversion stops the compiler from fusing the multiply and add:
		// LightGBM rounds the product before adding it.
		out += float64(lin.coeff[j] * x)
	}
	return out
}

// parseTree builds a tree from its key=value lines, checking everything the walk
// relies on: array lengths, child and feature indices, bitset ranges and that the
// nodes form one tree rooted at node 0 (so a walk always ends at a leaf).
func parseTree(kv map[string]string, nf int) (tree, error) {
	var t tree
	nl, err := treeInt(kv, "num_leaves", 1, math.MaxInt32)
	if err != nil {
		return t, err
	}
	// Every leaf needs at least two bytes of leaf_value text: bound num_leaves by
	// that before anything is sized from it.
	if lv, ok := kv["leaf_value"]; !ok {
		return t, errors.New("no leaf_value line")
	} else if nl > len(lv)/2+1 {
		return t, fmt.Errorf("num_leaves=%d but leaf_value holds %d values", nl, countFields(lv))
	}
	ncat, err := treeInt(kv, "num_cat", 0, nl-1)
	if err != nil {
		return t, err
	}
	if t.leaves, err = parseFloats(kv["leaf_value"], nl, "leaf_value"); err != nil {
		return t, err
	}
	isLinear := false
	if s, ok := kv["is_linear"]; ok {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return t, fmt.Errorf("is_linear=%q is not an integer", clip(s))
		}
		isLinear = v != 0
	}
	if nl > 1 {
		if err := t.parseNodes(kv, nl, ncat, nf); err != nil {
			return t, err
		}
	}
	if isLinear {
		if t.lin, err = parseLinear(kv, nl, nf); err != nil {
			return t, err
		}
	}
	return t, nil
}

func treeInt(kv map[string]string, key string, lo, hi int) (int, error) {
	s, ok := kv[key]
	if !ok {
		return 0, fmt.Errorf("no %s line", key)
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not an integer", key, clip(s))
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s=%d is out of range [%d, %d]", key, v, lo, hi)
	}
	return v, nil
}

func (t *tree) parseNodes(kv map[string]string, nl, ncat, nf int) error {
	n := nl - 1
	need := func(key string) (string, error) {
		s, ok := kv[key]
		if !ok {
			return "", fmt.Errorf("no %s line", key)
		}
		return s, nil
	}
	ints := func(key string, lo, hi int64) ([]int64, error) {
		s, err := need(key)
		if err != nil {
			return nil, err
		}
		return parseInts(s, n, lo, hi, key)
	}
	left, err := ints("left_child", int64(-nl), int64(n-1))
	if err != nil {
		return err
	}
	right, err := ints("right_child", int64(-nl), int64(n-1))
	if err != nil {
		return err
	}
	feat, err := ints("split_feature", 0, int64(nf-1))
	if err != nil {
		if nf == 0 {
			return errors.New("the tree splits but the model has no features")
		}
		return err
	}
	s, err := need("threshold")
	if err != nil {
		return err
	}
	thr, err := parseFloats(s, n, "threshold")
	if err != nil {
		return err
	}
	var dt []int64
	if s, ok := kv["decision_type"]; ok {
		if dt, err = parseInts(s, n, -128, 127, "decision_type"); err != nil {
			return err
		}
	} else {
		dt = make([]int64, n) // LightGBM's default: numerical, missing None
	}
	var bounds []int64
	if ncat > 0 {
		s, err := need("cat_boundaries")
		if err != nil {
			return err
		}
		cs, err := need("cat_threshold")
		if err != nil {
			return err
		}
		words := countFields(cs)
		if bounds, err = parseInts(s, ncat+1, 0, int64(words), "cat_boundaries"); err != nil {
			return err
		}
		for i := 1; i < len(bounds); i++ {
			if bounds[i] < bounds[i-1] {
				return fmt.Errorf("cat_boundaries decrease at %d", i)
			}
		}
		if bounds[ncat] != int64(words) {
			return fmt.Errorf("cat_boundaries end at %d but cat_threshold has %d words", bounds[ncat], words)
		}
		cat, err := parseInts(cs, words, 0, math.MaxUint32, "cat_threshold")
		if err != nil {
			return err
		}
		t.cat = make([]uint32, len(cat))
		for i, v := range cat {
			t.cat[i] = uint32(v)
		}
	}

	t.nodes = make([]node, n, n+nl)
	t.split = int32(n)
	for i := range t.nodes {
		d := int8(dt[i])
		nd := node{thr: thr[i], feat: int32(feat[i]), child: [2]int32{int32(left[i]), int32(right[i])}}
		defaultLeft := d&2 != 0
		missing := (d >> 2) & 3
		switch {
		case d&1 != 0:
			nd.kind = kindCat
			// The threshold holds the index of the node's bitset.
			ci := thr[i]
			if !(ci >= 0 && ci < float64(ncat)) || ci != math.Trunc(ci) {
				return fmt.Errorf("node %d: categorical threshold %v is not a bitset index in [0, %d)", i, ci, ncat)
			}
			nd.catLo, nd.catHi = int32(bounds[int(ci)]), int32(bounds[int(ci)+1])
		case missing == 1:
			nd.kind = kindNumZero
			nd.nanSide = side(defaultLeft)
		case missing == 2:
			nd.kind = kindNum
			nd.nanSide = side(defaultLeft)
		default:
			// None (and the unused value 3): NaN is read as 0.
			nd.kind = kindNum
			nd.nanSide = side(0 <= thr[i])
		}
		t.nodes[i] = nd
	}
	if err := t.checkShape(nl); err != nil {
		return err
	}
	// Leaves become self-looping nodes after the splits; children that named
	// leaf l (as ^l) now name node split+l.
	for i := range t.nodes {
		for s, c := range t.nodes[i].child {
			if c < 0 {
				t.nodes[i].child[s] = t.split + ^c
			}
		}
	}
	for l := range int32(nl) {
		self := t.split + l
		t.nodes = append(t.nodes, node{child: [2]int32{self, self}})
	}
	return nil
}

// side is 0 for left, 1 for right.
func side(left bool) uint8 {
	if left {
		return 0
	}
	return 1
}

// checkShape verifies that the nodes form a single binary tree rooted at node 0:
// the root is nobody's child and every other node and every leaf is the child of
// exactly one node. Then a walk from the root visits each node at most once and
// always ends at a leaf: no cycles, no dangling children.
func (t *tree) checkShape(nl int) error {
	n := len(t.nodes)
	nodeRefs := make([]uint8, n)
	leafRefs := make([]uint8, nl)
	ref := func(from int, c int32) error {
		if c >= 0 {
			if c == 0 {
				return fmt.Errorf("node %d points back to the root", from)
			}
			if nodeRefs[c] > 0 {
				return fmt.Errorf("node %d is the child of two nodes (a cycle or a shared subtree)", c)
			}
			nodeRefs[c]++
			return nil
		}
		l := ^c
		if leafRefs[l] > 0 {
			return fmt.Errorf("leaf %d is the child of two nodes", l)
		}
		leafRefs[l]++
		return nil
	}
	for i := range t.nodes {
		for _, c := range t.nodes[i].child {
			if err := ref(i, c); err != nil {
				return err
			}
		}
	}
	// 2(n) child slots, each used once, cover the n-1 non-root nodes and the n+1
	// leaves: nothing can be left over, but say so if the counts disagree.
	for i := 1; i < n; i++ {
		if nodeRefs[i] == 0 {
			return fmt.Errorf("node %d is nobody's child", i)
		}
	}
	for l := range leafRefs {
		if leafRefs[l] == 0 {
			return fmt.Errorf("leaf %d is nobody's child", l)
		}
	}
	return nil
}

func parseLinear(kv map[string]string, nl, nf int) (*linear, error) {
	lin := &linear{start: make([]int32, nl+1)}
	var err error
	if s, ok := kv["leaf_const"]; ok {
		if lin.konst, err = parseFloats(s, nl, "leaf_const"); err != nil {
			return nil, err
		}
	} else {
		lin.konst = make([]float64, nl)
	}
	s, ok := kv["num_features"]
	if !ok {
		return lin, nil // no coefficients: every leaf predicts leaf_const
	}
	counts, err := parseInts(s, nl, 0, int64(nf), "num_features")
	if err != nil {
		return nil, err
	}
	total := int64(0)
	for i, c := range counts {
		total += c
		if total > math.MaxInt32 {
			return nil, errors.New("num_features sums past the int32 range")
		}
		lin.start[i+1] = int32(total)
	}
	if total == 0 {
		return lin, nil
	}
	fs, ok1 := kv["leaf_features"]
	cs, ok2 := kv["leaf_coeff"]
	if !ok1 || !ok2 {
		return nil, errors.New("num_features lists features but leaf_features or leaf_coeff is missing")
	}
	feats, err := parseInts(fs, int(total), 0, int64(nf-1), "leaf_features")
	if err != nil {
		return nil, err
	}
	if lin.coeff, err = parseFloats(cs, int(total), "leaf_coeff"); err != nil {
		return nil, err
	}
	lin.feat = make([]int32, len(feats))
	for i, f := range feats {
		lin.feat[i] = int32(f)
	}
	return lin, nil
}
