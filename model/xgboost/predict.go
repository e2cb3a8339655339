package xgboost

import (
	"math"
	"slices"
)

// blockRows is how many rows are transposed into the row-major buffer and
// pushed through every tree together. 256 rows x 13 features is 13 KB: the
// block and one tree stay in L1/L2 while each tree is applied to the block.
const blockRows = 256

// leafValue walks one tree for one row of float32 features.
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

// addTrees adds trees [0, treeEnd) to the margins of a block of rows.
// X holds rows x numFeature features, row-major; out holds rows x numOutput
// margins and already contains the intercept.
//
// The sums are float32 and follow XGBoost's order: intercept first, then the
// trees in model order (CPUPredictor, PredictByAllTrees). DART trees are
// weighted; xgboost 1.7's DMatrix path (Booster.predict) adds leaf*w, its
// inplace path (the sklearn API's predict) adds ((base+leaf)-base)*w because
// each single-tree prediction it weights starts from the intercept
// (Dart::InplacePredict).
func (b *booster) addTrees(X []float32, rows int, out []float32, treeEnd int, dartInplace bool) {
	nf, ng := b.numFeature, b.numOutput
	for t := 0; t < treeEnd; t++ {
		root := b.treeStart[t]
		g := int(b.treeGroup[t])
		walk := b.leafValue
		if b.treeCat[t] {
			walk = b.leafValueCat
		}
		switch {
		case b.kind != kindDart:
			if ng == 1 && !b.treeCat[t] {
				b.addTreeFast(root, X, rows, out)
				continue
			}
			for r := range rows {
				out[r*ng+g] += walk(root, X[r*nf:r*nf+nf])
			}
		case dartInplace:
			w := b.treeWeight[t]
			base := b.base[g]
			for r := range rows {
				v := float32(base + walk(root, X[r*nf:r*nf+nf]))
				out[r*ng+g] += float32(float32(v-base) * w)
			}
		default:
			w := b.treeWeight[t]
			for r := range rows {
				out[r*ng+g] += float32(walk(root, X[r*nf:r*nf+nf]) * w)
			}
		}
	}
}

// addTreeFast is the single-output, numerical-split case of addTrees, with the
// walk inlined.
func (b *booster) addTreeFast(root int32, X []float32, rows int, out []float32) {
	nodes := b.nodes
	nf := b.numFeature
	out = out[:rows]
	for r := range out {
		x := X[r*nf : r*nf+nf]
		i := root
		for {
			n := nodes[i]
			if n.left < 0 {
				out[r] += n.val
				break
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
}

// linearMargins computes gblinear margins for a block: for each output,
// (bias + intercept) then each present (non-NaN) feature's x*w in feature
// order, all in float32 (GBLinear::Pred).
func (b *booster) linearMargins(X []float32, rows int, out []float32) {
	nf, ng := b.numFeature, b.numOutput
	bias := b.weights[nf*ng:]
	for r := range rows {
		x := X[r*nf : r*nf+nf]
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
