package sklearn

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// BenchmarkLoadForest500 loads the committed 500-tree RandomForestClassifier:
// reading MLmodel, decoding the pickle and flattening every tree.
func BenchmarkLoadForest500(b *testing.B) {
	dir := filepath.Join(testdata, "models", "rf_clf_500_bc")
	st, err := os.Stat(filepath.Join(dir, "model.pkl"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, _, err := model.Load(dir, model.LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredictForest500 predicts the 500-tree forest's labels and
// probabilities over its fixture input, one goroutine.
func BenchmarkPredictForest500(b *testing.B) {
	benchPredict(b, "models/rf_clf_500_bc", "models/breast_cancer_input.csv")
}

// BenchmarkPredictGradientBoosting scores a GradientBoostingClassifier.
func BenchmarkPredictGradientBoosting(b *testing.B) {
	benchPredict(b, "models/gbc_multiclass_iris", "models/iris_input.csv")
}

func benchPredict(b *testing.B, dir, input string) {
	m, _, err := model.Load(filepath.Join(testdata, dir), model.LoadOptions{Proba: true})
	if err != nil {
		b.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	feats, rows := featureArrays(b, m, filepath.Join(testdata, input), mem)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		outs, err := m.Predict(context.Background(), model.Features{Cols: feats, Rows: rows}, mem)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range outs {
			a.Release()
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkForestWalk times finding the leaves of the committed 500-tree forest
// for blocks of 256 breast-cancer rows: the lockstep breadth-first walk the
// estimators use (tree.leaves) against the per-row walk (tree.leaf) it
// replaced. Both give the same leaves (TestLockstepLeaves).
func BenchmarkForestWalk(b *testing.B) {
	f, rows := forestBlock(b)
	F := f.nFeat
	n := len(rows) / F
	var idx [blockRows]int32
	b.Run("lockstep", func(b *testing.B) {
		for b.Loop() {
			for _, t := range f.trees {
				t.leaves(rows, F, n, idx[:])
			}
		}
		b.ReportMetric(float64(n*len(f.trees))*float64(b.N)/b.Elapsed().Seconds(), "walks/s")
	})
	b.Run("perrow", func(b *testing.B) {
		for b.Loop() {
			for _, t := range f.trees {
				for r := range n {
					idx[r] = int32(t.leaf(rows[r*F : (r+1)*F]))
				}
			}
		}
		b.ReportMetric(float64(n*len(f.trees))*float64(b.N)/b.Elapsed().Seconds(), "walks/s")
	})
}

// forestBlock decodes the committed 500-tree RandomForestClassifier and returns
// it with the first 256 rows of its input as a row-major float32 block.
func forestBlock(t testing.TB) (*forest, []float32) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "models", "rf_clf_500_bc", "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	est, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := est.(*forest)
	if !ok {
		t.Fatalf("rf_clf_500_bc decodes to %T", est)
	}
	names, cols := readCSV(t, filepath.Join(testdata, "models", "breast_cancer_input.csv"))
	F := len(names)
	if F != f.nFeat {
		t.Fatalf("input has %d columns, the forest %d features", F, f.nFeat)
	}
	n := min(blockRows, len(cols[names[0]]))
	rows := make([]float32, n*F)
	for j, name := range names {
		for i := range n {
			v, err := strconv.ParseFloat(cols[name][i], 64)
			if err != nil {
				t.Fatal(err)
			}
			rows[i*F+j] = float32(v)
		}
	}
	return f, rows
}

// BenchmarkHGBWalk times the trees of a committed HistGradientBoostingClassifier
// (breast cancer, with NaN) over blocks of 128 rows: the fixed-depth lockstep
// walk raw uses for numeric trees, against the 8-lane walk with an "all lanes
// done" test per step that it replaced for them (and still uses for trees with
// categorical splits).
func BenchmarkHGBWalk(b *testing.B) {
	e, X := hgbNaNFixture(b)
	F := len(X.Cols)
	n := min(hgbBlockRows, X.Rows)
	buf := make([]float64, n*F)
	for j, col := range X.Cols {
		for i := range n {
			buf[i*F+j] = col[i]
		}
	}
	acc := make([]float64, n*e.K)
	b.Run("lockstep", func(b *testing.B) {
		for b.Loop() {
			for t, root := range e.roots {
				e.walkBlock(root, e.shape[t], buf, F, n, acc, e.K, t%e.K)
			}
		}
		b.ReportMetric(float64(n*len(e.roots))*float64(b.N)/b.Elapsed().Seconds(), "walks/s")
	})
	for _, nan := range []bool{true, false} {
		name, blk := "flat", buf
		if !nan {
			// The same rows with the NaNs set to 0: the walk without the NaN test.
			name, blk = "flat without NaN", slices.Clone(buf)
			for i, v := range blk {
				if math.IsNaN(v) {
					blk[i] = 0
				}
			}
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				for t, f := range e.flat {
					if f != nil {
						f.walk(blk, F, n, acc, e.K, t%e.K, nan)
					}
				}
			}
			b.ReportMetric(float64(n*len(e.roots))*float64(b.N)/b.Elapsed().Seconds(), "walks/s")
		})
	}
	b.Run("lanes", func(b *testing.B) {
		for b.Loop() {
			for t, root := range e.roots {
				for r0 := 0; r0 < n; r0 += hgbLanes {
					e.walkLanes(root, buf, F, r0, min(hgbLanes, n-r0), acc, e.K, t%e.K)
				}
			}
		}
		b.ReportMetric(float64(n*len(e.roots))*float64(b.N)/b.Elapsed().Seconds(), "walks/s")
	})
}
