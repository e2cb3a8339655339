package sklearn

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// The naive Bayes classifiers of sklearn.naive_bayes. Each computes a joint log
// likelihood jll (rows x classes) as its _joint_log_likelihood does; predict is
// classes_[argmax(jll)] and predict_proba exp(jll - logsumexp(jll)), as
// _BaseNB defines them.

func init() {
	for _, c := range []string{"GaussianNB", "MultinomialNB", "BernoulliNB", "ComplementNB", "CategoricalNB"} {
		// One module since scikit-learn 0.x.
		register("sklearn.naive_bayes."+c, buildNB)
	}
}

// nbKind is what a naive Bayes estimator computes its jll from.
type nbKind int

const (
	nbGaussian nbKind = iota
	nbMultinomial
	nbBernoulli
	nbComplement
	nbCategorical
)

// naiveBayes is a fitted naive Bayes classifier.
type naiveBayes struct {
	meta
	kind nbKind
	cls  *classes

	// GaussianNB: theta_ and var_ (sigma_ before 1.0) per class, and
	// log(class_prior_) and -0.5*sum(log(2*pi*var_)) per class, computed once
	// as numpy would.
	theta, variance [][]float64
	logPrior        []float64
	normTerm        []float64

	// Multinomial, Bernoulli, Complement: feature_log_prob_ [class][feature]
	// and class_log_prior_.
	flp        [][]float64
	classPrior []float64
	// BernoulliNB: binarize threshold (nil: the input is used as is),
	// feature_log_prob_ - log(1 - exp(feature_log_prob_)) and
	// class_log_prior_ + sum(neg_prob).
	binarize *float64
	bernW    [][]float64
	bernB    []float64

	// CategoricalNB: feature_log_prob_[feature][class][category].
	catLP [][][]float64
}

func buildNB(obj *pickle.Object) (Estimator, error) {
	e := &naiveBayes{meta: meta{class: obj.Class()}}
	switch obj.Name {
	case "GaussianNB":
		e.kind = nbGaussian
	case "MultinomialNB":
		e.kind = nbMultinomial
	case "BernoulliNB":
		e.kind = nbBernoulli
	case "ComplementNB":
		e.kind = nbComplement
	case "CategoricalNB":
		e.kind = nbCategorical
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
	if K < 1 {
		return nil, fmt.Errorf("classes_ is empty")
	}
	nFeat := -1
	switch e.kind {
	case nbGaussian:
		nFeat, err = e.readGaussian(obj, K)
	case nbCategorical:
		nFeat, err = e.readCategorical(obj, K)
	default:
		nFeat, err = e.readDiscrete(obj, K)
	}
	if err != nil {
		return nil, err
	}
	if err := e.meta.read(obj, nFeat); err != nil {
		return nil, err
	}
	return e, nil
}

// matrixAttr reads a 2-D float array as rows; want[i] < 0 accepts any size.
func matrixAttr(obj *pickle.Object, name string, rows, cols int) ([][]float64, error) {
	a, err := obj.Array(name)
	if err != nil {
		return nil, fmt.Errorf("not fitted or unreadable: %w", err)
	}
	if len(a.Shape) != 2 || (rows >= 0 && a.Shape[0] != rows) || (cols >= 0 && a.Shape[1] != cols) {
		return nil, fmt.Errorf("%s has shape %v; want (%s, %s)", name, a.Shape, dimStr(rows, "n_classes"), dimStr(cols, "n_features"))
	}
	v, err := a.Float64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := a.Shape[1]
	out := make([][]float64, a.Shape[0])
	for i := range out {
		out[i] = v[i*c : (i+1)*c]
	}
	return out, nil
}

func dimStr(n int, name string) string {
	if n < 0 {
		return name
	}
	return strconv.Itoa(n)
}

// vectorAttr reads a 1-D float array of length n.
func vectorAttr(obj *pickle.Object, name string, n int) ([]float64, error) {
	v, err := floatsAttr(obj, name)
	if err != nil {
		return nil, err
	}
	if len(v) != n {
		return nil, fmt.Errorf("%s has %d values; want %d", name, len(v), n)
	}
	return v, nil
}

func (e *naiveBayes) readGaussian(obj *pickle.Object, K int) (int, error) {
	var err error
	if e.theta, err = matrixAttr(obj, "theta_", K, -1); err != nil {
		return 0, err
	}
	f := len(e.theta[0])
	// var_ since scikit-learn 1.0; sigma_ before (both in 1.0 and 1.1).
	name := "var_"
	if !obj.Has(name) {
		name = "sigma_"
	}
	if e.variance, err = matrixAttr(obj, name, K, f); err != nil {
		return 0, err
	}
	prior, err := vectorAttr(obj, "class_prior_", K)
	if err != nil {
		return 0, err
	}
	e.logPrior = make([]float64, K)
	e.normTerm = make([]float64, K)
	logs := make([]float64, f)
	for k := range K {
		e.logPrior[k] = math.Log(prior[k])
		for j, v := range e.variance[k] {
			logs[j] = math.Log(2.0 * math.Pi * v)
		}
		e.normTerm[k] = -0.5 * npSum(logs)
	}
	return f, nil
}

func (e *naiveBayes) readDiscrete(obj *pickle.Object, K int) (int, error) {
	var err error
	if e.flp, err = matrixAttr(obj, "feature_log_prob_", K, -1); err != nil {
		return 0, err
	}
	f := len(e.flp[0])
	if e.kind != nbComplement || K == 1 {
		if e.classPrior, err = vectorAttr(obj, "class_log_prior_", K); err != nil {
			return 0, err
		}
	}
	if e.kind != nbBernoulli {
		return f, nil
	}
	if v, ok := obj.Attr("binarize"); ok && v != nil {
		t, ok := floatVal(v)
		if !ok {
			return 0, fmt.Errorf("binarize is a %s, want a number or None", pickle.TypeName(v))
		}
		e.binarize = &t
	} else if !ok {
		t := 0.0
		e.binarize = &t
	}
	// neg_prob = log(1 - exp(feature_log_prob_)); jll = X @ (flp - neg_prob).T
	// + (class_log_prior_ + neg_prob.sum(axis=1)).
	e.bernW = make([][]float64, K)
	e.bernB = make([]float64, K)
	neg := make([]float64, f)
	for k, row := range e.flp {
		w := make([]float64, f)
		for j, v := range row {
			neg[j] = math.Log(1 - math.Exp(v))
			w[j] = v - neg[j]
		}
		e.bernW[k] = w
		e.bernB[k] = e.classPrior[k] + npSum(neg)
	}
	return f, nil
}

func (e *naiveBayes) readCategorical(obj *pickle.Object, K int) (int, error) {
	items, err := obj.Items("feature_log_prob_")
	if err != nil {
		return 0, fmt.Errorf("not fitted or unreadable: %w", err)
	}
	if len(items) == 0 {
		return 0, fmt.Errorf("feature_log_prob_ is empty")
	}
	for i, it := range items {
		a, ok := it.(*pickle.NDArray)
		if !ok {
			return 0, fmt.Errorf("feature_log_prob_[%d] is a %s, want an array", i, pickle.TypeName(it))
		}
		if len(a.Shape) != 2 || a.Shape[0] != K || a.Shape[1] < 1 {
			return 0, fmt.Errorf("feature_log_prob_[%d] has shape %v; want (%d, n_categories)", i, a.Shape, K)
		}
		v, err := a.Float64s()
		if err != nil {
			return 0, fmt.Errorf("feature_log_prob_[%d]: %w", i, err)
		}
		c := a.Shape[1]
		rows := make([][]float64, K)
		for k := range rows {
			rows[k] = v[k*c : (k+1)*c]
		}
		e.catLP = append(e.catLP, rows)
	}
	if e.classPrior, err = vectorAttr(obj, "class_log_prior_", K); err != nil {
		return 0, err
	}
	return len(items), nil
}

func (e *naiveBayes) labelsOf() *classes { return e.cls }

func (e *naiveBayes) Outputs(opts model.LoadOptions) []model.Column {
	return classifierOutputs(e.cls, opts)
}

// jll is _joint_log_likelihood, rows x classes row-major.
func (e *naiveBayes) jll(X *Dense) ([]float64, error) {
	if err := checkFinite(X, shortName(e.class)); err != nil {
		return nil, err
	}
	K := e.cls.len()
	rows := X.Rows
	out := make([]float64, rows*K)
	switch e.kind {
	case nbGaussian:
		// jointi + (-0.5*sum(log(2 pi var)) - 0.5*sum((x-theta)^2/var)).
		acc := make([]float64, rows)
		for k := range K {
			clear(acc)
			th, va := e.theta[k], e.variance[k]
			for j, col := range X.Cols {
				t, v := th[j], va[j]
				for i, x := range col[:rows] {
					d := x - t
					acc[i] += (d * d) / v
				}
			}
			for i, s := range acc {
				out[i*K+k] = e.logPrior[k] + (e.normTerm[k] - 0.5*s)
			}
		}
	case nbMultinomial, nbComplement:
		e.linearJLL(X, e.flp, out, nil)
		if e.kind == nbMultinomial || K == 1 {
			for i := range rows {
				for k := range K {
					out[i*K+k] += e.classPrior[k]
				}
			}
		}
	case nbBernoulli:
		var bin *Dense
		if e.binarize != nil {
			bin = &Dense{Rows: rows, Cols: make([][]float64, len(X.Cols)), Names: X.Names}
			t := *e.binarize
			for j, col := range X.Cols {
				b := make([]float64, rows)
				for i, x := range col[:rows] {
					if x > t {
						b[i] = 1
					}
				}
				bin.Cols[j] = b
			}
			X = bin
		}
		e.linearJLL(X, e.bernW, out, e.bernB)
	case nbCategorical:
		if err := e.checkCategories(X); err != nil {
			return nil, err
		}
		for j, col := range X.Cols {
			lp := e.catLP[j]
			for i, x := range col[:rows] {
				c := int(math.Trunc(x))
				for k := range K {
					out[i*K+k] += lp[k][c]
				}
			}
		}
		for i := range rows {
			for k := range K {
				out[i*K+k] += e.classPrior[k]
			}
		}
	}
	return out, nil
}

// checkCategories returns a RowError for the first row (in row order) holding
// a value CategoricalNB cannot index with.
func (e *naiveBayes) checkCategories(X *Dense) error {
	bad, badCol := -1, -1
	var badErr error
	for j, col := range X.Cols {
		limit := X.Rows
		if bad >= 0 {
			limit = bad
		}
		nc := len(e.catLP[j][0])
		for i, x := range col[:limit] {
			if _, err := categoryIndex(x, nc); err != nil {
				bad, badCol, badErr = i, j, err
				break
			}
		}
	}
	if bad < 0 {
		return nil
	}
	return &mlerr.RowError{Row: int64(bad + 1), Column: X.colName(badCol),
		Value: strconv.FormatFloat(X.Cols[badCol][bad], 'g', -1, 64), Err: badErr}
}

// categoryIndex converts a cell as CategoricalNB's check_array(dtype="int")
// does (truncation toward zero; on x86 a value outside int64 becomes
// the most negative int64) and checks it against the fitted categories.
func categoryIndex(x float64, n int) (int, error) {
	t := math.Trunc(x)
	if t < 0 || t >= math.MaxInt64 {
		// numpy's cast turns values beyond int64 into its most negative value.
		return 0, fmt.Errorf("CategoricalNB takes category indices 0..%d; scikit-learn refuses this value as negative once cast to int", n-1)
	}
	if t >= float64(n) {
		return 0, fmt.Errorf("category %d was not seen in fit (this feature has categories 0..%d); scikit-learn fails with an IndexError", int64(t), n-1)
	}
	return int(t), nil
}

// linearJLL sets out = X @ W.T (+ b), rows x len(W).
func (e *naiveBayes) linearJLL(X *Dense, W [][]float64, out []float64, b []float64) {
	K := len(W)
	acc := make([]float64, X.Rows)
	for k, w := range W {
		clear(acc)
		for j, col := range X.Cols {
			c := w[j]
			for i, x := range col[:X.Rows] {
				acc[i] += x * c
			}
		}
		for i, v := range acc {
			if b != nil {
				v += b[k]
			}
			out[i*K+k] = v
		}
	}
}

// probaFrom turns jll into predict_proba: exp(jll - logsumexp(jll)) with
// scipy's logsumexp (the row max shifted out, NaN/inf max treated as 0).
func nbProba(jll []float64, rows, K int) []float64 {
	p := make([]float64, rows*K)
	for i := range rows {
		row := jll[i*K : (i+1)*K]
		m := math.Inf(-1)
		for _, v := range row {
			if v > m || math.IsNaN(v) {
				m = v
				if math.IsNaN(v) {
					break
				}
			}
		}
		if math.IsNaN(m) || math.IsInf(m, 0) {
			m = 0
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - m)
		}
		lse := math.Log(s) + m
		for k, v := range row {
			p[i*K+k] = math.Exp(v - lse)
		}
	}
	return p
}

func (e *naiveBayes) predictIndex(X *Dense) ([]int, error) {
	j, err := e.jll(X)
	if err != nil {
		return nil, err
	}
	return e.argmaxRows(j, X.Rows), nil
}

func (e *naiveBayes) argmaxRows(j []float64, rows int) []int {
	K := e.cls.len()
	idx := make([]int, rows)
	for i := range idx {
		idx[i] = argmax(j[i*K : (i+1)*K])
	}
	return idx
}

func (e *naiveBayes) predictProba(X *Dense) ([]float64, error) {
	j, err := e.jll(X)
	if err != nil {
		return nil, err
	}
	return nbProba(j, X.Rows, e.cls.len()), nil
}

// Predict: labels by argmax of the joint log likelihood (not of the
// probabilities, which can tie after exp), probabilities when asked.
func (e *naiveBayes) Predict(X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	j, err := e.jll(X)
	if err != nil {
		return nil, err
	}
	out := []arrow.Array{e.cls.labels(e.argmaxRows(j, X.Rows), mem)}
	if opts.Proba {
		K := e.cls.len()
		out = append(out, columnsOf(nbProba(j, X.Rows, K), X.Rows, K, mem)...)
	}
	return out, nil
}
