package sklearn

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

const mlpDecompDir = testdata + "/longtail/mlp_decomp"

// The shared interfaces meta-estimators wrap.
var (
	_ regressor       = (*mlpRegressor)(nil)
	_ probClassifier  = (*mlpClassifier)(nil)
	_ labelClassifier = (*mlpClassifier)(nil)
	_ transformer     = (*projection)(nil)
	_ transformer     = (*selector)(nil)
	_ Estimator       = (*rfePredictor)(nil)
	_ probClassifier  = (*rfeClassifier)(nil)
	_ regressor       = (*rfeRegressor)(nil)
)

// TestRFEModelInterfaces: RFE logged as the model offers its estimator's
// interfaces, and they give what predict gives.
func TestRFEModelInterfaces(t *testing.T) {
	if _, ok := decodeFixture(t, "longtail/mlp_decomp/wine_rfe_tree_model").(regressor); ok {
		t.Fatal("RFE over a tree classifier claims to be a regressor")
	}
	clf, ok := decodeFixture(t, "longtail/mlp_decomp/bc_rfe_logreg_model").(*rfeClassifier)
	if !ok {
		t.Fatal("RFE over LogisticRegression is not a probClassifier")
	}
	if _, ok := decodeFixture(t, "longtail/mlp_decomp/diabetes_rfe_linreg_model").(*rfeRegressor); !ok {
		t.Fatal("RFE over LinearRegression is not a regressor")
	}
	X := &Dense{Rows: 2, Cols: make([][]float64, clf.NumFeatures())}
	for j := range X.Cols {
		X.Cols[j] = []float64{float64(j), 1}
	}
	p, err := clf.predictProba(X)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2*clf.labelsOf().len() {
		t.Fatalf("%d probabilities", len(p))
	}
}

// TestSelectorMasks decodes selectors pickled with synthetic fitted scores
// (ties, NaN, infinities, -0.0; every k, percentile, threshold rule,
// max_features and norm_order) and checks the columns they keep against
// scikit-learn's get_support() (masks.json, written by gen.py).
func TestSelectorMasks(t *testing.T) {
	var doc struct {
		Cases []struct {
			What    string `json:"what"`
			Pickle  string `json:"pickle"`
			Support []int  `json:"support"`
		} `json:"cases"`
	}
	data, err := os.ReadFile(filepath.Join(mlpDecompDir, "masks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 60 {
		t.Fatalf("only %d cases", len(doc.Cases))
	}
	kinds := map[string]int{}
	for i, c := range doc.Cases {
		kinds[strings.Fields(c.What)[0]]++
		raw, err := base64.StdEncoding.DecodeString(c.Pickle)
		if err != nil {
			t.Fatal(err)
		}
		v, err := pickle.Unmarshal(raw, pickle.Options{Allow: allow})
		if err != nil {
			t.Fatalf("case %d (%s): %v", i, c.What, err)
		}
		tr, err := buildTransformer(v)
		if err != nil {
			t.Fatalf("case %d (%s): %v", i, c.What, err)
		}
		got := tr.(*selector).idx
		if !slices.Equal(got, c.Support) && !(len(got) == 0 && len(c.Support) == 0) {
			t.Errorf("case %d (%s): keeps %v, scikit-learn %v", i, c.What, got, c.Support)
		}
	}
	for _, k := range []string{"SelectKBest", "SelectPercentile", "SelectFromModel", "VarianceThreshold"} {
		if kinds[k] < 5 {
			t.Errorf("only %d %s cases", kinds[k], k)
		}
	}
}

type mlpDecompManifest struct {
	Cases []struct {
		Name          string   `json:"name"`
		ModelDir      string   `json:"model_dir"`
		FeatureSource string   `json:"feature_source"`
		Features      []string `json:"features"`
		NamesOut      []string `json:"names_out"`
	} `json:"cases"`
}

func decodeFixture(t *testing.T, dir string) Estimator {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, dir, "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	est, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return est
}

// TestMLPDecompNamesOut: get_feature_names_out of the steps before the final
// estimator (pca0.., fastica0.., the names a selector keeps, inside and after
// a ColumnTransformer) is what scikit-learn gives.
func TestMLPDecompNamesOut(t *testing.T) {
	var m mlpDecompManifest
	data, err := os.ReadFile(filepath.Join(mlpDecompDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range m.Cases {
		if c.NamesOut == nil {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			p, ok := decodeFixture(t, c.ModelDir).(*pipeline)
			if !ok {
				t.Fatal("not a Pipeline")
			}
			var in []string
			if c.FeatureSource != "position" {
				in = c.Features
			}
			if got := p.namesOut(in); !slices.Equal(got, c.NamesOut) {
				t.Errorf("names out:\n got %q\nwant %q", got, c.NamesOut)
			}
		})
	}
	if n < 15 {
		t.Errorf("only %d cases with names", n)
	}
}

// step returns the object of a Pipeline step.
func step(t *testing.T, p *pickle.Object, i int) *pickle.Object {
	t.Helper()
	items, err := p.Items("steps")
	if err != nil {
		t.Fatal(err)
	}
	pair := items[i].(pickle.Tuple)
	return pair[1].(*pickle.Object)
}

// TestMLPDecompRefusals: attributes that do not fit together are load errors
// naming what is wrong, never a panic.
func TestMLPDecompRefusals(t *testing.T) {
	const lt = "longtail/mlp_decomp/"
	type edit struct {
		name string
		dir  string
		step int // -1: the model itself
		set  map[string]any
		want string
	}
	arr := func(shape []int, vals ...float64) *pickle.NDArray {
		b := make([]byte, 8*len(vals))
		for i, v := range vals {
			bits := math.Float64bits(v)
			for k := range 8 {
				b[8*i+k] = byte(bits >> (8 * k))
			}
		}
		a, err := pickle.ParseNPY(npyHeader(shape, b))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []edit{
		{"unknown activation", lt + "mlp_reg_relu", -1, map[string]any{"activation": "swish"}, `activation "swish"`},
		{"softmax hidden", lt + "mlp_reg_relu", -1, map[string]any{"activation": "softmax"}, "activation"},
		{"unknown output", lt + "mlp_reg_relu", -1, map[string]any{"out_activation_": "gelu"}, `out_activation_ "gelu"`},
		{"layer count", lt + "mlp_reg_relu", -1, map[string]any{"n_layers_": int64(7)}, "n_layers_ is 7"},
		{"outputs", lt + "mlp_reg_relu", -1, map[string]any{"n_outputs_": int64(3)}, "n_outputs_ is 3"},
		{"coefs not a list", lt + "mlp_reg_relu", -1, map[string]any{"coefs_": "x"}, "coefs_"},
		{"one-layer coefs", lt + "mlp_reg_relu", -1, map[string]any{"coefs_": &pickle.List{Items: []any{arr([]int{2}, 1, 2)}}}, "layers"},
		{"binary with softmax", lt + "mlp_clf_binary_logistic", 1, map[string]any{"out_activation_": "softmax"}, "binary"},
		{"no label binarizer", lt + "mlp_clf_multiclass_tanh", -1, map[string]any{"_label_binarizer": nil}, "_label_binarizer"},
		{"pca components 1-D", lt + "diabetes_pca_linreg", 0, map[string]any{"components_": arr([]int{3}, 1, 2, 3)}, "components_ has shape"},
		{"pca mean width", lt + "diabetes_pca_linreg", 0, map[string]any{"mean_": arr([]int{2}, 1, 2)}, "mean_ has 2 values"},
		{"pca whiten without variance", lt + "diabetes_pca_whiten_mlp", 0, map[string]any{"explained_variance_": arr([]int{1}, 1)}, "explained_variance_"},
		{"ica whiten type", lt + "diabetes_fastica_linreg", 0, map[string]any{"_whiten": 1.5}, "whiten"},
		{"kbest k", lt + "wine_scaler_pca_kbest_mlp", 2, map[string]any{"k": "most"}, `k is "most"`},
		{"kbest negative k", lt + "wine_scaler_pca_kbest_mlp", 2, map[string]any{"k": int64(-1)}, "non-negative"},
		{"kbest width", lt + "wine_scaler_pca_kbest_mlp", 2, map[string]any{"n_features_in_": int64(9)}, "n_features_in_ is 9"},
		{"percentile range", lt + "bc_percentile_ties_logreg", 0, map[string]any{"percentile": 120.0}, "percentile"},
		{"sfm threshold", lt + "wine_sfm_logreg_mean", 1, map[string]any{"threshold": "mode"}, `threshold "mode"`},
		{"sfm reference", lt + "wine_sfm_logreg_mean", 1, map[string]any{"threshold": "2*mode"}, `unknown reference "mode"`},
		{"sfm scale", lt + "wine_sfm_logreg_mean", 1, map[string]any{"threshold": "x*mean"}, "not a number"},
		{"sfm getter", lt + "wine_sfm_logreg_mean", 1, map[string]any{"importance_getter": "named_steps.lr.coef_"}, "importance_getter"},
		{"sfm max_features", lt + "bc_sfm_tree_maxfeatures_logreg", 0, map[string]any{"max_features_": 2.5}, "max_features"},
		{"rfe support", lt + "bc_vt_rfe_logreg", 2, map[string]any{"support_": arr([]int{2, 2}, 1, 0, 1, 0)}, "support_ has shape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := objectOf(t, c.dir)
			target := root
			if c.step >= 0 {
				target = step(t, root, c.step)
			}
			for k, v := range c.set {
				target.Dict[k] = v
			}
			_, err := build(root)
			if err == nil {
				t.Fatalf("loaded; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q should contain %q", err, c.want)
			}
		})
	}
}

// npyHeader builds a little-endian float64 .npy file.
func npyHeader(shape []int, data []byte) []byte {
	s := "("
	for _, d := range shape {
		s += strings.TrimSpace(strings.Repeat(" ", 0)) + itoa(d) + ","
	}
	s += ")"
	h := "{'descr': '<f8', 'fortran_order': False, 'shape': " + s + ", }"
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	out := []byte("\x93NUMPY\x01\x00")
	out = append(out, byte(len(h)), byte(len(h)>>8))
	out = append(out, h...)
	return append(out, data...)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestMLPMultilabelOutputs: a multilabel MLPClassifier declares one int64
// prediction column per label and, with --proba, proba_<label>.
func TestMLPMultilabelOutputs(t *testing.T) {
	est := decodeFixture(t, "longtail/mlp_decomp/mlp_clf_multilabel_relu")
	var names []string
	for _, c := range est.Outputs(model.LoadOptions{Proba: true}) {
		names = append(names, c.Name+":"+c.Type.String())
	}
	want := []string{"prediction_0:int64", "prediction_1:int64", "prediction_2:int64", "prediction_3:int64",
		"proba_0:float64", "proba_1:float64", "proba_2:float64", "proba_3:float64"}
	if !slices.Equal(names, want) {
		t.Errorf("outputs %v, want %v", names, want)
	}
	if _, ok := est.(probClassifier); ok {
		t.Error("a multilabel classifier must not offer the single-output probClassifier interface")
	}
}

// TestMLPRefusesNaN: NaN reaching an MLP is a row error, as check_array
// refuses it.
func TestMLPRefusesNaN(t *testing.T) {
	est := decodeFixture(t, "longtail/mlp_decomp/mlp_reg_relu")
	X := &Dense{Rows: 2, Cols: make([][]float64, est.NumFeatures())}
	for j := range X.Cols {
		X.Cols[j] = []float64{0.01, 0.02}
	}
	X.Cols[3][1] = math.NaN()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	_, err := est.Predict(X, model.LoadOptions{}, mem)
	if err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("got %v, want a NaN row error", err)
	}
}

// FuzzDecodeMLPDecomp mutates MLP, decomposition and selector pickles: a
// load error or a model that predicts two rows, never a panic.
func FuzzDecodeMLPDecomp(f *testing.F) {
	for _, dir := range []string{"mlp_clf_multilabel_relu", "wine_scaler_pca_kbest_mlp", "bc_sfm_gb_125mean_logreg",
		"diabetes_fastica_linreg_skl021", "wine_rfe_tree_model", "bc_percentile_ties_logreg"} {
		data, err := os.ReadFile(filepath.Join(mlpDecompDir, dir, "model.pkl"))
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
		n := est.NumFeatures()
		if n < 0 || n > 1000 {
			return
		}
		X := &Dense{Rows: 2, Cols: make([][]float64, n)}
		for j := range X.Cols {
			X.Cols[j] = []float64{0.5, -1}
		}
		if _, ok := est.(tableEstimator); ok {
			return // a Pipeline's column typing is covered by the CLI tests
		}
		arrs, err := est.Predict(X, modelOptsProba, memory.DefaultAllocator)
		if err == nil {
			for _, a := range arrs {
				a.Release()
			}
		}
	})
}

// BenchmarkPredictMLPPipeline scores StandardScaler -> PCA(whiten) ->
// SelectKBest -> MLPClassifier over its fixture input.
func BenchmarkPredictMLPPipeline(b *testing.B) {
	benchPredict(b, "longtail/mlp_decomp/wine_scaler_pca_kbest_mlp", "longtail/mlp_decomp/wine_input.csv")
}

// BenchmarkPredictMLPRegressor scores a (32, 16) relu MLPRegressor.
func BenchmarkPredictMLPRegressor(b *testing.B) {
	benchPredict(b, "longtail/mlp_decomp/mlp_reg_relu", "longtail/mlp_decomp/diabetes_input.csv")
}
