package sklearn

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/model/pickle"
)

func TestSklearnVersion(t *testing.T) {
	for _, c := range []struct {
		v            any
		major, minor int
		ok           bool
	}{
		{"1.6.1", 1, 6, true}, {"0.23.2", 0, 23, true}, {"1.6.dev0", 1, 6, true}, {"0.24rc1", 0, 24, true},
		{"1.8", 1, 8, true}, {"junk", 0, 0, false}, {int64(3), 0, 0, false}, {"", 0, 0, false},
	} {
		obj := &pickle.Object{Dict: map[string]any{"_sklearn_version": c.v}}
		ma, mi, ok := sklearnVersion(obj)
		if ok != c.ok || ok && (ma != c.major || mi != c.minor) {
			t.Errorf("%v: got %d.%d %v", c.v, ma, mi, ok)
		}
	}
	if !versionBefore(&pickle.Object{}, 1, 6, true) || versionBefore(&pickle.Object{}, 1, 6, false) {
		t.Error("a missing version must give the caller's default")
	}
}

// logisticObj is a fitted three-class LogisticRegression as a pickle decodes it.
func logisticObj(solver, multiClass, version string) *pickle.Object {
	f8 := &pickle.DType{Kind: 'f', ItemSize: 8, Order: binary.LittleEndian}
	coef := &pickle.NDArray{DType: f8, Shape: []int{3, 1}, Data: make([]byte, 24)}
	icpt := &pickle.NDArray{DType: f8, Shape: []int{3}, Data: make([]byte, 24)}
	i8 := &pickle.DType{Kind: 'i', ItemSize: 8, Order: binary.LittleEndian}
	cls := &pickle.NDArray{DType: i8, Shape: []int{3}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}}
	d := map[string]any{"coef_": coef, "intercept_": icpt, "classes_": cls, "solver": solver}
	if multiClass != "" {
		d["multi_class"] = multiClass
	}
	if version != "" {
		d["_sklearn_version"] = version
	}
	return &pickle.Object{Module: "sklearn.linear_model._logistic", Name: "LogisticRegression", Dict: d}
}

// TestLogisticMultiClassHistory: which probabilities each release's pickle
// means (the CLI fixtures in testdata/longtail/compat prove the numbers).
func TestLogisticMultiClassHistory(t *testing.T) {
	for _, c := range []struct {
		solver, mc, version string
		ovr                 bool
	}{
		{"lbfgs", "auto", "1.2.1", false},
		{"lbfgs", "deprecated", "1.5.2", false},
		{"lbfgs", "", "1.8.0", false},
		{"liblinear", "deprecated", "1.6.1", true},
		{"lbfgs", "warn", "0.21.3", true},
		{"newton-cholesky", "auto", "1.2.1", true},
		{"newton-cholesky", "deprecated", "1.5.2", true},
		{"newton-cholesky", "deprecated", "1.6.1", false},
		{"newton-cholesky", "", "1.8.0", false},
		{"newton-cholesky", "auto", "", true},
	} {
		est, err := buildLogistic(logisticObj(c.solver, c.mc, c.version))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got := est.(*logistic).ovr; got != c.ovr {
			t.Errorf("%+v: ovr = %v", c, got)
		}
	}
	if _, err := buildLogistic(logisticObj("lbfgs", "bogus", "1.5.2")); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("unknown multi_class: %v", err)
	}
}

func TestFunctionTransformerCheckArray(t *testing.T) {
	partial := func(mod, name string, args pickle.Tuple, kw *pickle.Dict) *pickle.Object {
		g := &pickle.Global{Module: mod, Name: name}
		return &pickle.Object{Module: "functools", Name: "partial", Args: pickle.Tuple{g}, State: pickle.Tuple{g, args, kw, nil}}
	}
	kw := &pickle.Dict{}
	kw.Set("force_all_finite", false)
	ft := func(f any) *pickle.Object {
		return &pickle.Object{Module: "sklearn.preprocessing._function_transformer", Name: "FunctionTransformer",
			Dict: map[string]any{"func": f, "n_features_in_": int64(2)}}
	}
	tr, err := buildFunctionTransformer(ft(partial("sklearn.utils.validation", "check_array", pickle.Tuple{}, kw)))
	if err != nil {
		t.Fatal(err)
	}
	if f := tr.(*functionTransformer); !f.validate || !f.allowNaN {
		t.Errorf("check_array: validate %v allowNaN %v", f.validate, f.allowNaN)
	}
	for name, f := range map[string]any{
		"another function":         partial("numpy", "log1p", pickle.Tuple{}, nil),
		"positional arguments":     partial("sklearn.utils.validation", "check_array", pickle.Tuple{int64(1)}, nil),
		"a bare check_array":       &pickle.Global{Module: "sklearn.utils.validation", Name: "check_array"},
		"a partial of no function": &pickle.Object{Module: "functools", Name: "partial"},
	} {
		if _, err := buildFunctionTransformer(ft(f)); err == nil || !strings.Contains(err.Error(), "arbitrary Python code") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLegacyColumnNames(t *testing.T) {
	str := func(names ...string) *pickle.NDArray {
		vals := make([]any, len(names))
		for i, n := range names {
			vals[i] = n
		}
		return &pickle.NDArray{DType: &pickle.DType{Kind: 'O', ItemSize: 8}, Shape: []int{len(names)}, Objects: vals}
	}
	index := func(cls string, d any) *pickle.Object {
		return &pickle.Object{Module: "pandas.core.indexes.base", Name: "_new_Index",
			Args: pickle.Tuple{&pickle.Global{Module: "pandas.core.indexes.base", Name: cls}, d}}
	}
	data := &pickle.Dict{}
	data.Set("data", str("a", "b"))
	ints := &pickle.Dict{}
	ints.Set("data", &pickle.NDArray{DType: &pickle.DType{Kind: 'O', ItemSize: 8}, Shape: []int{1}, Objects: []any{int64(0)}})
	for _, c := range []struct {
		name  string
		attrs map[string]any
		want  string
		err   string
	}{
		{"0.24", map[string]any{"_feature_names_in": str("x", "y")}, "x,y", ""},
		{"0.24 without names", map[string]any{"_feature_names_in": nil}, "", ""},
		{"0.23", map[string]any{"_df_columns": index("Index", data)}, "a,b", ""},
		{"0.23 integer labels", map[string]any{"_df_columns": index("Index", ints)}, "", ""},
		{"0.23 RangeIndex", map[string]any{"_df_columns": index("RangeIndex", data)}, "", ""},
		{"bad _feature_names_in", map[string]any{"_feature_names_in": "x"}, "", "want an array"},
		{"bad _df_columns state", map[string]any{"_df_columns": index("Index", "x")}, "", "want a dict"},
		{"bad _df_columns data", map[string]any{"_df_columns": index("Index", &pickle.Dict{})}, "", "want an array"},
	} {
		names, err := legacyColumnNames(&pickle.Object{Dict: c.attrs})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || strings.Join(names, ",") != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, names, err, c.want)
		}
	}
}
