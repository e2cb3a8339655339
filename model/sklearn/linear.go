package sklearn

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// linearRegressor covers every estimator whose predict is X @ coef_.T + intercept_:
// LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor.
type linearRegressor struct {
	meta
	coef      [][]float64 // [target][feature]
	intercept []float64   // [target]
	multi     bool        // coef_ is 2-D: predict returns (n, targets)
}

func init() {
	for _, c := range []string{
		"sklearn.linear_model._base.LinearRegression",
		"sklearn.linear_model._ridge.Ridge",
		"sklearn.linear_model._ridge.RidgeCV", // StackingRegressor's default final estimator
		"sklearn.linear_model._coordinate_descent.Lasso",
		"sklearn.linear_model._coordinate_descent.ElasticNet",
		"sklearn.linear_model._stochastic_gradient.SGDRegressor",
		// Older module paths of the same classes.
		"sklearn.linear_model.base.LinearRegression",
		"sklearn.linear_model.ridge.Ridge",
		"sklearn.linear_model.ridge.RidgeCV",
		"sklearn.linear_model.coordinate_descent.Lasso",
		"sklearn.linear_model.coordinate_descent.ElasticNet",
		"sklearn.linear_model.stochastic_gradient.SGDRegressor",
	} {
		register(c, buildLinearRegressor)
	}
}

func buildLinearRegressor(obj *pickle.Object) (Estimator, error) {
	est := &linearRegressor{meta: meta{class: obj.Class()}}
	coef, err := obj.Array("coef_")
	if err != nil {
		return nil, fmt.Errorf("not fitted or unreadable: %w", err)
	}
	vals, err := coef.Float64s()
	if err != nil {
		return nil, fmt.Errorf("coef_: %w", err)
	}
	switch len(coef.Shape) {
	case 1:
		est.coef = [][]float64{vals}
	case 2:
		est.multi = true
		t, f := coef.Shape[0], coef.Shape[1]
		for k := range t {
			est.coef = append(est.coef, vals[k*f:(k+1)*f])
		}
	default:
		return nil, fmt.Errorf("coef_ has shape %v; want 1-D or 2-D", coef.Shape)
	}
	icpt, err := floatsAttr(obj, "intercept_")
	if err != nil {
		return nil, err
	}
	switch {
	case len(icpt) == len(est.coef):
		est.intercept = icpt
	case len(icpt) == 1:
		est.intercept = make([]float64, len(est.coef))
		for k := range est.intercept {
			est.intercept[k] = icpt[0]
		}
	default:
		return nil, fmt.Errorf("intercept_ has %d values for %d targets", len(icpt), len(est.coef))
	}
	if n, ok := intAttr(obj, "n_features_in_"); ok && n != len(est.coef[0]) {
		return nil, fmt.Errorf("n_features_in_ is %d but coef_ has %d columns", n, len(est.coef[0]))
	}
	if est.names, err = featureNames(obj); err != nil {
		return nil, err
	}
	est.nFeat = len(est.coef[0])
	return est, nil
}

func (e *linearRegressor) targets() (int, bool) { return len(e.coef), e.multi }

func (e *linearRegressor) Outputs(model.LoadOptions) []model.Column { return regressorOutputs(e) }

func (e *linearRegressor) Predict(X *Dense, _ model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return regressorPredict(e, X, mem)
}

func (e *linearRegressor) regress(X *Dense) ([]float64, error) {
	if err := checkFinite(X, shortName(e.class)); err != nil {
		return nil, err
	}
	return linearMatrix(X, e.coef, e.intercept), nil
}

// linearMatrix is X @ coef.T + intercept as a row-major rows x len(coef) matrix
// (one column: the scores themselves).
func linearMatrix(X *Dense, coef [][]float64, intercept []float64) []float64 {
	T := len(coef)
	acc := make([]float64, X.Rows)
	out := acc
	if T > 1 {
		out = make([]float64, X.Rows*T)
	}
	for t, c := range coef {
		if t > 0 {
			clear(acc)
		}
		linearScores(acc, X, c, intercept[t])
		if T > 1 {
			for i, v := range acc {
				out[i*T+t] = v
			}
		}
	}
	return out
}

// linearScores sets acc[i] = X[i,:] @ coef + intercept, accumulating column by
// column over the feature buffers (sequential memory access, no per-row calls).
// acc must be zero on entry. The sum of products comes first and the intercept
// last, as in scikit-learn's X @ coef_.T + intercept_.
func linearScores(acc []float64, X *Dense, coef []float64, intercept float64) {
	for j, col := range X.Cols {
		c := coef[j]
		for i, x := range col[:X.Rows] {
			acc[i] += x * c
		}
	}
	for i := range acc {
		acc[i] += intercept
	}
}

// predictionColumns names k float64 prediction outputs: "prediction" for a single
// 1-D output, "prediction_0".."prediction_<k-1>" for 2-D outputs.
func predictionColumns(k int, multi bool) []model.Column {
	if !multi && k == 1 {
		return []model.Column{{Name: "prediction", Type: arrow.PrimitiveTypes.Float64}}
	}
	cols := make([]model.Column, k)
	for i := range cols {
		cols[i] = model.Column{Name: "prediction_" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Float64}
	}
	return cols
}
