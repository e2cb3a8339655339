// Package sklearn loads scikit-learn models logged with MLflow's sklearn flavor and
// predicts with them in Go, giving the numbers scikit-learn gives.
//
// The model file is a pickle (serialization_format pickle or cloudpickle), decoded
// by the safe reader in model/pickle, or a skops archive (serialization_format
// skops; skops.go), whose typed nodes are mapped onto the same values. Either way
// only the classes this package allows are built; each one is turned into a Go
// estimator or transformer by the constructor registered for it (register and
// registerTransformer in the estimator files). Any other class, and any Python
// function (a FunctionTransformer's func, a callable column selector), fails
// closed with an error that names it: nothing in the file ever runs.
//
// Classes of other libraries pickled inside scikit-learn objects (XGBoost's
// and LightGBM's scikit-learn wrappers) are built by the packages that read
// those libraries' formats, which register them with RegisterExternal and
// RegisterInert (external.go); they import this package, never the reverse.
//
// # Releases
//
// Pickles of scikit-learn 0.23 through 1.8 (and the pre-0.22 public module paths
// where the layout is the same) load as each release wrote them: every module
// path a release pickled a class under is registered, and attributes that were
// added, renamed or dropped are read in every form with the default the older
// release behaved as. Where a release changed what predict computes, the
// pickle's _sklearn_version decides (sklearnVersion, attrs.go): for example
// LogisticRegression's newton-cholesky models predict one-vs-rest up to 1.5 and
// softmax from 1.6. testdata/longtail/compat/README.md tables what was checked;
// its fixtures are real models re-pickled in each release's form, numpy 2's
// numpy._core globals included.
//
// Estimators are immutable after load and safe for concurrent use. Inputs arrive as
// Arrow arrays and are viewed as float64 columns (Dense); linear models work column
// by column on those buffers.
//
// # Pipelines and mixed-type tables
//
// A Pipeline (pipeline.go) is a tableEstimator: it gets the batch as a table
// (table.go) with pandas' semantics — numeric, boolean (0 and 1) and text columns,
// nulls as NaN — and runs its steps on it: ColumnTransformer and FeatureUnion
// (compose.go, pipeline.go), scalers, Normalizer, PolynomialFeatures,
// KBinsDiscretizer and FunctionTransformer(func=None or check_array) (preprocessing.go),
// SimpleImputer and MissingIndicator (impute.go), OneHotEncoder and OrdinalEncoder
// (encoders.go), PCA, IncrementalPCA, TruncatedSVD and FastICA
// (decomposition.go), the feature selectors (selection.go), then hands the final
// estimator a Dense. Each step computes what
// its transform computes in scikit-learn 1.2, reading the attributes of later
// releases where they changed. Its model inputs (tablemodel.go) are the signature's
// columns, else the first step's feature_names_in_, else positional; without a
// signature each is typed by its first consumer: text for an encoder or imputer
// fitted on strings, numbers for a scaler or the estimator, no type for columns
// only passed along, and columns a ColumnTransformer drops are optional.
//
// # Meta-estimators
//
// Search wrappers, TransformedTargetRegressor, CalibratedClassifierCV, voting,
// stacking, one-vs-rest, multi-output, AdaBoost and bagging (meta.go and one file
// each) wrap other estimators. Each is a metaCore adapted by metaEst, which
// implements every kinds.go interface and answers can() with what the Python
// object has (a hard VotingClassifier has no predict_proba), so meta-estimators
// nest. A member is called through the kinds.go interfaces, chosen as Python's
// hasattr would choose: an estimator type that serves regressors and
// classifiers must return nil from labelsOf for a regressor, and a classifier
// without predict_proba must list no proba_ columns. A Pipeline member runs its
// steps on the table first; a meta-estimator with such members is itself a
// tableEstimator (metaTable). Arithmetic follows numpy's order: sums over
// members add in member order, sums along a row use numpy's pairwise sum.
//
// Values scikit-learn refuses (an unseen category with handle_unknown='error', NaN
// where an estimator takes none, text where numbers are needed) are
// *mlerr.RowError values naming the row within the batch, the column and the value.
package sklearn
