package xgboost

import (
	"math"
	"slices"
)

// blockRows is how many rows are transposed into the row-major buffer and
// pushed through every tree together. 256 rows x 13 features is 14 KB: the
// block and one tree stay in L1/L2 while each tree is applied to the block.
// Very wide models take fewer rows per block (blockRowsFor).
const blockRows = 256

// blockFloats bounds a block buffer (4 MB of float32).
const blockFloats = 1 << 20

func blockRowsFor(stride int) int {
	return max(1, min(blockRows, blockFloats/stride))
}

// A block is rows x stride float32, row-major, stride = numFeature+1: the extra
// slot of every row holds 0 and is the feature that the fixed-depth layout's
// leaves "split" on (see fixedNode).

// leafValue walks one tree (general layout) for one row.
//
// Missing values (NaN) go to the default child; a numerical split goes left iff
// x < threshold (float32, strict, as GetNextNode in xgboost's predict_fn.h); a
// categorical split goes right iff the category is in the node's set, and
// invalid categories (negative or >= 2^24) go left (common::Decision).
func (b *booster) leafValue(root int32, x []float32) float32 {
	nodes := b.nodes
	i := root
	for {
		n := nodes[i]
		if n.left < 0 {
			return n.val
		}
		v := x[n.feat&featMask]
		switch {
		case v < n.val:
			i = n.left
		case v != v && n.feat&flagDefaultLeft != 0:
			i = n.left
		default:
			i = n.left + 1
		}
	}
}

// leafValueCat is leafValue for trees with categorical splits.
func (b *booster) leafValueCat(root int32, x []float32) float32 {
	nodes := b.nodes
	i := root
	for {
		n := nodes[i]
		if n.left < 0 {
			return n.val
		}
		v := x[n.feat&featMask]
		if v != v {
			if n.feat&flagDefaultLeft != 0 {
				i = n.left
			} else {
				i = n.left + 1
			}
			continue
		}
		if n.feat&flagCategorical != 0 {
			if v < 0 || v >= maxCategory {
				i = n.left
				continue
			}
			set := b.catSets[math.Float32bits(n.val)]
			if _, found := slices.BinarySearch(set, int32(v)); found {
				i = n.left + 1
			} else {
				i = n.left
			}
			continue
		}
		if v < n.val {
			i = n.left
		} else {
			i = n.left + 1
		}
	}
}

// fixedNode is the fixed-depth layout of a numerical tree: every step is
// next = left + (x[feat] >= thr), with no test for leaves. A leaf points to
// itself, "splits" on the row's extra zero slot with threshold +Inf, and so
// stays put; its value is in fixedLeaf. After depth steps every row is on its
// leaf. Without NaN, x >= thr is exactly !(x < thr), xgboost's rule. A NaN
// compares false, so it goes left; nodes whose missing values go right carry
// fixedNaNRight in feat, which the walk for blocks with NaN adds in.
type fixedNode struct {
	left int32
	feat uint32 // feature index | fixedNaNRight
	thr  float32
}

const fixedNaNRight = 1 << 31

// maxFixedDepth bounds the depth of trees walked with the fixed-depth layout:
// every row takes depth steps, so deep, sparse trees are walked the general way.
const maxFixedDepth = 12

// buildFixed lays out tree t for the fixed-depth walk, or leaves it to the
// general walk (fixedDepth 0) when it is categorical or too deep.
func (b *booster) buildFixed() {
	n := b.numTrees()
	b.fixedStart = make([]int32, n)
	b.fixedDepth = make([]int32, n)
	sentinel := uint32(b.numFeature)
	for t := range n {
		if b.treeCat[t] {
			continue
		}
		start, end := b.treeStart[t], int32(len(b.nodes))
		if t+1 < n {
			end = b.treeStart[t+1]
		}
		// Depth: the layout is breadth-first with children after parents.
		depth := make([]int32, end-start)
		maxDepth := int32(0)
		for i := start; i < end; i++ {
			nd := b.nodes[i]
			if nd.left >= 0 {
				d := depth[i-start] + 1
				depth[nd.left-start], depth[nd.left+1-start] = d, d
				maxDepth = max(maxDepth, d)
			}
		}
		if maxDepth > maxFixedDepth {
			continue
		}
		base := int32(len(b.fixed))
		b.fixedStart[t] = base
		b.fixedDepth[t] = max(maxDepth, 1)
		for i := start; i < end; i++ {
			nd := b.nodes[i]
			if nd.left < 0 {
				b.fixed = append(b.fixed, fixedNode{left: base + (i - start), feat: sentinel, thr: float32(math.Inf(1))})
				b.fixedLeaf = append(b.fixedLeaf, nd.val)
				continue
			}
			f := nd.feat & featMask
			if nd.feat&flagDefaultLeft == 0 {
				f |= fixedNaNRight
			}
			b.fixed = append(b.fixed, fixedNode{left: base + (nd.left - start), feat: f, thr: nd.val})
			b.fixedLeaf = append(b.fixedLeaf, 0)
		}
	}
}

// treeLeaves puts tree t's leaf value for each row of the block in leaves.
func (b *booster) treeLeaves(t int, X []float32, stride, rows int, nanFree bool, leaves []float32) {
	if b.fixedDepth[t] > 0 {
		if nanFree {
			b.fixedLeaves(b.fixedStart[t], int(b.fixedDepth[t]), X, stride, rows, leaves)
		} else {
			b.fixedLeavesNaN(b.fixedStart[t], int(b.fixedDepth[t]), X, stride, rows, leaves)
		}
		return
	}
	root := b.treeStart[t]
	nf := b.numFeature
	if b.treeCat[t] {
		for r := range rows {
			leaves[r] = b.leafValueCat(root, X[r*stride:r*stride+nf])
		}
		return
	}
	for r := range rows {
		leaves[r] = b.leafValue(root, X[r*stride:r*stride+nf])
	}
}

// fixedLeaves walks eight rows at a time in lock step: eight independent
// chains of loads keep the CPU busy where one row's walk would wait on each load.
func (b *booster) fixedLeaves(root int32, depth int, X []float32, stride, rows int, leaves []float32) {
	nodes := b.fixed
	leafVal := b.fixedLeaf
	leaves = leaves[:rows]
	r := 0
	for ; r+8 <= rows; r += 8 {
		x0 := X[(r+0)*stride : (r+1)*stride]
		x1 := X[(r+1)*stride : (r+2)*stride]
		x2 := X[(r+2)*stride : (r+3)*stride]
		x3 := X[(r+3)*stride : (r+4)*stride]
		x4 := X[(r+4)*stride : (r+5)*stride]
		x5 := X[(r+5)*stride : (r+6)*stride]
		x6 := X[(r+6)*stride : (r+7)*stride]
		x7 := X[(r+7)*stride : (r+8)*stride]
		i0, i1, i2, i3, i4, i5, i6, i7 := root, root, root, root, root, root, root, root
		for range depth {
			n0, n1, n2, n3 := nodes[i0], nodes[i1], nodes[i2], nodes[i3]
			n4, n5, n6, n7 := nodes[i4], nodes[i5], nodes[i6], nodes[i7]
			i0 = n0.left + b2i(x0[n0.feat&featMask] >= n0.thr)
			i1 = n1.left + b2i(x1[n1.feat&featMask] >= n1.thr)
			i2 = n2.left + b2i(x2[n2.feat&featMask] >= n2.thr)
			i3 = n3.left + b2i(x3[n3.feat&featMask] >= n3.thr)
			i4 = n4.left + b2i(x4[n4.feat&featMask] >= n4.thr)
			i5 = n5.left + b2i(x5[n5.feat&featMask] >= n5.thr)
			i6 = n6.left + b2i(x6[n6.feat&featMask] >= n6.thr)
			i7 = n7.left + b2i(x7[n7.feat&featMask] >= n7.thr)
		}
		l := leaves[r : r+8 : r+8]
		l[0], l[1], l[2], l[3] = leafVal[i0], leafVal[i1], leafVal[i2], leafVal[i3]
		l[4], l[5], l[6], l[7] = leafVal[i4], leafVal[i5], leafVal[i6], leafVal[i7]
	}
	for ; r < rows; r++ {
		x := X[r*stride : (r+1)*stride]
		i := root
		for range depth {
			n := nodes[i]
			i = n.left + b2i(x[n.feat&featMask] >= n.thr)
		}
		leaves[r] = leafVal[i]
	}
}

// fixedLeavesNaN is fixedLeaves for blocks with missing values: a NaN goes
// right where the node's default is right, still without branches.
func (b *booster) fixedLeavesNaN(root int32, depth int, X []float32, stride, rows int, leaves []float32) {
	nodes := b.fixed
	leafVal := b.fixedLeaf
	leaves = leaves[:rows]
	r := 0
	for ; r+4 <= rows; r += 4 {
		x0 := X[(r+0)*stride : (r+1)*stride]
		x1 := X[(r+1)*stride : (r+2)*stride]
		x2 := X[(r+2)*stride : (r+3)*stride]
		x3 := X[(r+3)*stride : (r+4)*stride]
		i0, i1, i2, i3 := root, root, root, root
		for range depth {
			n0, n1, n2, n3 := nodes[i0], nodes[i1], nodes[i2], nodes[i3]
			i0 = n0.left + nanStep(x0[n0.feat&featMask], n0)
			i1 = n1.left + nanStep(x1[n1.feat&featMask], n1)
			i2 = n2.left + nanStep(x2[n2.feat&featMask], n2)
			i3 = n3.left + nanStep(x3[n3.feat&featMask], n3)
		}
		l := leaves[r : r+4 : r+4]
		l[0], l[1], l[2], l[3] = leafVal[i0], leafVal[i1], leafVal[i2], leafVal[i3]
	}
	for ; r < rows; r++ {
		x := X[r*stride : (r+1)*stride]
		i := root
		for range depth {
			n := nodes[i]
			i = n.left + nanStep(x[n.feat&featMask], n)
		}
		leaves[r] = leafVal[i]
	}
}

// nanStep is 1 to go right: x >= thr, or x is NaN and the node sends missing
// values right.
func nanStep(v float32, n fixedNode) int32 {
	return b2i(v >= n.thr) | b2i(v != v)&int32(n.feat>>31)
}

func b2i(c bool) int32 {
	if c {
		return 1
	}
	return 0
}

// addTrees adds trees [0, treeEnd) to the margins of a block of rows; out
// holds rows x numOutput margins and already contains the intercept.
//
// The sums are float32 and follow XGBoost's order: intercept first, then the
// trees in model order (CPUPredictor, PredictByAllTrees). DART trees are
// weighted; xgboost 1.7's DMatrix path (Booster.predict) adds leaf*w, its
// inplace path (the sklearn API's predict) adds ((base+leaf)-base)*w because
// each single-tree prediction it weights starts from the intercept
// (Dart::InplacePredict).
func (b *booster) addTrees(X []float32, stride, rows int, nanFree bool, out []float32, treeEnd int, dartInplace bool, leaves []float32) {
	ng := b.numOutput
	for t := 0; t < treeEnd; t++ {
		b.treeLeaves(t, X, stride, rows, nanFree, leaves)
		g := int(b.treeGroup[t])
		switch {
		case b.kind != kindDart:
			if ng == 1 {
				o := out[:rows]
				for r, v := range leaves[:rows] {
					o[r] += v
				}
				continue
			}
			for r, v := range leaves[:rows] {
				out[r*ng+g] += v
			}
		case dartInplace:
			w := b.treeWeight[t]
			base := b.base[g]
			for r, v := range leaves[:rows] {
				s := float32(base + v)
				out[r*ng+g] += float32(float32(s-base) * w)
			}
		default:
			w := b.treeWeight[t]
			for r, v := range leaves[:rows] {
				out[r*ng+g] += float32(v * w)
			}
		}
	}
}

// linearMargins computes gblinear margins for a block: for each output,
// (bias + intercept) then each present (non-NaN) feature's x*w in feature
// order, all in float32 (GBLinear::Pred).
func (b *booster) linearMargins(X []float32, stride, rows int, out []float32) {
	nf, ng := b.numFeature, b.numOutput
	bias := b.weights[nf*ng:]
	for r := range rows {
		x := X[r*stride : r*stride+nf]
		for g := range ng {
			psum := float32(bias[g] + b.base[g])
			for f, v := range x {
				if v != v {
					continue
				}
				psum += float32(v * b.weights[f*ng+g])
			}
			out[r*ng+g] = psum
		}
	}
}

// initMargins fills a block of margins with the intercept.
func (b *booster) initMargins(out []float32, rows int) {
	ng := b.numOutput
	for r := range rows {
		copy(out[r*ng:r*ng+ng], b.base)
	}
}
