package sklearn

import (
	"math"
)

// Tree walking over row blocks. A fitted tree is re-laid out breadth first so
// that the two children of a split are adjacent (right = left + 1) and a leaf
// points at itself with a threshold no value exceeds. Every row of a block can
// then take exactly depth steps of
//
//	i = kids[i] + (x[feat[i]] > thr[i])
//
// in lockstep with the other rows: no branch on "is this a leaf", and the
// 256 independent walks of a block overlap their cache misses instead of
// chasing one pointer chain at a time. This is hand-written because nothing in
// arrow-go or the standard library walks trees; BenchmarkForestWalk (lockstep
// against the per-row walk in tree.leaf, on the same model and rows) is the
// measurement that keeps it.

// flatNode is one node of the breadth-first layout.
type flatNode struct {
	thr  float32 // the largest float32 <= threshold; +Inf for a leaf
	feat int32   // 0 for a leaf
	kids int32   // the left child (right is kids+1); a leaf's own index
	leaf int32   // a leaf's index in tree.nodes, else -1
}

// flatTree is a tree in the breadth-first layout.
type flatTree struct {
	nodes []flatNode
	depth int // the longest root-to-leaf path, in steps
}

// threshold32 returns the largest float32 t with float64(t) <= thr, so that for
// every float32 x that is not NaN, x <= t exactly when float64(x) <= thr: the
// float64 comparison scikit-learn makes after promoting the float32 feature. A
// NaN threshold (never written by scikit-learn) sends every value right, as the
// float64 comparison would.
func threshold32(thr float64) float32 {
	if thr != thr {
		return float32(math.Inf(-1))
	}
	t := float32(thr)
	if float64(t) > thr {
		t = math.Nextafter32(t, float32(math.Inf(-1)))
	}
	return t
}

// flatten builds the breadth-first layout of t. readTree has checked that every
// child comes after its parent, so the walk terminates and depth is bounded by
// the node count.
func flatten(t *tree) *flatTree {
	f := &flatTree{nodes: make([]flatNode, 1, len(t.nodes))}
	type item struct{ orig, depth int }
	queue := []item{{0, 0}}
	for q := 0; q < len(queue); q++ {
		it := queue[q]
		nd := &t.nodes[it.orig]
		if nd.left < 0 {
			f.nodes[q] = flatNode{thr: float32(math.Inf(1)), kids: int32(q), leaf: int32(it.orig)}
			f.depth = max(f.depth, it.depth)
			continue
		}
		kids := len(f.nodes)
		f.nodes = append(f.nodes, flatNode{}, flatNode{})
		f.nodes[q] = flatNode{thr: threshold32(nd.threshold), feat: nd.feature, kids: int32(kids), leaf: -1}
		queue = append(queue, item{int(nd.left), it.depth + 1}, item{int(nd.right), it.depth + 1})
	}
	return f
}

// leaves sets idx[r] to the index in t.nodes of row r's leaf, for the n rows of
// a row-major block of width F. Rows holding NaN in a tree that routes missing
// values (missing_go_to_left) take the per-row walk; every other row takes the
// lockstep walk.
func (t *tree) leaves(rows []float32, F, n int, idx []int32) {
	nodes := t.flat.nodes
	idx = idx[:n]
	for r := range idx {
		idx[r] = 0
	}
	for range t.flat.depth {
		for r, i := range idx {
			nd := &nodes[i]
			k := nd.kids
			if rows[r*F+int(nd.feat)] > nd.thr {
				k++
			}
			idx[r] = k
		}
	}
	for r, i := range idx {
		idx[r] = nodes[i].leaf
	}
	if t.missing {
		for r := range n {
			x := rows[r*F : (r+1)*F]
			for _, v := range x {
				if v != v {
					idx[r] = int32(t.leaf(x))
					break
				}
			}
		}
	}
}
