#!/usr/bin/python3
"""Generate mlbatch's fixtures for MLPClassifier / MLPRegressor, PCA,
IncrementalPCA, TruncatedSVD, FastICA, the feature selectors (SelectKBest,
SelectPercentile, VarianceThreshold, SelectFromModel, RFE, RFECV) and
DictVectorizer: MLflow model folders, input CSVs, golden predictions and
cases.json (the fixtureCase format of cmd/mlbatch/score_test.go).

Run with Debian's Python stack (scikit-learn 1.2.1, numpy 1.24, pandas 1.5,
cloudpickle 2.2), which is /usr/bin/python3:

    /usr/bin/python3 testdata/longtail/mlp_decomp/gen.py

Deterministic: fixed seeds, single-threaded numerics; a rerun gives identical
bytes. The script owns testdata/longtail/mlp_decomp/ except itself and
README.md, which it also writes.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import copy
import json
import pickle
import shutil
import types
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets
from sklearn.decomposition import PCA, FastICA, IncrementalPCA, TruncatedSVD
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_selection import (
    RFE,
    RFECV,
    SelectFromModel,
    SelectKBest,
    SelectPercentile,
    VarianceThreshold,
    chi2,
    f_classif,
    f_regression,
    mutual_info_classif,
)
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, ExtraTreeRegressor

warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTDATA, "gen"))
import make_fixtures as mf  # noqa: E402  (MLflow folder helpers)

AREA = "longtail/mlp_decomp"
KEEP = {"gen.py", "README.md", "__pycache__"}
FLOAT_TOL = {"rel": 1e-9, "abs": 1e-12, "note": "float64 matrix products"}
LABEL_TOL = {"exact": True, "note": "labels compare exactly"}
CASES, ERRORS, REFUSALS, README = [], [], [], []


def rel(path):
    return os.path.relpath(path, TESTDATA).replace(os.sep, "/")


def write_input(df, name):
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, lineterminator="\n", float_format=repr)
    return path


def signature(X):
    types_ = {"f": "double", "i": "long", "b": "boolean"}
    inputs = [{"type": types_.get(X[c].dtype.kind, "string"), "name": c, "required": True} for c in X.columns]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(mf.out_tensor()), "params": None}


def qual(est):
    return "%s.%s" % (type(est).__module__, type(est).__name__)


def final_of(est):
    while isinstance(est, Pipeline):
        est = est.steps[-1][1]
    return est


def names_out(est):
    if not isinstance(est, Pipeline) or len(est.steps) < 2:
        return None
    try:
        return [str(n) for n in est[:-1].get_feature_names_out()]
    except Exception:
        return None


def add_case(name, est, inputs, *, fit_names=True, sig=True, notes="", pickled=None, as_class=None):
    """Save est (fitted) as an MLflow folder, write goldens for each input
    (name, csv path), append the cases. pickled overrides the model bytes (an
    older layout of the same fitted object)."""
    d = os.path.join(HERE, name)
    first = pd.read_csv(inputs[0][1])
    mf.save_sklearn_model(d, est if pickled is None else None, pickled=pickled, fmt="cloudpickle",
                          protocol=4, signature=signature(first) if sig else None,
                          utc_time="2024-06-10 08:00:00.000000")
    final = final_of(est)
    is_clf = hasattr(final, "classes_") and hasattr(est, "predict_proba")
    for in_name, in_path in inputs:
        df = pd.read_csv(in_path)
        X = df if fit_names else df.to_numpy()
        pred = np.asarray(est.predict(X))
        outputs = []
        golden = os.path.join(d, "expected_%s.csv" % in_name)
        if pred.ndim == 2:
            cols = ["prediction_%d" % k for k in range(pred.shape[1])]
            kind = "int64" if pred.dtype.kind in "iu" else "float64"
            rows = [[mf.fmt_label(v) if kind == "int64" else mf.fmt_float(v) for v in r] for r in pred]
        else:
            cols = ["prediction"]
            kind = mf.label_type(final.classes_) if is_clf else "float64"
            rows = [[mf.fmt_label(v) if is_clf else mf.fmt_float(v)] for v in pred]
        mf.write_csv(golden, cols, rows)
        outputs.append({"method": "predict", "golden": rel(golden), "columns": cols, "type": kind,
                        "tolerance": LABEL_TOL if kind != "float64" else FLOAT_TOL})
        if is_clf:
            proba = est.predict_proba(X)
            pcols = ["proba_" + mf.fmt_label(c) for c in final.classes_]
            golden = os.path.join(d, "expected_proba_%s.csv" % in_name)
            mf.write_csv(golden, pcols, [[mf.fmt_float(v) for v in r] for r in proba])
            outputs.append({"method": "predict_proba", "golden": rel(golden), "columns": pcols,
                            "type": "float64", "tolerance": FLOAT_TOL})
        case = {
            "name": rel(d) + ":" + in_name,
            "model_dir": rel(d),
            "input": rel(in_path),
            "estimator": as_class or qual(est),
            "final_estimator": qual(final),
            "serialization_format": "cloudpickle",
            "feature_source": "signature" if sig else ("feature_names_in_" if fit_names else "position"),
            "features": [str(c) for c in first.columns],
            "names_out": names_out(est),
            "outputs": outputs,
            "notes": notes,
        }
        if is_clf:
            case["classes"] = [mf.fmt_label(c) for c in final.classes_]
        CASES.append(case)
    README.append((name, notes))
    return est


# --------------------------------------------------------------------------
# older (and newer) layouts: the same fitted object under another module path
# or with other attribute names, pickled as that release wrote it


def standin(module, name):
    """A class pickled by reference as module.name (registered in sys.modules
    for pickle's identity check)."""
    mod = sys.modules.get(module)
    if mod is None:
        mod = types.ModuleType(module)
        sys.modules[module] = mod
    cls = getattr(mod, name, None)
    if cls is None:
        cls = type(name, (), {})
        cls.__module__ = module
        cls.__qualname__ = name
        setattr(mod, name, cls)
    return cls


def relayout(obj, paths, edit=None):
    """A deep copy of obj where every object whose class is in paths (real
    class -> old "module.Name") is re-created as a stand-in of that path with
    the same __dict__ (edit(obj_copy) may change attributes first)."""

    def walk(v):
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, tuple):
            return tuple(walk(x) for x in v)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if hasattr(v, "__dict__") and type(v).__module__.startswith("sklearn."):
            state = {k: walk(x) for k, x in v.__dict__.items()}
            if edit is not None:
                edit(type(v), state)
            target = paths.get(type(v))
            if target is None:
                new = copy.copy(v)
                new.__dict__.update(state)
                return new
            mod, _, nm = target.rpartition(".")
            new = object.__new__(standin(mod, nm))
            new.__dict__.update(state)
            return new
        return v

    return walk(obj)


def dumps(obj):
    return pickle.dumps(obj, protocol=4)


# --------------------------------------------------------------------------
# data


def frame(X, names):
    return pd.DataFrame(X, columns=names)


def breast_cancer():
    d = datasets.load_breast_cancer()
    names = ["f%02d_%s" % (i, n.replace(" ", "_")) for i, n in enumerate(d.feature_names)]
    return frame(d.data, names), d.target


def wine():
    d = datasets.load_wine()
    return frame(d.data, [n.replace("/", "_") for n in d.feature_names]), d.target


def iris_named():
    d = datasets.load_iris()
    y = np.array([["setosa", "versicolor", "virginica"][k] for k in d.target], dtype=object)
    return frame(d.data, ["sepal_length", "sepal_width", "petal_length", "petal_width"]), y


def diabetes():
    d = datasets.load_diabetes()
    return frame(d.data, list(d.feature_names)), d.target


def split(X, y, n_test):
    """Last n_test rows as scoring input, the rest for fitting."""
    return X.iloc[:-n_test], y[:-n_test], X.iloc[-n_test:].reset_index(drop=True)


# --------------------------------------------------------------------------
# cases


def mlp_cases():
    X, y = diabetes()
    Xf, yf, Xt = split(X, y, 120)
    inp = write_input(Xt, "diabetes_input.csv")
    est = MLPRegressor(hidden_layer_sizes=(32, 16), activation="relu", max_iter=400,
                       learning_rate_init=0.01, random_state=0).fit(Xf, yf)
    add_case("mlp_reg_relu", est, [("input", inp)],
             notes="MLPRegressor (32, 16) relu, identity output, fitted on a DataFrame")
    est2 = MLPRegressor(hidden_layer_sizes=(12,), activation="tanh", solver="lbfgs", max_iter=300,
                        random_state=1).fit(Xf, np.c_[yf, np.log(yf)])
    add_case("mlp_reg_tanh_two_targets", est2, [("input", inp)],
             notes="MLPRegressor tanh, lbfgs, two targets (prediction_0, prediction_1)")
    est3 = MLPRegressor(hidden_layer_sizes=(8, 8, 4), activation="identity", max_iter=300,
                        random_state=2).fit(Xf.to_numpy(), yf)
    add_case("mlp_reg_identity_positional", est3, [("input", inp)], fit_names=False, sig=False,
             notes="MLPRegressor identity activation, three hidden layers, fitted without names, no signature")
    est4 = MLPRegressor(hidden_layer_sizes=(10,), activation="logistic", max_iter=200, early_stopping=True,
                        random_state=3).fit(Xf, yf)
    add_case("mlp_reg_logistic_early_stopping", est4, [("input", inp)],
             notes="MLPRegressor logistic hidden activation, early_stopping (_best_coefs in the pickle)")
    # The same network under the pre-0.22 module path (multilayer_perceptron).
    old = relayout(est, {MLPRegressor: "sklearn.neural_network.multilayer_perceptron.MLPRegressor"},
                   edit=lambda cls, st: st.pop("n_features_in_", None))
    add_case("mlp_reg_relu_skl021", est, [("input", inp)], pickled=dumps(old),
             as_class="sklearn.neural_network.multilayer_perceptron.MLPRegressor",
             notes="mlp_reg_relu re-pickled as 0.21 wrote it: module multilayer_perceptron, no n_features_in_")

    X, y = breast_cancer()
    Xf, yf, Xt = split(X, y, 150)
    inp = write_input(Xt, "breast_cancer_input.csv")
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(16,), activation="logistic", max_iter=300,
                                           random_state=0))]).fit(Xf, yf)
    add_case("mlp_clf_binary_logistic", pipe, [("input", inp)],
             notes="StandardScaler -> MLPClassifier logistic, binary (one logistic output, predict = p > 0.5)")
    old = relayout(pipe, {MLPClassifier: "sklearn.neural_network.multilayer_perceptron.MLPClassifier",
                          type(pipe[-1]._label_binarizer): "sklearn.preprocessing.label.LabelBinarizer"})
    add_case("mlp_clf_binary_skl021", pipe, [("input", inp)], pickled=dumps(old),
             notes="mlp_clf_binary_logistic with the MLP and its LabelBinarizer under 0.21's module paths")

    X, y = iris_named()
    rng = np.random.RandomState(5)
    idx = rng.permutation(len(y))
    X, y = X.iloc[idx].reset_index(drop=True), y[idx]
    Xf, yf, Xt = split(X, y, 50)
    inp = write_input(Xt, "iris_input.csv")
    est = MLPClassifier(hidden_layer_sizes=(10, 5), activation="tanh", max_iter=500, random_state=0).fit(Xf, yf)
    add_case("mlp_clf_multiclass_tanh", est, [("input", inp)],
             notes="MLPClassifier tanh, three string classes (softmax output)")

    X, y = wine()
    Xf, yf, Xt = split(X, y, 60)
    inp = write_input(Xt, "wine_input.csv")
    pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(n_components=6, whiten=True, random_state=0)),
                     ("kbest", SelectKBest(f_classif, k=4)),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(20,), activation="relu", max_iter=600,
                                           random_state=0))]).fit(Xf, yf)
    add_case("wine_scaler_pca_kbest_mlp", pipe, [("input", inp)],
             notes="StandardScaler -> PCA(whiten=True) -> SelectKBest(f_classif, k=4) -> MLPClassifier relu, 3 int classes")

    Xm, Ym = datasets.make_multilabel_classification(n_samples=300, n_features=8, n_classes=4,
                                                     random_state=0)
    Xm = frame(Xm.astype(np.float64), ["m%d" % i for i in range(8)])
    Xf, Yf, Xt = split(Xm, Ym, 80)
    inp = write_input(Xt, "multilabel_input.csv")
    est = MLPClassifier(hidden_layer_sizes=(24,), activation="relu", max_iter=500, random_state=0).fit(Xf, Yf)
    add_case("mlp_clf_multilabel_relu", est, [("input", inp)],
             notes="MLPClassifier on a 4-label indicator matrix: prediction_<k> int 0/1, proba_<k> logistic outputs")


def decomposition_cases():
    X, y = diabetes()
    Xf, yf, Xt = split(X, y, 120)
    inp = os.path.join(HERE, "diabetes_input.csv")
    pipe = Pipeline([("pca", PCA(n_components=5)), ("lr", LinearRegression())]).fit(Xf, yf)
    add_case("diabetes_pca_linreg", pipe, [("input", inp)], notes="PCA(5) -> LinearRegression")
    pipe = Pipeline([("pca", PCA(n_components=0.9, svd_solver="full", whiten=True)),
                     ("mlp", MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0))]).fit(Xf, yf)
    add_case("diabetes_pca_whiten_mlp", pipe, [("input", inp)],
             notes="PCA(0.9 of the variance, whiten=True) -> MLPRegressor")
    old = relayout(pipe, {PCA: "sklearn.decomposition.pca.PCA",
                          MLPRegressor: "sklearn.neural_network.multilayer_perceptron.MLPRegressor"},
                   edit=lambda cls, st: st.pop("n_features_in_", None))
    add_case("diabetes_pca_whiten_mlp_skl021", pipe, [("input", inp)], pickled=dumps(old),
             notes="diabetes_pca_whiten_mlp with PCA and the MLP under 0.21's module paths")
    pipe = Pipeline([("ipca", IncrementalPCA(n_components=4, whiten=True, batch_size=50)),
                     ("ridge", Ridge(alpha=0.1))]).fit(Xf, yf)
    add_case("diabetes_incremental_pca_ridge", pipe, [("input", inp)],
             notes="IncrementalPCA(4, whiten=True) -> Ridge")
    pipe = Pipeline([("svd", TruncatedSVD(n_components=4, random_state=0)), ("ridge", Ridge(alpha=0.5))]).fit(Xf, yf)
    add_case("diabetes_tsvd_ridge", pipe, [("input", inp)], notes="TruncatedSVD(4) -> Ridge (no centring)")
    pipe = Pipeline([("ica", FastICA(n_components=5, whiten="unit-variance", random_state=0, max_iter=1000)),
                     ("lr", LinearRegression())]).fit(Xf, yf)
    add_case("diabetes_fastica_linreg", pipe, [("input", inp)],
             notes="FastICA(whiten='unit-variance') -> LinearRegression (centres on mean_)")

    def old_ica(cls, st):
        if cls is FastICA:
            st["whiten"] = True
            st.pop("_whiten", None)
            st.pop("_unmixing", None)
            st.pop("whiten_solver", None)
            st.pop("n_features_in_", None)

    old = relayout(pipe, {FastICA: "sklearn.decomposition.fastica_.FastICA"}, edit=old_ica)
    add_case("diabetes_fastica_linreg_skl021", pipe, [("input", inp)], pickled=dumps(old),
             notes="diabetes_fastica_linreg as 0.21 pickled it: fastica_ module, whiten=True, no _whiten/_unmixing")

    X, y = wine()
    Xf, yf, Xt = split(X, y, 60)
    inp = os.path.join(HERE, "wine_input.csv")
    pipe = Pipeline([("scale", StandardScaler()), ("ica", FastICA(n_components=4, whiten=False, random_state=0,
                                                                  max_iter=1000)),
                     ("lr", LogisticRegression(max_iter=1000))]).fit(Xf, yf)
    add_case("wine_fastica_nowhiten_logreg", pipe, [("input", inp)],
             notes="StandardScaler -> FastICA(whiten=False: no centring) -> LogisticRegression")


def selection_cases():
    # Breast cancer with three exact copies of a column (equal scores: ties),
    # a constant column (NaN F score) and a column of noise.
    X, y = breast_cancer()
    rng = np.random.RandomState(7)
    X = X.copy()
    X["dup_a"] = X.iloc[:, 3]
    X["dup_b"] = X.iloc[:, 3]
    X["const"] = 1.0
    X["noise"] = np.round(rng.randn(len(X)), 6)
    Xf, yf, Xt = split(X, y, 150)
    inp = write_input(Xt, "breast_cancer_ties_input.csv")
    # f_classif: feature 3 and its two copies have equal scores; k cuts
    # through them, so the stable argsort decides which survive.
    scores = f_classif(Xf, yf)[0]
    order = np.argsort(np.nan_to_num(scores, nan=-np.inf))
    rank_dup = int(np.sum(scores > scores[3]))
    k = rank_dup + 2  # keeps two of the three equal columns
    pipe = Pipeline([("kbest", SelectKBest(f_classif, k=k)), ("scale", StandardScaler()),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_kbest_ties_logreg", pipe, [("input", inp)],
             notes="SelectKBest(k=%d) cutting through three equal scores (stable argsort keeps the later two), NaN score of a constant column" % k)
    pct = 100.0 * (rank_dup + 2) / X.shape[1]
    pipe = Pipeline([("pct", SelectPercentile(f_classif, percentile=pct)), ("scale", StandardScaler()),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_percentile_ties_logreg", pipe, [("input", inp)],
             notes="SelectPercentile(%.6g) whose threshold falls on three equal scores (first ties kept up to int(n*p/100))" % pct)
    pipe = Pipeline([("scale", MinMaxScaler()), ("chi2", SelectKBest(chi2, k="all")),
                     ("pct", SelectPercentile(chi2, percentile=40)),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=400, random_state=0))]).fit(Xf, yf)
    add_case("bc_chi2_all_percentile_mlp", pipe, [("input", inp)],
             notes="MinMaxScaler -> SelectKBest(chi2, 'all') -> SelectPercentile(chi2, 40) -> MLPClassifier")

    # SelectFromModel: every threshold rule and importance source.
    pipe = Pipeline([("scale", StandardScaler()),
                     ("sfm", SelectFromModel(RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0),
                                             threshold="median")),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_sfm_forest_median_logreg", pipe, [("input", inp)],
             notes="SelectFromModel(RandomForestClassifier, threshold='median'): feature_importances_ from the trees")
    pipe = Pipeline([("sfm", SelectFromModel(GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0),
                                             threshold="1.25*mean")),
                     ("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_sfm_gb_125mean_logreg", pipe, [("input", inp)],
             notes="SelectFromModel(GradientBoostingClassifier, threshold='1.25*mean')")
    pipe = Pipeline([("sfm", SelectFromModel(DecisionTreeClassifier(max_depth=5, random_state=0),
                                             threshold=-np.inf, max_features=6)),
                     ("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_sfm_tree_maxfeatures_logreg", pipe, [("input", inp)],
             notes="SelectFromModel(DecisionTreeClassifier, threshold=-inf, max_features=6): stable argsort of -importances (ties at 0)")
    pipe = Pipeline([("scale", StandardScaler()),
                     ("sfm", SelectFromModel(LogisticRegression(penalty="l1", solver="liblinear", C=0.1, random_state=0))),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=500,
                                           random_state=0))]).fit(Xf, yf)
    add_case("bc_sfm_l1_default_mlp", pipe, [("input", inp)],
             notes="SelectFromModel(LogisticRegression(penalty='l1')) with the default threshold (1e-5 for L1 models)")
    rfe = RFE(LogisticRegression(max_iter=5000), n_features_to_select=8, step=4).fit(Xf, yf)
    add_case("bc_rfe_logreg_model", rfe, [("input", inp)],
             notes="RFE(LogisticRegression) as the model, with predict_proba")
    pipe = Pipeline([("scale", StandardScaler()), ("vt", VarianceThreshold(threshold=0.5)),
                     ("rfe", RFE(LogisticRegression(max_iter=2000), n_features_to_select=6, step=3)),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_vt_rfe_logreg", pipe, [("input", inp)],
             notes="VarianceThreshold(0.5) after scaling (drops the constant column) -> RFE(6) -> LogisticRegression")
    old = relayout(pipe, {VarianceThreshold: "sklearn.feature_selection.variance_threshold.VarianceThreshold",
                          RFE: "sklearn.feature_selection.rfe.RFE"},
                   edit=lambda cls, st: [st.pop(k, None) for k in ("n_features_in_", "importance_getter")])
    add_case("bc_vt_rfe_logreg_skl021", pipe, [("input", inp)], pickled=dumps(old),
             notes="bc_vt_rfe_logreg with VarianceThreshold and RFE under 0.21's modules, without n_features_in_ and importance_getter")

    X, y = wine()
    Xf, yf, Xt = split(X, y, 60)
    inp = os.path.join(HERE, "wine_input.csv")
    pipe = Pipeline([("scale", StandardScaler()),
                     ("sfm", SelectFromModel(LogisticRegression(max_iter=2000), threshold="mean")),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("wine_sfm_logreg_mean", pipe, [("input", inp)],
             notes="SelectFromModel(multinomial LogisticRegression, 'mean'): L1 norm of coef_ over the classes")
    old = relayout(pipe, {SelectFromModel: "sklearn.feature_selection.from_model.SelectFromModel"},
                   edit=lambda cls, st: [st.pop(k, None) for k in ("importance_getter", "max_features_",
                                                                    "n_features_in_")])
    add_case("wine_sfm_logreg_mean_skl021", pipe, [("input", inp)], pickled=dumps(old),
             notes="wine_sfm_logreg_mean with SelectFromModel as 0.21 pickled it: from_model module, no importance_getter")
    pipe = Pipeline([("scale", StandardScaler()),
                     ("sfm", SelectFromModel(LogisticRegression(max_iter=2000), threshold=0.8, norm_order=2)),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("wine_sfm_logreg_norm2_number", pipe, [("input", inp)],
             notes="SelectFromModel(norm_order=2, threshold=0.8)")
    sc = StandardScaler().fit(Xf)
    lr = LogisticRegression(max_iter=2000).fit(sc.transform(Xf), yf)
    sfm = SelectFromModel(lr, prefit=True, threshold="median")
    clf = LogisticRegression(max_iter=2000).fit(sfm.transform(sc.transform(Xf)), yf)
    pipe = Pipeline([("scale", sc), ("sfm", sfm), ("lr", clf)])
    add_case("wine_sfm_prefit_unfitted", pipe, [("input", inp)],
             notes="SelectFromModel(prefit=True) never fitted: no estimator_, the given estimator is used")
    rfe = RFE(DecisionTreeClassifier(max_depth=4, random_state=0), n_features_to_select=5).fit(Xf, yf)
    add_case("wine_rfe_tree_model", rfe, [("input", inp)],
             notes="RFE(DecisionTreeClassifier) logged as the model itself: predict = estimator_.predict(transform(X))")
    rfecv = RFECV(LogisticRegression(max_iter=3000), step=2, cv=3).fit(Xf, yf)
    pipe = Pipeline([("rfecv", rfecv), ("mlp", MLPClassifier(hidden_layer_sizes=(10,), max_iter=800,
                                                                random_state=0))])
    pipe.fit(Xf, yf)
    add_case("wine_rfecv_mlp", pipe, [("input", inp)], notes="RFECV(LogisticRegression) -> MLPClassifier")

    X, y = diabetes()
    Xf, yf, Xt = split(X, y, 120)
    inp = os.path.join(HERE, "diabetes_input.csv")
    pipe = Pipeline([("sfm", SelectFromModel(Lasso(alpha=0.5))), ("lr", LinearRegression())]).fit(Xf, yf)
    add_case("diabetes_sfm_lasso_linreg", pipe, [("input", inp)],
             notes="SelectFromModel(Lasso) default threshold 1e-5 (1-D coef_)")
    pipe = Pipeline([("sfm", SelectFromModel(ExtraTreeRegressor(max_depth=6, random_state=0), threshold=0.05)),
                     ("ridge", Ridge())]).fit(Xf, yf)
    add_case("diabetes_sfm_extratree_number_ridge", pipe, [("input", inp)],
             notes="SelectFromModel(ExtraTreeRegressor, threshold=0.05)")
    pipe = Pipeline([("kbest", SelectKBest(f_regression, k=5)),
                     ("mlp", MLPRegressor(hidden_layer_sizes=(10,), max_iter=800, random_state=0))]).fit(Xf, yf)
    old = relayout(pipe, {SelectKBest: "sklearn.feature_selection.univariate_selection.SelectKBest"},
                   edit=lambda cls, st: st.pop("n_features_in_", None))
    # The pickled score_func keeps its own module; in 0.21 that was
    # univariate_selection too.
    old.steps[0][1].score_func = standin_func("sklearn.feature_selection.univariate_selection", "f_regression")
    add_case("diabetes_kbest_mlp_skl021", pipe, [("input", inp)], pickled=dumps(old),
             notes="SelectKBest(f_regression) -> MLPRegressor with SelectKBest and its score_func under 0.21's module")
    rfe = RFE(LinearRegression(), n_features_to_select=4).fit(Xf, yf)
    add_case("diabetes_rfe_linreg_model", rfe, [("input", inp)],
             notes="RFE(LinearRegression) as the model")

    # ColumnTransformer: selectors inside, names flowing out.
    Xc, y = breast_cancer()
    Xc = Xc.iloc[:, :8].copy()
    Xc["grade"] = np.where(Xc.iloc[:, 0] > Xc.iloc[:, 0].median(), "high", "low")
    Xc["site"] = np.array(["a", "b", "c"], dtype=object)[np.arange(len(Xc)) % 3]
    Xf, yf, Xt = split(Xc, y, 150)
    inp = write_input(Xt, "bc_mixed_input.csv")
    ct = ColumnTransformer([
        ("num", Pipeline([("scale", StandardScaler()), ("kbest", SelectKBest(f_classif, k=4))]),
         list(Xc.columns[:8])),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["grade", "site"]),
    ])
    pipe = Pipeline([("ct", ct), ("vt", VarianceThreshold(0.1)),
                     ("pct", SelectPercentile(f_classif, percentile=60)),
                     ("lr", LogisticRegression(max_iter=2000))]).fit(Xf, yf)
    add_case("bc_ct_kbest_onehot_vt_percentile_logreg", pipe, [("input", inp)],
             notes="ColumnTransformer(scaler + SelectKBest on numbers, OneHotEncoder) -> VarianceThreshold -> SelectPercentile -> LogisticRegression (names flow through the selectors)")


def mask_cases():
    """Selectors with synthetic fitted scores (many ties, NaN, infinities),
    pickled, with scikit-learn's own get_support(): masks.json, checked by
    model/sklearn's unit tests through the same decoder and builders."""
    import base64
    rng = np.random.RandomState(11)
    out = []

    def scores_vec(n):
        kind = rng.randint(4)
        if kind == 0:
            v = rng.randint(0, 4, n).astype(np.float64)  # heavy ties
        elif kind == 1:
            v = np.round(rng.randn(n), 1)
        else:
            v = rng.rand(n) * 10
        if rng.rand() < 0.4:
            v[rng.rand(n) < 0.15] = np.nan
        if rng.rand() < 0.2:
            v[rng.randint(n)] = np.inf
        if rng.rand() < 0.2:
            v[v == 0] = -0.0
        return v

    def add(sel, what):
        out.append({"what": what, "pickle": base64.b64encode(dumps(sel)).decode(),
                    "support": [int(i) for i in np.where(sel.get_support())[0]]})

    for i in range(60):
        n = int(rng.choice([1, 2, 5, 9, 17, 40, 130, 300]))
        v = scores_vec(n)
        choice = rng.randint(3)
        if choice == 0:
            k = "all" if rng.rand() < 0.1 else int(rng.randint(0, n + 2))
            sel = SelectKBest(f_classif, k=min(k, n) if k != "all" else k)
            sel.scores_, sel.pvalues_ = v, v
            add(sel, "SelectKBest k=%s n=%d" % (sel.k, n))
        elif choice == 1:
            p = [0, 100, int(rng.randint(1, 100)), float(np.round(rng.rand() * 100, 3))][rng.randint(4)]
            sel = SelectPercentile(f_classif, percentile=p)
            sel.scores_, sel.pvalues_ = v, v
            add(sel, "SelectPercentile percentile=%s n=%d" % (p, n))
        else:
            thr = [None, "mean", "median", "1.25*mean", " 0.5 * median", float(np.round(rng.rand() * 3, 2)),
                   -np.inf][rng.randint(7)]
            mf_ = None if rng.rand() < 0.5 else int(rng.randint(0, n + 1))
            if rng.rand() < 0.5:
                est = Lasso()
                est.coef_ = v * np.where(rng.rand(n) < 0.5, -1, 1)
            else:
                est = Ridge()
                est.coef_ = np.vstack([v, scores_vec(n) if rng.rand() < 0.5 else v[::-1].copy()])
            norm = [1, 2, np.inf][rng.randint(3)]
            sel = SelectFromModel(est, prefit=True, threshold=thr, max_features=mf_, norm_order=norm)
            add(sel, "SelectFromModel %s threshold=%r max_features=%s norm_order=%s n=%d" % (
                type(est).__name__, thr, mf_, norm, n))
    for i in range(6):
        n = int(rng.choice([3, 12, 50]))
        v = np.round(rng.rand(n), 1)
        sel = VarianceThreshold(threshold=float(rng.choice([0.0, 0.3, 0.5])))
        sel.variances_ = v
        sel.n_features_in_ = n
        add(sel, "VarianceThreshold threshold=%s n=%d" % (sel.threshold, n))
    mf.write_text(os.path.join(HERE, "masks.json"), json.dumps({
        "about": "selectors with synthetic fitted scores and scikit-learn's get_support(); written by gen.py",
        "cases": out}, indent=1) + "\n")


def dictvectorizer_cases():
    """DictVectorizer cannot be fed from a table: transform iterates X and
    calls .items() on each element. A DataFrame (what MLflow's pyfunc passes)
    iterates its column names, a 2-D array its rows; both fail. The only table
    shape that works is a column of dict cells routed by a ColumnTransformer
    with a scalar column name (a Series of dicts), which no CSV or flat
    Parquet input can hold. mlbatch refuses these models at load, saying so;
    the Python errors are recorded here as the evidence."""
    recs = [{"city": c, "rooms": float(r), "garden": bool(g)}
            for c, r, g in zip(np.array(["Paris", "Rome", "Oslo", "Lyon"])[np.arange(40) % 4],
                               np.arange(40) % 5 + 1, np.arange(40) % 3 == 0)]
    y = (np.arange(40) % 5 > 2).astype(int)
    df = pd.DataFrame(recs)
    inp = write_input(df, "dict_records_input.csv")

    def refusal(name, est, python_input, want, notes):
        d = os.path.join(HERE, name)
        mf.save_sklearn_model(d, est, fmt="cloudpickle", protocol=4, signature=signature(df),
                              utc_time="2024-06-10 08:00:00.000000")
        try:
            est.predict(python_input)
            err = None
        except Exception as e:  # the evidence: what pyfunc's predict raises
            err = "%s: %s" % (type(e).__name__, e)
        REFUSALS.append({"name": name, "kind": "model_load", "model_dir": rel(d), "input": rel(inp),
                         "want": want, "python_error_on_dataframe": err, "notes": notes})
        README.append((name, notes + " (refused at load)"))

    pipe = Pipeline([("dv", DictVectorizer(sparse=False, separator=":")),
                     ("lr", LogisticRegression(max_iter=1000))]).fit(recs, y)
    refusal("dictvectorizer_logreg", pipe, pd.read_csv(inp), ["DictVectorizer", "DataFrame"],
            "Pipeline(DictVectorizer, LogisticRegression) fitted on a list of dicts; pyfunc's DataFrame fails in Python")
    ct = Pipeline([("ct", ColumnTransformer([("dv", DictVectorizer(), "feats")])),
                   ("lr", LogisticRegression(max_iter=1000))]).fit(pd.DataFrame({"feats": recs}), y)
    refusal("dictvectorizer_in_ct_logreg", ct, pd.read_csv(inp), ["DictVectorizer"],
            "ColumnTransformer routing a column of dicts to DictVectorizer: a CSV or flat Parquet column holds no dicts")


def standin_func(module, name):
    cls = standin(module, name)
    return cls


def write_readme():
    lines = ["# Long-tail fixtures: MLP, decomposition, feature selection, DictVectorizer", "",
             "Written by `gen.py` (scikit-learn %s, numpy %s, pandas %s via /usr/bin/python3)." % (
                 sklearn.__version__, np.__version__, pd.__version__),
             "Every case is scored through the CLI by cmd/mlbatch/longtail_mlp_decomp_test.go.", "",
             "| model folder | what it covers |", "|---|---|"]
    for name, notes in README:
        lines.append("| %s | %s |" % (name, notes))
    mf.write_text(os.path.join(HERE, "README.md"), "\n".join(lines) + "\n")


def main():
    for entry in os.listdir(HERE):
        if entry in KEEP:
            continue
        p = os.path.join(HERE, entry)
        if os.path.isdir(p):
            shutil.rmtree(p)
        else:
            os.remove(p)
    mlp_cases()
    decomposition_cases()
    selection_cases()
    mask_cases()
    dictvectorizer_cases()
    doc = {
        "about": "long-tail scikit-learn fixtures (MLP, decomposition, selection, DictVectorizer); written by testdata/%s/gen.py" % AREA,
        "generator": {"sklearn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "conventions": {
            "paths": "relative to testdata/",
            "inputs": "read by pandas.read_csv, then scored with the model's own columns",
            "proba_columns": "proba_<label> in classes_ order, label as Python str()",
            "tolerance": "|got - want| <= abs + rel*|want|; exact for labels",
        },
        "cases": CASES,
        "errors": ERRORS,
        "refusals": REFUSALS,
    }
    mf.write_text(os.path.join(HERE, "cases.json"), json.dumps(doc, indent=2) + "\n")
    write_readme()


if __name__ == "__main__":
    main()
