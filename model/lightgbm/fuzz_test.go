package lightgbm

import (
	"context"
	"math"
	"testing"
)

// FuzzParseText feeds ParseText arbitrary text (seeds in
// testdata/fuzz/FuzzParseText: small models of every kind, hostile variants and
// fixtures) and scores whatever loads with values that reach every kind of
// branch: neither may panic, and a loaded model must give NumClass finite-or-NaN
// scores per row without indexing out of range.
func FuzzParseText(f *testing.F) {
	f.Add([]byte(small))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseText(data)
		if err != nil {
			if b != nil {
				t.Fatal("a model and an error")
			}
			return
		}
		nf := b.NumFeatures()
		if nf > 1<<12 {
			return // valid, but too wide to score quickly here
		}
		probes := []float64{math.NaN(), 0, -0.5, 1, 1e10, -1e10, 33, 2.5, 1e-36, math.Inf(1)}
		rows := len(probes)
		cols := make([][]float64, nf)
		for j := range cols {
			cols[j] = make([]float64, rows)
			for i := range rows {
				cols[j][i] = probes[(i+j)%len(probes)]
			}
		}
		out := make([]float64, rows*b.NumClass)
		if err := b.Predict(context.Background(), cols, rows, out); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeSklearn feeds the scikit-learn model decoder arbitrary pickles (seeds
// in testdata/fuzz/FuzzDecodeSklearn: the fixtures' model.pkl files).
func FuzzDecodeSklearn(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		est, err := decodeSklearn(data)
		if err != nil {
			return
		}
		b := est.booster
		if est.iters < 0 || est.iters > b.numIter {
			t.Fatalf("iterations %d of %d", est.iters, b.numIter)
		}
		if est.classes != nil && len(est.classes.Names) != max(b.NumClass, 2) {
			t.Fatalf("%d classes for %d scores", len(est.classes.Names), b.NumClass)
		}
	})
}
