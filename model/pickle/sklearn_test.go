package pickle

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

var sklearnAllow = Options{Allow: allowPrefixes([]string{"sklearn.", "numpy.random."})}

func loadModel(t testing.TB, name string) *Object {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".pkl")
	if err != nil {
		t.Fatal(err)
	}
	v, err := Unmarshal(data, sklearnAllow)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := v.(*Object)
	if !ok {
		t.Fatalf("%s: got %s", name, typeName(v))
	}
	return o
}

func TestLinearRegressionTyped(t *testing.T) {
	for _, name := range []string{"p_linreg_p0", "p_linreg_p2", "p_linreg_p4", "cp_linreg"} {
		t.Run(name, func(t *testing.T) {
			m := loadModel(t, name)
			if m.Class() != "sklearn.linear_model._base.LinearRegression" {
				t.Fatalf("class %s", m.Class())
			}
			coef, err := m.Array("coef_")
			if err != nil {
				t.Fatal(err)
			}
			if len(coef.Shape) != 2 || coef.Shape[0] != 2 || coef.Shape[1] != 4 || coef.Len() != 8 {
				t.Fatalf("coef_ shape %v", coef.Shape)
			}
			if f, err := coef.Float64s(); err != nil || len(f) != 8 {
				t.Fatalf("coef_ %v %v", f, err)
			}
			icpt, err := m.Array("intercept_")
			if err != nil || icpt.Len() != 2 {
				t.Fatalf("intercept_ %v %v", icpt, err)
			}
			names, err := m.Array("feature_names_in_")
			if err != nil {
				t.Fatal(err)
			}
			if s, err := names.Strings(); err != nil || strings.Join(s, ",") != "a,b,c,d" {
				t.Fatalf("feature_names_in_ %q %v", s, err)
			}
			if n, err := m.Int("n_features_in_"); err != nil || n != 4 {
				t.Fatalf("n_features_in_ %v %v", n, err)
			}
			if b, err := m.Bool("fit_intercept"); err != nil || !b {
				t.Fatalf("fit_intercept %v %v", b, err)
			}
			if s, err := m.String("_sklearn_version"); err != nil || s != "1.2.1" {
				t.Fatalf("_sklearn_version %q %v", s, err)
			}
			if r, err := m.Float("rank_"); err != nil || r != 4 {
				t.Fatalf("rank_ %v %v", r, err)
			}
			_, err = m.Float("coef_")
			if err == nil || !strings.Contains(err.Error(), `attribute "coef_" is ndarray of <f8, want float`) {
				t.Fatalf("Float(coef_) error %v", err)
			}
			_, err = m.Array("nope_")
			if err == nil || err.Error() != `sklearn.linear_model._base.LinearRegression: attribute "nope_" not found` {
				t.Fatalf("missing attribute error %v", err)
			}
			if got := strings.Join(m.Keys[:3], ","); got != "fit_intercept,copy_X,n_jobs" {
				t.Fatalf("Keys start %s", got)
			}
		})
	}
}

type golden struct {
	X     [][]string `json:"X"`
	Proba [][]string `json:"proba"`
}

func loadGolden(t testing.TB, name string) (X, proba [][]float64) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	conv := func(rows [][]string) [][]float64 {
		out := make([][]float64, len(rows))
		for i, r := range rows {
			for _, s := range r {
				out[i] = append(out[i], parsePyFloat(s))
			}
		}
		return out
	}
	return conv(g.X), conv(g.Proba)
}

// treeProba walks a fitted sklearn Tree the way sklearn does, reading the
// structured nodes array through FieldView.
func treeProba(t testing.TB, est *Object, x []float64) []float64 {
	t.Helper()
	tree, err := est.Object("tree_")
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := tree.Array("nodes")
	if err != nil {
		t.Fatal(err)
	}
	values, err := tree.Array("values")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) *FieldView {
		f, err := nodes.Field(name)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	left, right, feat, thr := field("left_child"), field("right_child"), field("feature"), field("threshold")
	node := 0
	for left.Int64(node) != -1 {
		if float64(float32(x[feat.Int64(node)])) <= thr.Float64(node) {
			node = int(left.Int64(node))
		} else {
			node = int(right.Int64(node))
		}
	}
	vals, err := values.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	k := values.Shape[2]
	counts := vals[node*k : (node+1)*k]
	sum := 0.0
	for _, c := range counts {
		sum += c
	}
	out := make([]float64, k)
	for i, c := range counts {
		out[i] = c / sum
	}
	return out
}

func closeTo(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
}

func TestDecisionTreePredicts(t *testing.T) {
	X, want := loadGolden(t, "predict_tree")
	for _, name := range []string{"p_tree_p0", "p_tree_p1", "p_tree_p2", "p_tree_p3", "p_tree_p4", "p_tree_p5", "cp_tree", "p_np2_tree_p5"} {
		t.Run(name, func(t *testing.T) {
			m := loadModel(t, name)
			tree, err := m.Object("tree_")
			if err != nil {
				t.Fatal(err)
			}
			if tree.Class() != "sklearn.tree._tree.Tree" || len(tree.Args) != 3 || tree.Args[0] != int64(4) || tree.Args[2] != int64(1) {
				t.Fatalf("tree_ %s args %v", tree.Class(), tree.Args)
			}
			if nc, ok := tree.Args[1].(*NDArray); !ok {
				t.Fatalf("n_classes %s", typeName(tree.Args[1]))
			} else if n, err := nc.Int64s(); err != nil || len(n) != 1 || n[0] != 3 {
				t.Fatalf("n_classes %v %v", n, err)
			}
			nodes, _ := tree.Array("nodes")
			if nodes.DType.ItemSize != 56 || strings.Join(nodes.DType.Names, ",") != "left_child,right_child,feature,threshold,impurity,n_node_samples,weighted_n_node_samples" {
				t.Fatalf("nodes dtype %s %v", nodes.DType, nodes.DType.Names)
			}
			if _, err := nodes.Field("missing_go_to_left"); err == nil || !strings.Contains(err.Error(), "no field") {
				t.Fatalf("missing field error %v", err)
			}
			if _, err := nodes.Float64s(); err == nil {
				t.Fatal("Float64s of a structured array should fail")
			}
			for i, x := range X {
				got := treeProba(t, m, x)
				for j := range got {
					if !closeTo(got[j], want[i][j]) {
						t.Fatalf("row %d: proba %v, want %v", i, got, want[i])
					}
				}
			}
		})
	}
}

func TestRandomForestPredicts(t *testing.T) {
	X, want := loadGolden(t, "predict_forest")
	for _, name := range []string{"p_forest_p4", "cp_forest"} {
		t.Run(name, func(t *testing.T) {
			m := loadModel(t, name)
			ests, err := m.Items("estimators_")
			if err != nil {
				t.Fatal(err)
			}
			if len(ests) != 30 {
				t.Fatalf("%d estimators", len(ests))
			}
			for i, x := range X {
				sum := make([]float64, 3)
				for _, e := range ests {
					for j, p := range treeProba(t, e.(*Object), x) {
						sum[j] += p
					}
				}
				for j := range sum {
					if got := sum[j] / float64(len(ests)); !closeTo(got, want[i][j]) {
						t.Fatalf("row %d class %d: %v, want %v", i, j, got, want[i][j])
					}
				}
			}
		})
	}
}

func TestPipelineWithStringClasses(t *testing.T) {
	m := loadModel(t, "cp_logreg_pipeline")
	steps, err := m.Items("steps")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 {
		t.Fatalf("steps %v", steps)
	}
	clf := steps[1].(Tuple)[1].(*Object)
	classes, err := clf.Array("classes_")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := classes.Strings(); err != nil || strings.Join(s, ",") != "setosa,versicolor,virginica" {
		t.Fatalf("classes_ %q %v", s, err)
	}
	if _, err := classes.Float64s(); err == nil || !strings.Contains(err.Error(), "item 0 is str") {
		t.Fatalf("Float64s of str objects: %v", err)
	}
	coef, _ := clf.Array("coef_")
	if coef.Len() != 12 {
		t.Fatalf("coef_ %v", coef.Shape)
	}
}

func BenchmarkUnmarshalForest(b *testing.B) {
	data, err := os.ReadFile("testdata/cp_forest.pkl")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(data, sklearnAllow); err != nil {
			b.Fatal(err)
		}
	}
}
