package sklearn

import (
	"fmt"

	"github.com/mlbatch/mlbatch/model/pickle"
)

func init() {
	registerTransformer("sklearn.compose._column_transformer.ColumnTransformer", buildColumnTransformer)
	// The pandas column Index that 0.22 and 0.23 kept in _df_columns: read as
	// data by legacyColumnNames, never called.
	for _, c := range []string{
		"pandas.core.indexes.base._new_Index",
		"pandas.core.indexes.base.Index",
		"pandas.core.indexes.range.RangeIndex",
		"pandas.core.indexes.numeric.Int64Index",
		"pandas.core.indexes.numeric.UInt64Index",
		"pandas.core.indexes.numeric.Float64Index",
	} {
		inert[c] = true
	}
	// scikit-learn 1.5 and 1.6 keep the remainder's columns in transformers_ as
	// this list subclass (a UserList: its items are in the "data" attribute).
	inert[remainderColsList] = true
}

const remainderColsList = "sklearn.compose._column_transformer._RemainderColsList"

// columnTransformer is sklearn.compose.ColumnTransformer: each fitted
// transformer gets its own columns, and the outputs are concatenated in the
// order of transformers_ (the remainder last).
//
// Columns are chosen by position. At the top of a model the batch's columns are
// put in feature_names_in_ order first (by name), so this is selection by name;
// inside a pipeline the columns always arrive in the order they had at fit, so
// the positions scikit-learn resolved at fit (_transformer_to_input_indices)
// select the same columns as the names would.
type columnTransformer struct {
	meta
	parts   []ctPart
	used    []bool // per input column: read by a transformer or passed through
	sparse  bool   // sparse_output_
	verbose bool   // verbose_feature_names_out
}

type ctPart struct {
	name   string
	t      transformer // nil for 'passthrough'
	idx    []int       // input columns, in the order the transformer sees them
	weight float64
}

func buildColumnTransformer(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	c := &columnTransformer{meta: m}
	if c.nFeat < 0 {
		if n, ok := intAttr(obj, "_n_features"); ok {
			c.nFeat = n
		}
	}
	if c.names == nil {
		if c.names, err = legacyColumnNames(obj); err != nil {
			return nil, err
		}
		if c.names != nil && c.nFeat >= 0 && len(c.names) != c.nFeat {
			return nil, fmt.Errorf("the fitted DataFrame had %d columns but _n_features is %d", len(c.names), c.nFeat)
		}
	}
	if c.nFeat < 0 {
		return nil, fmt.Errorf("not fitted: no n_features_in_")
	}
	c.used = make([]bool, c.nFeat)
	if c.sparse, err = boolAttr(obj, "sparse_output_", false); err != nil {
		return nil, err
	}
	if c.verbose, err = boolAttr(obj, "verbose_feature_names_out", true); err != nil {
		return nil, err
	}
	weights, err := readWeights(obj)
	if err != nil {
		return nil, err
	}
	var indices *pickle.Dict
	if v, ok := obj.Attr("_transformer_to_input_indices"); ok {
		if indices, ok = v.(*pickle.Dict); !ok {
			return nil, fmt.Errorf("_transformer_to_input_indices is a %s, want a dict", pickle.TypeName(v))
		}
	}
	items, err := obj.Items("transformers_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	for i, it := range items {
		tr, err := itemsOf(it, "a ColumnTransformer entry")
		if err != nil || len(tr) != 3 {
			return nil, fmt.Errorf("transformers_ entry %d is not a (name, transformer, columns) triple", i)
		}
		name, ok := tr[0].(string)
		if !ok {
			return nil, fmt.Errorf("transformers_ entry %d has a %s name", i, pickle.TypeName(tr[0]))
		}
		if isDrop(tr[1]) {
			continue
		}
		var idx []int
		if iv, ok := indexOf(indices, name); ok {
			if idx, err = intsOf(iv, "_transformer_to_input_indices["+name+"]"); err != nil {
				return nil, err
			}
		} else if idx, err = resolveColumns(tr[2], c.nFeat, c.names); err != nil {
			return nil, fmt.Errorf("transformer %q: %w", name, err)
		}
		if len(idx) == 0 {
			continue // an empty selection is skipped, as _iter does
		}
		for _, j := range idx {
			if j < 0 || j >= c.nFeat {
				return nil, fmt.Errorf("transformer %q selects column %d of %d", name, j, c.nFeat)
			}
			c.used[j] = true
		}
		part := ctPart{name: name, idx: idx, weight: 1}
		if w, ok := weights[name]; ok {
			part.weight = w
		}
		switch {
		case tr[1] == nil:
			return nil, fmt.Errorf("transformer %q is None", name)
		case isPassthrough(tr[1]):
		default:
			if part.t, err = buildTransformer(tr[1]); err != nil {
				return nil, fmt.Errorf("transformer %q: %w", name, err)
			}
			if n := part.t.NumFeatures(); n >= 0 && n != len(idx) {
				return nil, fmt.Errorf("transformer %q was fitted on %d columns but selects %d", name, n, len(idx))
			}
		}
		c.parts = append(c.parts, part)
	}
	return c, nil
}

// indexOf looks name up in _transformer_to_input_indices.
func indexOf(d *pickle.Dict, name string) (any, bool) {
	if d == nil {
		return nil, false
	}
	return d.Get(name)
}

// resolveColumns turns a column specification (transformers_ of releases
// without _transformer_to_input_indices) into positions: a name, an int, a list
// or array of names, ints or booleans (a mask), or a slice of ints or of names
// (names inclusive, as pandas' .loc). Callables are resolved at fit, so they
// never reach transformers_.
func resolveColumns(spec any, n int, names []string) ([]int, error) {
	byName := func(s string) (int, error) {
		for i, nm := range names {
			if nm == s {
				return i, nil
			}
		}
		if names == nil {
			return 0, fmt.Errorf("selects column %q by name, but the ColumnTransformer was fitted without column names", s)
		}
		return 0, fmt.Errorf("selects column %q, which is not among the fitted columns", s)
	}
	byIndex := func(k int) (int, error) {
		if k < 0 {
			k += n
		}
		if k < 0 || k >= n {
			return 0, fmt.Errorf("column index %d is out of range for %d columns", k, n)
		}
		return k, nil
	}
	switch x := spec.(type) {
	case string:
		i, err := byName(x)
		return []int{i}, err
	case int64:
		i, err := byIndex(int(x))
		return []int{i}, err
	case *pickle.Slice:
		return resolveSlice(x, n, byName)
	case *pickle.NDArray:
		vals, err := x.Values()
		if err != nil {
			return nil, err
		}
		return resolveList(vals, n, byName, byIndex)
	case *pickle.List:
		return resolveList(x.Items, n, byName, byIndex)
	case pickle.Tuple:
		return resolveList(x, n, byName, byIndex)
	case *pickle.Object:
		if x.Class() == remainderColsList {
			if data, ok := x.Attr("data"); ok {
				return resolveColumns(data, n, names)
			}
		}
		return nil, fmt.Errorf("columns are chosen by a callable (%s); mlbatch selects columns by name, index, boolean mask or slice only", pickle.TypeName(spec))
	case *pickle.Global:
		return nil, fmt.Errorf("columns are chosen by a callable (%s); mlbatch selects columns by name, index, boolean mask or slice only", pickle.TypeName(spec))
	}
	return nil, fmt.Errorf("columns are a %s; mlbatch selects columns by name, index, boolean mask or slice", pickle.TypeName(spec))
}

func resolveList(items []any, n int, byName func(string) (int, error), byIndex func(int) (int, error)) ([]int, error) {
	if len(items) == 0 {
		return nil, nil
	}
	if _, isBool := items[0].(bool); isBool {
		if len(items) != n {
			return nil, fmt.Errorf("a boolean mask of %d values for %d columns", len(items), n)
		}
		var out []int
		for i, it := range items {
			b, ok := it.(bool)
			if !ok {
				return nil, fmt.Errorf("a column mask mixes booleans and %s", pickle.TypeName(it))
			}
			if b {
				out = append(out, i)
			}
		}
		return out, nil
	}
	out := make([]int, len(items))
	for k, it := range items {
		var err error
		switch x := it.(type) {
		case string:
			out[k], err = byName(x)
		case int64:
			out[k], err = byIndex(int(x))
		default:
			err = fmt.Errorf("a column list holds a %s", pickle.TypeName(it))
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func resolveSlice(s *pickle.Slice, n int, byName func(string) (int, error)) ([]int, error) {
	_, strStart := s.Start.(string)
	_, strStop := s.Stop.(string)
	if strStart || strStop {
		lo, hi := 0, n-1
		var err error
		if strStart {
			if lo, err = byName(s.Start.(string)); err != nil {
				return nil, err
			}
		}
		if strStop {
			if hi, err = byName(s.Stop.(string)); err != nil {
				return nil, err
			}
		}
		if s.Step != nil {
			return nil, fmt.Errorf("a slice of column names with a step is not supported")
		}
		var out []int
		for i := lo; i <= hi; i++ {
			out = append(out, i)
		}
		return out, nil
	}
	get := func(v any, def int) (int, error) {
		if v == nil {
			return def, nil
		}
		k, ok := v.(int64)
		if !ok {
			return 0, fmt.Errorf("a column slice bound is a %s", pickle.TypeName(v))
		}
		return int(k), nil
	}
	step, err := get(s.Step, 1)
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, fmt.Errorf("a column slice has step 0")
	}
	// Python's slice.indices(n)
	clamp := func(v any, def int) (int, error) {
		k, err := get(v, def)
		if err != nil || v == nil {
			return k, err
		}
		if k < 0 {
			k += n
			if k < 0 {
				k = -1
				if step > 0 {
					k = 0
				}
			}
		} else if k >= n {
			k = n
			if step < 0 {
				k = n - 1
			}
		}
		return k, nil
	}
	defStart, defStop := 0, n
	if step < 0 {
		defStart, defStop = n-1, -1
	}
	lo, err := clamp(s.Start, defStart)
	if err != nil {
		return nil, err
	}
	hi, err := clamp(s.Stop, defStop)
	if err != nil {
		return nil, err
	}
	var out []int
	for i := lo; (step > 0 && i < hi) || (step < 0 && i > hi); i += step {
		out = append(out, i)
	}
	return out, nil
}

func (c *columnTransformer) usedInputs() []bool { return c.used }

func (c *columnTransformer) transform(t *table) (*table, error) {
	if err := checkWidth(t, c.nFeat, "ColumnTransformer"); err != nil {
		return nil, err
	}
	outs := make([]*table, 0, len(c.parts))
	for _, p := range c.parts {
		r := t.sub(p.idx)
		if p.t != nil {
			var err error
			if r, err = p.t.transform(r); err != nil {
				return nil, err
			}
		}
		r, err := weighted(r, p.weight, "ColumnTransformer")
		if err != nil {
			return nil, err
		}
		outs = append(outs, r)
	}
	out := hstack(t.rows, outs, c.sparse)
	if names := c.namesOut(t.names); len(names) == len(out.cols) {
		out.names = names
	}
	return out, nil
}

// namesOut is get_feature_names_out: each transformer's names, prefixed with
// its name and "__" when verbose_feature_names_out is set.
func (c *columnTransformer) namesOut(in []string) []string {
	in = inNames(in, c.meta, c.nFeat)
	if len(in) != c.nFeat {
		return nil
	}
	var out []string
	for _, p := range c.parts {
		names := make([]string, len(p.idx))
		for k, j := range p.idx {
			names[k] = in[j]
		}
		if p.t != nil {
			if names = p.t.namesOut(names); names == nil {
				return nil
			}
		}
		for _, n := range names {
			if c.verbose {
				n = p.name + "__" + n
			}
			out = append(out, n)
		}
	}
	return out
}

func (c *columnTransformer) inputKinds(down kind) []kind {
	kinds := make([]kind, c.nFeat)
	for _, p := range c.parts {
		pk := fill(len(p.idx), down)
		if p.t != nil {
			if pk = p.t.inputKinds(down); len(pk) != len(p.idx) {
				pk = fill(len(p.idx), kindAny)
			}
		}
		for k, j := range p.idx {
			kinds[j] = mergeKind(kinds[j], pk[k])
		}
	}
	return kinds
}

// legacyColumnNames reads the DataFrame column names a ColumnTransformer of a
// release before feature_names_in_ (1.0) kept to select columns by name:
// _feature_names_in (0.24, an object array or None) or _df_columns (0.22 and
// 0.23, the pandas Index itself, pickled as _new_Index(Index, {"data": ...})).
// Names that are not all strings (a RangeIndex, integer labels) give nil: such
// columns are selected by position.
func legacyColumnNames(obj *pickle.Object) ([]string, error) {
	if v, ok := obj.Attr("_feature_names_in"); ok && v != nil {
		arr, isArr := v.(*pickle.NDArray)
		if !isArr {
			return nil, fmt.Errorf("_feature_names_in is a %s, want an array", pickle.TypeName(v))
		}
		return stringsOrNil(arr)
	}
	v, ok := obj.Attr("_df_columns")
	if !ok || v == nil {
		return nil, nil
	}
	idx, isObj := v.(*pickle.Object)
	if !isObj || idx.Module != "pandas.core.indexes.base" || idx.Name != "_new_Index" || len(idx.Args) != 2 {
		return nil, nil // a RangeIndex or another index of non-string labels
	}
	if cls, isG := idx.Args[0].(*pickle.Global); !isG || cls.Name != "Index" {
		return nil, nil
	}
	d, isDict := idx.Args[1].(*pickle.Dict)
	if !isDict {
		return nil, fmt.Errorf("_df_columns holds a %s, want a dict", pickle.TypeName(idx.Args[1]))
	}
	data, _ := d.Get("data")
	arr, isArr := data.(*pickle.NDArray)
	if !isArr {
		return nil, fmt.Errorf("_df_columns data is a %s, want an array", pickle.TypeName(data))
	}
	return stringsOrNil(arr)
}

// stringsOrNil returns an array's values when every one is a string, else nil.
func stringsOrNil(arr *pickle.NDArray) ([]string, error) {
	vals, err := arr.Values()
	if err != nil {
		return nil, fmt.Errorf("column names: %w", err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			return nil, nil
		}
		out[i] = s
	}
	return out, nil
}
