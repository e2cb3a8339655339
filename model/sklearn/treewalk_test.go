package sklearn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLockstepLeaves checks that the breadth-first lockstep walk finds, for
// every tree of the committed 500-tree forest and every row, the leaf the
// per-row walk (the direct transcription of scikit-learn's apply) finds.
func TestLockstepLeaves(t *testing.T) {
	f, rows := forestBlock(t)
	F := f.nFeat
	n := len(rows) / F
	var idx [blockRows]int32
	for k, tr := range f.trees {
		tr.leaves(rows, F, n, idx[:])
		for r := range n {
			if want := tr.leaf(rows[r*F : (r+1)*F]); int(idx[r]) != want {
				t.Fatalf("tree %d row %d: lockstep leaf %d, per-row leaf %d", k, r, idx[r], want)
			}
		}
	}
}

// TestThreshold32 checks the float32 threshold against the float64 comparison
// scikit-learn makes, on values at, just above and just below the threshold.
func TestThreshold32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(x float32, thr float64) {
		t.Helper()
		if got, want := x <= threshold32(thr), float64(x) <= thr; got != want {
			t.Fatalf("x=%g thr=%g: float32 comparison %v, float64 %v", x, thr, got, want)
		}
	}
	for range 100000 {
		x := float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10)))
		xd := float64(x)
		for _, thr := range []float64{xd, math.Nextafter(xd, math.Inf(1)), math.Nextafter(xd, math.Inf(-1)),
			(xd + float64(math.Nextafter32(x, float32(math.Inf(1))))) / 2, rng.NormFloat64()} {
			check(x, thr)
			check(math.Nextafter32(x, float32(math.Inf(1))), thr)
			check(math.Nextafter32(x, float32(math.Inf(-1))), thr)
		}
	}
	for _, thr := range []float64{math.MaxFloat64, -math.MaxFloat64, math.MaxFloat32, -math.MaxFloat32, 0, math.Copysign(0, -1), math.NaN()} {
		for _, x := range []float32{math.MaxFloat32, -math.MaxFloat32, 0, 1, -1, math.SmallestNonzeroFloat32} {
			check(x, thr)
		}
	}
}

// TestLockstepMissing checks rows with NaN in a tree that routes missing
// values: they take the per-row walk and follow missing_go_to_left.
func TestLockstepMissing(t *testing.T) {
	// root: x0 <= 0.5, missing right; left leaf 1; right: x1 <= 2, missing left.
	tr := &tree{nodes: []node{
		{threshold: 0.5, left: 1, right: 2, feature: 0},
		{left: -1, right: -1},
		{threshold: 2, left: 3, right: 4, feature: 1, missLeft: true},
		{left: -1, right: -1},
		{left: -1, right: -1},
	}, missing: true, nFeat: 2}
	tr.flat = flatten(tr)
	nan := float32(math.NaN())
	rows := []float32{0, 0, 1, 1, 1, 3, nan, 1, 1, nan, nan, nan}
	want := []int32{1, 3, 4, 3, 3, 3}
	var idx [blockRows]int32
	tr.leaves(rows, 2, 6, idx[:])
	for r, w := range want {
		if idx[r] != w {
			t.Errorf("row %d (%v): leaf %d, want %d", r, rows[r*2:r*2+2], idx[r], w)
		}
	}
}
