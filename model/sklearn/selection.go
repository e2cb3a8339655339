package sklearn

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Feature selectors (sklearn.feature_selection): transform keeps the columns
// of get_support(), which each class computes from its fitted attributes the
// way _get_support_mask does in scikit-learn 1.2 (unchanged in later
// releases):
//
//   - SelectKBest: the k highest scores_ by a stable argsort (NaN scores
//     count as the lowest float; among equal scores the later feature wins);
//   - SelectPercentile: scores_ above numpy's linear percentile at
//     100 - percentile, then the first ties up to int(n * percentile / 100);
//   - VarianceThreshold: variances_ > threshold;
//   - SelectFromModel: the importances of the fitted estimator (|coef_|, its
//     norm over classes, or feature_importances_ computed from the trees), at
//     least the threshold ("mean", "median", "<scale>*mean", a number, or the
//     1e-5 default of L1 models), at most max_features_ by a stable argsort;
//   - RFE, RFECV: support_.
//
// The input passes check_array with dtype=None: any column type goes
// through, NaN is refused unless the selector allows it (VarianceThreshold;
// the others when their estimator does).

func init() {
	for _, mod := range []string{
		"sklearn.feature_selection._univariate_selection",
		"sklearn.feature_selection.univariate_selection", // before 0.22
	} {
		registerTransformer(mod+".SelectKBest", buildSelectKBest)
		registerTransformer(mod+".SelectPercentile", buildSelectPercentile)
		// score_func: a reference to the scoring function, never called.
		for _, f := range []string{"f_classif", "f_regression", "chi2", "f_oneway", "r_regression"} {
			inert[mod+"."+f] = true
		}
	}
	for _, f := range []string{
		"sklearn.feature_selection._mutual_info.mutual_info_classif",
		"sklearn.feature_selection._mutual_info.mutual_info_regression",
		"sklearn.feature_selection.mutual_info_.mutual_info_classif",
		"sklearn.feature_selection.mutual_info_.mutual_info_regression",
	} {
		inert[f] = true
	}
	registerTransformer("sklearn.feature_selection._variance_threshold.VarianceThreshold", buildVarianceThreshold)
	registerTransformer("sklearn.feature_selection.variance_threshold.VarianceThreshold", buildVarianceThreshold)
	for _, mod := range []string{"sklearn.feature_selection._rfe", "sklearn.feature_selection.rfe"} {
		registerTransformer(mod+".RFE", buildRFE)
		registerTransformer(mod+".RFECV", buildRFE)
		register(mod+".RFE", buildRFEPredictor)
		register(mod+".RFECV", buildRFEPredictor)
	}
	for _, mod := range []string{"sklearn.feature_selection._from_model", "sklearn.feature_selection.from_model"} {
		registerTransformer(mod+".SelectFromModel", buildSelectFromModel)
	}
}

// selector keeps the columns idx of its input.
type selector struct {
	meta
	who      string
	idx      []int // selected features, ascending
	allowNaN bool
}

func newSelector(obj *pickle.Object, mask []bool, allowNaN bool) (*selector, error) {
	m, err := transformerMeta(obj)
	if err != nil {
		return nil, err
	}
	if m.nFeat >= 0 && m.nFeat != len(mask) {
		return nil, fmt.Errorf("n_features_in_ is %d but the fitted mask covers %d features", m.nFeat, len(mask))
	}
	if m.names != nil && len(m.names) != len(mask) {
		return nil, fmt.Errorf("feature_names_in_ has %d names but the fitted mask covers %d features", len(m.names), len(mask))
	}
	m.nFeat = len(mask)
	s := &selector{meta: m, who: obj.Name, allowNaN: allowNaN}
	for j, keep := range mask {
		if keep {
			s.idx = append(s.idx, j)
		}
	}
	return s, nil
}

func (s *selector) transform(t *table) (*table, error) {
	if err := checkWidth(t, s.nFeat, s.who); err != nil {
		return nil, err
	}
	if err := checkNoMissing(t, s.who, s.allowNaN); err != nil {
		return nil, err
	}
	return t.sub(s.idx), nil
}

func (s *selector) namesOut(in []string) []string {
	names := inNames(in, s.meta, s.nFeat)
	out := make([]string, len(s.idx))
	for k, j := range s.idx {
		out[k] = names[j]
	}
	return out
}

func (s *selector) inputKinds(down kind) []kind {
	kinds := make([]kind, s.nFeat) // unselected columns: anything
	for _, j := range s.idx {
		kinds[j] = down
	}
	return kinds
}

// cleanNaNs is _clean_nans: NaN scores become the lowest finite value of the
// scores' dtype.
func cleanNaNs(scores []float64, f32 bool) []float64 {
	low := -math.MaxFloat64
	if f32 {
		low = -math.MaxFloat32
	}
	out := slices.Clone(scores)
	for i, v := range out {
		if math.IsNaN(v) {
			out[i] = low
		}
	}
	return out
}

// readScores reads scores_ (float32 or float64).
func readScores(obj *pickle.Object) ([]float64, bool, error) {
	a, err := obj.Array("scores_")
	if err != nil {
		return nil, false, fmt.Errorf("not fitted: %w", err)
	}
	if len(a.Shape) != 1 {
		return nil, false, fmt.Errorf("scores_ has shape %v, want one score per feature", a.Shape)
	}
	s, err := a.Float64s()
	if err != nil {
		return nil, false, fmt.Errorf("scores_: %w", err)
	}
	return s, a.DType != nil && a.DType.Kind == 'f' && a.DType.ItemSize == 4, nil
}

// stableOrder is np.argsort(v, kind="mergesort"): ascending, NaN last (as
// numpy sorts), ties in index order.
func stableOrder(v []float64) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return npCompare(v[a], v[b]) })
	return idx
}

// npCompare orders floats as numpy's sort does: NaN after everything.
func npCompare(x, y float64) int {
	xn, yn := math.IsNaN(x), math.IsNaN(y)
	switch {
	case xn || yn:
		if xn && yn {
			return 0
		}
		if xn {
			return 1
		}
		return -1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func buildSelectKBest(obj *pickle.Object) (transformer, error) {
	scores, f32, err := readScores(obj)
	if err != nil {
		return nil, err
	}
	n := len(scores)
	mask := make([]bool, n)
	kv, _ := obj.Attr("k")
	switch k := kv.(type) {
	case string:
		if k != "all" {
			return nil, fmt.Errorf("k is %q, want an int or \"all\"", k)
		}
		for j := range mask {
			mask[j] = true
		}
	default:
		kk, ok := toInt(kv)
		if !ok || kk < 0 {
			return nil, fmt.Errorf("k is %s, want a non-negative int or \"all\"", pickle.TypeName(kv))
		}
		order := stableOrder(cleanNaNs(scores, f32))
		for _, j := range order[n-min(kk, n):] {
			mask[j] = true
		}
	}
	return newSelector(obj, mask, false)
}

func buildSelectPercentile(obj *pickle.Object) (transformer, error) {
	scores, f32, err := readScores(obj)
	if err != nil {
		return nil, err
	}
	pv, _ := obj.Attr("percentile")
	p, ok := floatVal(pv)
	if !ok || !(p >= 0 && p <= 100) {
		return nil, fmt.Errorf("percentile is %s, want a number in [0, 100]", pickle.TypeName(pv))
	}
	return newSelector(obj, percentileMask(scores, f32, p), false)
}

// percentileMask is SelectPercentile._get_support_mask.
func percentileMask(raw []float64, f32 bool, p float64) []bool {
	n := len(raw)
	mask := make([]bool, n)
	switch p {
	case 100:
		for j := range mask {
			mask[j] = true
		}
		return mask
	case 0:
		return mask
	}
	scores := cleanNaNs(raw, f32)
	thr := npPercentile(scores, 100-p)
	kept := 0
	var ties []int
	for j, v := range scores {
		if v > thr {
			mask[j] = true
			kept++
		} else if v == thr {
			ties = append(ties, j)
		}
	}
	if len(ties) > 0 {
		maxFeats := int(math.Trunc(float64(n) * p / 100))
		for _, j := range ties[:pySliceStop(maxFeats-kept, len(ties))] {
			mask[j] = true
		}
	}
	return mask
}

// pySliceStop is where a Python slice [:stop] of a sequence of length n ends.
func pySliceStop(stop, n int) int {
	if stop < 0 {
		stop += n
	}
	return max(0, min(stop, n))
}

// npPercentile is numpy.percentile(a, q) with the default "linear" method
// (numpy 1.22 and later; the same values as the older interpolation="linear").
func npPercentile(a []float64, q float64) float64 {
	s := slices.Clone(a)
	slices.SortFunc(s, npCompare)
	n := len(s)
	vi := float64(n-1) * (q / 100)
	prev := math.Floor(vi)
	lo, hi := int(prev), int(prev)+1
	if vi >= float64(n-1) {
		lo, hi, prev = n-1, n-1, -1
	}
	if vi < 0 {
		lo, hi, prev = 0, 0, 0
	}
	return npLerp(s[lo], s[hi], vi-prev)
}

// npLerp is numpy's _lerp: a + (b-a)*t, or b - (b-a)*(1-t) when t >= 0.5.
func npLerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - float64(d*(1-t))
	}
	return a + float64(d*t)
}

func buildVarianceThreshold(obj *pickle.Object) (transformer, error) {
	v, err := floatsAttr(obj, "variances_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	tv, _ := obj.Attr("threshold")
	thr := 0.0
	if tv != nil {
		var ok bool
		if thr, ok = floatVal(tv); !ok {
			return nil, fmt.Errorf("threshold is a %s, want a number", pickle.TypeName(tv))
		}
	}
	mask := make([]bool, len(v))
	for j, x := range v {
		mask[j] = x > thr
	}
	return newSelector(obj, mask, true)
}

// estimatorAllowsNaN is the allow_nan tag, in scikit-learn 1.2, of the
// estimators a selector wraps: only the histogram gradient boosting models.
func estimatorAllowsNaN(v any) bool {
	o, ok := v.(*pickle.Object)
	return ok && strings.HasPrefix(o.Name, "HistGradientBoosting")
}

// boolMask reads a boolean support array.
func boolMask(obj *pickle.Object, name string) ([]bool, error) {
	a, err := obj.Array(name)
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(a.Shape) != 1 {
		return nil, fmt.Errorf("%s has shape %v, want one flag per feature", name, a.Shape)
	}
	v, err := a.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	mask := make([]bool, len(v))
	for j, x := range v {
		mask[j] = x != 0
	}
	return mask, nil
}

func buildRFE(obj *pickle.Object) (transformer, error) {
	mask, err := boolMask(obj, "support_")
	if err != nil {
		return nil, err
	}
	est, _ := obj.Attr("estimator_")
	return newSelector(obj, mask, estimatorAllowsNaN(est))
}

// rfePredictor is RFE or RFECV used as a model: predict is
// estimator_.predict(transform(X)).
type rfePredictor struct {
	sel   *selector
	inner Estimator
}

func buildRFEPredictor(obj *pickle.Object) (Estimator, error) {
	t, err := buildRFE(obj)
	if err != nil {
		return nil, err
	}
	sel := t.(*selector)
	ev, ok := obj.Attr("estimator_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no estimator_")
	}
	inner, err := build(ev)
	if err != nil {
		return nil, fmt.Errorf("estimator_: %w", err)
	}
	if n := inner.NumFeatures(); n >= 0 && n != len(sel.idx) {
		return nil, fmt.Errorf("estimator_ takes %d features but support_ selects %d", n, len(sel.idx))
	}
	r := &rfePredictor{sel: sel, inner: inner}
	// Offer what the inner estimator offers, so meta-estimators can wrap it.
	// (Decision trees answer to both Go interfaces, so a regressor is told by
	// its outputs having no probabilities.)
	if c, ok := inner.(probClassifier); ok {
		return &rfeClassifier{r, c}, nil
	}
	if reg, ok := inner.(regressor); ok && !hasProba(inner) {
		return &rfeRegressor{r, reg}, nil
	}
	return r, nil
}

// hasProba reports an estimator with predict_proba outputs.
func hasProba(est Estimator) bool {
	for _, c := range est.Outputs(model.LoadOptions{Proba: true}) {
		if strings.HasPrefix(c.Name, "proba_") {
			return true
		}
	}
	return false
}

// sub is transform(X) as a Dense for the inner estimator.
func (r *rfePredictor) sub(X *Dense) (*Dense, error) {
	t, err := r.sel.transform(tableOfDense(X))
	if err != nil {
		return nil, err
	}
	return denseOf(t, shortName(r.inner.Class()))
}

// rfeClassifier is RFE over a classifier with predict_proba.
type rfeClassifier struct {
	*rfePredictor
	c probClassifier
}

func (r *rfeClassifier) labelsOf() *classes { return r.c.labelsOf() }
func (r *rfeClassifier) predictProba(X *Dense) ([]float64, error) {
	sub, err := r.sub(X)
	if err != nil {
		return nil, err
	}
	return r.c.predictProba(sub)
}

// rfeRegressor is RFE over a regressor.
type rfeRegressor struct {
	*rfePredictor
	r regressor
}

func (r *rfeRegressor) targets() (int, bool) { return r.r.targets() }
func (r *rfeRegressor) regress(X *Dense) ([]float64, error) {
	sub, err := r.sub(X)
	if err != nil {
		return nil, err
	}
	return r.r.regress(sub)
}

func (r *rfePredictor) Class() string          { return r.sel.class }
func (r *rfePredictor) NumFeatures() int       { return r.sel.nFeat }
func (r *rfePredictor) FeatureNames() []string { return r.sel.names }
func (r *rfePredictor) Outputs(opts model.LoadOptions) []model.Column {
	return r.inner.Outputs(opts)
}

func (r *rfePredictor) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	sub, err := r.sub(X)
	if err != nil {
		return nil, err
	}
	return r.inner.Predict(sub, opts, mem)
}

// SelectFromModel

func buildSelectFromModel(obj *pickle.Object) (transformer, error) {
	ev, ok := obj.Attr("estimator_")
	if !ok {
		// prefit=True and transform without fit: the estimator given is the
		// fitted one.
		ev, _ = obj.Attr("estimator")
	}
	est, ok := ev.(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("estimator_ is a %s, want a fitted estimator", pickle.TypeName(ev))
	}
	getter, err := strAttr(obj, "importance_getter", "auto")
	if err != nil {
		return nil, fmt.Errorf("importance_getter is not a str (a callable cannot be loaded): %w", err)
	}
	normOrder := 1.0
	if v, ok := obj.Attr("norm_order"); ok && v != nil {
		if normOrder, ok = floatVal(v); !ok {
			return nil, fmt.Errorf("norm_order is a %s, want a number", pickle.TypeName(v))
		}
	}
	scores, err := importances(est, getter, normOrder)
	if err != nil {
		return nil, fmt.Errorf("estimator_ %s: %w", est.Name, err)
	}
	tv, _ := obj.Attr("threshold")
	thr, err := selectThreshold(est, scores, tv)
	if err != nil {
		return nil, err
	}
	n := len(scores)
	mask := make([]bool, n)
	mfv, _ := obj.Attr("max_features")
	if mfv != nil {
		if v, ok := obj.Attr("max_features_"); ok {
			mfv = v
		}
		k, ok := toInt(mfv)
		if !ok || k < 0 {
			return nil, fmt.Errorf("max_features is a %s, want an int", pickle.TypeName(mfv))
		}
		neg := make([]float64, n)
		for j, v := range scores {
			neg[j] = -v
		}
		for _, j := range stableOrder(neg)[:min(k, n)] {
			mask[j] = true
		}
	} else {
		for j := range mask {
			mask[j] = true
		}
	}
	for j, v := range scores {
		if v < thr {
			mask[j] = false
		}
	}
	return newSelector(obj, mask, estimatorAllowsNaN(est))
}

// selectThreshold is _calculate_threshold.
func selectThreshold(est *pickle.Object, scores []float64, tv any) (float64, error) {
	if tv == nil {
		tv = "mean"
		pen, _ := est.Attr("penalty")
		l1 := pen == "l1" || strings.Contains(est.Name, "Lasso")
		if strings.Contains(est.Name, "ElasticNet") {
			for _, name := range []string{"l1_ratio_", "l1_ratio"} {
				// np.isclose(l1_ratio, 1.0): |r - 1| <= 1e-8 + 1e-5.
				if r, ok := floatVal(attrOrNil(est, name)); ok && math.Abs(r-1) <= 1e-8+1e-5 {
					l1 = true
				}
			}
		}
		if l1 {
			return 1e-5, nil
		}
	}
	s, isStr := tv.(string)
	if !isStr {
		f, ok := floatVal(tv)
		if !ok {
			return 0, fmt.Errorf("threshold is a %s, want a number or a str", pickle.TypeName(tv))
		}
		return f, nil
	}
	if len(scores) == 0 {
		return 0, fmt.Errorf("no importances to take a %q threshold of", s)
	}
	reference := func(name string) (float64, error) {
		switch name {
		case "mean":
			return npSum(scores) / float64(len(scores)), nil
		case "median":
			return npMedian(scores), nil
		}
		return 0, fmt.Errorf("threshold %q: unknown reference %q", s, name)
	}
	if scale, ref, ok := strings.Cut(s, "*"); ok {
		if strings.Contains(ref, "*") {
			return 0, fmt.Errorf("threshold %q has more than one '*'", s)
		}
		f, ok := pyFloat(strings.TrimSpace(scale))
		if !ok {
			return 0, fmt.Errorf("threshold %q: %q is not a number", s, strings.TrimSpace(scale))
		}
		r, err := reference(strings.TrimSpace(ref))
		if err != nil {
			return 0, err
		}
		return f * r, nil
	}
	if s != "mean" && s != "median" {
		return 0, fmt.Errorf("threshold %q: want 'mean', 'median', '<scale>*mean', '<scale>*median' or a number", s)
	}
	return reference(s)
}

// npSum is numpy's float64 add.reduce over a contiguous vector: pairwise
// summation in blocks of 128 with eight accumulators, added to 0.
func npSum(a []float64) float64 { return 0 + pairwise(a) }

func pairwise(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwise(a[:n2]) + pairwise(a[n2:])
}

// npMedian is numpy.median of a vector: the middle value, or the mean of the
// two middle values; NaN when any value is NaN.
func npMedian(a []float64) float64 {
	s := slices.Clone(a)
	slices.SortFunc(s, npCompare)
	if math.IsNaN(s[len(s)-1]) {
		return math.NaN()
	}
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// importances is _get_feature_importances(estimator, getter, "norm",
// norm_order): coef_ (|coef_|, or its norm over rows when 2-D) or
// feature_importances_ (computed from the trees, as the property does).
func importances(est *pickle.Object, getter string, normOrder float64) ([]float64, error) {
	switch getter {
	case "auto":
		if est.Has("coef_") {
			getter = "coef_"
		} else {
			getter = "feature_importances_"
		}
	case "coef_", "feature_importances_":
	default:
		return nil, fmt.Errorf("importance_getter %q is not supported (auto, coef_ and feature_importances_ are)", getter)
	}
	if getter == "feature_importances_" {
		imp, err := featureImportances(est)
		if err != nil {
			return nil, err
		}
		return mapCol(imp, math.Abs), nil
	}
	a, err := est.Array("coef_")
	if err != nil {
		return nil, err
	}
	v, err := a.Float64s()
	if err != nil {
		return nil, fmt.Errorf("coef_: %w", err)
	}
	switch len(a.Shape) {
	case 1:
		return mapCol(v, math.Abs), nil
	case 2:
		return normAxis0(v, a.Shape[0], a.Shape[1], normOrder), nil
	}
	return nil, fmt.Errorf("coef_ has shape %v", a.Shape)
}

// normAxis0 is np.linalg.norm(m, axis=0, ord=ord) of a rows x cols matrix:
// sums down each column, row by row, as numpy reduces a non-contiguous axis.
func normAxis0(m []float64, rows, cols int, ord float64) []float64 {
	out := make([]float64, cols)
	switch {
	case math.IsInf(ord, 1), math.IsInf(ord, -1):
		for c := range out {
			best := math.Abs(m[c])
			for r := 1; r < rows; r++ {
				v := math.Abs(m[r*cols+c])
				if ord > 0 && v > best || ord < 0 && v < best || math.IsNaN(v) {
					best = v
				}
			}
			out[c] = best
		}
		return out
	case ord == 0:
		for r := range rows {
			for c := range cols {
				if m[r*cols+c] != 0 {
					out[c]++
				}
			}
		}
		return out
	}
	for r := range rows {
		for c := range cols {
			v := m[r*cols+c]
			switch ord {
			case 1:
				out[c] += math.Abs(v)
			case 2:
				out[c] += float64(v * v)
			default:
				out[c] += math.Pow(math.Abs(v), ord)
			}
		}
	}
	switch ord {
	case 1:
	case 2:
		for c := range out {
			out[c] = math.Sqrt(out[c])
		}
	default:
		for c := range out {
			out[c] = math.Pow(out[c], 1/ord)
		}
	}
	return out
}

// featureImportances is the feature_importances_ property of tree models:
// a tree's normalised impurity decrease, the mean over a forest's trees
// (renormalised), or over a gradient boosting's trees.
func featureImportances(est *pickle.Object) ([]float64, error) {
	if v, ok := est.Attr("feature_importances_"); ok {
		// Some estimators store it (not a property).
		if a, ok := v.(*pickle.NDArray); ok {
			return a.Float64s()
		}
	}
	name := est.Name
	switch {
	case strings.HasPrefix(name, "DecisionTree") || strings.HasPrefix(name, "ExtraTree") && !strings.HasPrefix(name, "ExtraTrees"):
		tv, ok := est.Attr("tree_")
		if !ok {
			return nil, fmt.Errorf("not fitted: no tree_")
		}
		imp, _, err := treeImportances(tv, true)
		return imp, err
	case strings.HasPrefix(name, "RandomForest") || strings.HasPrefix(name, "ExtraTrees"):
		items, err := est.Items("estimators_")
		if err != nil {
			return nil, fmt.Errorf("not fitted: %w", err)
		}
		return meanImportances(items, true, est)
	case strings.HasPrefix(name, "GradientBoosting"):
		a, err := est.Array("estimators_")
		if err != nil {
			return nil, fmt.Errorf("not fitted: %w", err)
		}
		items := make([]any, len(a.Objects))
		copy(items, a.Objects)
		return meanImportances(items, false, est)
	}
	return nil, fmt.Errorf("has neither coef_ nor a feature_importances_ mlbatch can compute")
}

// meanImportances averages the importances of trees with more than one node
// (normalised each when normalise), then divides by their sum.
func meanImportances(items []any, normalise bool, est *pickle.Object) ([]float64, error) {
	var sum []float64
	n := 0
	for i, it := range items {
		sub, ok := it.(*pickle.Object)
		if !ok {
			return nil, fmt.Errorf("estimators_[%d] is a %s", i, pickle.TypeName(it))
		}
		tv, ok := sub.Attr("tree_")
		if !ok {
			return nil, fmt.Errorf("estimators_[%d] has no tree_", i)
		}
		imp, nodes, err := treeImportances(tv, normalise)
		if err != nil {
			return nil, fmt.Errorf("estimators_[%d]: %w", i, err)
		}
		if nodes <= 1 {
			continue
		}
		if sum == nil {
			sum = make([]float64, len(imp))
		} else if len(imp) != len(sum) {
			return nil, fmt.Errorf("estimators_[%d] has %d features, the others %d", i, len(imp), len(sum))
		}
		for j, v := range imp {
			sum[j] += v
		}
		n++
	}
	if n == 0 {
		nf, ok := intAttr(est, "n_features_in_")
		if !ok {
			return nil, fmt.Errorf("no tree has a split and n_features_in_ is missing")
		}
		return make([]float64, nf), nil
	}
	for j := range sum {
		sum[j] /= float64(n)
	}
	total := npSum(sum)
	for j := range sum {
		sum[j] /= total
	}
	return sum, nil
}

// treeImportances is Tree.compute_feature_importances(normalize): per
// feature, the sum over its splits of w*impurity - w_left*impurity_left -
// w_right*impurity_right, divided by the root's weight, then by the total
// when normalise and the total is positive. nodes is node_count.
func treeImportances(v any, normalise bool) ([]float64, int, error) {
	t, err := readTree(v)
	if err != nil {
		return nil, 0, err
	}
	obj := v.(*pickle.Object)
	nodes, err := obj.Array("nodes")
	if err != nil {
		return nil, 0, err
	}
	impF, err := nodes.Field("impurity")
	if err != nil {
		return nil, 0, fmt.Errorf("Tree nodes: %w", err)
	}
	wF, err := nodes.Field("weighted_n_node_samples")
	if err != nil {
		return nil, 0, fmt.Errorf("Tree nodes: %w", err)
	}
	imp := make([]float64, t.nFeat)
	for i, nd := range t.nodes {
		if nd.left < 0 {
			continue
		}
		l, r := int(nd.left), int(nd.right)
		a := float64(wF.Float64(i) * impF.Float64(i))
		b := float64(wF.Float64(l) * impF.Float64(l))
		c := float64(wF.Float64(r) * impF.Float64(r))
		imp[nd.feature] += a - b - c
	}
	root := wF.Float64(0)
	for j := range imp {
		imp[j] /= root
	}
	if normalise {
		if total := npSum(imp); total > 0 {
			for j := range imp {
				imp[j] /= total
			}
		}
	}
	return imp, len(t.nodes), nil
}

// attrOrNil is an attribute's value, nil when absent.
func attrOrNil(obj *pickle.Object, name string) any {
	v, _ := obj.Attr(name)
	return v
}
