// Package lightgbm loads LightGBM models logged with MLflow's lightgbm flavor and
// predicts with them in Go, giving the numbers LightGBM's Booster.predict gives.
//
// # Files
//
// The flavor's data file is model.lgb, LightGBM's text model (Booster.save_model),
// when model_class is lightgbm.basic.Booster or absent (MLflow 1.x wrote no
// model_class and logged only Boosters; a pickle is recognised by its content).
// ParseText reads text format versions v2, v3 and v4: the "tree" line, the header
// (num_class, num_tree_per_iteration, max_feature_idx, objective with its
// parameters, average_output, feature_names, tree_sizes), the Tree= blocks up to
// "end of trees" (numerical and categorical splits, linear trees, one-leaf trees)
// and the pandas_categorical line; feature importances and parameters are
// ignored.
//
// The scikit-learn API classes (LGBMClassifier, LGBMRegressor, LGBMRanker) are
// cloudpickled to model.pkl. They are decoded with the safe reader in
// model/pickle, which builds only those classes, lightgbm.basic.Booster, the
// LabelEncoder and a few inert helpers; anything else (a callable objective
// pickled by value, a custom class) fails closed. The Booster's pickled state
// holds the whole text model (under _handle since LightGBM 4, handle before) and
// best_iteration, which predict honours like Booster.predict(num_iteration=None).
//
// The same classes pickled inside scikit-learn objects (the last step of a
// Pipeline logged with the sklearn flavor) are registered with model/sklearn
// (sklearn.RegisterExternal; pickled.go), built by the same reader, and
// implement sklearn.Regressor or sklearn.Classifier so scikit-learn
// meta-estimators can wrap them. A lightgbm flavor whose model.pkl holds a
// scikit-learn object (model_class sklearn.pipeline.Pipeline, or no
// model_class and a pickle whose object is a scikit-learn class) is decoded
// by model/sklearn and scored as the sklearn flavor scores it; Info still
// reports the lightgbm flavor.
//
// # Prediction
//
// Each tree is walked as LightGBM's Tree::Decision does: decision_type bit 0 marks
// a categorical split, bit 1 default_left, bits 2-3 the missing type (None, Zero,
// NaN). Numerical: NaN is read as 0 unless the missing type is NaN; with missing
// type Zero a zero (|x| <= kZeroThreshold, the float 1e-35f) and with NaN a NaN go
// the default way; otherwise left iff x <= threshold, in float64. Categorical:
// NaN and values whose integer part is negative go right, else left iff the bit
// of int(x) is set in the node's bitset. A linear tree's leaf predicts
// leaf_const + sum(coeff*x) over its features, or its plain leaf value when one
// of them is NaN. Values with |x| <= kZeroThreshold are read as 0, as LightGBM's
// dense-matrix reader does.
//
// Trees are summed per class (tree i belongs to class i mod
// num_tree_per_iteration) in model order, over len(trees) /
// num_tree_per_iteration iterations; average_output divides by the number of
// iterations; then the objective's transform: sigmoid(s*x) for binary (s is
// sigmoid:, parsed the way LightGBM parses it), softmax for multiclass, a sigmoid
// per class for multiclassova, sigmoid for cross_entropy, log1p(exp(x)) for
// cross_entropy_lambda, exp for poisson, gamma and tweedie, sign(x)*x^2 for
// regression objectives trained with reg_sqrt, identity otherwise (other
// regressions, ranking, custom objectives).
//
// # Inputs and outputs
//
// Features are taken in this order: the MLmodel signature's columns (by name, or
// by position when unnamed; their count must equal the model's features, which
// LightGBM takes by position whatever the names); else the model's
// feature_names; else, when those are LightGBM's generated Column_0..Column_<n-1>,
// by position. Numeric and boolean columns are read as float64, nulls as NaN.
//
// A Booster returns "prediction" when it has one score per row (regression,
// binary probability, ranking) and prediction_0..prediction_<k-1> for k classes
// (Booster.predict's probability matrix). An LGBMClassifier returns its label in
// "prediction", typed like classes_, and with LoadOptions.Proba one proba_<label>
// column per class; LGBMRegressor and LGBMRanker return "prediction".
//
// # Contract
//
// Loading reads the whole file (at most MaxModelBytes) and validates it: counts
// are checked against the text before anything is allocated from them; child
// indices, feature indices, bitset ranges and the tree shape (one tree rooted at
// node 0, no cycles, no shared nodes) are checked, so a walk always ends at a
// leaf. Malformed or hostile input gives an error, never a panic. A loaded
// model is immutable and safe for concurrent use; Predict keeps no reference to
// its inputs and the arrays it returns belong to the caller.
package lightgbm
