package sklearn

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// meta is what every estimator knows about itself.
type meta struct {
	class string
	nFeat int      // n_features_in_, -1 when unknown
	names []string // feature_names_in_, nil when fitted without names
}

func (m meta) Class() string          { return m.class }
func (m meta) NumFeatures() int       { return m.nFeat }
func (m meta) FeatureNames() []string { return m.names }

// Meta-estimators (meta.go) pick a member's method by these interfaces, as
// Python's hasattr would: implement exactly the methods the Python object has
// (a type serving both regressors and classifiers returns nil from labelsOf
// for a regressor; a classifier without predict_proba lists no proba_ outputs,
// or is a separate Go type without predictProba).

// regressor is an estimator whose predict returns numbers: rows x Targets values,
// row-major. multi is true when predict returns a 2-D array (even with one column).
type regressor interface {
	Estimator
	targets() (n int, multi bool)
	regress(X *Dense) ([]float64, error)
}

// probClassifier is a single-output classifier whose predict is
// classes_[argmax(predict_proba)].
type probClassifier interface {
	Estimator
	labelsOf() *classes
	predictProba(X *Dense) ([]float64, error) // rows x len(classes), row-major
}

// labelClassifier is a single-output classifier whose predict is not (or not
// only) argmax of predict_proba: SVC without probability, LinearSVC,
// NearestCentroid, KMeans-like predictors. predictIndex returns, per row, the
// index into labelsOf() of the predicted class. Meta-estimators (voting,
// stacking, one-vs-rest, bagging) call it on their members.
type labelClassifier interface {
	Estimator
	labelsOf() *classes
	predictIndex(X *Dense) ([]int, error)
}

// decider is a classifier with a decision_function. It returns rows x cols
// scores, row-major; cols is 1 for a binary problem (the score of classes_[1]),
// else len(classes_), as scikit-learn's decision_function shapes them.
type decider interface {
	Estimator
	labelsOf() *classes
	decisionFunction(X *Dense) (scores []float64, cols int, err error)
}

// regressorOutputs and regressorPredict implement Estimator for a regressor.
func regressorOutputs(r regressor) []model.Column {
	n, multi := r.targets()
	return predictionColumns(n, multi)
}

func regressorPredict(r regressor, X *Dense, mem memory.Allocator) ([]arrow.Array, error) {
	vals, err := r.regress(X)
	if err != nil {
		return nil, err
	}
	n, _ := r.targets()
	if n == 1 {
		return []arrow.Array{float64Array(vals[:X.Rows], mem)}, nil
	}
	return columnsOf(vals, X.Rows, n, mem), nil
}

// classifierPredict implements Estimator.Predict for a probClassifier.
func classifierPredict(c probClassifier, X *Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	p, err := c.predictProba(X)
	if err != nil {
		return nil, err
	}
	return probaResult(c.labelsOf(), p, X.Rows, opts, mem), nil
}

// warnProba tells the user that --proba means nothing for an estimator that has
// no class probabilities (a regressor; decision trees answer to both interfaces,
// so this looks at the outputs, not the Go type).
func warnProba(opts model.LoadOptions, est Estimator) {
	if !opts.Proba || opts.Warn == nil {
		return
	}
	for _, c := range est.Outputs(opts) {
		if strings.HasPrefix(c.Name, "proba_") {
			return
		}
	}
	// A classifier without probabilities (SVC with probability=False) says why.
	if r, ok := est.(interface{ noProbaReason() string }); ok {
		opts.Warn("--proba is ignored: " + r.noProbaReason())
		return
	}
	opts.Warn("--proba is ignored: " + shortName(est.Class()) + " is a regressor")
}
