package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// LinearSVC and LinearSVR (liblinear). Prediction only reads coef_ and
// intercept_: LinearSVC is a LinearClassifierMixin (scores X @ coef_.T +
// intercept_; one row of coef_: class 1 when the score is > 0, else argmax,
// which also covers crammer_singer's one row per class), LinearSVR predicts
// X @ coef_ + intercept_.

func init() {
	for _, m := range []string{"sklearn.svm._classes.", "sklearn.svm.classes."} {
		register(m+"LinearSVC", buildLinearSVC)
		register(m+"LinearSVR", buildLinearRegressor)
	}
}

// linearSVC is a linear classifier without probabilities.
type linearSVC struct {
	meta
	coef      [][]float64
	intercept []float64
	cls       *classes
}

func buildLinearSVC(obj *pickle.Object) (Estimator, error) {
	e := &linearSVC{meta: meta{class: obj.Class()}}
	var err error
	if e.coef, e.intercept, err = readCoefRows(obj); err != nil {
		return nil, err
	}
	rowsN := len(e.coef)
	cv, ok := obj.Attr("classes_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no classes_")
	}
	if e.cls, err = readClasses(cv); err != nil {
		return nil, err
	}
	K := e.cls.len()
	if !(K == 2 && rowsN == 1) && !(K > 2 && rowsN == K) {
		return nil, fmt.Errorf("coef_ has %d rows for %d classes", rowsN, K)
	}
	if err := e.meta.read(obj, len(e.coef[0])); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *linearSVC) labelsOf() *classes { return e.cls }

func (e *linearSVC) noProbaReason() string {
	return "LinearSVC has no predict_proba"
}

func (e *linearSVC) Outputs(opts model.LoadOptions) []model.Column {
	o := opts
	o.Proba = false
	return classifierOutputs(e.cls, o)
}

// decisionFunction is X @ coef_.T + intercept_ (one column for two classes
// fitted one-vs-rest).
func (e *linearSVC) decisionFunction(X *Dense) ([]float64, int, error) {
	if err := checkFinite(X, "LinearSVC"); err != nil {
		return nil, 0, err
	}
	return linearMatrix(X, e.coef, e.intercept), len(e.coef), nil
}

func (e *linearSVC) predictIndex(X *Dense) ([]int, error) {
	d, cols, err := e.decisionFunction(X)
	if err != nil {
		return nil, err
	}
	idx := make([]int, X.Rows)
	if cols == 1 {
		for i, v := range d {
			if v > 0 {
				idx[i] = 1
			}
		}
		return idx, nil
	}
	for i := range idx {
		idx[i] = argmax(d[i*cols : (i+1)*cols])
	}
	return idx, nil
}

func (e *linearSVC) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	idx, err := e.predictIndex(X)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{e.cls.labels(idx, mem)}, nil
}
