// Package xgboost loads XGBoost models logged with MLflow's xgboost flavor and
// predicts with them in Go, giving the numbers xgboost 1.7's own predictor gives.
//
// # Files
//
// The flavor's `data` file is read whatever its name or `model_format` says;
// the format is detected from the bytes (Format): JSON (starts with `{"`),
// UBJSON (`{` then a UBJSON marker; model.ubj, and model.xgb from xgboost 2.1)
// or the old binary format (`binf` header or none; model.xgb/.bin up to 2.0).
// All three decode to the same model. Boosters: gbtree (including
// num_parallel_tree forests and multi-class/multi-target via tree_info), dart
// (weight_drop) and gblinear. base_score is read in both the scalar ("5E-1",
// up to 3.0) and the array-in-string ("[5E-1]", 3.1 on) forms and turned into
// a margin with the objective's inverse link.
//
// Loading never trusts the file: every count is checked against the bytes
// left before anything is allocated, and trees are validated (children in
// range and reached once, so no cycles; split features below num_feature;
// consistent array lengths). Hostile bytes give an error, never a panic.
//
// # Inputs
//
// One float64-typed input per feature: the MLmodel signature's columns when
// there is a signature (their names must match the booster's feature_names, as
// xgboost's feature validation demands), else the booster's feature_names,
// else num_feature positional columns. Any numeric or boolean Arrow column is
// accepted (model.Float64s); nulls are missing values (NaN). Values become
// float32 as numpy's astype(float32) would. Categorical features take the
// category code (what pandas' cat.codes gives), as a number.
//
// # Prediction
//
// Rows are processed in blocks of up to 256: each block is transposed from the
// column buffers into a reused row-major float32 buffer and every tree is
// applied to the whole block. Trees are flat node arrays with siblings
// adjacent. Missing values take the default branch; a numerical split goes
// left iff x < threshold in float32; a categorical split goes right iff the
// category is in the node's set. Leaf values are summed per output group in
// float32 in XGBoost's order (intercept, then trees in model order); the
// objective's transform follows (sigmoid, exp, softmax, argmax, hinge step)
// in float32. xgboost calls glibc's expf and logf, which are not correctly
// rounded; expf and logf here reproduce the FMA variants glibc selects on
// current x86-64 CPUs bit for bit. Blocks of rows walk numerical trees of
// depth <= 12 in a fixed-depth layout (leaves loop to themselves, so every row
// takes the same branch-free steps), several rows in lock step; deeper or
// categorical trees take the general walk. Both give the same leaves.
//
// Parity: against xgboost 1.7.4 every prediction and probability on the
// fixtures in testdata/xgboost is reproduced bit for bit, including
// XGBClassifier(objective="multi:softmax").predict_proba, which xgboost
// leaves to scipy's softmax over numpy's SIMD float32 exp (npExpf reproduces
// it). base_score goes through a logf that reproduces glibc's, too.
//
// What Predict returns follows the flavor's model_class, as MLflow's pyfunc
// would call it:
//   - xgboost.core.Booster: Booster.predict(DMatrix(df)) with all trees:
//     "prediction", or "prediction_0".."prediction_<k-1>" for k outputs
//     (multi:softprob probabilities, multi-target values). Infinite inputs are
//     refused, as DMatrix refuses them.
//   - XGBRegressor, XGBRFRegressor, XGBRanker: predict(df) as the sklearn
//     wrapper does it: inplace_predict, trees up to best_iteration+1 when the
//     booster has a best_iteration attribute (the wrapper's
//     _get_iteration_range), the wrapper's `missing` value treated as missing.
//   - XGBClassifier, XGBRFClassifier: the class label in "prediction" (int64
//     class indices 0..K-1, or the label encoder's classes for models that kept
//     one); with LoadOptions.Proba also "proba_<label>" float64 columns from
//     predict_proba, in class order (binary: 1-p and p, in float32).
//
// LoadOptions.Proba on anything but a classifier is reported through
// LoadOptions.Warn and ignored.
//
// # Inside scikit-learn pickles
//
// The same wrapper classes pickled inside scikit-learn objects (typically the
// last step of a Pipeline logged with the sklearn flavor) are registered with
// model/sklearn (sklearn.RegisterExternal; pickled.go). The pickled
// xgboost.core.Booster holds a memory snapshot in any layout a release wrote
// (UBJSON or JSON {"Config", "Model"}, "CONFIG-offset:" binary, or the bare
// binary model); its best_iteration attribute, and the wrapper's objective,
// missing, predictor, n_classes_ and _le, give predict the semantics above.
// They implement sklearn.Regressor or sklearn.Classifier, so scikit-learn
// meta-estimators can wrap them.
//
// # Concurrency and ownership
//
// A loaded model is immutable and safe for concurrent use; Predict keeps no
// reference to its inputs, takes its scratch buffers from a sync.Pool, and
// returns arrays the caller owns and releases.
package xgboost
