package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

func init() {
	register("sklearn.dummy.DummyRegressor", buildDummyRegressor)
	register("sklearn.dummy.DummyClassifier", buildDummyClassifier)
}

// dummyRegressor predicts constant_ for every row.
type dummyRegressor struct {
	meta
	constant []float64
	multi    bool
}

func buildDummyRegressor(obj *pickle.Object) (Estimator, error) {
	e := &dummyRegressor{meta: meta{class: obj.Class(), nFeat: -1}}
	var err error
	if e.constant, err = floatsAttr(obj, "constant_"); err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if n, ok := intAttr(obj, "n_outputs_"); ok && n != len(e.constant) {
		return nil, fmt.Errorf("constant_ has %d values for %d outputs", len(e.constant), n)
	}
	e.multi = len(e.constant) > 1
	if err := e.meta.read(obj, -1); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *dummyRegressor) targets() (int, bool) { return len(e.constant), e.multi }
func (e *dummyRegressor) Outputs(model.LoadOptions) []model.Column {
	return regressorOutputs(e)
}

func (e *dummyRegressor) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredict(e, X, mem)
}

// regress ignores X entirely: DummyRegressor.predict does not even validate it.
func (e *dummyRegressor) regress(X *Dense) ([]float64, error) {
	n := len(e.constant)
	out := make([]float64, X.Rows*n)
	for i := range X.Rows {
		copy(out[i*n:], e.constant)
	}
	return out, nil
}

// dummyClassifier is a single-output DummyClassifier.
type dummyClassifier struct {
	meta
	cls      *classes
	strategy string
	proba    []float64 // the constant probability row
	label    int       // the constant label's index, -1 for random strategies
}

func buildDummyClassifier(obj *pickle.Object) (Estimator, error) {
	e := &dummyClassifier{meta: meta{class: obj.Class(), nFeat: -1}, label: -1}
	if n, ok := intAttr(obj, "n_outputs_"); ok && n != 1 {
		return nil, fmt.Errorf("a %d-output DummyClassifier is not supported", n)
	}
	cv, ok := obj.Attr("classes_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no classes_")
	}
	var err error
	if e.cls, err = readClasses(cv); err != nil {
		return nil, err
	}
	K := e.cls.len()
	for _, name := range []string{"_strategy", "strategy"} {
		if s, err := obj.String(name); err == nil {
			e.strategy = s
			break
		}
	}
	prior, err := floatsAttr(obj, "class_prior_")
	if err != nil {
		return nil, err
	}
	if len(prior) != K {
		return nil, fmt.Errorf("class_prior_ has %d values for %d classes", len(prior), K)
	}
	e.proba = make([]float64, K)
	switch e.strategy {
	case "most_frequent":
		e.label = argmax(prior)
		e.proba[e.label] = 1
	case "prior":
		e.label = argmax(prior)
		copy(e.proba, prior)
	case "uniform":
		for k := range e.proba {
			e.proba[k] = 1 / float64(K)
		}
	case "constant":
		c, _ := obj.Attr("constant")
		if l, ok := c.(*pickle.List); ok && len(l.Items) == 1 {
			c = l.Items[0]
		}
		if a, ok := c.(*pickle.NDArray); ok {
			if vals, err := a.Values(); err == nil && len(vals) == 1 {
				c = vals[0]
			}
		}
		for k := range K {
			if e.cls.Equal(k, c) {
				e.label = k
			}
		}
		if e.label < 0 {
			return nil, fmt.Errorf("constant %v is not one of classes_", c)
		}
		e.proba[e.label] = 1
	case "stratified":
		// predict and predict_proba draw at random.
	default:
		return nil, fmt.Errorf("strategy %q is not supported", e.strategy)
	}
	if err := e.meta.read(obj, -1); err != nil {
		return nil, err
	}
	return e, nil
}

// topLevelErr refuses strategies whose predict is random: mlbatch cannot give
// the numbers Python would. (As GradientBoosting's init_, only predict_proba is
// used, and "uniform" is deterministic there.)
func (e *dummyClassifier) topLevelErr() error {
	if e.label < 0 {
		return fmt.Errorf("DummyClassifier(strategy=%q) predicts at random: its output cannot be reproduced", e.strategy)
	}
	return nil
}

func (e *dummyClassifier) labelsOf() *classes { return e.cls }
func (e *dummyClassifier) Outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(e.cls, opts)
}

func (e *dummyClassifier) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if err := e.topLevelErr(); err != nil {
		return nil, err
	}
	return classifierPredict(e, X, opts, mem)
}

func (e *dummyClassifier) predictProba(X *Dense) ([]float64, error) {
	if e.strategy == "stratified" {
		return nil, e.topLevelErr()
	}
	K := len(e.proba)
	out := make([]float64, X.Rows*K)
	for i := range X.Rows {
		copy(out[i*K:], e.proba)
	}
	return out, nil
}
