package sklearn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlbatch/mlbatch/model/pickle"
)

// Scalers, Normalizer, PolynomialFeatures, KBinsDiscretizer and
// FunctionTransformer, as their transform methods compute in scikit-learn 1.2
// (the arithmetic has not changed since). Every product and sum is rounded on
// its own, as numpy does: a*b + c is written float64(a*b) + c so that no
// architecture fuses it into one FMA.

func init() {
	for class, b := range map[string]tbuilder{
		"sklearn.preprocessing._data.StandardScaler":           buildStandardScaler,
		"sklearn.preprocessing._data.MinMaxScaler":             buildMinMaxScaler,
		"sklearn.preprocessing._data.MaxAbsScaler":             buildMaxAbsScaler,
		"sklearn.preprocessing._data.RobustScaler":             buildRobustScaler,
		"sklearn.preprocessing._data.Normalizer":               buildNormalizer,
		"sklearn.preprocessing._polynomial.PolynomialFeatures": buildPolynomial,
		// 0.22 to 0.24 defined PolynomialFeatures in _data; 1.0 moved it.
		"sklearn.preprocessing._data.PolynomialFeatures":                  buildPolynomial,
		"sklearn.preprocessing._discretization.KBinsDiscretizer":          buildKBins,
		"sklearn.preprocessing._function_transformer.FunctionTransformer": buildFunctionTransformer,
	} {
		registerTransformer(class, b)
		// Before 0.22 the scalers, Normalizer and PolynomialFeatures lived in the
		// public module sklearn.preprocessing.data.
		if mod, name, _ := strings.Cut(class, "._data."); name != "" {
			registerTransformer(mod+".data."+name, b)
		}
	}
}

// optFloats reads an attribute that is None or a float array of n values.
func optFloats(obj *pickle.Object, name string, n int) ([]float64, error) {
	v, ok := obj.Attr(name)
	if !ok || v == nil {
		return nil, nil
	}
	f, err := floatsAttr(obj, name)
	if err != nil {
		return nil, err
	}
	if n >= 0 && len(f) != n && len(f) != 1 {
		return nil, fmt.Errorf("%s has %d values for %d features", name, len(f), n)
	}
	return f, nil
}

// broadcast returns the per-feature value j of a fitted vector (a single value
// applies to every feature, as numpy broadcasting does).
func broadcast(v []float64, j int) float64 {
	if len(v) == 1 {
		return v[0]
	}
	return v[j]
}

// elementwise is a per-feature numeric transform.
type elementwise struct {
	meta
	who string
	f   func(j int, x []float64, sparse bool) []float64
}

func (e *elementwise) transform(t *table) (*table, error) {
	if err := checkWidth(t, e.nFeat, e.who); err != nil {
		return nil, err
	}
	cols, err := t.numericAll(e.who, true)
	if err != nil {
		return nil, err
	}
	out := &table{rows: t.rows, cols: make([]*column, len(cols)), names: t.names, sparse: t.sparse}
	for j, x := range cols {
		out.cols[j] = &column{num: e.f(j, x, t.sparse)}
	}
	return out, nil
}

func (e *elementwise) namesOut(in []string) []string { return inNames(in, e.meta, e.nFeat) }
func (e *elementwise) inputKinds(kind) []kind {
	if e.nFeat < 0 {
		return nil
	}
	return fill(e.nFeat, kindNum)
}

// nFeatOf settles n_features_in_ from the fitted vectors when it is absent.
func nFeatOf(m *meta, vecs ...[]float64) error {
	for _, v := range vecs {
		if v == nil || len(v) == 1 {
			continue
		}
		if m.nFeat < 0 {
			m.nFeat = len(v)
		} else if len(v) != m.nFeat {
			return fmt.Errorf("fitted vectors have %d values for %d features", len(v), m.nFeat)
		}
	}
	return nil
}

func mapCol(x []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = f(v)
	}
	return out
}

func buildStandardScaler(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	withMean, err := boolAttr(obj, "with_mean", true)
	if err != nil {
		return nil, err
	}
	withStd, err := boolAttr(obj, "with_std", true)
	if err != nil {
		return nil, err
	}
	mean, err := optFloats(obj, "mean_", m.nFeat)
	if err != nil {
		return nil, err
	}
	scale, err := optFloats(obj, "scale_", m.nFeat)
	if err != nil {
		return nil, err
	}
	if withMean && mean == nil || withStd && scale == nil {
		return nil, fmt.Errorf("not fitted: mean_ or scale_ is missing")
	}
	if err := nFeatOf(&m, mean, scale); err != nil {
		return nil, err
	}
	e := &elementwise{meta: m, who: "StandardScaler"}
	e.f = func(j int, x []float64, sparse bool) []float64 {
		if sparse {
			// inplace_column_scale(X, 1 / scale_); centering is refused at fit.
			if scale == nil {
				return x
			}
			r := 1 / broadcast(scale, j)
			return mapCol(x, func(v float64) float64 { return v * r })
		}
		out := x
		if withMean {
			mu := broadcast(mean, j)
			out = mapCol(out, func(v float64) float64 { return v - mu })
		}
		if withStd {
			s := broadcast(scale, j)
			out = mapCol(out, func(v float64) float64 { return v / s })
		}
		return out
	}
	return e, nil
}

func buildMinMaxScaler(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	scale, err := optFloats(obj, "scale_", m.nFeat)
	if err != nil {
		return nil, err
	}
	minv, err := optFloats(obj, "min_", m.nFeat)
	if err != nil {
		return nil, err
	}
	if scale == nil || minv == nil {
		return nil, fmt.Errorf("not fitted: scale_ or min_ is missing")
	}
	if err := nFeatOf(&m, scale, minv); err != nil {
		return nil, err
	}
	clip, err := boolAttr(obj, "clip", false)
	if err != nil {
		return nil, err
	}
	lo, hi := 0.0, 1.0
	if clip {
		fr, err := obj.Items("feature_range")
		if err != nil || len(fr) != 2 {
			return nil, fmt.Errorf("feature_range is not a pair")
		}
		var ok1, ok2 bool
		lo, ok1 = floatVal(fr[0])
		hi, ok2 = floatVal(fr[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("feature_range is not a pair of numbers")
		}
	}
	e := &elementwise{meta: m, who: "MinMaxScaler"}
	e.f = func(j int, x []float64, _ bool) []float64 {
		s, mn := broadcast(scale, j), broadcast(minv, j)
		return mapCol(x, func(v float64) float64 {
			y := float64(v*s) + mn
			if clip {
				// np.clip: NaN stays NaN.
				y = math.Max(math.Min(y, hi), lo)
			}
			return y
		})
	}
	return e, nil
}

func buildMaxAbsScaler(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	scale, err := optFloats(obj, "scale_", m.nFeat)
	if err != nil {
		return nil, err
	}
	if scale == nil {
		return nil, fmt.Errorf("not fitted: scale_ is missing")
	}
	if err := nFeatOf(&m, scale); err != nil {
		return nil, err
	}
	e := &elementwise{meta: m, who: "MaxAbsScaler"}
	e.f = func(j int, x []float64, sparse bool) []float64 {
		s := broadcast(scale, j)
		if sparse {
			r := 1.0 / s
			return mapCol(x, func(v float64) float64 { return v * r })
		}
		return mapCol(x, func(v float64) float64 { return v / s })
	}
	return e, nil
}

func buildRobustScaler(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	withC, err := boolAttr(obj, "with_centering", true)
	if err != nil {
		return nil, err
	}
	withS, err := boolAttr(obj, "with_scaling", true)
	if err != nil {
		return nil, err
	}
	center, err := optFloats(obj, "center_", m.nFeat)
	if err != nil {
		return nil, err
	}
	scale, err := optFloats(obj, "scale_", m.nFeat)
	if err != nil {
		return nil, err
	}
	if withC && center == nil || withS && scale == nil {
		return nil, fmt.Errorf("not fitted: center_ or scale_ is missing")
	}
	if err := nFeatOf(&m, center, scale); err != nil {
		return nil, err
	}
	e := &elementwise{meta: m, who: "RobustScaler"}
	e.f = func(j int, x []float64, sparse bool) []float64 {
		if sparse {
			if !withS {
				return x
			}
			r := 1.0 / broadcast(scale, j)
			return mapCol(x, func(v float64) float64 { return v * r })
		}
		out := x
		if withC {
			c := broadcast(center, j)
			out = mapCol(out, func(v float64) float64 { return v - c })
		}
		if withS {
			s := broadcast(scale, j)
			out = mapCol(out, func(v float64) float64 { return v / s })
		}
		return out
	}
	return e, nil
}

// normalizer is Normalizer: each row divided by its l1, l2 or max norm.
type normalizer struct {
	meta
	norm string
}

func buildNormalizer(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	norm, err := strAttr(obj, "norm", "l2")
	if err != nil {
		return nil, err
	}
	switch norm {
	case "l1", "l2", "max":
	default:
		return nil, fmt.Errorf("norm %q is not supported (l1, l2, max)", norm)
	}
	return &normalizer{meta: m, norm: norm}, nil
}

func (n *normalizer) transform(t *table) (*table, error) {
	if err := checkWidth(t, n.nFeat, "Normalizer"); err != nil {
		return nil, err
	}
	cols, err := t.numericAll("Normalizer", false)
	if err != nil {
		return nil, err
	}
	norms := make([]float64, t.rows)
	for _, x := range cols {
		for i, v := range x {
			switch n.norm {
			case "l1":
				norms[i] += math.Abs(v)
			case "l2":
				norms[i] += v * v
			case "max":
				norms[i] = math.Max(norms[i], math.Abs(v))
			}
		}
	}
	const tiny = 10 * 2.220446049250313e-16 // 10 * np.finfo(float64).eps
	for i, s := range norms {
		if n.norm == "l2" {
			s = math.Sqrt(s)
		}
		switch {
		case t.sparse && s == 0:
			s = 1 // the CSR routines skip empty rows
		case !t.sparse && s < tiny:
			s = 1 // _handle_zeros_in_scale
		}
		norms[i] = s
	}
	out := &table{rows: t.rows, cols: make([]*column, len(cols)), names: t.names, sparse: t.sparse}
	for j, x := range cols {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = v / norms[i]
		}
		out.cols[j] = &column{num: y}
	}
	return out, nil
}

func (n *normalizer) namesOut(in []string) []string { return inNames(in, n.meta, n.nFeat) }
func (n *normalizer) inputKinds(kind) []kind {
	if n.nFeat < 0 {
		return nil
	}
	return fill(n.nFeat, kindNum)
}

// polynomial is PolynomialFeatures, computed column by column exactly as its
// dense transform does: a degree-d term is a degree-(d-1) term times one
// input feature, in the same order, so the products round the same way.
type polynomial struct {
	meta
	minDeg, maxDeg  int
	interactionOnly bool
	includeBias     bool
	nOut            int
}

func buildPolynomial(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	if m.nFeat < 0 {
		// Before 0.24 (and deprecated until 1.2) the input width was n_input_features_.
		if n, ok := intAttr(obj, "n_input_features_"); ok && n >= 0 {
			m.nFeat = n
		} else {
			return nil, fmt.Errorf("not fitted: no n_features_in_ or n_input_features_")
		}
	}
	p := &polynomial{meta: m}
	var ok1, ok2 bool
	p.minDeg, ok1 = intAttr(obj, "_min_degree")
	p.maxDeg, ok2 = intAttr(obj, "_max_degree")
	if !ok1 || !ok2 {
		deg, ok := intAttr(obj, "degree")
		if !ok {
			return nil, fmt.Errorf("not fitted: no _max_degree")
		}
		p.minDeg, p.maxDeg = 0, deg
	}
	if p.minDeg < 0 || p.maxDeg < p.minDeg || p.maxDeg > 64 {
		return nil, fmt.Errorf("degree (%d, %d) is not valid", p.minDeg, p.maxDeg)
	}
	if p.interactionOnly, err = boolAttr(obj, "interaction_only", false); err != nil {
		return nil, err
	}
	if p.includeBias, err = boolAttr(obj, "include_bias", true); err != nil {
		return nil, err
	}
	combos := p.combinations(1 << 16)
	if combos == nil {
		return nil, fmt.Errorf("more than %d output features", 1<<16)
	}
	p.nOut = len(combos)
	if n, ok := intAttr(obj, "n_output_features_"); ok && n != p.nOut {
		return nil, fmt.Errorf("n_output_features_ is %d, but the degree and options give %d", n, p.nOut)
	}
	return p, nil
}

// combinations lists the output terms as sorted feature-index tuples, in
// scikit-learn's order (the bias first, then by degree, lexicographically); nil
// when there are more than limit.
func (p *polynomial) combinations(limit int) [][]int {
	var out [][]int
	if p.includeBias {
		out = append(out, nil)
	}
	n := p.nFeat
	for d := max(1, p.minDeg); d <= p.maxDeg; d++ {
		c := make([]int, d)
		// first combination
		for i := range c {
			if p.interactionOnly {
				c[i] = i
			}
		}
		if p.interactionOnly && d > n {
			continue
		}
		for {
			out = append(out, append([]int(nil), c...))
			if len(out) > limit {
				return nil
			}
			// next combination (with or without replacement)
			i := d - 1
			for i >= 0 {
				maxv := n - 1
				if p.interactionOnly {
					maxv = n - d + i
				}
				if c[i] < maxv {
					break
				}
				i--
			}
			if i < 0 {
				break
			}
			c[i]++
			for k := i + 1; k < d; k++ {
				if p.interactionOnly {
					c[k] = c[k-1] + 1
				} else {
					c[k] = c[i]
				}
			}
		}
	}
	return out
}

func (p *polynomial) transform(t *table) (*table, error) {
	if err := checkWidth(t, p.nFeat, "PolynomialFeatures"); err != nil {
		return nil, err
	}
	X, err := t.numericAll("PolynomialFeatures", false)
	if err != nil {
		return nil, err
	}
	n := p.nFeat
	ones := make([]float64, t.rows)
	for i := range ones {
		ones[i] = 1
	}
	// XP as in the dense branch of transform: bias, degree 1, then each degree
	// built from the previous one.
	var xp [][]float64
	if p.includeBias {
		xp = append(xp, ones)
	}
	if p.maxDeg > 0 {
		cur := len(xp)
		xp = append(xp, X...)
		index := make([]int, 0, n+1)
		for k := range n {
			index = append(index, cur+k)
		}
		cur += n
		index = append(index, cur)
		for d := 2; d <= p.maxDeg; d++ {
			var next []int
			end := index[len(index)-1]
			for f := range n {
				start := index[f]
				next = append(next, cur)
				if p.interactionOnly {
					start += index[f+1] - index[f]
				}
				nextCol := cur + end - start
				if nextCol <= cur {
					break
				}
				for s := start; s < end; s++ {
					col := make([]float64, t.rows)
					a, b := xp[s], X[f]
					for i := range col {
						col[i] = a[i] * b[i]
					}
					xp = append(xp, col)
				}
				cur = nextCol
			}
			next = append(next, cur)
			index = next
		}
	}
	if p.minDeg > 1 {
		full := len(xp)
		if p.includeBias {
			xp = append([][]float64{ones}, xp[full-p.nOut+1:]...)
		} else {
			xp = xp[full-p.nOut:]
		}
	}
	if len(xp) != p.nOut {
		return nil, fmt.Errorf("PolynomialFeatures produced %d columns, want %d", len(xp), p.nOut)
	}
	out := &table{rows: t.rows, cols: make([]*column, len(xp)), sparse: t.sparse}
	for j, c := range xp {
		out.cols[j] = &column{num: c}
	}
	out.names = p.namesOut(t.names)
	return out, nil
}

// namesOut follows get_feature_names_out: "a", "a^2", "a b", "1".
func (p *polynomial) namesOut(in []string) []string {
	in = inNames(in, p.meta, p.nFeat)
	var out []string
	for _, c := range p.combinations(1 << 16) {
		if len(c) == 0 {
			out = append(out, "1")
			continue
		}
		var parts []string
		for k := 0; k < len(c); {
			e := 1
			for k+e < len(c) && c[k+e] == c[k] {
				e++
			}
			if e == 1 {
				parts = append(parts, in[c[k]])
			} else {
				parts = append(parts, in[c[k]]+"^"+strconv.Itoa(e))
			}
			k += e
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func (p *polynomial) inputKinds(kind) []kind { return fill(p.nFeat, kindNum) }

// kbins is KBinsDiscretizer: bin = searchsorted(bin_edges_[j][1:-1], x,
// side="right"), then ordinal or one-hot.
type kbins struct {
	meta
	edges   [][]float64 // inner edges per feature
	nBins   []int
	encode  string
	float32 bool // dtype=np.float32: X is cast before binning
}

func buildKBins(obj *pickle.Object) (transformer, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	k := &kbins{meta: m}
	if k.encode, err = strAttr(obj, "encode", "onehot"); err != nil {
		return nil, err
	}
	switch k.encode {
	case "onehot", "onehot-dense", "ordinal":
	default:
		return nil, fmt.Errorf("encode %q is not supported", k.encode)
	}
	if dt, ok := obj.Attr("dtype"); ok && dt != nil {
		switch g := dt.(type) {
		case *pickle.Global:
			switch g.String() {
			case "numpy.float32":
				k.float32 = true
			case "numpy.float64":
			default:
				return nil, fmt.Errorf("dtype %s is not supported", g)
			}
		case *pickle.DType:
			k.float32 = g.Kind == 'f' && g.ItemSize == 4
		}
	}
	ev, ok := obj.Attr("bin_edges_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no bin_edges_")
	}
	var items []any
	switch x := ev.(type) {
	case *pickle.NDArray:
		if items, err = x.Values(); err != nil {
			return nil, fmt.Errorf("bin_edges_: %w", err)
		}
	default:
		if items, err = itemsOf(ev, "bin_edges_"); err != nil {
			return nil, err
		}
	}
	for j, it := range items {
		a, ok := it.(*pickle.NDArray)
		if !ok {
			return nil, fmt.Errorf("bin_edges_[%d] is a %s, want an array", j, pickle.TypeName(it))
		}
		e, err := a.Float64s()
		if err != nil || len(e) < 2 {
			return nil, fmt.Errorf("bin_edges_[%d] has fewer than two edges", j)
		}
		k.edges = append(k.edges, e[1:len(e)-1])
	}
	nb, ok := obj.Attr("n_bins_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no n_bins_")
	}
	if k.nBins, err = intsOf(nb, "n_bins_"); err != nil {
		return nil, err
	}
	if len(k.nBins) != len(k.edges) {
		return nil, fmt.Errorf("n_bins_ has %d entries for %d features", len(k.nBins), len(k.edges))
	}
	for j, b := range k.nBins {
		if b != len(k.edges[j])+1 {
			return nil, fmt.Errorf("feature %d has %d bins but %d edges", j, b, len(k.edges[j])+2)
		}
	}
	if k.nFeat < 0 {
		k.nFeat = len(k.edges)
	} else if k.nFeat != len(k.edges) {
		return nil, fmt.Errorf("bin_edges_ has %d features, n_features_in_ is %d", len(k.edges), k.nFeat)
	}
	return k, nil
}

// bin is np.searchsorted(edges, x, side="right"): the number of edges <= x.
func bin(edges []float64, x float64) int {
	lo, hi := 0, len(edges)
	for lo < hi {
		mid := (lo + hi) / 2
		if edges[mid] <= x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func (k *kbins) transform(t *table) (*table, error) {
	if err := checkWidth(t, k.nFeat, "KBinsDiscretizer"); err != nil {
		return nil, err
	}
	X, err := t.numericAll("KBinsDiscretizer", false)
	if err != nil {
		return nil, err
	}
	out := &table{rows: t.rows, sparse: k.encode == "onehot"}
	for j, x := range X {
		bins := make([]int, len(x))
		for i, v := range x {
			if k.float32 {
				v = float64(float32(v))
			}
			bins[i] = bin(k.edges[j], v)
		}
		if k.encode == "ordinal" {
			c := make([]float64, len(x))
			for i, b := range bins {
				c[i] = float64(b)
			}
			out.cols = append(out.cols, &column{num: c})
			continue
		}
		for b := range k.nBins[j] {
			c := make([]float64, len(x))
			for i, bb := range bins {
				if bb == b {
					c[i] = 1
				}
			}
			out.cols = append(out.cols, &column{num: c})
		}
	}
	out.names = k.namesOut(t.names)
	return out, nil
}

// namesOut: the input names for ordinal; for one-hot the internal
// OneHotEncoder's names, whose categories are the bin indices as floats.
func (k *kbins) namesOut(in []string) []string {
	in = inNames(in, k.meta, k.nFeat)
	if k.encode == "ordinal" {
		return in
	}
	var out []string
	for j, b := range k.nBins {
		for i := range b {
			out = append(out, in[j]+"_"+strconv.Itoa(i)+".0")
		}
	}
	return out
}

func (k *kbins) inputKinds(kind) []kind { return fill(k.nFeat, kindNum) }

// functionTransformer is FunctionTransformer with func=None: the identity,
// after check_array when validate=True; or with func=partial(check_array, ...),
// which is check_array alone.
type functionTransformer struct {
	meta
	validate bool
	allowNaN bool // func is check_array with force_all_finite False or "allow-nan"
	oneToOne bool
}

// isCheckArray reports whether a FunctionTransformer's func is
// functools.partial(sklearn.utils.validation.check_array, **kwargs) with no
// positional arguments: the numeric validation HistGradientBoosting's 1.4+
// _preprocessor applies to the non-categorical columns.
// allowNaN is set when its force_all_finite (ensure_all_finite from 1.6) is
// False or "allow-nan".
func isCheckArray(f any) (ok, allowNaN bool) {
	p, isObj := f.(*pickle.Object)
	if !isObj || p.Module != "functools" || p.Name != "partial" || len(p.Args) != 1 {
		return false, false
	}
	g, isG := p.Args[0].(*pickle.Global)
	if !isG || g.Module != "sklearn.utils.validation" || g.Name != "check_array" {
		return false, false
	}
	st, _ := p.State.(pickle.Tuple)
	if len(st) >= 2 {
		if args, isT := st[1].(pickle.Tuple); isT && len(args) > 0 {
			return false, false
		}
	}
	if len(st) >= 3 {
		if kw, isD := st[2].(*pickle.Dict); isD {
			for _, k := range []string{"force_all_finite", "ensure_all_finite"} {
				if v, has := kw.Get(k); has && (v == false || v == "allow-nan") {
					allowNaN = true
				}
			}
		}
	}
	return true, allowNaN
}

func buildFunctionTransformer(obj *pickle.Object) (transformer, error) {
	checkArray, allowNaN := false, false
	if f, ok := obj.Attr("func"); ok && f != nil {
		checkArray, allowNaN = isCheckArray(f)
	}
	if f, ok := obj.Attr("func"); ok && f != nil && !checkArray {
		name := pickle.TypeName(f)
		if g, ok := f.(*pickle.Global); ok {
			name = g.String()
		}
		return nil, fmt.Errorf("func is %s: mlbatch cannot run arbitrary Python code in a FunctionTransformer (only func=None, the identity, is supported)", name)
	}
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	ft := &functionTransformer{meta: m}
	if ft.validate, err = boolAttr(obj, "validate", false); err != nil {
		return nil, err
	}
	// check_array as func converts to numbers as validate does (a text cell is
	// an error in both).
	ft.validate = ft.validate || checkArray
	ft.allowNaN = allowNaN
	if v, ok := obj.Attr("feature_names_out"); ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("feature_names_out is a %s: a callable runs Python code, which mlbatch cannot run", pickle.TypeName(v))
		}
		ft.oneToOne = s == "one-to-one"
	}
	return ft, nil
}

func (f *functionTransformer) transform(t *table) (*table, error) {
	if !f.validate {
		return t, nil
	}
	if err := checkWidth(t, f.nFeat, "FunctionTransformer"); err != nil {
		return nil, err
	}
	cols, err := t.numericAll("FunctionTransformer", f.allowNaN)
	if err != nil {
		return nil, err
	}
	out := &table{rows: t.rows, cols: make([]*column, len(cols)), names: t.names, sparse: t.sparse}
	for j, c := range cols {
		out.cols[j] = &column{num: c}
	}
	return out, nil
}

func (f *functionTransformer) namesOut(in []string) []string {
	if !f.oneToOne {
		return nil
	}
	return inNames(in, f.meta, f.nFeat)
}

func (f *functionTransformer) inputKinds(down kind) []kind {
	if f.nFeat < 0 {
		return nil
	}
	if f.validate {
		return fill(f.nFeat, kindNum)
	}
	return fill(f.nFeat, down)
}
