package sklearn

import (
	"fmt"
	"math"

	"github.com/mlbatch/mlbatch/model/pickle"
)

func init() {
	registerTransformer("sklearn.preprocessing._encoders.OneHotEncoder", buildOneHot)
	registerTransformer("sklearn.preprocessing._encoders.OrdinalEncoder", buildOrdinal)
}

// encoder is what OneHotEncoder and OrdinalEncoder share: _BaseEncoder's
// _transform (categories_, the unknown check, infrequent grouping).
type encoder struct {
	meta
	who           string
	cats          [][]value
	catNames      [][]string // str() of each category, for feature names
	idx           []*catIndex
	kinds         []kind
	handleUnknown string
	infrequent    bool    // _infrequent_enabled
	infreqIdx     [][]int // _infrequent_indices (nil per feature without)
	mapping       [][]int // _default_to_infrequent_mappings (nil per feature without)
	missingIdx    []int   // OrdinalEncoder _missing_indices, -1 per feature without
}

func readEncoder(obj *pickle.Object, who string) (*encoder, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	e := &encoder{meta: m, who: who}
	cv, ok := obj.Attr("categories_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no categories_")
	}
	items, err := itemsOf(cv, "categories_")
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		vals, names, err := arrayValues(it, fmt.Sprintf("categories_[%d]", i))
		if err != nil {
			return nil, err
		}
		e.cats = append(e.cats, vals)
		e.catNames = append(e.catNames, names)
		e.idx = append(e.idx, newCatIndex(vals))
		k := kindNum
		if a, ok := it.(*pickle.NDArray); ok && a.DType != nil && a.DType.Kind == 'b' {
			k = kindBool
		}
		for _, v := range vals {
			if v.k == vStr {
				k = kindStr
				break
			}
		}
		e.kinds = append(e.kinds, k)
	}
	if e.nFeat < 0 {
		e.nFeat = len(e.cats)
	} else if e.nFeat != len(e.cats) {
		return nil, fmt.Errorf("categories_ has %d features, n_features_in_ is %d", len(e.cats), e.nFeat)
	}
	if e.handleUnknown, err = strAttr(obj, "handle_unknown", "error"); err != nil {
		return nil, err
	}
	if e.infrequent, err = boolAttr(obj, "_infrequent_enabled", false); err != nil {
		return nil, err
	}
	e.infreqIdx = make([][]int, e.nFeat)
	e.mapping = make([][]int, e.nFeat)
	if e.infrequent {
		ii, err := obj.Items("_infrequent_indices")
		if err != nil {
			return nil, err
		}
		mm, err := obj.Items("_default_to_infrequent_mappings")
		if err != nil {
			return nil, err
		}
		if len(ii) != e.nFeat || len(mm) != e.nFeat {
			return nil, fmt.Errorf("infrequent categories are given for %d and %d features, want %d", len(ii), len(mm), e.nFeat)
		}
		for j := range e.nFeat {
			if ii[j] != nil {
				if e.infreqIdx[j], err = intsOf(ii[j], "_infrequent_indices"); err != nil {
					return nil, err
				}
				if len(e.infreqIdx[j]) == 0 {
					return nil, fmt.Errorf("_infrequent_indices[%d] is empty", j)
				}
			}
			if mm[j] != nil {
				if e.mapping[j], err = intsOf(mm[j], "_default_to_infrequent_mappings"); err != nil {
					return nil, err
				}
				n := len(e.cats[j])
				if len(e.mapping[j]) != n && len(e.mapping[j]) != n-1 {
					return nil, fmt.Errorf("_default_to_infrequent_mappings[%d] has %d entries for %d categories", j, len(e.mapping[j]), n)
				}
				for _, v := range e.mapping[j] {
					if v < 0 || v >= n {
						return nil, fmt.Errorf("_default_to_infrequent_mappings[%d] holds %d", j, v)
					}
				}
			}
			for _, v := range e.infreqIdx[j] {
				if v < 0 || v >= len(e.cats[j]) {
					return nil, fmt.Errorf("_infrequent_indices[%d] holds %d", j, v)
				}
			}
		}
	}
	e.missingIdx = make([]int, e.nFeat)
	for j := range e.missingIdx {
		e.missingIdx[j] = -1
	}
	return e, nil
}

// encode is _BaseEncoder._transform plus _map_infrequent_categories: the
// category index of every cell (xint[feature][row]) and whether it is valid.
// ignore holds, per feature, a category index left out of the infrequent
// mapping (OrdinalEncoder's missing category in scikit-learn >= 1.3), or -1.
func (e *encoder) encode(t *table, ignore []int) (xint [][]int, mask [][]bool, err error) {
	if err := checkWidth(t, e.nFeat, e.who); err != nil {
		return nil, nil, err
	}
	// check_array(force_all_finite="allow-nan") on each column first.
	for j, c := range t.cols {
		if c.isObj() {
			continue
		}
		for i, v := range c.num {
			if math.IsInf(v, 0) {
				return nil, nil, rowError(i, t.name(j), pyReprFloat(v), fmt.Errorf("%s cannot take an infinity, as in scikit-learn", e.who))
			}
		}
	}
	xint = make([][]int, e.nFeat)
	mask = make([][]bool, e.nFeat)
	for j, c := range t.cols {
		xi := make([]int, t.rows)
		mi := make([]bool, t.rows)
		ix := e.idx[j]
		for i := range t.rows {
			var k int
			if c.isObj() {
				k = ix.find(c.obj[i])
			} else {
				k = ix.findNum(c.num[i])
			}
			if k < 0 {
				if e.handleUnknown == "error" {
					v := c.at(i)
					return nil, nil, rowError(i, t.name(j), v.text(),
						fmt.Errorf("%s: found unknown category %s in column %d during transform (handle_unknown='error')", e.who, v.repr(), j))
				}
				k = 0 // the row is set to categories_[j][0] and masked out
			} else {
				mi[i] = true
			}
			xi[i] = k
		}
		xint[j], mask[j] = xi, mi
	}
	if !e.infrequent {
		return xint, mask, nil
	}
	for j := range xint {
		if e.infreqIdx[j] == nil {
			continue
		}
		for i := range xint[j] {
			if !mask[j][i] {
				xint[j][i] = e.infreqIdx[j][0]
				if e.handleUnknown == "infrequent_if_exist" {
					mask[j][i] = true
				}
			}
		}
	}
	for j, m := range e.mapping {
		if m == nil {
			continue
		}
		skip := -1
		if ignore != nil {
			skip = ignore[j]
		}
		for i, k := range xint[j] {
			if k == skip {
				continue
			}
			if k >= len(m) {
				return nil, nil, fmt.Errorf("%s: category %d of feature %d has no infrequent mapping", e.who, k, j)
			}
			xint[j][i] = m[k]
		}
	}
	return xint, mask, nil
}

// transformedCats is _compute_transformed_categories without dropping: the
// frequent categories' names, then "infrequent_sklearn".
func (e *encoder) transformedCats(j int) []string {
	names := e.catNames[j]
	m := e.mapping[j]
	if !e.infrequent || m == nil {
		return names
	}
	top := 0
	for _, v := range m {
		top = max(top, v)
	}
	var out []string
	for k, v := range m {
		if v < top {
			out = append(out, names[k])
		}
	}
	return append(out, "infrequent_sklearn")
}

func (e *encoder) inputKinds(kind) []kind { return e.kinds }

// oneHot is OneHotEncoder with dense output (sparse_output pickles predict the
// same numbers).
type oneHot struct {
	*encoder
	drop    []int // per feature, the category index dropped after grouping, -1 for none; nil when drop is None
	nOuts   []int
	offsets []int
	sparse  bool
}

func buildOneHot(obj *pickle.Object) (transformer, error) {
	e, err := readEncoder(obj, "OneHotEncoder")
	if err != nil {
		return nil, err
	}
	switch e.handleUnknown {
	case "error", "ignore", "infrequent_if_exist", "warn":
	default:
		return nil, fmt.Errorf("handle_unknown %q is not supported", e.handleUnknown)
	}
	if e.handleUnknown == "warn" {
		e.handleUnknown = "infrequent_if_exist" // 1.6: warn, then as infrequent_if_exist
	}
	o := &oneHot{encoder: e}
	// scikit-learn >= 1.3 keeps the drop index after infrequent grouping in
	// _drop_idx_after_grouping (drop_idx_ then indexes categories_); 1.1 and 1.2
	// have only drop_idx_, already after grouping.
	dv, ok := obj.Attr("_drop_idx_after_grouping")
	if !ok {
		dv, _ = obj.Attr("drop_idx_")
	}
	if dv != nil {
		var items []any
		switch x := dv.(type) {
		case *pickle.NDArray:
			if items, err = x.Values(); err != nil {
				return nil, fmt.Errorf("drop_idx_: %w", err)
			}
		default:
			if items, err = itemsOf(dv, "drop_idx_"); err != nil {
				return nil, err
			}
		}
		if len(items) != e.nFeat {
			return nil, fmt.Errorf("drop_idx_ has %d entries for %d features", len(items), e.nFeat)
		}
		o.drop = make([]int, e.nFeat)
		for j, it := range items {
			o.drop[j] = -1
			if it == nil {
				continue
			}
			k, ok := toInt(it)
			if !ok || k < 0 || k >= len(e.cats[j]) {
				return nil, fmt.Errorf("drop_idx_[%d] is %v", j, it)
			}
			o.drop[j] = k
		}
	}
	if v, ok := obj.Attr("_n_features_outs"); ok {
		if o.nOuts, err = intsOf(v, "_n_features_outs"); err != nil {
			return nil, err
		}
	} else {
		for j := range e.nFeat {
			n := len(e.cats[j])
			if o.drop != nil && o.drop[j] >= 0 {
				n--
			}
			if e.infreqIdx[j] != nil {
				n -= len(e.infreqIdx[j]) - 1
			}
			o.nOuts = append(o.nOuts, n)
		}
	}
	if len(o.nOuts) != e.nFeat {
		return nil, fmt.Errorf("_n_features_outs has %d entries for %d features", len(o.nOuts), e.nFeat)
	}
	total := 0
	for j, n := range o.nOuts {
		if n < 0 || n > len(e.cats[j]) {
			return nil, fmt.Errorf("feature %d has %d output columns for %d categories", j, n, len(e.cats[j]))
		}
		o.offsets = append(o.offsets, total)
		total += n
	}
	so, err := boolAttr(obj, "sparse_output", true)
	if err != nil {
		return nil, err
	}
	if v, ok := obj.Attr("sparse"); ok {
		if b, isBool := v.(bool); isBool && !obj.Has("sparse_output") {
			so = b // before 1.2
		}
	}
	o.sparse = so
	return o, nil
}

func (o *oneHot) transform(t *table) (*table, error) {
	xint, mask, err := o.encode(t, nil)
	if err != nil {
		return nil, err
	}
	out := &table{rows: t.rows, sparse: o.sparse}
	for j := range o.nOuts {
		cols := make([][]float64, o.nOuts[j])
		for k := range cols {
			cols[k] = make([]float64, t.rows)
		}
		to := len(o.cats[j]) // drop None: nothing compares above it
		if o.drop != nil && o.drop[j] >= 0 {
			to = o.drop[j]
		}
		for i := range t.rows {
			if !mask[j][i] {
				continue
			}
			k := xint[j][i]
			if o.drop != nil && o.drop[j] >= 0 && k == to {
				continue
			}
			if k > to {
				k--
			}
			if k < 0 || k >= len(cols) {
				return nil, fmt.Errorf("OneHotEncoder: category %d of feature %d is outside its %d output columns", k, j, len(cols))
			}
			cols[k][i] = 1
		}
		for _, c := range cols {
			out.cols = append(out.cols, &column{num: c})
		}
	}
	if names := o.namesOut(t.names); len(names) == len(out.cols) {
		out.names = names
	}
	return out, nil
}

// namesOut: "<feature>_<category>" for every output column.
func (o *oneHot) namesOut(in []string) []string {
	in = inNames(in, o.meta, o.nFeat)
	var out []string
	for j := range o.nFeat {
		cats := o.transformedCats(j)
		for k, c := range cats {
			if o.drop != nil && o.drop[j] == k {
				continue
			}
			out = append(out, in[j]+"_"+c)
		}
	}
	return out
}

// ordinal is OrdinalEncoder.
type ordinal struct {
	*encoder
	unknownValue float64 // handle_unknown="use_encoded_value"
	missingValue float64 // encoded_missing_value
	ignoreMiss   []int   // missing categories left out of infrequent grouping (>= 1.3)
}

func buildOrdinal(obj *pickle.Object) (transformer, error) {
	e, err := readEncoder(obj, "OrdinalEncoder")
	if err != nil {
		return nil, err
	}
	o := &ordinal{encoder: e, missingValue: math.NaN()}
	switch e.handleUnknown {
	case "error", "ignore", "infrequent_if_exist":
	case "warn":
		e.handleUnknown = "infrequent_if_exist"
	case "use_encoded_value":
		v, _ := obj.Attr("unknown_value")
		f, ok := floatVal(v)
		if !ok {
			return nil, fmt.Errorf("unknown_value is a %s, want a number", pickle.TypeName(v))
		}
		o.unknownValue = f
	default:
		return nil, fmt.Errorf("handle_unknown %q is not supported", e.handleUnknown)
	}
	if v, ok := obj.Attr("encoded_missing_value"); ok {
		f, ok := floatVal(v)
		if !ok {
			return nil, fmt.Errorf("encoded_missing_value is a %s, want a number", pickle.TypeName(v))
		}
		o.missingValue = f
	}
	if v, ok := obj.Attr("_missing_indices"); ok && v != nil {
		d, ok := v.(*pickle.Dict)
		if !ok {
			return nil, fmt.Errorf("_missing_indices is a %s, want a dict", pickle.TypeName(v))
		}
		for i, k := range d.Keys() {
			j, ok1 := toInt(k)
			m, ok2 := toInt(d.Values()[i])
			if !ok1 || !ok2 || j < 0 || j >= e.nFeat || m < 0 || m >= len(e.cats[j]) {
				return nil, fmt.Errorf("_missing_indices holds %v: %v", k, d.Values()[i])
			}
			e.missingIdx[j] = m
		}
	} else {
		for j, cats := range e.cats {
			for k, c := range cats {
				if c.isNaN() {
					e.missingIdx[j] = k
				}
			}
		}
	}
	// With infrequent categories, scikit-learn >= 1.3 leaves the missing
	// category out of the mapping (one entry shorter) and out of the remapping.
	for j, m := range e.mapping {
		if m != nil && len(m) == len(e.cats[j])-1 && e.missingIdx[j] >= 0 {
			if o.ignoreMiss == nil {
				o.ignoreMiss = make([]int, e.nFeat)
				for k := range o.ignoreMiss {
					o.ignoreMiss[k] = -1
				}
			}
			o.ignoreMiss[j] = e.missingIdx[j]
		}
	}
	return o, nil
}

func (o *ordinal) transform(t *table) (*table, error) {
	xint, mask, err := o.encode(t, o.ignoreMiss)
	if err != nil {
		return nil, err
	}
	out := &table{rows: t.rows, cols: make([]*column, o.nFeat), names: t.names, sparse: t.sparse}
	for j := range o.nFeat {
		c := make([]float64, t.rows)
		for i, k := range xint[j] {
			c[i] = float64(k)
			if o.missingIdx[j] >= 0 && k == o.missingIdx[j] {
				c[i] = o.missingValue
			}
			if !mask[j][i] {
				switch {
				case o.handleUnknown == "use_encoded_value":
					c[i] = o.unknownValue
				case !o.infrequent:
					c[i] = -1 // ignore / infrequent_if_exist without infrequent categories (>= 1.6)
				}
			}
		}
		out.cols[j] = &column{num: c}
	}
	out.names = o.namesOut(t.names)
	return out, nil
}

func (o *ordinal) namesOut(in []string) []string { return inNames(in, o.meta, o.nFeat) }
