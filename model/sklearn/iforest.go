package sklearn

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// isolationForest is sklearn.ensemble.IsolationForest. predict is 1 (inlier)
// or -1 (outlier) by the sign of decision_function = score_samples - offset_;
// score_samples is -2^(-mean path length / c(max_samples_)), where a tree's
// path length for a row is the number of nodes on its decision path (the
// leaf's depth + 1) plus c(n) - 1 for the n training samples in the leaf, and
// c(n) is _average_path_length: 0 for n <= 1, 1 for n = 2, else
// 2(ln(n-1) + Euler's gamma) - 2(n-1)/n.
//
// scikit-learn 1.2 computes the path from decision_path and
// tree_.n_node_samples on every call; 1.3 on caches the same numbers per node
// at fit (_decision_path_lengths from compute_node_depths, and
// _average_path_length_per_tree). Both are derived here from the pickled
// trees, so every release's pickle gives the same scores. When _max_features
// is below n_features_in_, tree i sees only the columns estimators_features_[i]
// (in that order), as BaseBagging fitted it.
//
// Values follow numpy's order of operations: per tree (path + c(n)) - 1.0
// added to the row's running sum in tree order, then the power. numpy 1.24
// computes log and power with SIMD routines (SVML on AVX-512 machines) that
// are not correctly rounded, so scores agree to about 1e-15 relative, not
// bit for bit; a row whose decision_function is within that of 0 could take
// the other label.
//
// The output is predict's int64 label in "prediction": MLflow's pyfunc calls
// predict, and no output option asks for anomaly scores.
type isolationForest struct {
	meta
	trees    []*tree
	features [][]int     // columns each tree reads; nil when it reads all of them
	pathLen  [][]float64 // per tree and node: depth + 1 + c(n_node_samples) (leaves only)
	denom    float64     // len(estimators_) * c(max_samples_)
	offset   float64
}

func init() {
	for _, c := range []string{
		"sklearn.ensemble._iforest.IsolationForest",
		"sklearn.ensemble.iforest.IsolationForest", // before 0.22
	} {
		register(c, buildIsolationForest)
	}
	// The trees of pickles from scikit-learn before 0.22 (read through their tree_).
	inert["sklearn.tree.tree.ExtraTreeRegressor"] = true
}

const eulerGamma = 0.5772156649015329 // numpy.euler_gamma

// averagePathLength is _average_path_length for one count.
func averagePathLength(n float64) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	return 2.0*(math.Log(n-1.0)+eulerGamma) - 2.0*(n-1.0)/n
}

func buildIsolationForest(obj *pickle.Object) (Estimator, error) {
	e := &isolationForest{meta: meta{class: obj.Class()}}
	items, err := obj.Items("estimators_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("estimators_ is empty")
	}
	nFeat, ok := intAttr(obj, "n_features_in_")
	if !ok || nFeat < 1 {
		return nil, fmt.Errorf("n_features_in_ is missing or invalid")
	}
	maxFeat, ok := intAttr(obj, "_max_features")
	if !ok {
		maxFeat = nFeat
	}
	if maxFeat < 1 || maxFeat > nFeat {
		return nil, fmt.Errorf("_max_features is %d for %d features", maxFeat, nFeat)
	}
	var featLists []any
	if maxFeat != nFeat {
		if featLists, err = obj.Items("estimators_features_"); err != nil {
			return nil, err
		}
		if len(featLists) != len(items) {
			return nil, fmt.Errorf("estimators_features_ has %d entries for %d trees", len(featLists), len(items))
		}
	}
	for i, it := range items {
		sub, ok := it.(*pickle.Object)
		if !ok {
			return nil, fmt.Errorf("estimators_[%d] is a %s", i, pickle.TypeName(it))
		}
		tv, ok := sub.Attr("tree_")
		if !ok {
			return nil, fmt.Errorf("estimators_[%d] has no tree_", i)
		}
		t, err := readTree(tv)
		if err != nil {
			return nil, fmt.Errorf("estimators_[%d]: %w", i, err)
		}
		if t.nOut != 1 || t.nFeat != maxFeat {
			return nil, fmt.Errorf("estimators_[%d] has %d outputs and %d features, want 1 and %d", i, t.nOut, t.nFeat, maxFeat)
		}
		samples, err := nodeSamples(tv, len(t.nodes))
		if err != nil {
			return nil, fmt.Errorf("estimators_[%d]: %w", i, err)
		}
		e.trees = append(e.trees, t)
		e.pathLen = append(e.pathLen, pathLengths(t, samples))
		if featLists != nil {
			arr, ok := featLists[i].(*pickle.NDArray)
			if !ok {
				return nil, fmt.Errorf("estimators_features_[%d] is a %s, want an array", i, pickle.TypeName(featLists[i]))
			}
			fs, err := arr.Int64s()
			if err != nil || len(fs) != maxFeat {
				return nil, fmt.Errorf("estimators_features_[%d] does not hold %d feature indices", i, maxFeat)
			}
			cols := make([]int, len(fs))
			for j, f := range fs {
				if f < 0 || f >= int64(nFeat) {
					return nil, fmt.Errorf("estimators_features_[%d] names feature %d of %d", i, f, nFeat)
				}
				cols[j] = int(f)
			}
			e.features = append(e.features, cols)
		}
	}
	if err := e.meta.read(obj, nFeat); err != nil {
		return nil, err
	}
	maxSamples, ok := intAttr(obj, "max_samples_")
	if !ok || maxSamples < 1 {
		return nil, fmt.Errorf("max_samples_ is missing or invalid")
	}
	e.denom = float64(len(e.trees)) * averagePathLength(float64(maxSamples))
	if e.offset, err = obj.Float("offset_"); err != nil {
		return nil, err
	}
	if math.IsNaN(e.offset) || math.IsInf(e.offset, 0) {
		return nil, fmt.Errorf("offset_ is %v", e.offset)
	}
	return e, nil
}

// nodeSamples reads tree_.nodes' n_node_samples (readTree does not keep it).
func nodeSamples(tv any, n int) ([]int64, error) {
	nodes, err := tv.(*pickle.Object).Array("nodes")
	if err != nil {
		return nil, err
	}
	f, err := nodes.Field("n_node_samples")
	if err != nil {
		return nil, fmt.Errorf("Tree nodes: %w", err)
	}
	out := make([]int64, n)
	for i := range out {
		if out[i] = f.Int64(i); out[i] < 0 {
			return nil, fmt.Errorf("Tree node %d has %d samples", i, out[i])
		}
	}
	return out, nil
}

// pathLengths is, per leaf, depth + 1 + c(n_node_samples) - 1.0 computed as
// numpy does ((path + c) - 1.0); split nodes are left 0. readTree checked that
// children come after their parents, so one pass in node order sets depths.
func pathLengths(t *tree, samples []int64) []float64 {
	depth := make([]int64, len(t.nodes))
	out := make([]float64, len(t.nodes))
	for i, nd := range t.nodes {
		if nd.left < 0 {
			out[i] = (float64(depth[i]+1) + averagePathLength(float64(samples[i]))) - 1.0
			continue
		}
		depth[nd.left] = depth[i] + 1
		depth[nd.right] = depth[i] + 1
	}
	return out
}

// scoreSamples is score_samples: one value per row.
func (e *isolationForest) scoreSamples(X *Dense) ([]float64, error) {
	depths := make([]float64, X.Rows)
	sub := make([]float32, 0, 64)
	err := rowBlocks(X, false, "IsolationForest", func(start, n int, rows []float32) error {
		F := len(X.Cols)
		for r := range n {
			x := rows[r*F : (r+1)*F]
			d := 0.0
			for ti, t := range e.trees {
				xt := x
				if e.features != nil {
					sub = sub[:0]
					for _, f := range e.features[ti] {
						sub = append(sub, x[f])
					}
					xt = sub
				}
				d += e.pathLen[ti][t.leaf(xt)]
			}
			depths[start+r] = d
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, d := range depths {
		ratio := 1.0 // np.divide(..., out=ones, where=denominator != 0)
		if e.denom != 0 {
			ratio = d / e.denom
		}
		depths[i] = -math.Pow(2, -ratio)
	}
	return depths, nil
}

// decisionScores is decision_function: score_samples - offset_.
func (e *isolationForest) decisionScores(X *Dense) ([]float64, error) {
	s, err := e.scoreSamples(X)
	if err != nil {
		return nil, err
	}
	for i := range s {
		s[i] -= e.offset
	}
	return s, nil
}

func (e *isolationForest) Outputs(model.LoadOptions) []model.Column {
	return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Int64}}
}

func (e *isolationForest) noProbaReason() string {
	return "IsolationForest is an outlier detector: predict gives 1 (inlier) or -1 (outlier)"
}

func (e *isolationForest) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if len(X.Cols) != e.nFeat {
		return nil, fmt.Errorf("IsolationForest takes %d features, got %d", e.nFeat, len(X.Cols))
	}
	d, err := e.decisionScores(X)
	if err != nil {
		return nil, err
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(len(d))
	for _, v := range d {
		if v < 0 {
			b.UnsafeAppend(-1)
		} else {
			b.UnsafeAppend(1)
		}
	}
	return []arrow.Array{b.NewArray()}, nil
}
