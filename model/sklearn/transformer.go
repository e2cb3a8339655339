package sklearn

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// kind is what a transformer needs an input column to be, which decides the
// type a model input is declared with (and so how a CSV column is read).
type kind uint8

const (
	kindAny  kind = iota // anything: the column is passed on or compared as is
	kindNum              // numbers (scalers, numeric imputers, estimators)
	kindStr              // text (encoders and imputers fitted on strings)
	kindBool             // booleans (encoders fitted on a bool column)
)

func (k kind) arrowType() arrow.DataType {
	switch k {
	case kindNum:
		return arrow.PrimitiveTypes.Float64
	case kindStr:
		return arrow.BinaryTypes.String
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	}
	return nil
}

// transformer is a fitted scikit-learn transformer rebuilt in Go.
type transformer interface {
	Class() string
	// NumFeatures is n_features_in_, -1 when unknown.
	NumFeatures() int
	// FeatureNames is feature_names_in_, nil when fitted without names.
	FeatureNames() []string
	// transform is the transformer's transform on a batch whose columns are in
	// fit order. It never modifies t.
	transform(t *table) (*table, error)
	// namesOut is get_feature_names_out for input feature names in.
	namesOut(in []string) []string
	// inputKinds says what each input column must be; down is what the
	// consumer downstream needs, for columns passed through unchanged. nil
	// means nothing is known.
	inputKinds(down kind) []kind
}

// tbuilder turns an allowed pickled object into a transformer.
type tbuilder func(obj *pickle.Object) (transformer, error)

var tbuilders = map[string]tbuilder{}

// registerTransformer makes a transformer class loadable.
func registerTransformer(class string, b tbuilder) { tbuilders[class] = b }

// buildTransformer rebuilds a pipeline step or ColumnTransformer entry.
func buildTransformer(v any) (transformer, error) {
	obj, ok := v.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("a step is a %s, want a scikit-learn transformer", pickle.TypeName(v))
	}
	class := obj.Class()
	b := tbuilders[class]
	if b == nil {
		if builders[class] != nil {
			return nil, fmt.Errorf("%s is an estimator, not a transformer: only the last step of a Pipeline may predict", obj.Name)
		}
		return nil, &pickle.UnsupportedError{Module: obj.Module, Name: obj.Name}
	}
	t, err := b(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.Name, err)
	}
	return t, nil
}

// isPassthrough reports the step values Pipeline and ColumnTransformer skip.
func isPassthrough(v any) bool {
	s, ok := v.(string)
	return v == nil || (ok && s == "passthrough")
}

func isDrop(v any) bool {
	s, ok := v.(string)
	return ok && s == "drop"
}

// tableEstimator is an estimator that takes the raw table (a Pipeline): the
// model then declares typed inputs and hands Predict the columns as they are.
type tableEstimator interface {
	Estimator
	predictTable(t *table, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error)
	inputKinds(down kind) []kind
	// usedInputs marks the fitted inputs that transform reads (a
	// ColumnTransformer drops the rest); nil means all.
	usedInputs() []bool
	// finalEstimator is the estimator that predicts.
	finalEstimator() Estimator
}

// strAttr reads a str attribute, def when absent or None.
func strAttr(obj *pickle.Object, name, def string) (string, error) {
	v, ok := obj.Attr(name)
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("attribute %s is a %s, want str", name, pickle.TypeName(v))
	}
	return s, nil
}

// boolAttr reads a bool attribute, def when absent.
func boolAttr(obj *pickle.Object, name string, def bool) (bool, error) {
	v, ok := obj.Attr(name)
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	}
	return false, fmt.Errorf("attribute %s is a %s, want bool", name, pickle.TypeName(v))
}

// floatVal reads a Python or numpy number.
func floatVal(v any) (float64, bool) {
	pv, ok := pyValue(v)
	if !ok || pv.k != vNum {
		if a, isArr := v.(*pickle.NDArray); isArr && len(a.Shape) == 0 {
			if f, err := a.Float64s(); err == nil && len(f) == 1 {
				return f[0], true
			}
		}
		return 0, false
	}
	return pv.f, true
}

// intsOf reads a list, tuple or integer array of ints.
func intsOf(v any, what string) ([]int, error) {
	var items []any
	switch x := v.(type) {
	case *pickle.NDArray:
		n, err := x.Int64s()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out := make([]int, len(n))
		for i, k := range n {
			out[i] = int(k)
		}
		return out, nil
	case *pickle.List:
		items = x.Items
	case pickle.Tuple:
		items = x
	case int64:
		return []int{int(x)}, nil
	default:
		return nil, fmt.Errorf("%s is a %s, want a list of ints", what, pickle.TypeName(v))
	}
	out := make([]int, len(items))
	for i, it := range items {
		n, ok := toInt(it)
		if !ok {
			return nil, fmt.Errorf("%s holds a %s, want ints", what, pickle.TypeName(it))
		}
		out[i] = n
	}
	return out, nil
}

// itemsOf reads a list or tuple.
func itemsOf(v any, what string) ([]any, error) {
	switch x := v.(type) {
	case *pickle.List:
		return x.Items, nil
	case pickle.Tuple:
		return x, nil
	}
	return nil, fmt.Errorf("%s is a %s, want a list", what, pickle.TypeName(v))
}

// transformerMeta reads n_features_in_ and feature_names_in_ of a transformer.
func transformerMeta(obj *pickle.Object) (meta, error) {
	m := meta{class: obj.Class(), nFeat: -1}
	if err := m.read(obj, -1); err != nil {
		return m, err
	}
	return m, nil
}

// genericNames are the names get_feature_names_out invents for unnamed inputs.
func genericNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "x" + strconv.Itoa(i)
	}
	return out
}

// inNames picks the input names a transformer's get_feature_names_out uses:
// those given, else feature_names_in_, else x0, x1, ...
func inNames(in []string, m meta, n int) []string {
	if in != nil {
		return in
	}
	if m.names != nil {
		return m.names
	}
	return genericNames(n)
}

// fill returns n copies of k.
func fill(n int, k kind) []kind {
	out := make([]kind, n)
	for i := range out {
		out[i] = k
	}
	return out
}

// checkWidth refuses a batch with the wrong number of columns for a fitted
// transformer.
func checkWidth(t *table, n int, who string) error {
	if n >= 0 && len(t.cols) != n {
		return fmt.Errorf("%s was fitted on %d features but receives %d", who, n, len(t.cols))
	}
	return nil
}
