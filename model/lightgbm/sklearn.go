package lightgbm

import "errors"

// decodeSklearn rebuilds a pickled scikit-learn API model (LGBMClassifier,
// LGBMRegressor, LGBMRanker).
func decodeSklearn(data []byte) (*estimator, error) {
	return nil, errors.New("pickled LightGBM scikit-learn models (model.pkl) are not supported yet; log the model's booster_ instead")
}
