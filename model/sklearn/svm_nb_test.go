package sklearn

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// svmNBCases reads testdata/longtail/svm_nb/cases.json.
func svmNBCases(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "longtail", "svm_nb", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) < 30 {
		t.Fatalf("only %d cases", len(f.Cases))
	}
	return f.Cases
}

// svmNBObject decodes a fixture's model.pkl into the raw pickled object.
func svmNBObject(t *testing.T, dir string) *pickle.Object { return objectOf(t, dir) }

// denseFromCSV reads a fixture input as a Dense batch in the CSV's column order
// (the fixtures' feature order).
func denseFromCSV(t *testing.T, path string) *Dense {
	t.Helper()
	names, cols := readCSV(t, path)
	d := &Dense{Rows: len(cols[names[0]]), Names: names}
	for _, n := range names {
		col := make([]float64, d.Rows)
		for i, s := range cols[n] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			col[i] = v
		}
		d.Cols = append(d.Cols, col)
	}
	return d
}

// goldenMatrix reads a golden CSV's columns as a row-major matrix.
func goldenMatrix(t *testing.T, path string, columns []string) []float64 {
	t.Helper()
	_, cols := readCSV(t, path)
	rows := len(cols[columns[0]])
	m := make([]float64, rows*len(columns))
	for k, c := range columns {
		for i, s := range cols[c] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			m[i*len(columns)+k] = v
		}
	}
	return m
}

// TestSVMNBInterfaces calls every fixture through the interfaces
// meta-estimators use (decider, labelClassifier, probClassifier, regressor)
// and compares with scikit-learn's decision_function, predict and
// predict_proba. It also checks which interfaces each estimator has: SVC
// without probability=True must not claim predict_proba.
func TestSVMNBInterfaces(t *testing.T) {
	worst := map[string]float64{}
	for _, c := range svmNBCases(t) {
		t.Run(strings.TrimPrefix(c.Name, "longtail/svm_nb/"), func(t *testing.T) {
			est, err := build(svmNBObject(t, c.ModelDir))
			if err != nil {
				t.Fatal(err)
			}
			X := denseFromCSV(t, filepath.Join(testdata, c.Input))
			methods := map[string]bool{}
			for _, o := range c.Outputs {
				methods[o.Method] = true
			}
			_, isDecider := est.(decider)
			_, isProba := est.(probClassifier)
			_, isLabel := est.(labelClassifier)
			_, isReg := est.(regressor)
			isOneClass := strings.HasSuffix(c.Estimator, "OneClassSVM")
			if isDecider != (methods["decision_function"] && !isOneClass) {
				t.Errorf("decider %v, scikit-learn has decision_function %v", isDecider, methods["decision_function"])
			}
			if isProba != methods["predict_proba"] {
				t.Errorf("probClassifier %v, scikit-learn has predict_proba %v", isProba, methods["predict_proba"])
			}
			wantReg := strings.HasSuffix(c.Estimator, "SVR")
			wantLabel := !wantReg && !isOneClass
			if isLabel != wantLabel || isReg != wantReg {
				t.Errorf("labelClassifier %v, regressor %v; want %v, %v", isLabel, isReg, wantLabel, wantReg)
			}
			for _, o := range c.Outputs {
				golden := filepath.Join(testdata, o.Golden)
				var got []float64
				switch {
				case o.Method == "decision_function" && isDecider:
					d, cols, err := est.(decider).decisionFunction(X)
					if err != nil {
						t.Fatal(err)
					}
					if cols != len(o.Columns) {
						t.Fatalf("decision_function has %d columns, want %d", cols, len(o.Columns))
					}
					got = d
				case o.Method == "decision_function" && isOneClass:
					d, _, err := est.(*oneClassSVM).rawDecision(X)
					if err != nil {
						t.Fatal(err)
					}
					got = d
				case o.Method == "predict_proba":
					p, err := est.(probClassifier).predictProba(X)
					if err != nil {
						t.Fatal(err)
					}
					got = p
				case o.Method == "predict" && isLabel:
					idx, err := est.(labelClassifier).predictIndex(X)
					if err != nil {
						t.Fatal(err)
					}
					_, cols := readCSV(t, golden)
					names := est.(labelClassifier).labelsOf().Names
					bad := 0
					for i, want := range cols["prediction"] {
						if names[idx[i]] != want {
							if bad < 3 {
								t.Errorf("row %d: predictIndex gives %s, want %s", i+1, names[idx[i]], want)
							}
							bad++
						}
					}
					continue
				case o.Method == "predict" && isReg:
					v, err := est.(regressor).regress(X)
					if err != nil {
						t.Fatal(err)
					}
					got = v
				default:
					continue
				}
				want := goldenMatrix(t, golden, o.Columns)
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, want %d", o.Method, len(got), len(want))
				}
				for i, w := range want {
					diff := math.Abs(got[i] - w)
					if diff > o.Tol.Abs+o.Tol.Rel*math.Abs(w) {
						t.Errorf("%s value %d: got %v, want %v", o.Method, i, got[i], w)
						break
					}
					if r := diff / math.Max(math.Abs(w), 1e-300); r > worst[o.Method] && diff > 0 {
						worst[o.Method] = r
					}
				}
			}
		})
	}
	t.Logf("largest relative differences: %v", worst)
}

// svmMutate decodes a fixture, applies change to its attributes and builds it.
func svmMutate(t *testing.T, dir string, change func(o *pickle.Object)) error {
	t.Helper()
	obj := svmNBObject(t, dir)
	change(obj)
	_, err := build(obj)
	return err
}

func setAttr(o *pickle.Object, name string, v any) {
	if _, ok := o.Dict[name]; !ok {
		o.Keys = append(o.Keys, name)
	}
	o.Dict[name] = v
}

// TestSVMRefusals: altered or unsupported libsvm models are refused at load
// with a message, never a panic.
func TestSVMRefusals(t *testing.T) {
	arr := func(vals []int64) *pickle.NDArray {
		items := make([]any, len(vals))
		for i, v := range vals {
			items[i] = v
		}
		a, err := pickle.NewObjectArray(items, []int{len(vals)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, c := range []struct {
		name, dir, want string
		change          func(o *pickle.Object)
	}{
		{"n_support altered", "longtail/svm_nb/svc_rbf_iris", "altered", func(o *pickle.Object) {
			setAttr(o, "_n_support", arr([]int64{1, 2, 3}))
		}},
		{"n_support wrong length", "longtail/svm_nb/svc_rbf_iris", "_n_support has 2 counts", func(o *pickle.Object) {
			setAttr(o, "_n_support", arr([]int64{1, 2}))
		}},
		{"svr n_support altered", "longtail/svm_nb/svr_rbf_diabetes", "altered", func(o *pickle.Object) {
			setAttr(o, "_n_support", arr([]int64{3, 3}))
		}},
		{"precomputed", "longtail/svm_nb/svc_rbf_iris", "precomputed", func(o *pickle.Object) {
			setAttr(o, "kernel", "precomputed")
		}},
		{"unknown kernel", "longtail/svm_nb/svc_rbf_iris", "kernel \"laplace\"", func(o *pickle.Object) {
			setAttr(o, "kernel", "laplace")
		}},
		{"csr index out of range", "longtail/svm_nb/svc_rbf_iris_sparse_proba", "column index", func(o *pickle.Object) {
			sv := o.Dict["support_vectors_"].(*pickle.Object)
			bad := &pickle.Object{Module: sv.Module, Name: sv.Name, Dict: map[string]any{}}
			for k, v := range sv.Dict {
				bad.Dict[k] = v
			}
			idx := make([]int64, sv.Dict["data"].(*pickle.NDArray).Len())
			for i := range idx {
				idx[i] = 99
			}
			bad.Dict["indices"] = arr(idx)
			setAttr(o, "support_vectors_", bad)
		}},
		{"csr shape", "longtail/svm_nb/svc_rbf_iris_sparse_proba", "do not fit", func(o *pickle.Object) {
			sv := o.Dict["support_vectors_"].(*pickle.Object)
			sv.Dict["_shape"] = pickle.Tuple{int64(3), int64(4)}
		}},
		{"break_ties with ovo", "longtail/svm_nb/svc_linear_iris_ovo", "break_ties must be False", func(o *pickle.Object) {
			setAttr(o, "break_ties", true)
		}},
		{"decision shape", "longtail/svm_nb/svc_rbf_iris", "decision_function_shape", func(o *pickle.Object) {
			setAttr(o, "decision_function_shape", "ovx")
		}},
		{"dual_coef_ shape", "longtail/svm_nb/svc_rbf_iris", "_dual_coef_ has shape", func(o *pickle.Object) {
			setAttr(o, "_dual_coef_", o.Dict["support_"])
		}},
		{"intercept count", "longtail/svm_nb/svc_rbf_iris", "_intercept_ has 1 values", func(o *pickle.Object) {
			setAttr(o, "_intercept_", 0.5)
		}},
		{"no gamma", "longtail/svm_nb/svc_rbf_iris", "_gamma", func(o *pickle.Object) {
			delete(o.Dict, "_gamma")
			setAttr(o, "gamma", "scale")
		}},
		{"no support vectors attr", "longtail/svm_nb/svr_rbf_diabetes", "support_vectors_", func(o *pickle.Object) {
			delete(o.Dict, "support_vectors_")
		}},
		{"degree", "longtail/svm_nb/svc_poly_wine", "degree", func(o *pickle.Object) {
			setAttr(o, "degree", 2.5)
		}},
		{"probA count", "longtail/svm_nb/svc_rbf_digits_proba", "probA_", func(o *pickle.Object) {
			setAttr(o, "_probA", 1.0)
		}},
		{"one-class without private arrays", "longtail/svm_nb/oneclass_rbf_iris", "_intercept_", func(o *pickle.Object) {
			delete(o.Dict, "_intercept_")
		}},
		{"linearsvc rows", "longtail/svm_nb/linearsvc_breast", "coef_ has 1 rows for 3 classes", func(o *pickle.Object) {
			setAttr(o, "classes_", arr([]int64{0, 1, 2}))
		}},
		{"gaussian var shape", "longtail/svm_nb/gaussiannb_iris", "var_ has shape", func(o *pickle.Object) {
			setAttr(o, "var_", o.Dict["class_prior_"])
		}},
		{"categorical flp", "longtail/svm_nb/categoricalnb", "feature_log_prob_[0]", func(o *pickle.Object) {
			setAttr(o, "feature_log_prob_", &pickle.List{Items: []any{"x"}})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := svmMutate(t, c.dir, c.change)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestSVMBinaryPublicCoef: a pickle without the private _dual_coef_ and
// _intercept_ (older layouts) is read from the public, sign-flipped
// dual_coef_ and intercept_ and predicts the same.
func TestSVMBinaryPublicCoef(t *testing.T) {
	dir := "longtail/svm_nb/svc_rbf_breast_proba"
	obj := svmNBObject(t, dir)
	ref, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	delete(obj.Dict, "_dual_coef_")
	delete(obj.Dict, "_intercept_")
	est, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	for _, cc := range svmNBCases(t) {
		if cc.ModelDir == dir {
			c = cc
		}
	}
	X := denseFromCSV(t, filepath.Join(testdata, c.Input))
	a, _, err := ref.(decider).decisionFunction(X)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := est.(decider).decisionFunction(X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: %v from the public arrays, %v from the private ones", i, b[i], a[i])
		}
	}
}

// TestSVMNonFinite: NaN in the input is a row error naming the row, as
// scikit-learn's check_array refuses it.
func TestSVMNonFinite(t *testing.T) {
	for _, dir := range []string{"longtail/svm_nb/svc_rbf_iris", "longtail/svm_nb/gaussiannb_iris", "longtail/svm_nb/categoricalnb"} {
		est, err := build(svmNBObject(t, dir))
		if err != nil {
			t.Fatal(err)
		}
		n := est.NumFeatures()
		X := &Dense{Rows: 3, Cols: make([][]float64, n)}
		for j := range X.Cols {
			X.Cols[j] = []float64{1, 1, 1}
		}
		X.Cols[n-1][1] = math.NaN()
		_, err = est.Predict(X, model.LoadOptions{}, memory.DefaultAllocator)
		re, ok := mlerr.AsRowError(err)
		if !ok || re.Row != 2 {
			t.Errorf("%s: got %v, want a row 2 error", dir, err)
		}
	}
}

// TestCategoryIndex checks the float-to-category cast against numpy's
// astype(int) (truncation toward zero) and the refusals.
func TestCategoryIndex(t *testing.T) {
	for _, c := range []struct {
		x    float64
		n    int
		want int
		err  string
	}{
		{0, 3, 0, ""}, {2.99, 3, 2, ""}, {-0.5, 3, 0, ""}, {3, 3, 0, "not seen"},
		{-1, 3, 0, "negative"}, {1e20, 3, 0, "negative"}, {-1e20, 3, 0, "negative"},
	} {
		got, err := categoryIndex(c.x, c.n)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: got %d, %v; want an error with %q", c.x, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: got %d, %v; want %d", c.x, got, err, c.want)
		}
	}
}

// TestNPSum compares the pairwise sum with values numpy 1.24 returns for
// np.sum(np.arange(n) * 0.1 + 1e-3) (computed with /usr/bin/python3).
func TestNPSum(t *testing.T) {
	for _, c := range []struct {
		n    int
		want float64
	}{{5, 1.0050000000000001}, {20, 19.02}, {300, 4485.3}} {
		a := make([]float64, c.n)
		for i := range a {
			a[i] = float64(i)*0.1 + 1e-3
		}
		if got := npSum(a); got != c.want {
			t.Errorf("n=%d: %v, want %v", c.n, got, c.want)
		}
	}
}
