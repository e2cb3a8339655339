package sklearn

import (
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// gradientBoosting is GradientBoosting{Regressor,Classifier}:
// raw = init + learning_rate * sum of the stages' regression trees.
type gradientBoosting struct {
	meta
	stages [][]*tree // [stage][k]
	K      int       // trees per stage: 1 for regression and binary
	lr     float64
	init   Estimator // nil for init="zero"
	loss   string
	// newLoss is set for scikit-learn >= 1.4 pickles (losses from sklearn._loss),
	// whose multinomial init link is centred and whose softmax is utils' softmax.
	newLoss bool
	cls     *classes // nil for regressors
}

func init() {
	register("sklearn.ensemble._gb.GradientBoostingRegressor", buildGB)
	register("sklearn.ensemble._gb.GradientBoostingClassifier", buildGB)
	register("sklearn.ensemble.gradient_boosting.GradientBoostingRegressor", buildGB)
	register("sklearn.ensemble.gradient_boosting.GradientBoostingClassifier", buildGB)
}

func buildGB(obj *pickle.Object) (Estimator, error) {
	e := &gradientBoosting{meta: meta{class: obj.Class()}}
	est, err := obj.Array("estimators_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if len(est.Shape) != 2 || est.Shape[0] < 1 || est.Shape[1] < 1 || len(est.Objects) != est.Shape[0]*est.Shape[1] {
		return nil, fmt.Errorf("estimators_ has shape %v; want (n_stages, K) of trees", est.Shape)
	}
	// A model stopped early keeps only n_estimators_ stages.
	nStages := est.Shape[0]
	if n, ok := intAttr(obj, "n_estimators_"); ok && n > 0 && n < nStages {
		nStages = n
	}
	e.K = est.Shape[1]
	nFeat := -1
	for s := range nStages {
		row := make([]*tree, e.K)
		for k := range e.K {
			sub, ok := est.Objects[s*e.K+k].(*pickle.Object)
			if !ok {
				return nil, fmt.Errorf("estimators_[%d, %d] is a %s", s, k, pickle.TypeName(est.Objects[s*e.K+k]))
			}
			tv, ok := sub.Attr("tree_")
			if !ok {
				return nil, fmt.Errorf("estimators_[%d, %d] has no tree_", s, k)
			}
			t, err := readTree(tv)
			if err != nil {
				return nil, fmt.Errorf("estimators_[%d, %d]: %w", s, k, err)
			}
			if t.nOut != 1 || t.maxCls != 1 {
				return nil, fmt.Errorf("estimators_[%d, %d] is not a single-output regression tree", s, k)
			}
			if nFeat >= 0 && t.nFeat != nFeat {
				return nil, fmt.Errorf("estimators_[%d, %d] has %d features, not %d", s, k, t.nFeat, nFeat)
			}
			nFeat = t.nFeat
			row[k] = t
		}
		e.stages = append(e.stages, row)
	}
	if e.lr, err = obj.Float("learning_rate"); err != nil {
		return nil, err
	}
	if e.loss, err = obj.String("loss"); err != nil {
		return nil, err
	}
	if l, ok := obj.Attr("_loss"); ok {
		if lo, ok := l.(*pickle.Object); ok && strings.HasPrefix(lo.Module, "sklearn._loss") {
			e.newLoss = true
		}
	}
	iv, ok := obj.Attr("init_")
	if !ok {
		return nil, fmt.Errorf("not fitted: no init_")
	}
	switch x := iv.(type) {
	case string:
		if x != "zero" {
			return nil, fmt.Errorf("init_ %q is not supported", x)
		}
	case *pickle.Object:
		if e.init, err = build(x); err != nil {
			return nil, fmt.Errorf("init_: %w", err)
		}
	default:
		return nil, fmt.Errorf("init_ is a %s", pickle.TypeName(iv))
	}
	if err := e.meta.read(obj, nFeat); err != nil {
		return nil, err
	}
	if isClassifierClass(obj.Name) {
		cv, ok := obj.Attr("classes_")
		if !ok {
			return nil, fmt.Errorf("not fitted: no classes_")
		}
		if e.cls, err = readClasses(cv); err != nil {
			return nil, err
		}
		switch {
		case e.cls.len() == 2 && e.K == 1, e.cls.len() > 2 && e.K == e.cls.len():
		default:
			return nil, fmt.Errorf("%d trees per stage for %d classes", e.K, e.cls.len())
		}
		switch e.loss {
		case "log_loss", "deviance", "exponential":
		default:
			return nil, fmt.Errorf("loss %q is not supported", e.loss)
		}
		if e.loss == "exponential" && e.K != 1 {
			return nil, fmt.Errorf("exponential loss needs two classes")
		}
		if e.init != nil {
			if _, ok := e.init.(probClassifier); !ok {
				return nil, fmt.Errorf("init_ %s has no predict_proba", e.init.Class())
			}
		}
	} else if e.init != nil {
		if r, ok := e.init.(regressor); !ok {
			return nil, fmt.Errorf("init_ %s is not a regressor", e.init.Class())
		} else if n, _ := r.targets(); n != 1 {
			return nil, fmt.Errorf("init_ %s predicts %d targets", e.init.Class(), n)
		}
	}
	return e, nil
}

func (e *gradientBoosting) targets() (int, bool) { return 1, false }
func (e *gradientBoosting) labelsOf() *classes   { return e.cls }

func (e *gradientBoosting) Outputs(opts model.LoadOptions) []model.Column {
	if e.cls == nil {
		return regressorOutputs(e)
	}
	return classifierOutputs(e.cls, opts)
}

func (e *gradientBoosting) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	if e.cls == nil {
		return regressorPredict(e, X, mem)
	}
	raw, err := e.raw(X)
	if err != nil {
		return nil, err
	}
	p := e.probaFrom(raw, X.Rows)
	res := probaResult(e.cls, p, X.Rows, opts, mem)
	if e.loss == "exponential" {
		// ExponentialLoss decides by the sign of the raw score (>= 0 is class 1).
		idx := make([]int, X.Rows)
		for i, v := range raw {
			if v >= 0 {
				idx[i] = 1
			}
		}
		res[0].Release()
		res[0] = e.cls.labels(idx, mem)
	}
	return res, nil
}

func (e *gradientBoosting) regress(X *Dense) ([]float64, error) { return e.raw(X) }

// decisionFunction is GradientBoostingClassifier.decision_function: the raw
// scores, one column for two classes.
func (e *gradientBoosting) decisionFunction(X *Dense) ([]float64, int, error) {
	raw, err := e.raw(X)
	return raw, e.K, err
}

// predictIndex is predict: the sign of the raw score for the exponential
// loss, else argmax of predict_proba.
func (e *gradientBoosting) predictIndex(X *Dense) ([]int, error) {
	raw, err := e.raw(X)
	if err != nil {
		return nil, err
	}
	if e.loss == "exponential" {
		idx := make([]int, X.Rows)
		for i, v := range raw {
			if v >= 0 {
				idx[i] = 1
			}
		}
		return idx, nil
	}
	return argmaxRows(e.probaFrom(raw, X.Rows), X.Rows, e.cls.len()), nil
}

func (e *gradientBoosting) predictProba(X *Dense) ([]float64, error) {
	raw, err := e.raw(X)
	if err != nil {
		return nil, err
	}
	return e.probaFrom(raw, X.Rows), nil
}

// float32Eps is np.finfo(np.float32).eps, the clip bound of the init probabilities.
const float32Eps = 1.1920928955078125e-07

// raw is _raw_predict: rows x K, row-major. GradientBoosting never accepts NaN.
func (e *gradientBoosting) raw(X *Dense) ([]float64, error) {
	K := e.K
	raw, err := e.initRaw(X)
	if err != nil {
		return nil, err
	}
	F := len(X.Cols)
	err = rowBlocks(X, false, shortName(e.class), func(start, n int, rows []float32) error {
		acc := raw[start*K : (start+n)*K]
		// Stage by stage, class by class, as predict_stages adds them.
		var idx [blockRows]int32
		for _, stage := range e.stages {
			for k, t := range stage {
				t.leaves(rows, F, n, idx[:])
				for i, l := range idx[:n] {
					acc[i*K+k] += e.lr * t.values[l]
				}
			}
		}
		return nil
	})
	return raw, err
}

// initRaw is the loss's get_init_raw_predictions for init_.
func (e *gradientBoosting) initRaw(X *Dense) ([]float64, error) {
	K := e.K
	raw := make([]float64, X.Rows*K)
	if e.init == nil {
		return raw, nil
	}
	if e.cls == nil {
		pred, err := e.init.(regressor).regress(X)
		if err != nil {
			return nil, fmt.Errorf("init_: %w", err)
		}
		copy(raw, pred)
		return raw, nil
	}
	p, err := e.init.(probClassifier).predictProba(X)
	if err != nil {
		return nil, fmt.Errorf("init_: %w", err)
	}
	nc := e.init.(probClassifier).labelsOf().len()
	clip := func(v float64) float64 { return math.Min(math.Max(v, float32Eps), 1-float32Eps) }
	if K == 1 {
		if nc != 2 {
			return nil, fmt.Errorf("init_ predicts %d classes, want 2", nc)
		}
		for i := range X.Rows {
			q := clip(p[i*2+1])
			raw[i] = math.Log(q / (1 - q))
			if e.loss == "exponential" {
				raw[i] *= 0.5
			}
		}
		return raw, nil
	}
	if nc != K {
		return nil, fmt.Errorf("init_ predicts %d classes, want %d", nc, K)
	}
	for i := range X.Rows {
		row := raw[i*K : (i+1)*K]
		mean := 0.0
		for k := range row {
			row[k] = math.Log(clip(p[i*K+k]))
			mean += row[k]
		}
		if e.newLoss {
			// MultinomialLogit.link centres the log-probabilities.
			mean /= float64(K)
			for k := range row {
				row[k] -= mean
			}
		}
	}
	return raw, nil
}

// probaFrom turns raw scores into predict_proba.
func (e *gradientBoosting) probaFrom(raw []float64, rows int) []float64 {
	if e.K == 1 {
		p := make([]float64, rows*2)
		for i, v := range raw {
			if e.loss == "exponential" {
				v *= 2
			}
			q := expit(v)
			p[2*i], p[2*i+1] = 1-q, q
		}
		return p
	}
	K := e.K
	p := make([]float64, rows*K)
	copy(p, raw)
	for i := range rows {
		row := p[i*K : (i+1)*K]
		if e.newLoss {
			softmax(row)
			continue
		}
		// scikit-learn < 1.4: exp(raw - logsumexp(raw)), with scipy's logsumexp.
		m := row[0]
		for _, v := range row[1:] {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - m)
		}
		lse := math.Log(s) + m
		for k, v := range row {
			row[k] = math.Exp(v - lse)
		}
	}
	return p
}
