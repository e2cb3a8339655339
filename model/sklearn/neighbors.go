package sklearn

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// KNeighborsRegressor and KNeighborsClassifier, rebuilt so that the k
// neighbours chosen, and their order, are the ones scikit-learn 1.2 chooses,
// ties included. Which of several equally distant training rows is kept
// depends on how scikit-learn searches, so each fitted layout is searched the
// way scikit-learn searches it:
//
//   - kd_tree and ball_tree: the pickled tree (data, idx_array, node_data,
//     node_bounds) is walked depth first, the nearer child first (the left one
//     when both bounds are equal), a node skipped only when its lower bound is
//     strictly above the current k-th distance, and leaf points pushed in
//     idx_array order onto scikit-learn's fixed-size max-heap, which takes a
//     point only when it is strictly nearer than the heap's largest
//     (BinaryTree._query_single_depthfirst, utils/_heap.pyx heap_push).
//   - brute: scikit-learn 1.2's ArgKmin reduction. Every training row, in index
//     order, is pushed onto the same heap; for euclidean the pushed value is
//     ||x||² + (-2 x·y) + ||y||², the GEMM decomposition, not (x-y)², so a query
//     at a training row gets exactly 0 only if these terms cancel. x·y
//     accumulates with fused multiply-adds feature after feature, as one output
//     element of OpenBLAS's x86-64 GEMM kernel does, and the norms follow
//     OpenBLAS's DDOT kernel (ddot below), which is what Debian's scikit-learn
//     1.2.1 with OpenBLAS 0.3.21 computes on an FMA machine (checked bit for bit
//     by the fixtures); another BLAS build may round the last bit differently.
//     Other metrics push their reduced distance (DistanceMetric rdist: sum of
//     |d|^p, sum |d|, max |d|). When the batch has no more rows than the
//     training set and at most 4 * 256 rows, scikit-learn takes strategy
//     parallel_on_Y: the heap is filled as a thread's heap, whose entries are
//     then pushed in heap order onto the result heap; that is reproduced too.
//
// Both then sort the heap with scikit-learn's simultaneous_sort (a quicksort,
// not stable: equal distances keep the order it leaves them in) and turn
// reduced distances into distances (sqrt, pow(., 1/p)). Predictions follow
// KNeighborsRegressor.predict and KNeighborsClassifier.predict/predict_proba
// with numpy's summation orders (pairwise sums over the k neighbours where
// numpy reduces a contiguous axis).
//
// Known differences, limited to exact ties and the last bit of a distance:
// with several OpenMP threads and more than 256 training rows, scikit-learn's
// parallel_on_Y splits the training rows over threads and merges their heaps,
// and which of several equally distant rows wins then follows the split;
// mlbatch reproduces one thread (OMP_NUM_THREADS=1, as the fixtures are made).
// The strategy depends on the number of rows per call, so scoring in batches
// other than scikit-learn's can reorder equally distant neighbours (the set is
// the same; a mean can move in its last bit). When every input column is an
// integer, scikit-learn 1.2 skips ArgKmin for argpartition + argsort; mlbatch
// always takes the ArgKmin order. For a Minkowski p other than 1, 2 and
// infinity, math.Pow may differ from glibc's pow in the last bit, which can
// reorder ties in a ball tree's bounds.
type knn struct {
	meta
	k       int
	weights string // "uniform" or "distance"
	method  string // "brute", "kd_tree" or "ball_tree"
	metric  nnMetric
	fitX    []float64 // n x nFeat, row-major
	n       int
	yNorm   []float64 // brute euclidean: ||y||² per training row
	tree    *binaryTree

	// regressor: y is n x nOut, row-major. classifier: codes is n x nOut class
	// indices (scikit-learn's _y), cls one classes_ per output.
	y     []float64
	codes []int
	cls   []*classes
	nOut  int
	multi bool // predict returns a 2-D array
}

func init() {
	for _, c := range []string{
		"sklearn.neighbors._regression.KNeighborsRegressor",
		"sklearn.neighbors.regression.KNeighborsRegressor", // before 0.22
		"sklearn.neighbors._classification.KNeighborsClassifier",
		"sklearn.neighbors.classification.KNeighborsClassifier", // before 0.22
	} {
		register(c, buildKNN)
	}
	// The pickled trees and distance metrics: newObj(cls) plus a state tuple
	// (BinaryTree.__reduce__, DistanceMetric.__reduce__).
	for _, mod := range []string{
		"sklearn.neighbors._kd_tree", "sklearn.neighbors.kd_tree",
		"sklearn.neighbors._ball_tree", "sklearn.neighbors.ball_tree",
	} {
		for _, n := range []string{"newObj", "KDTree", "KDTree64", "BallTree", "BallTree64"} {
			inert[mod+"."+n] = true
		}
	}
	for _, mod := range []string{
		"sklearn.metrics._dist_metrics",   // 1.0 and later
		"sklearn.neighbors._dist_metrics", // 0.22 to 0.24
		"sklearn.neighbors.dist_metrics",  // before 0.22
	} {
		inert[mod+".newObj"] = true
		for _, n := range []string{"EuclideanDistance", "ManhattanDistance", "ChebyshevDistance", "MinkowskiDistance"} {
			inert[mod+"."+n] = true
			inert[mod+"."+n+"64"] = true // 1.3 and later
		}
	}
}

// metricKind names the distances supported.
type metricKind uint8

const (
	metEuclidean metricKind = iota
	metSqEuclidean
	metManhattan
	metChebyshev
	metMinkowski
)

// nnMetric is a DistanceMetric: kind, and p (2 euclidean, 1 manhattan, +Inf
// chebyshev, the Minkowski p otherwise), which the KD-tree bounds use.
type nnMetric struct {
	kind metricKind
	p    float64
	// gemm: the brute search pushes the GEMM decomposition (scikit-learn's
	// EuclideanArgKmin, used for the metric names "euclidean" and
	// "sqeuclidean" only).
	gemm bool
}

func (m nnMetric) String() string {
	switch m.kind {
	case metEuclidean:
		return "euclidean"
	case metSqEuclidean:
		return "sqeuclidean"
	case metManhattan:
		return "manhattan"
	case metChebyshev:
		return "chebyshev"
	}
	return fmt.Sprintf("minkowski(p=%g)", m.p)
}

// metricByName maps effective_metric_ (and its params) to a metric.
func metricByName(name string, p float64) (nnMetric, error) {
	switch name {
	case "euclidean":
		return nnMetric{kind: metEuclidean, p: 2, gemm: true}, nil
	case "l2":
		return nnMetric{kind: metEuclidean, p: 2}, nil
	case "sqeuclidean":
		return nnMetric{kind: metSqEuclidean, p: 2, gemm: true}, nil
	case "manhattan", "cityblock", "l1":
		return nnMetric{kind: metManhattan, p: 1}, nil
	case "chebyshev", "infinity":
		return nnMetric{kind: metChebyshev, p: math.Inf(1)}, nil
	case "minkowski", "p":
		if !(p > 0) || math.IsNaN(p) {
			return nnMetric{}, fmt.Errorf("minkowski p=%g: want p > 0", p)
		}
		switch {
		case p == 1:
			return nnMetric{kind: metManhattan, p: 1}, nil
		case p == 2:
			return nnMetric{kind: metEuclidean, p: 2}, nil
		case math.IsInf(p, 1):
			return nnMetric{kind: metChebyshev, p: p}, nil
		}
		return nnMetric{kind: metMinkowski, p: p}, nil
	}
	return nnMetric{}, fmt.Errorf("metric %q is not supported (euclidean, manhattan, chebyshev, minkowski)", name)
}

// powp is C's pow(x, p) for the exponents that matter most: x for p = 1 and
// x*x for p = 2 (both exact in glibc), math.Pow otherwise.
func powp(x, p float64) float64 {
	switch p {
	case 1:
		return x
	case 2:
		return x * x
	}
	return math.Pow(x, p)
}

// rdist is DistanceMetric.rdist: the reduced distance, summed feature by feature.
func (m nnMetric) rdist(a, b []float64) float64 {
	d := 0.0
	switch m.kind {
	case metEuclidean, metSqEuclidean:
		for j, x := range a {
			t := x - b[j]
			d += t * t
		}
	case metManhattan:
		for j, x := range a {
			d += math.Abs(x - b[j])
		}
	case metChebyshev:
		for j, x := range a {
			d = math.Max(d, math.Abs(x-b[j]))
		}
	default:
		for j, x := range a {
			d += powp(math.Abs(x-b[j]), m.p)
		}
	}
	return d
}

// rdistToDist is DistanceMetric._rdist_to_dist.
func (m nnMetric) rdistToDist(r float64) float64 {
	switch m.kind {
	case metEuclidean:
		return math.Sqrt(r)
	case metMinkowski:
		return math.Pow(r, 1/m.p)
	}
	return r
}

// distToRdist is DistanceMetric._dist_to_rdist.
func (m nnMetric) distToRdist(d float64) float64 {
	switch m.kind {
	case metEuclidean:
		return d * d
	case metMinkowski:
		return powp(d, m.p)
	}
	return d
}

// dist is DistanceMetric.dist.
func (m nnMetric) dist(a, b []float64) float64 { return m.rdistToDist(m.rdist(a, b)) }

// dotFMA is x·y accumulated with fused multiply-adds in feature order, as one
// output element of OpenBLAS's x86-64 GEMM kernel (and DDOT below 16
// features) accumulates it.
func dotFMA(x, y []float64) float64 {
	s := 0.0
	for j, v := range x {
		s = math.FMA(v, y[j], s)
	}
	return s
}

// ddot is x·y as OpenBLAS's x86-64 (Haswell) DDOT computes it, which is what
// scikit-learn's _sqeuclidean_row_norms64 calls: blocks of 16 accumulated with
// fused multiply-adds in four 4-lane registers, the registers folded (high
// half onto low, then 0+1, 2+3, both, then the two lanes), then the remaining
// features added one by one without fusing.
func ddot(x, y []float64) float64 {
	n := len(x)
	n1 := n &^ 15
	dot := 0.0
	if n1 > 0 {
		var acc [4][4]float64
		for i := 0; i < n1; i += 16 {
			for r := range 4 {
				for l := range 4 {
					j := i + 4*r + l
					acc[r][l] = math.FMA(x[j], y[j], acc[r][l])
				}
			}
		}
		var h [4][2]float64
		for r := range 4 {
			h[r] = [2]float64{acc[r][0] + acc[r][2], acc[r][1] + acc[r][3]}
		}
		s0 := (h[0][0] + h[1][0]) + (h[2][0] + h[3][0])
		s1 := (h[0][1] + h[1][1]) + (h[2][1] + h[3][1])
		dot = s0 + s1
	}
	for i := n1; i < n; i++ {
		dot += y[i] * x[i]
	}
	return dot
}

// heapPush is scikit-learn's heap_push (utils/_heap.pyx) onto a fixed-size
// max-heap: a value enters only when strictly below the largest, which is
// then dropped.
func heapPush(vals []float64, idx []int, val float64, vi int) {
	if val >= vals[0] {
		return
	}
	size := len(vals)
	cur := 0
	for {
		l := 2*cur + 1
		r := l + 1
		sw := 0
		switch {
		case l >= size:
		case r >= size:
			if vals[l] > val {
				sw = l
			}
		case vals[l] >= vals[r]:
			if val < vals[l] {
				sw = l
			}
		default:
			if val < vals[r] {
				sw = r
			}
		}
		if sw == 0 {
			break
		}
		vals[cur], idx[cur] = vals[sw], idx[sw]
		cur = sw
	}
	vals[cur], idx[cur] = val, vi
}

// simultaneousSort is scikit-learn's simultaneous_sort (utils/_sorting.pyx): a
// median-of-three quicksort of vals that applies the same swaps to idx. It is
// not stable, and equal values end in the order it leaves them.
func simultaneousSort(vals []float64, idx []int) {
	swap := func(a, b int) {
		vals[a], vals[b] = vals[b], vals[a]
		idx[a], idx[b] = idx[b], idx[a]
	}
	size := len(vals)
	switch {
	case size <= 1:
	case size == 2:
		if vals[0] > vals[1] {
			swap(0, 1)
		}
	case size == 3:
		if vals[0] > vals[1] {
			swap(0, 1)
		}
		if vals[1] > vals[2] {
			swap(1, 2)
			if vals[0] > vals[1] {
				swap(0, 1)
			}
		}
	default:
		piv := size / 2
		if vals[0] > vals[size-1] {
			swap(0, size-1)
		}
		if vals[size-1] > vals[piv] {
			swap(size-1, piv)
			if vals[0] > vals[size-1] {
				swap(0, size-1)
			}
		}
		pv := vals[size-1]
		store := 0
		for i := 0; i < size-1; i++ {
			if vals[i] < pv {
				swap(i, store)
				store++
			}
		}
		swap(store, size-1)
		if store > 1 {
			simultaneousSort(vals[:store], idx[:store])
		}
		if store+2 < size {
			simultaneousSort(vals[store+1:], idx[store+1:])
		}
	}
}

// knnRegressor and knnClassifier are the two estimators over one search.
type (
	knnRegressor  struct{ *knn }
	knnClassifier struct{ *knn }
)

func buildKNN(obj *pickle.Object) (Estimator, error) {
	e, err := readKNN(obj)
	if err != nil {
		return nil, err
	}
	if e.cls != nil {
		return knnClassifier{e}, nil
	}
	return knnRegressor{e}, nil
}

func readKNN(obj *pickle.Object) (*knn, error) {
	e := &knn{meta: meta{class: obj.Class(), nFeat: -1}}
	classifier := obj.Name == "KNeighborsClassifier"
	var ok bool
	if e.k, ok = intAttr(obj, "n_neighbors"); !ok || e.k < 1 {
		return nil, fmt.Errorf("n_neighbors is missing or not a positive int")
	}
	w, err := strAttr(obj, "weights", "uniform")
	if err != nil {
		return nil, fmt.Errorf("%w (a callable weights function cannot be loaded)", err)
	}
	if w != "uniform" && w != "distance" {
		return nil, fmt.Errorf("weights %q is not supported (uniform, distance)", w)
	}
	e.weights = w
	if e.method, err = strAttr(obj, "_fit_method", ""); err != nil {
		return nil, err
	}
	if e.method == "" {
		return nil, fmt.Errorf("not fitted: no _fit_method")
	}
	// The training rows.
	fx, err := obj.Array("_fit_X")
	if err != nil {
		return nil, fmt.Errorf("_fit_X: %w", err)
	}
	if len(fx.Shape) != 2 || fx.Shape[0] < 1 || fx.Shape[1] < 1 {
		return nil, fmt.Errorf("_fit_X has shape %v; want (n_samples, n_features)", fx.Shape)
	}
	if e.fitX, err = fx.Float64s(); err != nil {
		return nil, fmt.Errorf("_fit_X: %w", err)
	}
	e.n, e.nFeat = fx.Shape[0], fx.Shape[1]
	if n, ok := intAttr(obj, "n_samples_fit_"); ok && n != e.n {
		return nil, fmt.Errorf("n_samples_fit_ is %d but _fit_X has %d rows", n, e.n)
	}
	if n, ok := intAttr(obj, "n_features_in_"); ok && n != e.nFeat {
		return nil, fmt.Errorf("n_features_in_ is %d but _fit_X has %d columns", n, e.nFeat)
	}
	if e.k > e.n {
		return nil, fmt.Errorf("n_neighbors is %d but only %d training rows were fitted (scikit-learn refuses this)", e.k, e.n)
	}
	if e.names, err = featureNames(obj); err != nil {
		return nil, err
	}
	if e.names != nil && len(e.names) != e.nFeat {
		return nil, fmt.Errorf("feature_names_in_ has %d names for %d features", len(e.names), e.nFeat)
	}
	if e.metric, err = knnMetric(obj); err != nil {
		return nil, err
	}
	switch e.method {
	case "brute":
		if e.metric.gemm {
			e.yNorm = make([]float64, e.n)
			for i := range e.n {
				row := e.fitX[i*e.nFeat : (i+1)*e.nFeat]
				e.yNorm[i] = ddot(row, row)
			}
		}
	case "kd_tree", "ball_tree":
		tv, _ := obj.Attr("_tree")
		to, ok := tv.(*pickle.Object)
		if !ok {
			return nil, fmt.Errorf("_fit_method is %s but _tree is a %s", e.method, pickle.TypeName(tv))
		}
		if e.tree, err = readBinaryTree(to, e.method == "ball_tree"); err != nil {
			return nil, fmt.Errorf("_tree: %w", err)
		}
		if e.tree.n != e.n || e.tree.f != e.nFeat {
			return nil, fmt.Errorf("_tree holds %d x %d points but _fit_X is %d x %d", e.tree.n, e.tree.f, e.n, e.nFeat)
		}
		if e.tree.metric.kind != e.metric.kind || e.tree.metric.p != e.metric.p {
			return nil, fmt.Errorf("the tree's distance metric is %s but effective_metric_ is %s", e.tree.metric, e.metric)
		}
		if e.metric.kind == metSqEuclidean {
			return nil, fmt.Errorf("metric sqeuclidean cannot be used with a %s", e.method)
		}
	default:
		return nil, fmt.Errorf("_fit_method %q is not supported (brute, kd_tree, ball_tree)", e.method)
	}
	// Targets.
	yv, ok := obj.Attr("_y")
	ya, isArr := yv.(*pickle.NDArray)
	if !ok || !isArr {
		return nil, fmt.Errorf("not fitted: _y is missing or not an array")
	}
	switch {
	case len(ya.Shape) == 1 && ya.Shape[0] == e.n:
		e.nOut = 1
	case len(ya.Shape) == 2 && ya.Shape[0] == e.n && ya.Shape[1] >= 1:
		e.nOut, e.multi = ya.Shape[1], true
	default:
		return nil, fmt.Errorf("_y has shape %v for %d training rows", ya.Shape, e.n)
	}
	if !classifier {
		if e.y, err = ya.Float64s(); err != nil {
			return nil, fmt.Errorf("_y: %w", err)
		}
		return e, nil
	}
	codes, err := ya.Int64s()
	if err != nil {
		return nil, fmt.Errorf("_y: %w", err)
	}
	if o, ok := obj.Attr("outputs_2d_"); ok {
		if b, isBool := o.(bool); isBool && b != e.multi {
			return nil, fmt.Errorf("outputs_2d_ is %v but _y has shape %v", b, ya.Shape)
		}
	}
	if e.cls, err = readOutputClasses(obj, e.nOut); err != nil {
		return nil, err
	}
	e.codes = make([]int, len(codes))
	for i, c := range codes {
		nc := e.cls[i%e.nOut].len()
		if c < 0 || c >= int64(nc) {
			return nil, fmt.Errorf("_y holds class index %d, classes_ has %d classes", c, nc)
		}
		e.codes[i] = int(c)
	}
	return e, nil
}

// knnMetric reads effective_metric_ and effective_metric_params_ (falling
// back on metric and p, which old pickles rely on).
func knnMetric(obj *pickle.Object) (nnMetric, error) {
	name, err := strAttr(obj, "effective_metric_", "")
	if err != nil {
		return nnMetric{}, fmt.Errorf("%w (a callable metric cannot be loaded)", err)
	}
	if name == "" {
		if name, err = strAttr(obj, "metric", "minkowski"); err != nil {
			return nnMetric{}, fmt.Errorf("%w (a callable metric cannot be loaded)", err)
		}
	}
	p := 2.0
	if f, err := floatsAttr(obj, "p"); err == nil && len(f) == 1 {
		p = f[0]
	}
	if pv, ok := obj.Attr("effective_metric_params_"); ok && pv != nil {
		d, ok := pv.(*pickle.Dict)
		if !ok {
			return nnMetric{}, fmt.Errorf("effective_metric_params_ is a %s, want a dict", pickle.TypeName(pv))
		}
		for i, k := range d.Keys() {
			v := d.Values()[i]
			switch k {
			case "p":
				switch x := v.(type) {
				case float64:
					p = x
				case int64:
					p = float64(x)
				default:
					return nnMetric{}, fmt.Errorf("effective_metric_params_ p is a %s", pickle.TypeName(v))
				}
			case "w":
				if v != nil {
					return nnMetric{}, fmt.Errorf("a weighted Minkowski metric (w) is not supported")
				}
			default:
				return nnMetric{}, fmt.Errorf("metric parameter %v is not supported", k)
			}
		}
	}
	return metricByName(name, p)
}

// binaryTree is a fitted KDTree or BallTree.
type binaryTree struct {
	ball   bool
	data   []float64 // n x f
	n, f   int
	idx    []int
	start  []int
	end    []int
	leaf   []bool
	radius []float64
	bounds []float64 // kd: lower bounds then upper bounds, each nodes x f; ball: centroids
	nodes  int
	metric nnMetric
}

// readBinaryTree reads the state BinaryTree.__getstate__ pickles: (data,
// idx_array, node_data, node_bounds, leaf_size, n_levels, n_nodes, n_trims,
// n_leaves, n_splits, n_calls, dist_metric[, sample_weight]).
func readBinaryTree(obj *pickle.Object, ball bool) (*binaryTree, error) {
	want := "KDTree"
	if ball {
		want = "BallTree"
	}
	if obj.Name == "newObj" && len(obj.Args) == 1 {
		if g, ok := obj.Args[0].(*pickle.Global); ok {
			if g.Name != want && g.Name != want+"64" {
				return nil, fmt.Errorf("is a %s, want a %s", g.Name, want)
			}
		}
	} else if obj.Name != want && obj.Name != want+"64" {
		return nil, fmt.Errorf("is a %s, want a %s", obj.Name, want)
	}
	st, ok := obj.State.(pickle.Tuple)
	if !ok || len(st) < 12 {
		return nil, fmt.Errorf("the %s state is not the (data, idx_array, node_data, node_bounds, ..., dist_metric) tuple scikit-learn pickles", want)
	}
	t := &binaryTree{ball: ball}
	data, ok := st[0].(*pickle.NDArray)
	if !ok || len(data.Shape) != 2 || data.Shape[0] < 1 || data.Shape[1] < 1 {
		return nil, fmt.Errorf("data is not a 2-D array")
	}
	var err error
	if t.data, err = data.Float64s(); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	t.n, t.f = data.Shape[0], data.Shape[1]
	ia, ok := st[1].(*pickle.NDArray)
	if !ok || len(ia.Shape) != 1 || ia.Shape[0] != t.n {
		return nil, fmt.Errorf("idx_array is not a 1-D array of %d indices", t.n)
	}
	idx, err := ia.Int64s()
	if err != nil {
		return nil, fmt.Errorf("idx_array: %w", err)
	}
	t.idx = make([]int, t.n)
	for i, v := range idx {
		if v < 0 || v >= int64(t.n) {
			return nil, fmt.Errorf("idx_array[%d] = %d is outside the %d points", i, v, t.n)
		}
		t.idx[i] = int(v)
	}
	nd, ok := st[2].(*pickle.NDArray)
	if !ok || len(nd.Shape) != 1 || nd.Shape[0] < 1 {
		return nil, fmt.Errorf("node_data is not a 1-D structured array")
	}
	t.nodes = nd.Shape[0]
	fields := map[string]*pickle.FieldView{}
	for _, name := range []string{"idx_start", "idx_end", "is_leaf", "radius"} {
		if fields[name], err = nd.Field(name); err != nil {
			return nil, fmt.Errorf("node_data: %w", err)
		}
	}
	starts, ends, leaves := fields["idx_start"].Int64s(), fields["idx_end"].Int64s(), fields["is_leaf"].Int64s()
	t.radius = fields["radius"].Float64s()
	t.start, t.end, t.leaf = make([]int, t.nodes), make([]int, t.nodes), make([]bool, t.nodes)
	for i := range t.nodes {
		s, e := starts[i], ends[i]
		if s < 0 || e < s || e > int64(t.n) {
			return nil, fmt.Errorf("node %d spans points [%d, %d) of %d", i, s, e, t.n)
		}
		t.start[i], t.end[i], t.leaf[i] = int(s), int(e), leaves[i] != 0
		if !t.leaf[i] && 2*i+2 >= t.nodes {
			return nil, fmt.Errorf("node %d is not a leaf but has no children among the %d nodes", i, t.nodes)
		}
	}
	nb, ok := st[3].(*pickle.NDArray)
	planes := 2
	if ball {
		planes = 1
	}
	if !ok || len(nb.Shape) != 3 || nb.Shape[0] != planes || nb.Shape[1] != t.nodes || nb.Shape[2] != t.f {
		return nil, fmt.Errorf("node_bounds is not a (%d, %d, %d) array", planes, t.nodes, t.f)
	}
	if t.bounds, err = nb.Float64s(); err != nil {
		return nil, fmt.Errorf("node_bounds: %w", err)
	}
	mo, ok := st[11].(*pickle.Object)
	if !ok {
		return nil, fmt.Errorf("dist_metric is a %s, want a DistanceMetric", pickle.TypeName(st[11]))
	}
	if t.metric, err = readDistanceMetric(mo); err != nil {
		return nil, fmt.Errorf("dist_metric: %w", err)
	}
	return t, nil
}

// readDistanceMetric reads a pickled DistanceMetric: newObj(cls) with the state
// (p, vec, mat[, use_f32]) (DistanceMetric.__getstate__).
func readDistanceMetric(obj *pickle.Object) (nnMetric, error) {
	name := obj.Name
	if name == "newObj" && len(obj.Args) == 1 {
		if g, ok := obj.Args[0].(*pickle.Global); ok {
			name = g.Name
		}
	}
	st, ok := obj.State.(pickle.Tuple)
	if !ok || len(st) < 3 {
		return nnMetric{}, fmt.Errorf("%s: the state is not the (p, vec, mat, ...) tuple scikit-learn pickles", name)
	}
	p, ok := st[0].(float64)
	if !ok {
		return nnMetric{}, fmt.Errorf("%s: p is a %s", name, pickle.TypeName(st[0]))
	}
	// vec holds a weighted Minkowski's w (a placeholder for the other
	// metrics); weights are refused through effective_metric_params_.
	switch name {
	case "EuclideanDistance", "EuclideanDistance64":
		return nnMetric{kind: metEuclidean, p: 2}, nil
	case "ManhattanDistance", "ManhattanDistance64":
		return nnMetric{kind: metManhattan, p: 1}, nil
	case "ChebyshevDistance", "ChebyshevDistance64":
		return nnMetric{kind: metChebyshev, p: math.Inf(1)}, nil
	case "MinkowskiDistance", "MinkowskiDistance64":
		return metricByName("minkowski", p)
	}
	return nnMetric{}, fmt.Errorf("%s is not supported", name)
}

// minRdist is the reduced lower bound of the distance from pt to node i
// (_kd_tree.pyx and _ball_tree.pyx min_rdist).
func (t *binaryTree) minRdist(i int, pt []float64) float64 {
	f := t.f
	if t.ball {
		c := t.bounds[i*f : (i+1)*f]
		d := math.Max(0, t.metric.dist(pt, c)-t.radius[i])
		return t.metric.distToRdist(d)
	}
	lo := t.bounds[i*f : (i+1)*f]
	hi := t.bounds[(t.nodes+i)*f : (t.nodes+i+1)*f]
	r := 0.0
	inf := math.IsInf(t.metric.p, 1)
	for j, x := range pt {
		dlo := lo[j] - x
		dhi := x - hi[j]
		d := (dlo + math.Abs(dlo)) + (dhi + math.Abs(dhi))
		if inf {
			r = math.Max(r, 0.5*d)
		} else {
			r += powp(0.5*d, t.metric.p)
		}
	}
	return r
}

// query fills vals/idx (length k) with the k nearest points to pt as reduced
// distances, sorted as BinaryTree.query(sort_results=True) sorts them.
func (t *binaryTree) query(pt, vals []float64, idx []int) {
	for i := range vals {
		vals[i] = math.Inf(1)
		idx[i] = 0
	}
	t.depthFirst(0, pt, vals, idx, t.minRdist(0, pt))
	simultaneousSort(vals, idx)
}

func (t *binaryTree) depthFirst(node int, pt, vals []float64, idx []int, lb float64) {
	if lb > vals[0] {
		return
	}
	if t.leaf[node] {
		f := t.f
		for i := t.start[node]; i < t.end[node]; i++ {
			p := t.idx[i]
			heapPush(vals, idx, t.metric.rdist(pt, t.data[p*f:(p+1)*f]), p)
		}
		return
	}
	i1, i2 := 2*node+1, 2*node+2
	lb1, lb2 := t.minRdist(i1, pt), t.minRdist(i2, pt)
	if lb1 <= lb2 {
		t.depthFirst(i1, pt, vals, idx, lb1)
		t.depthFirst(i2, pt, vals, idx, lb2)
	} else {
		t.depthFirst(i2, pt, vals, idx, lb2)
		t.depthFirst(i1, pt, vals, idx, lb1)
	}
}

// kneighbors returns, per query row, the k neighbour indices and distances
// (row-major rows x k), as KNeighborsMixin.kneighbors does.
func (e *knn) kneighbors(X *Dense) ([]int, []float64, error) {
	if len(X.Cols) != e.nFeat {
		return nil, nil, fmt.Errorf("%d features given, the model was fitted on %d", len(X.Cols), e.nFeat)
	}
	if err := checkFinite(X, shortName(e.class)); err != nil {
		return nil, nil, err
	}
	k, f := e.k, e.nFeat
	ind := make([]int, X.Rows*k)
	dist := make([]float64, X.Rows*k)
	pt := make([]float64, f)
	// scikit-learn 1.2.1's ArgKmin strategy "auto" with one thread:
	// parallel_on_X when the batch has more rows than the training set or more
	// than 4 * chunk_size (256), else parallel_on_Y.
	onY := e.n >= X.Rows && X.Rows <= 4*256
	tmpV, tmpI := make([]float64, k), make([]int, k)
	for r := range X.Rows {
		for j, c := range X.Cols {
			pt[j] = c[r]
		}
		vals, idx := dist[r*k:(r+1)*k], ind[r*k:(r+1)*k]
		if e.tree != nil {
			e.tree.query(pt, vals, idx)
			for i, v := range vals {
				vals[i] = e.metric.rdistToDist(v)
			}
			continue
		}
		e.brute(pt, vals, idx, onY, tmpV, tmpI)
	}
	return ind, dist, nil
}

// brute is ArgKmin over every training row in index order, then the heap
// sorted and the reduced distances turned into distances (clipped at 0).
//
// With strategy parallel_on_Y (onY) the rows go onto a thread's heap first,
// whose entries are then pushed, in heap order, onto the result heap
// (_parallel_on_Y_synchronize); the set is the same, the order of equal
// distances after the sort may not be.
func (e *knn) brute(pt, vals []float64, idx []int, onY bool, tmpV []float64, tmpI []int) {
	hv, hi := vals, idx
	if onY {
		hv, hi = tmpV, tmpI
	}
	for i := range hv {
		hv[i] = math.MaxFloat64
		hi[i] = 0
	}
	f := e.nFeat
	if e.metric.gemm {
		xn := ddot(pt, pt)
		for j := range e.n {
			mid := -2 * dotFMA(pt, e.fitX[j*f:(j+1)*f])
			heapPush(hv, hi, xn+mid+e.yNorm[j], j)
		}
	} else {
		for j := range e.n {
			heapPush(hv, hi, e.metric.rdist(pt, e.fitX[j*f:(j+1)*f]), j)
		}
	}
	if onY {
		for i := range vals {
			vals[i] = math.MaxFloat64
			idx[i] = 0
		}
		for i, v := range hv {
			heapPush(vals, idx, v, hi[i])
		}
	}
	simultaneousSort(vals, idx)
	for i, v := range vals {
		vals[i] = e.metric.rdistToDist(math.Max(v, 0))
	}
}

// neighborWeights is _get_weights: nil for uniform; 1/dist for distance, where
// a row with a zero distance weighs its zero-distance neighbours 1 and the
// others 0.
func (e *knn) neighborWeights(dist []float64, rows int) []float64 {
	if e.weights != "distance" {
		return nil
	}
	k := e.k
	w := make([]float64, len(dist))
	for r := range rows {
		row := w[r*k : (r+1)*k]
		zero := false
		for i, d := range dist[r*k : (r+1)*k] {
			row[i] = 1 / d
			zero = zero || math.IsInf(row[i], 0)
		}
		if zero {
			for i, v := range row {
				if math.IsInf(v, 0) {
					row[i] = 1
				} else {
					row[i] = 0
				}
			}
		}
	}
	return w
}

// pairwiseSum64 is numpy's add.reduce of float64 over a contiguous axis.
func pairwiseSum64(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		res := 0.0
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum64(a[:n2]) + pairwiseSum64(a[n2:])
}

func (e knnRegressor) targets() (int, bool) { return e.nOut, e.multi }

func (e knnRegressor) Outputs(model.LoadOptions) []model.Column { return regressorOutputs(e) }

func (e knnRegressor) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredict(e, X, mem)
}

func (e knnClassifier) Outputs(opts model.LoadOptions) []model.Column {
	if !e.multi {
		return classifierOutputs(e.cls[0], opts)
	}
	return multiClassifierOutputs(e.cls, opts)
}

// regress is KNeighborsRegressor.predict: the mean of the neighbours' targets
// (numpy's pairwise sum over the neighbours for one target; with several the
// reduction runs along a strided axis and adds them one after the other), or
// sum(y * w) / sum(w) with distance weights.
func (e knnRegressor) regress(X *Dense) ([]float64, error) {
	ind, dist, err := e.kneighbors(X)
	if err != nil {
		return nil, err
	}
	k, T := e.k, e.nOut
	w := e.neighborWeights(dist, X.Rows)
	out := make([]float64, X.Rows*T)
	buf := make([]float64, k)
	for r := range X.Rows {
		nb := ind[r*k : (r+1)*k]
		if w == nil {
			for t := range T {
				if T == 1 {
					for i, j := range nb {
						buf[i] = e.y[j]
					}
					out[r] = pairwiseSum64(buf) / float64(k)
					continue
				}
				s := 0.0
				for _, j := range nb {
					s += e.y[j*T+t]
				}
				out[r*T+t] = s / float64(k)
			}
			continue
		}
		wr := w[r*k : (r+1)*k]
		den := pairwiseSum64(wr)
		for t := range T {
			for i, j := range nb {
				buf[i] = e.y[j*T+t] * wr[i]
			}
			out[r*T+t] = pairwiseSum64(buf) / den
		}
	}
	return out, nil
}

// classify returns, per output, the predicted class indices (predict) and,
// when proba, the probabilities (predict_proba, rows x classes).
func (e knnClassifier) classify(X *Dense, proba bool) ([][]int, [][]float64, error) {
	ind, dist, err := e.kneighbors(X)
	if err != nil {
		return nil, nil, err
	}
	k, T := e.k, e.nOut
	w := e.neighborWeights(dist, X.Rows)
	labels := make([][]int, T)
	var probs [][]float64
	if proba {
		probs = make([][]float64, T)
	}
	tmpl := make([]float64, k)
	for t := range T {
		K := e.cls[t].len()
		labels[t] = make([]int, X.Rows)
		if proba {
			probs[t] = make([]float64, X.Rows*K)
		}
		counts := make([]int, K)
		for r := range X.Rows {
			nb := ind[r*k : (r+1)*k]
			if w == nil {
				// scipy.stats.mode: the most frequent, the smallest on ties.
				clear(counts)
				for _, j := range nb {
					counts[e.codes[j*T+t]]++
				}
				best := 0
				for c, n := range counts {
					if n > counts[best] {
						best = c
					}
				}
				labels[t][r] = best
			} else {
				// weighted_mode: classes in ascending order, each scored by the
				// (pairwise) sum over the neighbours of its weights, replaced
				// only by a strictly larger score.
				wr := w[r*k : (r+1)*k]
				best, bestScore := 0, 0.0
				for c := range K {
					seen := false
					for i, j := range nb {
						if e.codes[j*T+t] == c {
							tmpl[i] = wr[i]
							seen = true
						} else {
							tmpl[i] = 0
						}
					}
					if !seen {
						continue
					}
					if s := pairwiseSum64(tmpl); s > bestScore {
						best, bestScore = c, s
					}
				}
				labels[t][r] = best
			}
			if !proba {
				continue
			}
			// predict_proba: the weights added class by class in neighbour
			// order, then divided by their (pairwise) sum.
			p := probs[t][r*K : (r+1)*K]
			for i, j := range nb {
				if w == nil {
					p[e.codes[j*T+t]]++
				} else {
					p[e.codes[j*T+t]] += w[r*k+i]
				}
			}
			norm := pairwiseSum64(p)
			if norm == 0 {
				norm = 1
			}
			for c := range p {
				p[c] /= norm
			}
		}
	}
	return labels, probs, nil
}

func (e knnClassifier) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	labels, probs, err := e.classify(X, opts.Proba)
	if err != nil {
		return nil, err
	}
	var out []arrow.Array
	for t, c := range e.cls {
		out = append(out, c.labels(labels[t], mem))
	}
	if opts.Proba {
		for t, c := range e.cls {
			out = append(out, columnsOf(probs[t], X.Rows, c.len(), mem)...)
		}
	}
	return out, nil
}

func (e knnClassifier) labelsOf() *classes { return e.cls[0] }

func (e knnClassifier) predictIndex(X *Dense) ([]int, error) {
	labels, _, err := e.classify(X, false)
	if err != nil {
		return nil, err
	}
	return labels[0], nil
}

func (e knnClassifier) predictProba(X *Dense) ([]float64, error) {
	_, probs, err := e.classify(X, true)
	if err != nil {
		return nil, err
	}
	return probs[0], nil
}
