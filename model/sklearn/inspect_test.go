package sklearn

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

func inspectDir(t *testing.T, dir string) *Tree {
	t.Helper()
	mm, err := model.ReadMLmodel(filepath.Join(testdata, dir))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Inspect(mm)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func childNames(n *Node) string {
	var s []string
	for _, c := range n.Children {
		s = append(s, c.Name)
	}
	return strings.Join(s, ",")
}

func child(t *testing.T, n *Node, name string) *Node {
	t.Helper()
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s has no child %q (%s)", n.Class, name, childNames(n))
	return nil
}

// TestInspectPipelineTree: a fitted Pipeline(ColumnTransformer(..., Pipeline),
// RandomForest) shows its steps, the transformers with their columns, the key
// hyper-parameters and the forest's trees as one node; the pickle and the skops
// file of the same model give the same tree.
func TestInspectPipelineTree(t *testing.T) {
	tr := inspectDir(t, "pipelines/customers_ct_forest")
	r := tr.Root
	if r.Class != "sklearn.pipeline.Pipeline" || !r.Supported || childNames(r) != "prep,rf" || tr.Format != "cloudpickle" {
		t.Fatalf("root %+v", r)
	}
	prep := child(t, r, "prep")
	if prep.Class != "sklearn.compose._column_transformer.ColumnTransformer" || childNames(prep) != "num,cat,card,remainder" {
		t.Errorf("prep %s: %s", prep.Class, childNames(prep))
	}
	if c := child(t, prep, "num"); c.Class != "sklearn.impute._base.SimpleImputer" ||
		c.Columns != "['age', 'income', 'score', 'tenure_months', 'num_products']" || c.Params[0] != (Param{"strategy", "'median'"}) {
		t.Errorf("num %+v", c)
	}
	cat := child(t, prep, "cat")
	if childNames(cat) != "impute,onehot" || cat.Columns != "['city', 'plan', 'channel']" {
		t.Errorf("cat %+v", cat)
	}
	if oh := child(t, cat, "onehot"); oh.Kind != "transformer" || !slices.Contains(oh.Params, Param{"drop", "'first'"}) {
		t.Errorf("onehot %+v", oh)
	}
	if rem := child(t, prep, "remainder"); rem.Kind != "passthrough" || rem.Columns != "[8]" {
		t.Errorf("remainder %+v", rem)
	}
	rf := child(t, r, "rf")
	if rf.Kind != "estimator" || !slices.Contains(rf.Params, Param{"n_estimators", "25"}) || !slices.Contains(rf.Params, Param{"max_depth", "6"}) {
		t.Errorf("rf %+v", rf)
	}
	if trees := child(t, rf, "estimators_"); trees.Count != 25 || trees.Class != "sklearn.tree._classes.DecisionTreeClassifier" || len(trees.Children) != 0 {
		t.Errorf("trees %+v", trees)
	}
	if len(tr.Unsupported) != 0 || tr.Reason() != "" {
		t.Errorf("unsupported %v", tr.Unsupported)
	}
	for _, c := range tr.Classes {
		if !c.Supported {
			t.Errorf("%+v", c)
		}
		if c.Class == "sklearn.tree._tree.Tree" && (c.Count != 25 || c.Kind != "object") {
			t.Errorf("%+v", c)
		}
	}

	sk := inspectDir(t, "pipelines/customers_ct_forest_skops")
	a, _ := json.Marshal(tr.Root)
	b, _ := json.Marshal(sk.Root)
	if string(a) != string(b) || sk.Format != "skops" {
		t.Errorf("pickle and skops trees differ:\n%s\n%s", a, b)
	}
}

// TestInspectNestedUnsupported: a class mlbatch lacks, three levels down, is
// named at its place, in both formats, and the rest is marked supported.
func TestInspectNestedUnsupported(t *testing.T) {
	const grp = "sklearn.random_projection.GaussianRandomProjection"
	for _, dir := range []string{"inspect/nested_unsupported", "inspect/nested_unsupported_skops"} {
		tr := inspectDir(t, dir)
		if !slices.Equal(tr.Unsupported, []string{grp}) || tr.Reason() != "unsupported: "+grp+" (at Pipeline > prep > num > proj)" {
			t.Errorf("%s: %v, %q", dir, tr.Unsupported, tr.Reason())
		}
		num := child(t, child(t, child(t, tr.Root, "prep"), "num"), "proj")
		if num.Class != grp || num.Supported || num.Kind != "unknown" || num.Params[0] != (Param{"n_components", "2"}) {
			t.Errorf("%s: %+v", dir, num)
		}
		if clf := child(t, tr.Root, "clf"); !clf.Supported || !slices.Contains(clf.Params, Param{"C", "0.5"}) {
			t.Errorf("%s: %+v", dir, clf)
		}
		// The unfitted copy in transformers adds nothing: it is left out.
		if n := childNames(child(t, tr.Root, "prep")); n != "num,cat" {
			t.Errorf("%s: prep children %s", dir, n)
		}
		// Only the unsupported class fails Decode, as inspect says.
		mm, _ := model.ReadMLmodel(filepath.Join(testdata, dir))
		if _, err := load(mm, model.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "unsupported class "+grp) {
			t.Errorf("%s: load: %v", dir, err)
		}
	}
}

// TestInspectLiveRegistry: supported comes from the registry as it is, so an
// estimator registered by another file is reported supported at once.
func TestInspectLiveRegistry(t *testing.T) {
	const grp = "sklearn.random_projection.GaussianRandomProjection"
	tbuilders[grp] = func(*pickle.Object) (transformer, error) { return nil, nil }
	defer delete(tbuilders, grp)
	tr := inspectDir(t, "inspect/nested_unsupported")
	if len(tr.Unsupported) != 0 {
		t.Errorf("unsupported %v", tr.Unsupported)
	}
	if p := child(t, child(t, child(t, tr.Root, "prep"), "num"), "proj"); !p.Supported || p.Kind != "transformer" {
		t.Errorf("%+v", p)
	}
}

// TestInspectRefusals: functions and callables are named as such, a pickle the
// permissive decoder still cannot finish lists what it met, and a hostile
// pickle is only described.
func TestInspectRefusals(t *testing.T) {
	tr := inspectDir(t, "pipelines/refuse_make_column_selector")
	const sel = "sklearn.compose._column_transformer.make_column_selector"
	if !slices.Equal(tr.Unsupported, []string{sel}) || !strings.Contains(tr.Reason(), "(at Pipeline > prep > n > columns)") {
		t.Errorf("%v %q", tr.Unsupported, tr.Reason())
	}
	// A function of the user's (skops names its module __main__).
	tr = inspectDir(t, "pipelines/refuse_function_transformer_skops")
	f := child(t, child(t, tr.Root, "log"), "func")
	if f.Class != "__main__.log1p" || f.Kind != "function" || f.Supported || !slices.Equal(tr.Unsupported, []string{f.Class}) {
		t.Errorf("%+v %v", f, tr.Unsupported)
	}
	// numpy's log1p is a known function (TransformedTargetRegressor takes it),
	// so it shows where it sits whatever the registry says of it.
	tr = inspectDir(t, "pipelines/refuse_function_transformer_cloudpickle")
	if f := child(t, child(t, tr.Root, "log"), "func"); f.Class != "numpy.core._multiarray_umath.log1p" {
		t.Errorf("%+v", f)
	}
	tr = inspectDir(t, "pipelines/refuse_lambda_selector")
	if tr.Root != nil || tr.Incomplete == "" || !slices.Contains(tr.Unsupported, "cloudpickle.cloudpickle._make_function") {
		t.Errorf("%+v", tr)
	}
	tr = inspectDir(t, "bad/models/evil-os-system")
	if tr.Root.Class != "posix.system" && tr.Root.Class != "os.system" || tr.Root.Kind != "function" || tr.Root.Supported {
		t.Errorf("%+v", tr.Root)
	}
}
