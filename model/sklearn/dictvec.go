package sklearn

import (
	"fmt"

	"github.com/mlbatch/mlbatch/model/pickle"
)

// DictVectorizer (sklearn.feature_extraction) is recognised but refused.
//
// Its transform iterates X and calls .items() on every element, so it needs a
// sequence of dicts. MLflow's pyfunc hands the model a pandas DataFrame, and
// iterating a DataFrame yields its column names: scikit-learn itself fails
// with AttributeError: 'str' object has no attribute 'items' (a 2-D array
// fails the same way on its rows). The one table shape that works in Python
// is a column whose cells are dicts, routed by a ColumnTransformer with a
// scalar column name; CSV and flat Parquet inputs hold no such column. So no
// table mlbatch reads can feed a DictVectorizer, and a model using one is
// refused at load with that explanation rather than scored with a guessed
// meaning (testdata/longtail/mlp_decomp/gen.py records the Python errors).

func init() {
	for _, c := range []string{
		"sklearn.feature_extraction._dict_vectorizer.DictVectorizer",
		"sklearn.feature_extraction.dict_vectorizer.DictVectorizer", // before 0.22
	} {
		registerTransformer(c, buildDictVectorizer)
	}
}

func buildDictVectorizer(obj *pickle.Object) (transformer, error) {
	voc, err := obj.Mapping("vocabulary_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	names, err := obj.Items("feature_names_")
	if err != nil {
		return nil, fmt.Errorf("not fitted: %w", err)
	}
	if voc.Len() != len(names) {
		return nil, fmt.Errorf("vocabulary_ has %d entries but feature_names_ %d", voc.Len(), len(names))
	}
	return nil, fmt.Errorf("its transform takes a sequence of dicts, and MLflow's pyfunc passes a DataFrame, "+
		"which it iterates by column name (scikit-learn fails with AttributeError: 'str' object has no attribute 'items'); "+
		"no CSV or Parquet table can feed this model (fitted on %d dict features)", len(names))
}
