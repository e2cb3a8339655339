package sklearn

import (
	"fmt"

	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Estimators from other libraries pickled inside scikit-learn objects
// (xgboost.sklearn.XGBRegressor at the end of a Pipeline, say) are predicted by
// the packages that own those libraries' formats. Those packages import this one,
// never the reverse, so there is no import cycle: in their init they call
// RegisterExternal for each class and RegisterInert for the helper classes the
// pickled state carries. A binary that links model/sklearn without them refuses
// those classes as unsupported.
//
// The estimator a builder returns implements Estimator, and Regressor or
// Classifier when it is one; the wrapper RegisterExternal puts around it makes
// it the package's own regressor or probClassifier/labelClassifier, so
// Pipelines and the meta-estimators (voting, stacking, bagging, one-vs-rest)
// use it like any scikit-learn estimator.

// Regressor is an Estimator whose predict returns numbers. Targets is the
// number of values per row and whether predict returns a 2-D array; Regress
// returns rows x n values, row-major.
type Regressor interface {
	Estimator
	Targets() (n int, multi bool)
	Regress(X *Dense) ([]float64, error)
}

// Classifier is a single-output classifier. Classes is classes_ (the order of
// the probability columns); PredictProba returns rows x len(classes) values,
// row-major; PredictIndex returns predict's class per row as an index into
// Classes.
type Classifier interface {
	Estimator
	Classes() *labels.Classes
	PredictProba(X *Dense) ([]float64, error)
	PredictIndex(X *Dense) ([]int, error)
}

// ExternalBuilder turns an allowed pickled object into an Estimator.
type ExternalBuilder func(obj *pickle.Object) (Estimator, error)

// RegisterExternal makes class loadable inside scikit-learn pickles (and as the
// pickle's top-level object), built by b. Call it from init only.
func RegisterExternal(class string, b ExternalBuilder) {
	register(class, func(obj *pickle.Object) (Estimator, error) {
		est, err := b(obj)
		if err != nil {
			return nil, err
		}
		switch e := est.(type) {
		case Classifier:
			cls := e.Classes()
			if cls == nil {
				return nil, fmt.Errorf("%s has no classes", obj.Name)
			}
			return &extClassifier{Classifier: e, cls: &classes{cls}}, nil
		case Regressor:
			return &extRegressor{Regressor: e}, nil
		}
		return est, nil
	})
}

// RegisterInert lets classes that an external estimator's pickled state
// carries (a booster, a label encoder) load as plain objects. Call it from
// init only.
func RegisterInert(classes ...string) {
	for _, c := range classes {
		inert[c] = true
	}
}

// extRegressor adapts a Regressor to the package's regressor interface.
type extRegressor struct{ Regressor }

func (r *extRegressor) targets() (int, bool)                { return r.Targets() }
func (r *extRegressor) regress(X *Dense) ([]float64, error) { return r.Regress(X) }

// extClassifier adapts a Classifier to probClassifier and labelClassifier.
type extClassifier struct {
	Classifier
	cls *classes
}

func (c *extClassifier) labelsOf() *classes                       { return c.cls }
func (c *extClassifier) predictProba(X *Dense) ([]float64, error) { return c.PredictProba(X) }
func (c *extClassifier) predictIndex(X *Dense) ([]int, error)     { return c.PredictIndex(X) }

var (
	_ regressor       = (*extRegressor)(nil)
	_ probClassifier  = (*extClassifier)(nil)
	_ labelClassifier = (*extClassifier)(nil)
)
