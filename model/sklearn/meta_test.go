package sklearn

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model/pickle"
)

// metaObj decodes a meta-estimator fixture (testdata/longtail/meta) into its
// pickled object, for tests that tamper with attributes before building.
func metaObj(t *testing.T, name string) *pickle.Object {
	return objectOf(t, filepath.Join("longtail", "meta", name))
}

func attrObj(t *testing.T, o *pickle.Object, path ...any) *pickle.Object {
	t.Helper()
	var v any = o
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v, _ = v.(*pickle.Object).Attr(k)
		case int:
			items, err := itemsOf(v, "test path")
			if err != nil {
				t.Fatal(err)
			}
			v = items[k]
		}
	}
	obj, ok := v.(*pickle.Object)
	if !ok {
		t.Fatalf("%v is a %T", path, v)
	}
	return obj
}

// TestMetaRefusals: malformed or unsupported attributes give errors that say
// what is wrong, never a panic.
func TestMetaRefusals(t *testing.T) {
	tests := []struct {
		fixture string
		tamper  func(t *testing.T, o *pickle.Object)
		want    string
	}{
		{"grid_logreg_iris", func(t *testing.T, o *pickle.Object) { delete(o.Dict, "best_estimator_") }, "best_estimator_ is missing"},
		{"grid_logreg_iris", func(t *testing.T, o *pickle.Object) {
			delete(o.Dict, "best_estimator_")
			o.Dict["refit"] = false
		}, "refit=False"},
		{"grid_logreg_iris", func(t *testing.T, o *pickle.Object) { o.Dict["best_estimator_"] = int64(3) }, "not a fitted estimator"},
		{"ttr_ridge_log_exp", func(t *testing.T, o *pickle.Object) {
			attrObj(t, o, "transformer_").Dict["inverse_func"] = &pickle.Global{Module: "sklearn.metrics._regression", Name: "r2_score"}
		}, "does not evaluate"},
		{"ttr_ridge_log_exp", func(t *testing.T, o *pickle.Object) {
			d := pickle.NewDict()
			_ = d.Set("base", 2.0)
			attrObj(t, o, "transformer_").Dict["inv_kw_args"] = d
		}, "inv_kw_args"},
		{"ttr_linreg_standard", func(t *testing.T, o *pickle.Object) {
			attrObj(t, o, "transformer_").Name = "QuantileTransformer"
		}, "cannot invert a QuantileTransformer"},
		{"ttr_ridge_log_exp", func(t *testing.T, o *pickle.Object) {
			o.Dict["regressor_"] = attrObj(t, metaObj(t, "grid_logreg_iris"), "best_estimator_")
		}, "not a regressor"},
		{"cal_isotonic_forest_iris", func(t *testing.T, o *pickle.Object) {
			iso := attrObj(t, o, "calibrated_classifiers_", 0, "calibrators", 0)
			iso.Dict["out_of_bounds"] = "wrap"
		}, `out_of_bounds "wrap"`},
		{"cal_isotonic_forest_iris", func(t *testing.T, o *pickle.Object) {
			iso := attrObj(t, o, "calibrated_classifiers_", 0, "calibrators", 0)
			iso.Dict["X_thresholds_"] = iso.Dict["y_thresholds_"].(*pickle.NDArray).Shape[:0]
		}, "X_thresholds_"},
		{"cal_sigmoid_logreg_cancer", func(t *testing.T, o *pickle.Object) {
			attrObj(t, o, "calibrated_classifiers_", 0).Dict["calibrators"] = &pickle.List{Items: []any{"sigmoid"}}
		}, "calibrator is a str"},
		{"cal_sigmoid_logreg_cancer", func(t *testing.T, o *pickle.Object) {
			attrObj(t, o, "calibrated_classifiers_", 0, "calibrators", 0).Name = "_TemperatureScaling"
		}, "_TemperatureScaling is not supported"},
		{"voting_soft_weights_iris", func(t *testing.T, o *pickle.Object) {
			o.Dict["weights"] = &pickle.List{Items: []any{1.0, 2.0}}
		}, "2 weights for 3 estimators"},
		{"voting_soft_weights_iris", func(t *testing.T, o *pickle.Object) { o.Dict["voting"] = "majority" }, `voting "majority"`},
		{"stack_clf_iris", func(t *testing.T, o *pickle.Object) {
			o.Dict["stack_method_"] = &pickle.List{Items: []any{"predict_log_proba", "predict_proba", "decision_function"}}
		}, "stack_method_ predict_log_proba"},
		{"stack_clf_iris", func(t *testing.T, o *pickle.Object) {
			o.Dict["stack_method_"] = &pickle.List{Items: []any{"predict_proba"}}
		}, "1 stack methods for 3 estimators"},
		{"stack_reg_diabetes", func(t *testing.T, o *pickle.Object) {
			o.Dict["stack_method_"] = &pickle.List{Items: []any{"predict", "decision_function", "predict"}}
		}, "decision_function"},
		{"bag_tree_iris", func(t *testing.T, o *pickle.Object) {
			feats, _ := o.Items("estimators_features_")
			o.Dict["estimators_features_"] = &pickle.List{Items: append([]any{&pickle.List{Items: []any{int64(0), int64(9), int64(1)}}}, feats[1:]...)}
		}, "holds feature 9 of 4"},
		{"ada_samme_iris", func(t *testing.T, o *pickle.Object) { o.Dict["estimator_weights_"] = 1.0 }, "1 estimator_weights_ for 20 estimators"},
		{"ada_samme_iris", func(t *testing.T, o *pickle.Object) { o.Dict["algorithm"] = "SAMME.X" }, `algorithm "SAMME.X"`},
		{"ovr_logreg_iris", func(t *testing.T, o *pickle.Object) {
			attrObj(t, o, "label_binarizer_").Dict["y_type_"] = "multiclass-multioutput"
		}, "multiclass-multioutput"},
		{"multiout_reg_diabetes", func(t *testing.T, o *pickle.Object) { o.Dict["estimators_"] = &pickle.List{} }, "estimators_ is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture+"/"+tc.want, func(t *testing.T) {
			o := metaObj(t, tc.fixture)
			tc.tamper(t, o)
			_, err := build(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestIsotonicBounds: out_of_bounds='nan' gives NaN outside the thresholds and
// 'raise' an error, as IsotonicRegression.transform does; NaN input is refused.
func TestIsotonicBounds(t *testing.T) {
	c := &isotonicCal{x: []float64{0, 1, 2}, y: []float64{0, 0.5, 1}}
	if v, err := c.predict(3); err != nil || !math.IsNaN(v) {
		t.Errorf("nan: %v %v", v, err)
	}
	c.raise = true
	if _, err := c.predict(-1); err == nil || !strings.Contains(err.Error(), "outside the interpolation range") {
		t.Errorf("raise: %v", err)
	}
	if _, err := c.predict(math.NaN()); err == nil {
		t.Error("NaN input accepted")
	}
	for _, x := range c.x {
		if v, err := c.predict(x); err != nil || v != c.y[int(x)] {
			t.Errorf("threshold %v: %v %v", x, v, err)
		}
	}
}

// FuzzDecodeMeta feeds mutated meta-estimator pickles to the loader and
// predicts two rows: an error or predictions, never a panic.
func FuzzDecodeMeta(f *testing.F) {
	for _, dir := range []string{"grid_logreg_iris", "ttr_ridge_log_exp", "voting_hard_drop_iris", "cal_isotonic_forest_iris",
		"stack_clf_iris", "ovr_multilabel_iris", "ada_samme_iris", "ada_reg_diabetes", "bag_svc_votes_iris", "multiout_clf_iris"} {
		data, err := os.ReadFile(filepath.Join(testdata, "longtail", "meta", dir, "model.pkl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		est, err := Decode(data)
		if err != nil {
			return
		}
		n := max(est.NumFeatures(), 1)
		if n > 64 {
			return
		}
		X := &Dense{Cols: make([][]float64, n), Rows: 2}
		for j := range X.Cols {
			X.Cols[j] = []float64{0.5, -1}
		}
		out, err := est.Predict(X, modelOptsProba, memory.DefaultAllocator)
		if err != nil {
			return
		}
		for _, a := range out {
			a.Release()
		}
	})
}
