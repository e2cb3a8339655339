package lightgbm

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/sklearn"
)

const boostersDir = "../../testdata/longtail/boosters"

// TestPickledRegress: a pickled LGBMRegressor loads through model/sklearn's
// registry (this package registers it), answers to sklearn.Regressor (what
// meta-estimators call) and gives the reference evaluator's predictions.
func TestPickledRegress(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(boostersDir, "lgbm_regressor_bare_v2", "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	est, err := sklearn.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := est.(sklearn.Regressor)
	if !ok {
		t.Fatalf("%T is not a sklearn.Regressor", est)
	}
	if _, ok := est.(sklearn.Classifier); ok {
		t.Fatalf("%T is also a classifier", est)
	}
	header, rows := readCSV(t, filepath.Join(boostersDir, "lgbm_multi_input.csv"))
	X := &sklearn.Dense{Rows: len(rows), Names: r.FeatureNames()}
	for _, name := range r.FeatureNames() {
		j := slices.Index(header, name)
		if j < 0 {
			t.Fatalf("no column %q", name)
		}
		col := make([]float64, len(rows))
		for i, rec := range rows {
			col[i] = math.NaN()
			if rec[j] != "" {
				if col[i], err = strconv.ParseFloat(rec[j], 64); err != nil {
					t.Fatal(err)
				}
			}
		}
		X.Cols = append(X.Cols, col)
	}
	got, err := r.Regress(X)
	if err != nil {
		t.Fatal(err)
	}
	_, want := readCSV(t, filepath.Join(boostersDir, "lgbm_regressor_bare_v2", "expected.csv"))
	if len(got) != len(want) {
		t.Fatalf("%d predictions, want %d", len(got), len(want))
	}
	for i, w := range want {
		wv, _ := strconv.ParseFloat(w[0], 64)
		if math.Abs(got[i]-wv) > 1e-9*math.Abs(wv) {
			t.Errorf("row %d: %v, want %v", i+1, got[i], wv)
		}
	}
	// A wrong number of features is an error, not a panic.
	if _, err := r.Regress(&sklearn.Dense{Cols: X.Cols[:2], Rows: X.Rows}); err == nil {
		t.Error("two columns for four features scored")
	}
}

// TestFlavorPipeline: the lightgbm flavor's model.pkl holding a Pipeline loads
// as the sklearn flavor would, but reports the lightgbm flavor; a model_class
// that does not name the pickled object is refused.
func TestFlavorPipeline(t *testing.T) {
	dir := filepath.Join(boostersDir, "lgbm_flavor_pipeline")
	m, _, err := model.Load(dir, model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.Flavor != "lightgbm" || info.Estimator != "sklearn.pipeline.Pipeline" {
		t.Errorf("Info %+v", info)
	}
	mm, err := os.ReadFile(filepath.Join(dir, "MLmodel"))
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(mm), "model_class: sklearn.pipeline.Pipeline", "model_class: sklearn.ensemble._forest.RandomForestClassifier", 1)
	_, _, err = model.Load(copyModel(t, dir, wrong), model.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "but the pickle holds sklearn.pipeline.Pipeline") {
		t.Errorf("err %v", err)
	}
}
