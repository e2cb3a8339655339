package sklearn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// NearestCentroid, KMeans and MiniBatchKMeans: the nearest of a few fitted
// centres. The distances are computed in scikit-learn's order of operations,
// so that a row equally distant from two centres (integer data) goes to the
// first, as numpy's argmin sends it, and a KMeans.transform distance matches
// to the last bits:
//
//   - euclidean_distances (NearestCentroid, KMeans.transform):
//     sqrt(max(-2 x·c + ||x||² + ||c||², 0)), x·c from the BLAS GEMM (fused
//     multiply-adds feature after feature, dotFMA) and the squared norms from
//     np.einsum("ij,ij->i"), which numpy 1.24 accumulates in two SSE lanes
//     four vectors at a time (einsumSqNorm);
//   - KMeans.predict (the Lloyd chunk routine, no square root): ||c||² plus
//     -2 x·c added by the GEMM, argmin with a strict <, so the first centre
//     wins a tie;
//   - manhattan (NearestCentroid): scipy's cdist cityblock, sum of |x - c| in
//     feature order.
type centroidModel struct {
	meta
	centers []float64 // k x nFeat
	k       int
	cNorm   []float64 // einsum squared norm per centre
	metric  string    // "euclidean" or "manhattan"
	cls     *classes  // NearestCentroid's classes_, nil for KMeans
	prefix  string    // KMeans get_feature_names_out prefix: the lower-case class name
}

func init() {
	for _, c := range []string{
		"sklearn.neighbors._nearest_centroid.NearestCentroid",
		"sklearn.neighbors.nearest_centroid.NearestCentroid", // before 0.22
	} {
		register(c, buildNearestCentroid)
	}
	for _, c := range []string{
		"sklearn.cluster._kmeans.KMeans",
		"sklearn.cluster._kmeans.MiniBatchKMeans",
		"sklearn.cluster.k_means_.KMeans", // before 0.22
		"sklearn.cluster.k_means_.MiniBatchKMeans",
	} {
		register(c, func(obj *pickle.Object) (Estimator, error) { return buildKMeans(obj) })
		registerTransformer(c, func(obj *pickle.Object) (transformer, error) { return buildKMeans(obj) })
	}
}

// einsumSqNorm is np.einsum("ij,ij->i", X, X) for one row as numpy 1.24
// computes it on x86-64 (baseline SSE, no FMA): two-lane accumulators fed four
// vectors at a time (the fourth vector first), then the tail one vector at a
// time padded with zeros, then lane 0 + lane 1.
func einsumSqNorm(x []float64) float64 {
	var a0, a1 float64
	n, i := len(x), 0
	for ; n-i >= 8; i += 8 {
		b0 := x[i+6]*x[i+6] + a0
		b1 := x[i+7]*x[i+7] + a1
		b0 = x[i+4]*x[i+4] + b0
		b1 = x[i+5]*x[i+5] + b1
		b0 = x[i+2]*x[i+2] + b0
		b1 = x[i+3]*x[i+3] + b1
		a0 = x[i]*x[i] + b0
		a1 = x[i+1]*x[i+1] + b1
	}
	for ; i < n; i += 2 {
		a0 = x[i]*x[i] + a0
		if i+1 < n {
			a1 = x[i+1]*x[i+1] + a1
		} else {
			a1 = 0*0 + a1
		}
	}
	return a0 + a1
}

func readCenters(obj *pickle.Object, name string) (*centroidModel, error) {
	m := &centroidModel{meta: meta{class: obj.Class(), nFeat: -1}}
	arr, err := obj.Array(name)
	if err != nil {
		return nil, fmt.Errorf("not fitted or unreadable: %w", err)
	}
	if len(arr.Shape) != 2 || arr.Shape[0] < 1 || arr.Shape[1] < 1 {
		return nil, fmt.Errorf("%s has shape %v; want (n_centres, n_features)", name, arr.Shape)
	}
	if m.centers, err = arr.Float64s(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.k, m.nFeat = arr.Shape[0], arr.Shape[1]
	if n, ok := intAttr(obj, "n_features_in_"); ok && n != m.nFeat {
		return nil, fmt.Errorf("n_features_in_ is %d but %s has %d columns", n, name, m.nFeat)
	}
	if m.names, err = featureNames(obj); err != nil {
		return nil, err
	}
	if m.names != nil && len(m.names) != m.nFeat {
		return nil, fmt.Errorf("feature_names_in_ has %d names for %d features", len(m.names), m.nFeat)
	}
	m.cNorm = make([]float64, m.k)
	for j := range m.k {
		m.cNorm[j] = einsumSqNorm(m.center(j))
	}
	return m, nil
}

func (m *centroidModel) center(j int) []float64 { return m.centers[j*m.nFeat : (j+1)*m.nFeat] }

func buildNearestCentroid(obj *pickle.Object) (Estimator, error) {
	m, err := readCenters(obj, "centroids_")
	if err != nil {
		return nil, err
	}
	if m.metric, err = strAttr(obj, "metric", "euclidean"); err != nil {
		return nil, fmt.Errorf("%w (a callable metric cannot be loaded)", err)
	}
	switch m.metric {
	case "euclidean", "manhattan":
	default:
		return nil, fmt.Errorf("metric %q is not supported (euclidean, manhattan)", m.metric)
	}
	v, ok := obj.Attr("classes_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no classes_")
	}
	if m.cls, err = readClasses(v); err != nil {
		return nil, fmt.Errorf("classes_: %w", err)
	}
	if m.cls.len() != m.k {
		return nil, fmt.Errorf("classes_ has %d classes but centroids_ has %d rows", m.cls.len(), m.k)
	}
	return &nearestCentroid{m}, nil
}

// kmeans is KMeans or MiniBatchKMeans: predict gives the nearest
// cluster_centers_ row (int32, as scikit-learn returns it), transform the
// euclidean distances to every centre.
type kmeans struct{ *centroidModel }

func buildKMeans(obj *pickle.Object) (*kmeans, error) {
	m, err := readCenters(obj, "cluster_centers_")
	if err != nil {
		return nil, err
	}
	m.metric = "euclidean"
	m.prefix = strings.ToLower(obj.Name)
	return &kmeans{m}, nil
}

// rows calls f with each query row gathered from the columns, after
// scikit-learn's finite-values check.
func (m *centroidModel) rows(X *Dense, f func(r int, x []float64)) error {
	if len(X.Cols) != m.nFeat {
		return fmt.Errorf("%d features given, the model was fitted on %d", len(X.Cols), m.nFeat)
	}
	if err := checkFinite(X, shortName(m.class)); err != nil {
		return err
	}
	x := make([]float64, m.nFeat)
	for r := range X.Rows {
		for j, c := range X.Cols {
			x[j] = c[r]
		}
		f(r, x)
	}
	return nil
}

// euclidean is sklearn.metrics.pairwise.euclidean_distances for one row and
// centre j, given the row's einsum squared norm xn.
func (m *centroidModel) euclidean(x []float64, xn float64, j int) float64 {
	d := -2*dotFMA(x, m.center(j)) + xn
	d += m.cNorm[j]
	return math.Sqrt(math.Max(d, 0))
}

// nearestCentroid is NearestCentroid: classes_[argmin of pairwise_distances].
type nearestCentroid struct{ *centroidModel }

func (e *nearestCentroid) labelsOf() *classes { return e.cls }

func (e *nearestCentroid) predictIndex(X *Dense) ([]int, error) {
	out := make([]int, X.Rows)
	err := e.rows(X, func(r int, x []float64) {
		xn := 0.0
		if e.metric == "euclidean" {
			xn = einsumSqNorm(x)
		}
		best, bestD := 0, math.Inf(1)
		for j := range e.k {
			var d float64
			if e.metric == "euclidean" {
				d = e.euclidean(x, xn, j)
			} else {
				c := e.center(j)
				for f, v := range x {
					d += math.Abs(v - c[f])
				}
			}
			if j == 0 || d < bestD {
				best, bestD = j, d
			}
		}
		out[r] = best
	})
	return out, err
}

func (e *nearestCentroid) Outputs(model.LoadOptions) []model.Column { return e.cls.Outputs(false) }

func (e *nearestCentroid) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	idx, err := e.predictIndex(X)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{e.cls.labels(idx, mem)}, nil
}

// predictCluster is _labels_inertia: per row, the centre with the smallest
// ||c||² - 2 x·c (the first on ties).
func (e *kmeans) predictCluster(X *Dense) ([]int, error) {
	out := make([]int, X.Rows)
	err := e.rows(X, func(r int, x []float64) {
		best, bestD := 0, 0.0
		for j := range e.k {
			d := e.cNorm[j] + -2*dotFMA(x, e.center(j))
			if j == 0 || d < bestD {
				best, bestD = j, d
			}
		}
		out[r] = best
	})
	return out, err
}

func (e *kmeans) Outputs(model.LoadOptions) []model.Column {
	return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Int32}}
}

func (e *kmeans) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	idx, err := e.predictCluster(X)
	if err != nil {
		return nil, err
	}
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, v := range idx {
		b.UnsafeAppend(int32(v))
	}
	return []arrow.Array{b.NewArray()}, nil
}

// transform is KMeans.transform: euclidean_distances to every centre.
func (e *kmeans) transform(t *table) (*table, error) {
	who := shortName(e.class)
	if err := checkWidth(t, e.nFeat, who); err != nil {
		return nil, err
	}
	X, err := denseOf(t, who)
	if err != nil {
		return nil, err
	}
	cols := make([][]float64, e.k)
	for j := range cols {
		cols[j] = make([]float64, X.Rows)
	}
	err = e.rows(X, func(r int, x []float64) {
		xn := einsumSqNorm(x)
		for j := range e.k {
			cols[j][r] = e.euclidean(x, xn, j)
		}
	})
	if err != nil {
		return nil, err
	}
	out := &table{rows: X.Rows, cols: make([]*column, e.k), names: e.namesOut(nil)}
	for j, c := range cols {
		out.cols[j] = &column{num: c}
	}
	return out, nil
}

// namesOut is get_feature_names_out: "kmeans0", "kmeans1", ...
func (e *kmeans) namesOut([]string) []string {
	out := make([]string, e.k)
	for j := range out {
		out[j] = e.prefix + strconv.Itoa(j)
	}
	return out
}

func (e *kmeans) inputKinds(kind) []kind { return fill(e.nFeat, kindNum) }
