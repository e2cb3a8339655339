package sklearn

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV and
// HalvingRandomSearchCV predict with best_estimator_, the estimator refitted on
// the whole data with the best parameters (refit=True). Everything else they
// hold (cv_results_ with its numpy masked arrays, the scorer, the splitter,
// scipy distributions of a randomized search, the unfitted estimator) loads as
// inert data and is never used.

func init() {
	for _, c := range []string{
		"sklearn.model_selection._search.GridSearchCV",
		"sklearn.model_selection._search.RandomizedSearchCV",
		"sklearn.model_selection._search_successive_halving.HalvingGridSearchCV",
		"sklearn.model_selection._search_successive_halving.HalvingRandomSearchCV",
		// scikit-learn < 0.20.
		"sklearn.grid_search.GridSearchCV",
		"sklearn.grid_search.RandomizedSearchCV",
	} {
		register(c, buildSearch)
	}
	for _, c := range searchInert {
		inert[c] = true
	}
	for _, m := range []string{"sklearn.metrics._classification", "sklearn.metrics.classification"} {
		for _, f := range []string{"accuracy_score", "balanced_accuracy_score", "f1_score", "fbeta_score",
			"precision_score", "recall_score", "jaccard_score", "log_loss", "brier_score_loss",
			"matthews_corrcoef", "hamming_loss", "zero_one_loss", "hinge_loss", "cohen_kappa_score"} {
			inert[m+"."+f] = true
		}
	}
	for _, m := range []string{"sklearn.metrics._regression", "sklearn.metrics.regression"} {
		for _, f := range []string{"r2_score", "mean_squared_error", "mean_absolute_error",
			"median_absolute_error", "explained_variance_score", "max_error", "mean_squared_log_error",
			"mean_poisson_deviance", "mean_gamma_deviance", "mean_tweedie_deviance",
			"mean_absolute_percentage_error", "root_mean_squared_error", "root_mean_squared_log_error",
			"d2_absolute_error_score", "d2_pinball_score", "d2_tweedie_score", "mean_pinball_loss"} {
			inert[m+"."+f] = true
		}
	}
	for _, m := range []string{"sklearn.metrics._ranking", "sklearn.metrics.ranking"} {
		for _, f := range []string{"roc_auc_score", "average_precision_score", "top_k_accuracy_score",
			"ndcg_score", "dcg_score", "label_ranking_average_precision_score"} {
			inert[m+"."+f] = true
		}
	}
	for _, m := range []string{"sklearn.metrics.cluster._supervised", "sklearn.metrics.cluster.supervised"} {
		for _, f := range []string{"adjusted_rand_score", "rand_score", "homogeneity_score", "completeness_score",
			"v_measure_score", "mutual_info_score", "adjusted_mutual_info_score",
			"normalized_mutual_info_score", "fowlkes_mallows_score"} {
			inert[m+"."+f] = true
		}
	}
	for _, c := range []string{"KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold",
		"ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit", "RepeatedKFold",
		"RepeatedStratifiedKFold", "TimeSeriesSplit", "PredefinedSplit", "LeaveOneOut", "LeavePOut",
		"LeaveOneGroupOut", "LeavePGroupsOut", "_CVIterableWrapper"} {
		inert["sklearn.model_selection._split."+c] = true
		inert["sklearn.model_selection.split."+c] = true
	}
	for _, m := range []string{"scipy.stats._continuous_distns", "scipy.stats._discrete_distns"} {
		for _, d := range scipyDistributions {
			inert[m+"."+d+"_gen"] = true
			// Bound methods a distribution keeps in np.vectorize wrappers.
			for _, meth := range []string{"_entropy", "_cdf_single", "_ppf_single"} {
				inert[m+"."+d+"_gen."+meth] = true
			}
		}
	}
}

// searchInert are the classes and functions a fitted search holds besides its
// estimators. Functions appear as references (scorers hold the metric), never
// called; numpy.ma's reconstructor is the masked arrays of cv_results_.
var searchInert = []string{
	"numpy.ma.core._mareconstruct",
	"numpy.ma.core.MaskedArray",
	"numpy.ma.core.MaskedConstant",
	"numpy.ma.core._MaskedConstant",
	"sklearn.metrics._scorer._passthrough_scorer",
	"sklearn.metrics._scorer._PassthroughScorer",
	"sklearn.metrics._scorer._PredictScorer",
	"sklearn.metrics._scorer._ProbaScorer",
	"sklearn.metrics._scorer._ThresholdScorer",
	"sklearn.metrics._scorer._Scorer",
	"sklearn.metrics._scorer._BaseScorer",
	"sklearn.metrics._scorer._MultimetricScorer",
	"sklearn.metrics.scorer._passthrough_scorer",
	"sklearn.metrics.scorer._PredictScorer",
	"sklearn.metrics.scorer._ProbaScorer",
	"sklearn.metrics.scorer._ThresholdScorer",
	"sklearn.utils._bunch.Bunch",
	"sklearn.utils.Bunch",
	"sklearn.utils.fixes.loguniform",
	"scipy.stats._distn_infrastructure.rv_frozen",
	"scipy.stats._distn_infrastructure.rv_continuous_frozen",
	"scipy.stats._distn_infrastructure.rv_discrete_frozen",
	"scipy.stats._distn_infrastructure.rv_sample",
	"numpy.vectorize",
	// A bound method pickled by plain pickle: getattr(instance, name). Like
	// every allowed global it is never called; calling it builds an inert
	// object holding the instance and the name.
	"builtins.getattr",
	"numpy.lib.function_base.vectorize",
	"functools.partial",
}

// scipyDistributions are the scipy.stats distributions most used as search
// spaces (their classes are <name>_gen).
var scipyDistributions = []string{
	"uniform", "randint", "reciprocal", "loguniform", "norm", "expon", "truncnorm", "lognorm",
	"gamma", "beta", "poisson", "geom", "binom", "bernoulli", "halfnorm", "halfcauchy", "cauchy",
	"triang", "truncexpon", "dlaplace", "laplace", "logistic", "chi2", "weibull_min", "pareto",
	"nbinom", "zipf", "boltzmann", "planck", "logser", "hypergeom", "betabinom", "randint",
}

// searchCore predicts with best_estimator_.
type searchCore struct {
	metaBase
	best *member
}

func buildSearch(obj *pickle.Object) (Estimator, error) {
	v, ok := obj.Attr("best_estimator_")
	if !ok || v == nil {
		if r, ok := obj.Attr("refit"); ok && r == false {
			return nil, fmt.Errorf("the search was fitted with refit=False, so it has no best_estimator_ to predict with (scikit-learn cannot predict with it either); log search.best_estimator_ or refit=True")
		}
		return nil, fmt.Errorf("not fitted: best_estimator_ is missing")
	}
	best, err := buildMember(v, "best_estimator_")
	if err != nil {
		return nil, err
	}
	return newMetaEst(obj, &searchCore{best: best})
}

func (s *searchCore) can(c capability) bool { return s.best.has(c) }
func (s *searchCore) labels() *classes      { return s.best.labels() }
func (s *searchCore) parts() []*member      { return []*member{s.best} }

func (s *searchCore) targets() (int, bool) {
	if r, ok := s.best.fin.(regressor); ok {
		return r.targets()
	}
	return 1, false
}

func (s *searchCore) outputs(opts model.LoadOptions) []model.Column { return s.best.est.Outputs(opts) }

func (s *searchCore) predictIn(in *input, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	return s.best.predict(in, opts, mem)
}

func (s *searchCore) regressIn(in *input) ([]float64, error)     { return s.best.regress(in) }
func (s *searchCore) probaIn(in *input) ([]float64, error)       { return s.best.proba(in) }
func (s *searchCore) indexIn(in *input) ([]int, error)           { return s.best.index(in) }
func (s *searchCore) decideIn(in *input) ([]float64, int, error) { return s.best.decide(in) }
