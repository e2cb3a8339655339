package sklearn

import (
	"fmt"
	"math"

	"github.com/mlbatch/mlbatch/model/pickle"
)

func init() {
	registerTransformer("sklearn.impute._base.SimpleImputer", buildSimpleImputer)
	registerTransformer("sklearn.impute._base.MissingIndicator", buildMissingIndicator)
	// 0.20 and 0.21 defined both in the module sklearn/impute.py.
	registerTransformer("sklearn.impute.SimpleImputer", buildSimpleImputer)
	registerTransformer("sklearn.impute.MissingIndicator", buildMissingIndicator)
}

// missingSpec is an imputer's missing_values: NaN (the default), a number, a
// str or None.
type missingSpec struct {
	v     value
	isNaN bool
}

func readMissing(obj *pickle.Object) (missingSpec, error) {
	v, ok := obj.Attr("missing_values")
	if !ok {
		return missingSpec{v: nanValue, isNaN: true}, nil
	}
	if o, isObj := v.(*pickle.Object); isObj {
		return missingSpec{}, fmt.Errorf("missing_values is a %s object (pandas.NA is not supported)", o.Class())
	}
	pv, ok := pyValue(v)
	if !ok {
		return missingSpec{}, fmt.Errorf("missing_values is a %s", pickle.TypeName(v))
	}
	return missingSpec{v: pv, isNaN: pv.isNaN()}, nil
}

// isMissing is _get_mask for one cell.
func (m missingSpec) isMissing(c *column, i int) bool {
	if !c.isObj() {
		x := c.num[i]
		if m.isNaN {
			return math.IsNaN(x)
		}
		return m.v.k == vNum && x == m.v.f
	}
	v := c.obj[i]
	if m.isNaN {
		return v.isNaN() // X != X
	}
	return v.k == m.v.k && v.equal(m.v)
}

// validate is the check both imputers run: NaN is refused unless it is the
// missing marker, infinities always; a numeric X with a non-numeric marker is
// an error (_check_inputs_dtype).
func (m missingSpec) validate(t *table, who string, objectFit bool) error {
	if err := checkNoMissing(t, who, m.isNaN); err != nil {
		return err
	}
	if m.v.k == vNum || objectFit {
		return nil
	}
	for _, c := range t.cols {
		if c.isObj() {
			return nil
		}
	}
	return fmt.Errorf("%s: 'X' and 'missing_values' types are expected to be both numerical (missing_values is %s)", who, m.v.repr())
}

// missingIndicator is MissingIndicator (and SimpleImputer's indicator_).
type missingIndicator struct {
	meta
	missing    missingSpec
	features   []int // features_
	all        bool  // features="all"
	nIn        int   // _n_features
	errorOnNew bool
}

func buildMissingIndicator(obj *pickle.Object) (transformer, error) {
	return readIndicator(obj)
}

func readIndicator(obj *pickle.Object) (*missingIndicator, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	mi := &missingIndicator{meta: m}
	if mi.missing, err = readMissing(obj); err != nil {
		return nil, err
	}
	f, err := strAttr(obj, "features", "missing-only")
	if err != nil {
		return nil, err
	}
	switch f {
	case "all":
		mi.all = true
	case "missing-only":
	default:
		return nil, fmt.Errorf("features %q is not supported", f)
	}
	fv, ok := obj.Attr("features_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no features_")
	}
	if mi.features, err = intsOf(fv, "features_"); err != nil {
		return nil, err
	}
	n, ok := intAttr(obj, "_n_features")
	if !ok {
		n = mi.nFeat
	}
	if n < 0 {
		return nil, fmt.Errorf("not fitted: no _n_features")
	}
	mi.nIn = n
	if mi.nFeat < 0 {
		mi.nFeat = n
	}
	for _, j := range mi.features {
		if j < 0 || j >= n {
			return nil, fmt.Errorf("features_ holds %d for %d features", j, n)
		}
	}
	if mi.errorOnNew, err = boolAttr(obj, "error_on_new", true); err != nil {
		return nil, err
	}
	return mi, nil
}

// mask is the missing mask of every input column.
func (mi *missingIndicator) mask(t *table) [][]bool {
	out := make([][]bool, len(t.cols))
	for j, c := range t.cols {
		m := make([]bool, t.rows)
		for i := range m {
			m[i] = mi.missing.isMissing(c, i)
		}
		out[j] = m
	}
	return out
}

// fromMask is MissingIndicator.transform on a precomputed mask.
func (mi *missingIndicator) fromMask(mask [][]bool, t *table) (*table, error) {
	if !mi.all && mi.errorOnNew {
		fitted := make(map[int]bool, len(mi.features))
		for _, j := range mi.features {
			fitted[j] = true
		}
		for j, m := range mask {
			if fitted[j] {
				continue
			}
			for i, b := range m {
				if b {
					return nil, rowError(i, t.name(j), t.cols[j].at(i).text(),
						fmt.Errorf("MissingIndicator: feature %d has missing values in transform but had none in fit (error_on_new=True)", j))
				}
			}
		}
	}
	out := &table{rows: t.rows, sparse: t.sparse}
	sel := mi.features
	if len(mi.features) >= mi.nIn {
		sel = make([]int, len(mask))
		for j := range sel {
			sel[j] = j
		}
	}
	for _, j := range sel {
		c := make([]float64, t.rows)
		for i, b := range mask[j] {
			if b {
				c[i] = 1
			}
		}
		out.cols = append(out.cols, &column{num: c})
		out.names = append(out.names, "missingindicator_"+t.name(j))
	}
	return out, nil
}

func (mi *missingIndicator) transform(t *table) (*table, error) {
	if err := checkWidth(t, mi.nIn, "MissingIndicator"); err != nil {
		return nil, err
	}
	if err := mi.missing.validate(t, "MissingIndicator", false); err != nil {
		return nil, err
	}
	return mi.fromMask(mi.mask(t), t)
}

func (mi *missingIndicator) namesOut(in []string) []string {
	in = inNames(in, mi.meta, mi.nIn)
	var out []string
	for _, j := range mi.features {
		out = append(out, "missingindicator_"+in[j])
	}
	return out
}

func (mi *missingIndicator) inputKinds(kind) []kind {
	k := kindAny
	if mi.missing.v.k == vStr {
		k = kindStr
	}
	return fill(mi.nIn, k)
}

// simpleImputer is SimpleImputer: missing cells replaced by statistics_;
// columns whose statistic is NaN are dropped unless strategy="constant" or
// keep_empty_features; the indicator's columns follow.
type simpleImputer struct {
	meta
	strategy  string
	missing   missingSpec
	stats     []value
	objectFit bool // fitted on an object array (_fit_dtype.kind == 'O')
	keepEmpty bool
	indicator *missingIndicator
	kinds     []kind
}

func buildSimpleImputer(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	s := &simpleImputer{meta: m}
	if s.strategy, err = strAttr(obj, "strategy", "mean"); err != nil {
		return nil, err
	}
	switch s.strategy {
	case "mean", "median", "most_frequent", "constant":
	default:
		return nil, fmt.Errorf("strategy %q is not supported", s.strategy)
	}
	if s.missing, err = readMissing(obj); err != nil {
		return nil, err
	}
	sv, ok := obj.Attr("statistics_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no statistics_")
	}
	if s.stats, _, err = arrayValues(sv, "statistics_"); err != nil {
		return nil, err
	}
	if s.nFeat < 0 {
		s.nFeat = len(s.stats)
	} else if s.nFeat != len(s.stats) {
		return nil, fmt.Errorf("statistics_ has %d values for %d features", len(s.stats), s.nFeat)
	}
	dt, ok := obj.Attr("_fit_dtype")
	if !ok {
		dt, ok = obj.Attr("_fill_dtype") // scikit-learn >= 1.6
	}
	if ok {
		if d, isDT := dt.(*pickle.DType); isDT {
			s.objectFit = d.Kind == 'O'
		}
	} else if a, isArr := sv.(*pickle.NDArray); isArr && a.DType != nil {
		s.objectFit = a.DType.Kind == 'O'
	}
	if s.keepEmpty, err = boolAttr(obj, "keep_empty_features", false); err != nil {
		return nil, err
	}
	if iv, ok := obj.Attr("indicator_"); ok && iv != nil {
		io, isObj := iv.(*pickle.Object)
		if !isObj {
			return nil, fmt.Errorf("indicator_ is a %s", pickle.TypeName(iv))
		}
		if s.indicator, err = readIndicator(io); err != nil {
			return nil, fmt.Errorf("indicator_: %w", err)
		}
		if s.indicator.nIn != s.nFeat {
			return nil, fmt.Errorf("indicator_ has %d features, the imputer %d", s.indicator.nIn, s.nFeat)
		}
	}
	s.kinds = make([]kind, s.nFeat)
	for j, v := range s.stats {
		switch {
		case s.strategy == "mean" || s.strategy == "median":
			s.kinds[j] = kindNum
		case v.k == vStr || s.missing.v.k == vStr:
			s.kinds[j] = kindStr
		default:
			s.kinds[j] = kindAny
		}
	}
	return s, nil
}

// dropped reports the features transform leaves out (their statistic is NaN).
func (s *simpleImputer) dropped(j int) bool {
	return s.strategy != "constant" && !s.keepEmpty && s.stats[j].isNaN()
}

func (s *simpleImputer) transform(t *table) (*table, error) {
	who := "SimpleImputer"
	if err := checkWidth(t, s.nFeat, who); err != nil {
		return nil, err
	}
	in := t
	if s.strategy == "mean" || s.strategy == "median" {
		// dtype=FLOAT_DTYPES: every column becomes float64.
		conv := &table{rows: t.rows, cols: make([]*column, len(t.cols)), names: t.names, sparse: t.sparse}
		for j := range t.cols {
			v, err := t.numeric(j, who+" (strategy="+s.strategy+")")
			if err != nil {
				return nil, err
			}
			conv.cols[j] = &column{num: v}
		}
		in = conv
	}
	if err := s.missing.validate(in, who, s.objectFit); err != nil {
		return nil, err
	}
	var mask [][]bool
	if s.indicator != nil {
		mask = s.indicator.mask(in)
	}
	out := &table{rows: t.rows, sparse: t.sparse}
	for j, c := range in.cols {
		if s.dropped(j) {
			continue
		}
		st := s.stats[j]
		if !c.isObj() && st.k == vNum {
			x := make([]float64, t.rows)
			for i, v := range c.num {
				if s.missing.isMissing(c, i) {
					v = st.f
				}
				x[i] = v
			}
			out.cols = append(out.cols, &column{num: x})
		} else {
			x := make([]value, t.rows)
			for i := range x {
				if s.missing.isMissing(c, i) {
					x[i] = st
				} else {
					x[i] = c.at(i)
				}
			}
			out.cols = append(out.cols, &column{obj: x})
		}
		out.names = append(out.names, in.name(j))
	}
	if s.indicator != nil {
		ind, err := s.indicator.fromMask(mask, in)
		if err != nil {
			return nil, err
		}
		out.cols = append(out.cols, ind.cols...)
		out.names = append(out.names, ind.names...)
	}
	return out, nil
}

func (s *simpleImputer) namesOut(in []string) []string {
	in = inNames(in, s.meta, s.nFeat)
	var out []string
	for j, n := range in {
		if !s.dropped(j) {
			out = append(out, n)
		}
	}
	if s.indicator != nil {
		out = append(out, s.indicator.namesOut(in)...)
	}
	return out
}

func (s *simpleImputer) inputKinds(down kind) []kind {
	out := make([]kind, len(s.kinds))
	for j, k := range s.kinds {
		if k == kindAny {
			k = down
		}
		out[j] = k
	}
	return out
}
