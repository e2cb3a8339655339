package sklearn

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// logistic is LogisticRegression: scores = X @ coef_.T + intercept_.
type logistic struct {
	meta
	coef      [][]float64 // [class or 1][feature]
	intercept []float64
	cls       *classes
	ovr       bool // one-vs-rest probabilities (sigmoid, row-normalised)
}

func init() {
	register("sklearn.linear_model._logistic.LogisticRegression", buildLogistic)
	register("sklearn.linear_model.logistic.LogisticRegression", buildLogistic)
}

func buildLogistic(obj *pickle.Object) (Estimator, error) {
	e := &logistic{meta: meta{class: obj.Class()}}
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
	switch {
	case K == 2 && rowsN == 1:
	case K > 2 && rowsN == K:
	default:
		return nil, fmt.Errorf("coef_ has %d rows for %d classes", rowsN, K)
	}
	// Which probabilities: scikit-learn's predict_proba uses one-vs-rest when
	// multi_class is "ovr" (or 0.20-0.21's "warn", which fitted OvR), or "auto"
	// with a binary problem or the liblinear solver; otherwise the multinomial
	// softmax. 1.5-1.7 store "deprecated" and 1.8 no multi_class at all, both
	// meaning "auto". The newton-cholesky solver (1.2 on) fitted multiclass
	// problems one-vs-rest up to 1.5, and "auto" then predicted OvR for it too;
	// from 1.6 it fits the multinomial loss and "auto" means softmax.
	mc := "auto"
	if v, ok := obj.Attr("multi_class"); ok {
		if s, ok := v.(string); ok {
			mc = s
		}
	}
	solver, _ := obj.Attr("solver")
	switch mc {
	case "ovr", "warn":
		e.ovr = true
	case "auto", "deprecated":
		e.ovr = K <= 2 || solver == "liblinear" ||
			(solver == "newton-cholesky" && versionBefore(obj, 1, 6, true))
	case "multinomial":
		e.ovr = false
	default:
		return nil, fmt.Errorf("multi_class %q is not supported", mc)
	}
	if err := e.meta.read(obj, len(e.coef[0])); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *logistic) labelsOf() *classes { return e.cls }

// decisionFunction is X @ coef_.T + intercept_ (one column when binary).
func (e *logistic) decisionFunction(X *Dense) ([]float64, int, error) {
	d, err := e.decision(X)
	return d, len(e.coef), err
}

// predictIndex is predict: score > 0 when binary, else argmax of the scores.
func (e *logistic) predictIndex(X *Dense) ([]int, error) {
	d, err := e.decision(X)
	if err != nil {
		return nil, err
	}
	if len(e.coef) == 1 {
		idx := make([]int, X.Rows)
		for i, v := range d {
			if v > 0 {
				idx[i] = 1
			}
		}
		return idx, nil
	}
	return argmaxRows(d, X.Rows, len(e.coef)), nil
}

func (e *logistic) Outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(e.cls, opts)
}

// decision returns the scores, rows x len(coef) row-major.
func (e *logistic) decision(X *Dense) ([]float64, error) {
	if err := checkFinite(X, "LogisticRegression"); err != nil {
		return nil, err
	}
	return linearMatrix(X, e.coef, e.intercept), nil
}

// Predict: labels from the decision function (binary: score > 0; multiclass:
// argmax of the scores), as LogisticRegression.predict does; probabilities only
// when asked for.
func (e *logistic) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	d, err := e.decision(X)
	if err != nil {
		return nil, err
	}
	K := e.cls.len()
	idx := make([]int, X.Rows)
	if len(e.coef) == 1 {
		for i, v := range d {
			if v > 0 {
				idx[i] = 1
			}
		}
	} else {
		for i := range idx {
			idx[i] = argmax(d[i*K : (i+1)*K])
		}
	}
	out := []arrow.Array{e.cls.labels(idx, mem)}
	if opts.Proba {
		out = append(out, columnsOf(e.probaFrom(d, X.Rows), X.Rows, K, mem)...)
	}
	return out, nil
}

func (e *logistic) predictProba(X *Dense) ([]float64, error) {
	d, err := e.decision(X)
	if err != nil {
		return nil, err
	}
	return e.probaFrom(d, X.Rows), nil
}

// probaFrom turns scores into predict_proba.
func (e *logistic) probaFrom(d []float64, rows int) []float64 {
	K := e.cls.len()
	p := make([]float64, rows*K)
	switch {
	case len(e.coef) == 1 && e.ovr:
		for i, v := range d {
			q := expit(v)
			p[2*i], p[2*i+1] = 1-q, q
		}
	case len(e.coef) == 1:
		// Multinomial on two classes: softmax over (-score, score).
		for i, v := range d {
			row := p[2*i : 2*i+2]
			row[0], row[1] = -v, v
			softmax(row)
		}
	case e.ovr:
		for i := range rows {
			row := p[i*K : (i+1)*K]
			s := 0.0
			for k := range row {
				row[k] = expit(d[i*K+k])
				s += row[k]
			}
			for k := range row {
				row[k] /= s
			}
		}
	default:
		copy(p, d)
		for i := range rows {
			softmax(p[i*K : (i+1)*K])
		}
	}
	return p
}

// expit is scipy's logistic sigmoid 1/(1+exp(-x)).
func expit(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// softmax is sklearn.utils.extmath.softmax on one row, in place: subtract the
// row maximum, exponentiate, divide by the sum.
func softmax(row []float64) {
	m := row[0]
	for _, v := range row[1:] {
		m = math.Max(m, v)
	}
	s := 0.0
	for k, v := range row {
		row[k] = math.Exp(v - m)
		s += row[k]
	}
	for k := range row {
		row[k] /= s
	}
}

// readCoefRows reads a linear classifier's coef_ (n_classes or 1, n_features)
// as rows and intercept_ broadcast to one value per row (it is the float 0.0
// with fit_intercept=False).
func readCoefRows(obj *pickle.Object) (coef [][]float64, intercept []float64, err error) {
	arr, err := obj.Array("coef_")
	if err != nil {
		return nil, nil, fmt.Errorf("not fitted: %w", err)
	}
	vals, err := arr.Float64s()
	if err != nil {
		return nil, nil, fmt.Errorf("coef_: %w", err)
	}
	if len(arr.Shape) != 2 || arr.Shape[0] < 1 || arr.Shape[1] < 1 {
		return nil, nil, fmt.Errorf("coef_ has shape %v; want (n_classes or 1, n_features)", arr.Shape)
	}
	rowsN, f := arr.Shape[0], arr.Shape[1]
	for k := range rowsN {
		coef = append(coef, vals[k*f:(k+1)*f])
	}
	if intercept, err = floatsAttr(obj, "intercept_"); err != nil {
		return nil, nil, err
	}
	if len(intercept) == 1 && rowsN > 1 {
		intercept = slices.Repeat(intercept, rowsN)
	}
	if len(intercept) != rowsN {
		return nil, nil, fmt.Errorf("intercept_ has %d values for %d rows of coef_", len(intercept), rowsN)
	}
	return coef, intercept, nil
}
