package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// forest is RandomForest{Regressor,Classifier} and ExtraTrees{Regressor,Classifier}:
// the mean of its trees' predictions (classifiers: of their normalised class
// probabilities).
type forest struct {
	meta
	trees   []*tree
	cls     []*classes
	nOut    int
	missing bool
}

func init() {
	for _, c := range []string{"RandomForestRegressor", "ExtraTreesRegressor", "RandomForestClassifier", "ExtraTreesClassifier"} {
		register("sklearn.ensemble._forest."+c, buildForest)
		register("sklearn.ensemble.forest."+c, buildForest) // before 0.22
	}
}

func buildForest(obj *pickle.Object) (Estimator, error) {
	e := &forest{meta: meta{class: obj.Class()}}
	items, err := obj.Items("estimators_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("estimators_ is empty")
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
		if i > 0 && (t.nOut != e.nOut || t.nFeat != e.trees[0].nFeat || t.missing != e.missing) {
			return nil, fmt.Errorf("estimators_[%d] does not match the other trees", i)
		}
		e.nOut, e.missing = t.nOut, t.missing
		e.trees = append(e.trees, t)
	}
	if err := e.meta.read(obj, e.trees[0].nFeat); err != nil {
		return nil, err
	}
	if isClassifierClass(obj.Name) {
		if e.cls, err = readOutputClasses(obj, e.nOut); err != nil {
			return nil, err
		}
		for _, t := range e.trees {
			for k, c := range e.cls {
				if t.nClasses[k] != c.len() {
					return nil, fmt.Errorf("a tree holds %d classes for output %d, classes_ has %d", t.nClasses[k], k, c.len())
				}
			}
		}
	}
	return e, nil
}

func (e *forest) targets() (int, bool) { return e.nOut, e.nOut > 1 }

func (e *forest) Outputs(opts model.LoadOptions) []model.Column {
	switch {
	case e.cls == nil:
		return regressorOutputs(e)
	case len(e.cls) == 1:
		return classifierOutputs(e.cls[0], opts)
	}
	return multiClassifierOutputs(e.cls, opts)
}

func (e *forest) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if e.cls == nil {
		return regressorPredict(e, X, mem)
	}
	p, err := e.probas(X)
	if err != nil {
		return nil, err
	}
	return multiProbaResult(e.cls, p, X.Rows, opts, mem), nil
}

func (e *forest) labelsOf() *classes { return e.cls[0] }

func (e *forest) predictProba(X *Dense) ([]float64, error) {
	p, err := e.probas(X)
	if err != nil {
		return nil, err
	}
	return p[0], nil
}

// regress sums the trees' leaf values tree by tree, then divides by the number of
// trees, in the order scikit-learn's single-threaded predict does.
func (e *forest) regress(X *Dense) ([]float64, error) {
	nOut := e.nOut
	out := make([]float64, X.Rows*nOut)
	F := len(X.Cols)
	err := rowBlocks(X, e.missing, shortName(e.class), func(start, n int, rows []float32) error {
		acc := out[start*nOut : (start+n)*nOut]
		var idx [blockRows]int32
		for _, t := range e.trees {
			t.leaves(rows, F, n, idx[:])
			if nOut == 1 {
				for i, l := range idx[:n] {
					acc[i] += t.values[int(l)*t.stride]
				}
				continue
			}
			for i, l := range idx[:n] {
				v := t.values[int(l)*t.stride:]
				for o := range nOut {
					acc[i*nOut+o] += v[o*t.maxCls]
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	div := float64(len(e.trees))
	for i := range out {
		out[i] /= div
	}
	return out, nil
}

// probas adds each tree's normalised class probabilities, then divides by the
// number of trees.
func (e *forest) probas(X *Dense) ([][]float64, error) {
	out := make([][]float64, e.nOut)
	for o := range out {
		out[o] = make([]float64, X.Rows*e.cls[o].len())
	}
	F := len(X.Cols)
	maxK := 0
	for _, c := range e.cls {
		maxK = max(maxK, c.len())
	}
	tmp := make([]float64, maxK)
	err := rowBlocks(X, e.missing, shortName(e.class), func(start, n int, rows []float32) error {
		var idx [blockRows]int32
		for _, t := range e.trees {
			t.leaves(rows, F, n, idx[:])
			for i, l := range idx[:n] {
				v := t.values[int(l)*t.stride : (int(l)+1)*t.stride]
				for o := range e.nOut {
					k := t.nClasses[o]
					normalise(tmp[:k], v[o*t.maxCls:o*t.maxCls+k])
					acc := out[o][(start+i)*k : (start+i+1)*k]
					for j := range k {
						acc[j] += tmp[j]
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	div := float64(len(e.trees))
	for _, p := range out {
		for i := range p {
			p[i] /= div
		}
	}
	return out, nil
}
