package lightgbm

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
	"github.com/mlbatch/mlbatch/model/sklearn"
)

// LightGBM's scikit-learn wrappers pickled inside scikit-learn objects (the
// last step of a Pipeline, logged with the sklearn flavor, or with the
// lightgbm flavor, whose model.pkl then holds the Pipeline). They are
// registered with model/sklearn, which builds them with buildSklearn, the
// reader the lightgbm flavor uses for a pickled LGBM estimator: the same state
// layouts (LightGBM 2 to 4), the same best_iteration and classes.

func init() {
	for class := range sklearnClasses {
		sklearn.RegisterExternal(class, func(obj *pickle.Object) (sklearn.Estimator, error) {
			est, err := buildSklearn(obj)
			if err != nil {
				return nil, err
			}
			base := pickledBase{est: est}
			if est.classes != nil {
				return &pickledClassifier{base}, nil
			}
			return &pickledRegressor{base}, nil
		})
	}
	for class := range inertClasses {
		sklearn.RegisterInert(class)
	}
}

type pickledBase struct{ est *estimator }

// pickledRegressor is LGBMRegressor or LGBMRanker.
type pickledRegressor struct{ pickledBase }

// pickledClassifier is LGBMClassifier.
type pickledClassifier struct{ pickledBase }

var (
	_ sklearn.Regressor  = (*pickledRegressor)(nil)
	_ sklearn.Classifier = (*pickledClassifier)(nil)
)

func (p *pickledBase) Class() string    { return p.est.class }
func (p *pickledBase) NumFeatures() int { return p.est.booster.NumFeatures() }

// FeatureNames is the booster's feature names, nil for LightGBM's generated
// Column_<i> (fitted on an array).
func (p *pickledBase) FeatureNames() []string {
	if autoNames(p.est.booster.FeatureNames) {
		return nil
	}
	return p.est.booster.FeatureNames
}

func (p *pickledBase) Outputs(opts model.LoadOptions) []model.Column {
	if p.est.classes != nil {
		return p.est.classes.Outputs(opts.Proba)
	}
	return scoreColumns(p.est.booster.NumClass)
}

// scores is Booster.predict(X, num_iteration=None): NumClass values per row.
func (p *pickledBase) scores(X *sklearn.Dense) ([]float64, error) {
	b := p.est.booster
	if len(X.Cols) != b.NumFeatures() {
		return nil, fmt.Errorf("%s takes %d features, got %d", shortClass(p.est.class), b.NumFeatures(), len(X.Cols))
	}
	out := make([]float64, X.Rows*b.NumClass)
	if err := b.predictRaw(context.Background(), X.Cols, X.Rows, p.est.iters, out); err != nil {
		return nil, err
	}
	b.transform(out, p.est.iters)
	return out, nil
}

func (p *pickledBase) Predict(X *sklearn.Dense, opts model.LoadOptions, mem memory.Allocator) ([]arrow.Array, error) {
	s, err := p.scores(X)
	if err != nil {
		return nil, err
	}
	k := p.est.booster.NumClass
	if p.est.classes != nil {
		return classifierResult(p.est.classes, s, k, X.Rows, opts.Proba, mem), nil
	}
	return labels.Columns(s, X.Rows, k, mem), nil
}

func (r *pickledRegressor) Targets() (int, bool) {
	k := r.est.booster.NumClass
	return k, k > 1
}

func (r *pickledRegressor) Regress(X *sklearn.Dense) ([]float64, error) { return r.scores(X) }

func (c *pickledClassifier) Classes() *labels.Classes { return c.est.classes }

// PredictProba is LGBMClassifier.predict_proba: the booster's probabilities,
// [1-p, p] for a binary model.
func (c *pickledClassifier) PredictProba(X *sklearn.Dense) ([]float64, error) {
	s, err := c.scores(X)
	if err != nil {
		return nil, err
	}
	if c.est.booster.NumClass != 1 {
		return s, nil
	}
	probs := make([]float64, 2*len(s))
	for i, p := range s {
		probs[2*i], probs[2*i+1] = 1-p, p
	}
	return probs, nil
}

// PredictIndex is LGBMClassifier.predict before the label encoder: numpy's
// argmax of predict_proba.
func (c *pickledClassifier) PredictIndex(X *sklearn.Dense) ([]int, error) {
	p, err := c.PredictProba(X)
	if err != nil {
		return nil, err
	}
	k := c.est.classes.Len()
	idx := make([]int, X.Rows)
	for i := range idx {
		idx[i] = labels.Argmax(p[i*k : (i+1)*k])
	}
	return idx, nil
}

// loadSklearnObject loads a lightgbm flavor's model.pkl that holds a
// scikit-learn object rather than an LGBM estimator (mlflow.lightgbm.log_model
// of a Pipeline ending in an LGBMClassifier records the Pipeline's class as
// model_class): it is read and scored as the sklearn flavor would.
func loadSklearnObject(data []byte, class string, mm *model.MLmodel, opts model.LoadOptions, path string) (model.Model, error) {
	est, err := sklearn.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if class != "" && est.Class() != class {
		return nil, fmt.Errorf("%s: model_class is %s but the pickle holds %s", path, class, est.Class())
	}
	return sklearn.NewModel("lightgbm", est, mm, opts, path)
}

// isSklearnClass reports whether a model_class names a scikit-learn class.
func isSklearnClass(class string) bool { return strings.HasPrefix(class, "sklearn.") }
