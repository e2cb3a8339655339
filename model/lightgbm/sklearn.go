package lightgbm

import (
	"errors"
	"fmt"

	"github.com/mlbatch/mlbatch/model/labels"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// The scikit-learn API (LGBMClassifier, LGBMRegressor, LGBMRanker) is pickled by
// MLflow to model.pkl. The estimator's attributes hold a lightgbm.basic.Booster,
// whose __getstate__ stores the whole text model as a string under "_handle"
// (LightGBM 4) or "handle" (LightGBM 2 and 3), next to best_iteration; a
// classifier also holds its classes (_classes, and _le, a fitted LabelEncoder).
// Only these classes and inert helpers are allowed in the pickle: anything else
// (a callable objective, a custom class) fails closed.

var sklearnClasses = map[string]bool{
	ClassClassifier: true,
	ClassRegressor:  true,
	ClassRanker:     true,
}

// inertClasses may appear in a fitted estimator's pickle; they load as plain
// objects and are never needed to predict except for the LabelEncoder's
// classes_.
var inertClasses = map[string]bool{
	"lightgbm.basic.Booster":                    true,
	"lightgbm.compat._LGBMLabelEncoder":         true,
	"sklearn.preprocessing._label.LabelEncoder": true,
	"sklearn.preprocessing.label.LabelEncoder":  true,
	"collections.defaultdict":                   true, // Booster.best_score
	"numpy.random.mtrand.RandomState":           true,
	"numpy.random._pickle.__randomstate_ctor":   true,
	"numpy.random._pickle.__bit_generator_ctor": true,
	"numpy.random._mt19937.MT19937":             true,
}

func allowSklearn(module, name string) bool {
	full := module + "." + name
	return sklearnClasses[full] || inertClasses[full]
}

// decodeSklearn rebuilds a pickled scikit-learn API model.
func decodeSklearn(data []byte) (*estimator, error) {
	v, err := pickle.Unmarshal(data, pickle.Options{Allow: allowSklearn})
	if err != nil {
		var ue *pickle.UnsupportedError
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("the pickle names %s.%s, which mlbatch does not load (LightGBM scikit-learn models with a custom objective or extra classes are not supported): %w", ue.Module, ue.Name, err)
		}
		return nil, err
	}
	obj, ok := v.(*pickle.Object)
	if !ok || !sklearnClasses[obj.Class()] {
		return nil, fmt.Errorf("the pickle holds %s, not a LightGBM scikit-learn estimator", describe(v))
	}
	est, err := buildSklearn(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj.Name, err)
	}
	return est, nil
}

func describe(v any) string {
	if o, ok := v.(*pickle.Object); ok {
		return o.Class()
	}
	return "a " + pickle.TypeName(v)
}

func buildSklearn(obj *pickle.Object) (*estimator, error) {
	if fitted, err := obj.Bool("fitted_"); err == nil && !fitted {
		return nil, errors.New("the estimator is not fitted")
	}
	bo, err := obj.Object("_Booster")
	if err != nil {
		return nil, fmt.Errorf("not fitted or unreadable: %w", err)
	}
	if bo.Class() != "lightgbm.basic.Booster" {
		return nil, fmt.Errorf("_Booster is %s, want lightgbm.basic.Booster", bo.Class())
	}
	var text string
	for _, key := range []string{"_handle", "handle"} {
		h, ok := bo.Attr(key)
		if !ok {
			continue
		}
		switch x := h.(type) {
		case string:
			text = x
		case []byte:
			text = string(x)
		default:
			return nil, fmt.Errorf("the booster's %s is %s, want the model text", key, pickle.TypeName(h))
		}
		break
	}
	if text == "" {
		return nil, errors.New("the booster holds no model text (_handle or handle)")
	}
	b, err := ParseText([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("booster: %w", err)
	}
	est := &estimator{booster: b, class: obj.Class(), iters: b.numIter}
	// Booster.predict(num_iteration=None) uses best_iteration when it is set (a
	// fit with early stopping); LightGBM caps it at the iterations it has.
	if bo.Has("best_iteration") {
		best, err := bo.Int("best_iteration")
		if err != nil {
			return nil, err
		}
		if best > 0 && best < int64(b.numIter) {
			est.iters = int(best)
		}
	}
	if obj.Has("_n_features") {
		if n, err := obj.Int("_n_features"); err == nil && n >= 0 && n != int64(b.NumFeatures()) {
			return nil, fmt.Errorf("_n_features is %d but the booster has %d features", n, b.NumFeatures())
		}
	}
	if obj.Class() != ClassClassifier {
		return est, nil
	}

	// Classifier: classes_ is _classes (or the label encoder's classes_).
	var cv any
	if v, ok := obj.Attr("_classes"); ok && v != nil {
		cv = v
	} else if le, err := obj.Object("_le"); err == nil {
		cv, _ = le.Attr("classes_")
	}
	if cv == nil {
		return nil, errors.New("the classifier has no classes (_classes or _le.classes_)")
	}
	cls, err := labels.FromPickle(cv)
	if err != nil {
		return nil, err
	}
	want := b.NumClass
	if want == 1 {
		want = 2
	}
	if cls.Len() != want {
		return nil, fmt.Errorf("%d classes but the booster scores %d", cls.Len(), want)
	}
	est.classes = cls
	return est, nil
}
