package lightgbm

import (
	"context"
	"math"
	"strings"
	"testing"
)

// small is a valid v4 binary model: one categorical and one numerical split in
// tree 0, a one-leaf tree 1.
const small = `tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=binary sigmoid:1
feature_names=num cat
feature_infos=[-1:1] 0:1:2:40
tree_sizes=1 1

Tree=0
num_leaves=3
num_cat=1
split_feature=1 0
split_gain=1 1
threshold=0 1.5
decision_type=1 10
left_child=-1 -2
right_child=1 -3
leaf_value=0.5 -0.25 0.125
leaf_weight=1 1 1
leaf_count=1 1 1
internal_value=0 0
internal_weight=0 0
internal_count=3 2
cat_boundaries=0 2
cat_threshold=5 256
is_linear=0
shrinkage=1


Tree=1
num_leaves=1
num_cat=0
split_feature=
split_gain=
threshold=
decision_type=
left_child=
right_child=
leaf_value=0.75
leaf_weight=
leaf_count=
internal_value=
internal_weight=
internal_count=
is_linear=0
shrinkage=1


end of trees

feature_importances:
cat=1

parameters:
[boosting: gbdt]
end of parameters

pandas_categorical:null
`

func mustParse(t *testing.T, s string) *Booster {
	t.Helper()
	b, err := ParseText([]byte(s))
	if err != nil {
		t.Fatalf("ParseText: %v", err)
	}
	return b
}

// score predicts one row of a two-feature model.
func score(t *testing.T, b *Booster, x ...float64) float64 {
	t.Helper()
	cols := make([][]float64, len(x))
	for j, v := range x {
		cols[j] = []float64{v}
	}
	out := make([]float64, b.NumClass)
	if err := b.PredictRaw(context.Background(), cols, 1, out); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestSmallModel(t *testing.T) {
	b := mustParse(t, small)
	if b.NumTrees() != 2 || b.NumIterations() != 2 || b.NumFeatures() != 2 || b.Version != "v4" {
		t.Fatalf("parsed %+v", b)
	}
	if b.Objective.Name != "binary" || b.Objective.Sigmoid != 1 {
		t.Errorf("objective %+v", b.Objective)
	}
	if b.PandasCategorical {
		t.Error("pandas_categorical:null read as categorical")
	}
	// cat bitset words 5 (bits 0, 2) and 256 (bit 40): categories 0, 2 and 40 go
	// left to leaf 0; anything else right to node 1: num <= 1.5 (decision_type
	// 10: missing type NaN, default left) -> leaf 1, else leaf 2. Tree 1 adds 0.75.
	const l0, l1, l2, one = 0.5, -0.25, 0.125, 0.75
	for _, c := range []struct {
		num, cat, want float64
	}{
		{0, 0, l0 + one},
		{0, 2, l0 + one},
		{0, 2.9, l0 + one},  // truncated to 2
		{0, -0.5, l0 + one}, // truncated to 0, not negative
		{0, 40, l0 + one},   // second word
		{5, 1, l2 + one},    // bit not set
		{5, 41, l2 + one},   // second word, bit not set
		{5, 64, l2 + one},   // past the bitset
		{5, -1, l2 + one},   // negative
		{5, math.NaN(), l2 + one},
		{5, 1e10, l2 + one},       // past int32
		{5, 4294967296, l2 + one}, // 2^32 would wrap to 0 if converted carelessly
		{1.5, 1, l1 + one},        // on the threshold
		{math.Nextafter(1.5, 2), 1, l2 + one},
		{math.NaN(), 1, l1 + one}, // NaN -> default left
		{0, 1, l1 + one},          // 0 <= 1.5
		{-3, 1, l1 + one},         // left by comparison
		{1e-36, 1, l1 + one},      // below kZeroThreshold: read as 0
		{kZeroThreshold, 1, l1 + one},
	} {
		if got := score(t, b, c.num, c.cat); got != c.want {
			t.Errorf("num=%v cat=%v: raw %v, want %v", c.num, c.cat, got, c.want)
		}
	}
	// Transform: binary sigmoid.
	out := []float64{0.3}
	b.Transform(out)
	if want := 1 / (1 + math.Exp(-0.3)); out[0] != want {
		t.Errorf("Transform(0.3) = %v, want %v", out[0], want)
	}
}

func TestParseErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(small, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(small, old, new, 1)
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"empty", "", "not a LightGBM text model"},
		{"no trees", "tree\nversion=v4\n", "no trees"},
		{"pickle", "\x80\x04\x95", "not a LightGBM text model"},
		{"no tree line", strings.TrimPrefix(small, "tree\n"), "first line is \"version=v4\""},
		{"no version", replace("version=v4\n", ""), "no version line"},
		{"future version", replace("version=v4", "version=v5"), `version "v5" is not supported`},
		{"no num_class", replace("num_class=1\n", ""), "no num_class"},
		{"bad num_class", replace("num_class=1", "num_class=x"), "not an integer"},
		{"trees per iteration", replace("num_tree_per_iteration=1", "num_tree_per_iteration=2"), "differs from num_class"},
		{"names count", replace("feature_names=num cat", "feature_names=num"), "feature_names has 1 names"},
		{"no names", replace("feature_names=num cat\n", ""), "no feature_names"},
		{"huge max_feature_idx", replace("max_feature_idx=1", "max_feature_idx=99999999999"), "max_feature_idx"},
		{"unknown objective", replace("objective=binary sigmoid:1", "objective=softmax"), "unknown objective"},
		{"no sigmoid", replace("objective=binary sigmoid:1", "objective=binary"), "no sigmoid"},
		{"zero sigmoid", replace("sigmoid:1", "sigmoid:0"), "greater than zero"},
		{"multiclass mismatch", replace("objective=binary sigmoid:1", "objective=multiclass num_class:3"), "num_class:3"},
		{"truncated", small[:strings.Index(small, "end of trees")], "truncated"},
		{"cut in a tree", small[:strings.Index(small, "leaf_value=0.75")], "truncated"},
		{"tree numbering", replace("Tree=1", "Tree=7"), "want Tree=1"},
		{"tree_sizes count", replace("tree_sizes=1 1", "tree_sizes=1"), "tree_sizes lists 1"},
		{"not key=value", replace("is_linear=0\nshrinkage=1\n\n\nTree=1", "is_linear=0\nshrinkage\n\n\nTree=1"), "not key=value"},
		{"duplicate key", replace("leaf_count=1 1 1", "leaf_value=1 2 3"), "appears twice"},
		{"no leaf_value", replace("leaf_value=0.5 -0.25 0.125\n", ""), "no leaf_value"},
		{"few leaves", replace("leaf_value=0.5 -0.25 0.125", "leaf_value=0.5 -0.25"), "leaf_value has 2 values, want 3"},
		{"huge num_leaves", replace("num_leaves=3", "num_leaves=2000000000"), "num_leaves=2000000000"},
		{"negative num_leaves", replace("num_leaves=3", "num_leaves=-1"), "out of range"},
		{"bad float", replace("leaf_value=0.5 -0.25 0.125", "leaf_value=0.5 abc 0.125"), "not a number"},
		{"child out of range", replace("left_child=-1 -2", "left_child=-1 -9"), "out of range"},
		{"child node out of range", replace("right_child=1 -3", "right_child=5 -3"), "out of range"},
		{"self loop", replace("right_child=1 -3", "right_child=1 1"), "child of two nodes"},
		{"root as child", replace("right_child=1 -3", "right_child=0 -3"), "back to the root"},
		{"shared leaf", replace("left_child=-1 -2", "left_child=-1 -1"), "leaf 0 is the child of two nodes"},
		{"feature out of range", replace("split_feature=1 0", "split_feature=1 2"), "split_feature: 2 is out of range"},
		{"negative feature", replace("split_feature=1 0", "split_feature=-1 0"), "out of range"},
		{"no threshold", replace("threshold=0 1.5\n", ""), "no threshold"},
		{"decision_type range", replace("decision_type=1 10", "decision_type=1 300"), "out of range"},
		{"cat index", replace("threshold=0 1.5", "threshold=1 1.5"), "not a bitset index"},
		{"cat index fraction", replace("threshold=0 1.5", "threshold=0.5 1.5"), "not a bitset index"},
		{"cat boundaries past words", replace("cat_boundaries=0 2", "cat_boundaries=0 3"), "out of range"},
		{"cat boundaries short", replace("cat_boundaries=0 2", "cat_boundaries=0 1"), "cat_boundaries end at 1"},
		{"cat boundaries decrease", str(replace("num_cat=1\n", "num_cat=2\n")).replace("cat_boundaries=0 2", "cat_boundaries=0 2 1"), "decrease"},
		{"no cat_threshold", replace("cat_threshold=5 256\n", ""), "no cat_threshold"},
		{"num_cat too big", replace("num_cat=1", "num_cat=3"), "num_cat=3 is out of range"},
		{"cat word too big", replace("cat_threshold=5 256", "cat_threshold=5 4294967296"), "out of range"},
		{"no end", strings.Replace(small, "end of trees", "end of tree", 1), `expected Tree= or "end of trees"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseText([]byte(c.text))
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
}

// replace is strings.Replace once, chainable in the table above.
type str string

func (s str) replace(old, new string) string { return strings.Replace(string(s), old, new, 1) }

func TestParseErrorNamesLine(t *testing.T) {
	bad := strings.Replace(small, "left_child=-1 -2", "left_child=-1 -9", 1)
	_, err := ParseText([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), "lightgbm model line 12: Tree=0:") {
		t.Fatalf("error %v, want it to name the tree's first line", err)
	}
}

// TestOneLeafLinear scores a linear tree with a single leaf, alone and in
// groups of rows: leaf_const + coeff*x, or leaf_value when x is NaN.
func TestOneLeafLinear(t *testing.T) {
	m := strings.Replace(small, "Tree=1\nnum_leaves=1\nnum_cat=0\n", "Tree=1\nnum_leaves=1\nnum_cat=0\nleaf_const=0.5\nnum_features=1\nleaf_features=0 \nleaf_coeff=2 \n", 1)
	m = strings.Replace(m, "leaf_value=0.75\nleaf_weight=\nleaf_count=\ninternal_value=\ninternal_weight=\ninternal_count=\nis_linear=0", "leaf_value=0.75\nleaf_weight=\nleaf_count=\ninternal_value=\ninternal_weight=\ninternal_count=\nis_linear=1", 1)
	b := mustParse(t, m)
	if b.trees[1].lin == nil {
		t.Fatal("tree 1 is not linear")
	}
	const rows = 19
	num := make([]float64, rows)
	cat := make([]float64, rows)
	for i := range num {
		num[i] = 5 + float64(i)
		cat[i] = 1
	}
	num[3] = math.NaN()
	out := make([]float64, rows)
	if err := b.PredictRaw(context.Background(), [][]float64{num, cat}, rows, out); err != nil {
		t.Fatal(err)
	}
	for i, got := range out {
		want := 0.125 + (0.5 + 2*num[i])
		if i == 3 {
			want = -0.25 + 0.75 // NaN: default left in tree 0, leaf_value in tree 1
		}
		if got != want {
			t.Errorf("row %d: %v, want %v", i, got, want)
		}
	}
}

func TestCRLF(t *testing.T) {
	b := mustParse(t, strings.ReplaceAll(small, "\n", "\r\n"))
	if got := score(t, b, 5, 1); got != 0.125+0.75 {
		t.Errorf("CRLF model: %v", got)
	}
}

func TestPandasCategorical(t *testing.T) {
	b := mustParse(t, strings.Replace(small, "pandas_categorical:null", `pandas_categorical:[["a", "b"]]`, 1))
	if !b.PandasCategorical {
		t.Error("pandas_categorical list not noticed")
	}
	b = mustParse(t, strings.Replace(small, "pandas_categorical:null", `pandas_categorical:[]`, 1))
	if b.PandasCategorical {
		t.Error("empty pandas_categorical read as categorical")
	}
}

func TestIncompleteIteration(t *testing.T) {
	// Three trees for two classes: LightGBM predicts with len/2 = 1 iteration.
	m := strings.Replace(small, "num_class=1\nnum_tree_per_iteration=1", "num_class=2\nnum_tree_per_iteration=2", 1)
	m = strings.Replace(m, "objective=binary sigmoid:1", "objective=multiclassova num_class:2 sigmoid:1", 1)
	m = strings.Replace(m, "tree_sizes=1 1", "tree_sizes=1 1 1", 1)
	extra := "Tree=2\nnum_leaves=1\nnum_cat=0\nleaf_value=100\nshrinkage=1\n\n\nend of trees"
	m = strings.Replace(m, "end of trees", extra, 1)
	b := mustParse(t, m)
	if b.NumTrees() != 3 || b.NumIterations() != 1 {
		t.Fatalf("trees %d iterations %d", b.NumTrees(), b.NumIterations())
	}
	out := make([]float64, 2)
	if err := b.PredictRaw(context.Background(), [][]float64{{5}, {1}}, 1, out); err != nil {
		t.Fatal(err)
	}
	if out[0] != 0.125 || out[1] != 0.75 {
		t.Errorf("raw = %v, want [0.125 0.75] (tree 2 unused)", out)
	}
}

func TestLgbAtof(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true},
		{"0.7", 0.7, true},
		{"1.3", 1 + 3.0/10, true},
		{"-2.5", -2.5, true},
		{"+4", 4, true},
		{"1e-05", 1.0 / 1e5, true},
		{"2.5e+02", 250, true},
		{".5", 0.5, true},
		{"", 0, false},
		{"abc", 0, false},
		{"1.5x", 0, false},
	} {
		got, ok := lgbAtof(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("lgbAtof(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// The exponent is capped at 308 and applied by repeated scaling.
	if got, _ := lgbAtof("1e400"); !(got > 1e307 && got < 1.1e308) {
		t.Errorf("lgbAtof(1e400) = %v", got)
	}
	// Not always the correctly rounded value: 123456.7890123 is accumulated as
	// digits in a double, then the fraction divided by 10^7.
	got, _ := lgbAtof("123456.7890123")
	if want := 123456 + 7890123/lgbPow(10, 7); got != want {
		t.Errorf("lgbAtof fraction: %v, want %v", got, want)
	}
}

func TestObjectives(t *testing.T) {
	for _, c := range []struct {
		obj  string
		in   []float64
		want []float64
	}{
		{"regression", []float64{-2}, []float64{-2}},
		{"regression sqrt", []float64{-2}, []float64{-4}},
		{"regression_l1 sqrt", []float64{3}, []float64{9}},
		{"huber sqrt", []float64{3}, []float64{3}}, // huber turns sqrt off
		{"quantile", []float64{3}, []float64{3}},
		{"poisson", []float64{1}, []float64{math.E}},
		{"gamma", []float64{0}, []float64{1}},
		{"tweedie", []float64{2}, []float64{math.Exp(2)}},
		{"binary sigmoid:2", []float64{0.5}, []float64{1 / (1 + math.Exp(-1))}},
		{"cross_entropy", []float64{0.5}, []float64{1 / (1 + math.Exp(-0.5))}},
		{"xentropy", []float64{0.5}, []float64{1 / (1 + math.Exp(-0.5))}},
		{"cross_entropy_lambda", []float64{-40}, []float64{math.Log1p(math.Exp(-40))}},
		{"lambdarank", []float64{7}, []float64{7}},
		{"rank_xendcg", []float64{7}, []float64{7}},
		{"custom", []float64{7}, []float64{7}},
		{"multiclassova num_class:2 sigmoid:1", []float64{0, 1}, []float64{0.5, 1 / (1 + math.Exp(-1))}},
	} {
		o, err := parseObjective(c.obj)
		if err != nil {
			t.Errorf("%s: %v", c.obj, err)
			continue
		}
		s := append([]float64(nil), c.in...)
		o.convert(s)
		for i := range s {
			if s[i] != c.want[i] {
				t.Errorf("%s(%v) = %v, want %v", c.obj, c.in, s, c.want)
				break
			}
		}
	}
	o, _ := parseObjective("multiclass num_class:3")
	s := []float64{1, 2, 3}
	o.convert(s)
	e1, e2 := math.Exp(-2), math.Exp(-1)
	sum := e1 + e2 + 1
	if s[0] != e1/sum || s[1] != e2/sum || s[2] != 1/sum {
		t.Errorf("softmax = %v", s)
	}
}
