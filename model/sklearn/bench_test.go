package sklearn

import (
	"context"
	"os"
	"path/filepath"
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
