#!/usr/bin/python3
"""Generate mlbatch's meta-estimator fixtures (issue #11): search wrappers,
TransformedTargetRegressor, calibration, voting, stacking, multi-output,
one-vs-rest, AdaBoost and bagging, as MLflow sklearn folders with golden
predictions and cases.json.

Run with Debian's Python stack (scikit-learn 1.2.1, numpy 1.24, pandas 1.5,
cloudpickle 2.2), which is /usr/bin/python3:

    /usr/bin/python3 testdata/longtail/meta/gen.py

Goldens are what scikit-learn computes on the DataFrame pandas.read_csv builds
from each input CSV. Old layouts (module paths and attribute names of earlier
releases) are real fitted objects re-pickled through stand-in classes that
carry the old class path and the old attribute names; they reuse the goldens
of the object they came from.

Deterministic: fixed seeds, single-threaded numerics. The script owns
testdata/longtail/meta/ except itself.
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
from scipy import stats
from sklearn import datasets
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeCV
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTDATA, "gen"))
import make_fixtures as mf  # noqa: E402  (MLflow folder helpers)

warnings.filterwarnings("ignore")

KEEP = {"gen.py", "__pycache__"}
FLOAT_TOL = {"rel": 1e-9, "abs": 1e-12, "note": "float64 arithmetic in numpy's order"}
LABEL_TOL = {"exact": True, "note": "labels compare exactly"}
CASES, REFUSALS = [], []
GOLDENS = {}  # model name -> (input path, outputs)


def rel(path):
    return os.path.relpath(path, TESTDATA).replace(os.sep, "/")


def qual(est):
    return type(est).__module__ + "." + type(est).__name__


# --------------------------------------------------------------------------
# data


def frame(X, names):
    return pd.DataFrame(np.asarray(X, dtype=float), columns=names)


def iris():
    d = datasets.load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X = frame(d.data, names)
    rng = np.random.RandomState(0)
    idx = rng.permutation(len(X))
    return X.iloc[idx[:100]].reset_index(drop=True), d.target[idx[:100]], X.iloc[idx].reset_index(drop=True)


def cancer():
    d = datasets.load_breast_cancer()
    names = ["f%d" % i for i in range(8)]
    X = frame(d.data[:, :8], names)
    y = np.where(d.target == 1, "benign", "malignant").astype(object)
    return X.iloc[:400], y[:400], X.iloc[400:].reset_index(drop=True), d.target[:400]


def diabetes():
    d = datasets.load_diabetes()
    X = frame(d.data, list(d.feature_names))
    return X.iloc[:300], d.target[:300], X.iloc[300:].reset_index(drop=True)


def customers(n, seed):
    """A small mixed table: numbers and a text column."""
    rng = np.random.RandomState(seed)
    age = np.round(rng.normal(41, 12, n).clip(18, 90), 1)
    income = np.round(rng.lognormal(10.3, 0.45, n), 2)
    score = np.round(rng.rand(n), 6)
    city = rng.choice(["Paris", "Lyon", "Berlin", "Madrid", "Rome"], n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    X = pd.DataFrame({"age": age, "income": income, "score": score, "city": city})
    z = 0.04 * (age - 41) + 1.5 * (score - 0.5) + np.where(city == "Berlin", 0.8, 0.0) + rng.normal(0, 0.6, n)
    churn = np.where(z > 0.3, "yes", np.where(z > -0.4, "maybe", "no")).astype(object)
    spend = np.round(50 + 0.002 * income + 30 * score + np.where(city == "Paris", 20, 0) + rng.normal(0, 5, n), 2)
    return X, churn, spend


def write_input(df, name):
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, lineterminator="\n")
    return path


# --------------------------------------------------------------------------
# folders and goldens


def save(name, est, *, pickled=None, fmt="cloudpickle", protocol=4, signature=None):
    d = os.path.join(HERE, name)
    mf.save_sklearn_model(d, est, pickled=pickled, fmt=fmt, protocol=protocol, signature=signature,
                          utc_time="2024-06-10 08:00:00.000000")
    return d


def outputs_of(est, X, d):
    """Golden files for predict and, where the estimator has it, predict_proba."""
    outs = []
    pred = np.asarray(est.predict(X))
    is_clf = getattr(est, "_estimator_type", None) == "classifier"
    if pred.ndim == 2:
        cols = ["prediction_%d" % k for k in range(pred.shape[1])]
        kinds = ([mf.label_type(pred[:, k]) for k in range(pred.shape[1])] if is_clf
                 else ["float64"] * pred.shape[1])
        golden = os.path.join(d, "expected.csv")
        mf.write_csv(golden, cols, [[mf.fmt_float(v) if kinds[k] == "float64" else mf.fmt_label(v)
                                     for k, v in enumerate(r)] for r in pred])
        outs.append({"method": "predict", "golden": rel(golden), "columns": cols, "type": kinds[0],
                     "tolerance": LABEL_TOL if is_clf else FLOAT_TOL})
    else:
        kind = mf.label_type(est.classes_) if is_clf else "float64"
        golden = os.path.join(d, "expected.csv")
        mf.write_csv(golden, ["prediction"], [[mf.fmt_float(v) if kind == "float64" else mf.fmt_label(v)]
                                              for v in pred])
        outs.append({"method": "predict", "golden": rel(golden), "columns": ["prediction"], "type": kind,
                     "tolerance": LABEL_TOL if is_clf else FLOAT_TOL})
    if is_clf:
        try:
            proba = est.predict_proba(X)
        except AttributeError:
            proba = None
        if proba is not None:
            golden = os.path.join(d, "expected_proba.csv")
            if isinstance(proba, list):  # multi-output
                cols, rows = [], [[] for _ in range(len(X))]
                for k, (p, c) in enumerate(zip(proba, est.classes_)):
                    cols += ["proba_%d_%s" % (k, mf.fmt_label(v)) for v in c]
                    for i, r in enumerate(p):
                        rows[i] += [mf.fmt_float(v) for v in r]
            else:
                cols = ["proba_" + mf.fmt_label(c) for c in est.classes_]
                rows = [[mf.fmt_float(v) for v in r] for r in proba]
            mf.write_csv(golden, cols, rows)
            outs.append({"method": "predict_proba", "golden": rel(golden), "columns": cols, "type": "float64",
                         "tolerance": FLOAT_TOL})
    return outs


def untime(est):
    """Zero a search's fit and score timings (inert data, never used to
    predict) so that reruns write identical bytes."""
    res = getattr(est, "cv_results_", None)
    if res is not None:
        for k in ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time"):
            if k in res:
                res[k] = np.zeros_like(res[k])
    if hasattr(est, "refit_time_"):
        est.refit_time_ = 0.0


def add(name, est, X_fit, y, in_path, *, fit=True, notes="", fit_kw=None, signature=False):
    if fit:
        est.fit(X_fit, y, **(fit_kw or {}))
    untime(est)
    sig = mf.col_signature(list(X_fit.columns), mf.out_tensor("int64")) if signature else None
    d = save(name, est, signature=sig)
    X = pd.read_csv(in_path)[list(X_fit.columns)]
    outs = outputs_of(est, X, d)
    GOLDENS[name] = (in_path, outs, est)
    CASES.append({"name": "meta/" + name, "model_dir": rel(d), "input": rel(in_path), "estimator": qual(est),
                  "serialization_format": "cloudpickle", "outputs": outs, "notes": notes,
                  "feature_source": "feature_names_in_" if hasattr(est, "feature_names_in_") else "position"})
    return est


def add_layout(name, like, obj, notes, fmt="pickle", protocol=4):
    """A re-pickled object in an older layout, scored against like's goldens."""
    in_path, outs, est = GOLDENS[like]
    data = pickle.dumps(obj, protocol=protocol)
    d = save(name, None, pickled=data, fmt=fmt, protocol=protocol)
    CASES.append({"name": "meta/" + name, "model_dir": rel(d), "input": rel(in_path), "estimator": qual(est),
                  "serialization_format": fmt, "outputs": outs, "notes": notes,
                  "feature_source": "feature_names_in_" if hasattr(est, "feature_names_in_") else "position"})


def add_refusal(name, est, want, notes, *, pickled=None):
    d = save(name, est, pickled=pickled)
    REFUSALS.append({"name": "meta/" + name, "model_dir": rel(d), "want": want, "notes": notes})


# --------------------------------------------------------------------------
# stand-ins for older releases


def stand_in(module, name, state):
    """An object that pickles as module.name (NEWOBJ + BUILD state), the way
    an estimator of a release with that class path pickles."""
    mod = sys.modules.get(module)
    if mod is None:
        mod = types.ModuleType(module)
        sys.modules[module] = mod
    cls = getattr(mod, name, None)
    if cls is None:
        cls = type(name, (object,), {"__module__": module, "__qualname__": name})
        setattr(mod, name, cls)
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def state_of(est):
    return dict(est.__getstate__())


# --------------------------------------------------------------------------
# cases


def search_cases():
    Xi, yi, Xi_all = iris()
    iris_in = write_input(Xi_all, "iris_input.csv")
    Xd, yd, Xd_in = diabetes()
    diab_in = write_input(Xd_in, "diabetes_input.csv")
    Xc, churn, spend = customers(400, 7)
    cust_in = write_input(customers(150, 8)[0], "customers_input.csv")

    add("grid_logreg_iris", GridSearchCV(LogisticRegression(max_iter=2000), {"C": [0.05, 1.0, 20.0]}, cv=3),
        Xi, yi, iris_in, notes="GridSearchCV over LogisticRegression; cv_results_ holds masked arrays")
    prep = ColumnTransformer([("num", StandardScaler(), ["age", "income", "score"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])
    add("grid_pipeline_customers", GridSearchCV(
        Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))]),
        {"clf__C": [0.1, 1.0], "prep__num__with_mean": [True, False]},
        scoring=["accuracy", "f1_macro"], refit="accuracy", cv=3),
        Xc, churn, cust_in, notes="GridSearchCV over a Pipeline with a text column; two scorers, refit='accuracy'")
    add("randomized_tree_iris", RandomizedSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": [2, 3, 4, None], "min_samples_leaf": [1, 3, 5]},
        n_iter=5, cv=3, random_state=0), Xi, yi, iris_in, notes="RandomizedSearchCV over lists")
    add("randomized_scipy_forest_diabetes", RandomizedSearchCV(
        RandomForestRegressor(n_estimators=10, random_state=0),
        {"max_depth": stats.randint(2, 6), "min_samples_leaf": stats.randint(1, 8),
         "max_features": stats.uniform(0.3, 0.6), "ccp_alpha": stats.loguniform(1e-3, 1.0)},
        n_iter=3, cv=3, random_state=0), Xd, yd, diab_in,
        notes="RandomizedSearchCV over scipy.stats distributions (bound methods, numpy.vectorize)")
    add_layout("randomized_scipy_forest_diabetes_pickle", "randomized_scipy_forest_diabetes",
               GOLDENS["randomized_scipy_forest_diabetes"][2],
               "the same search written by plain pickle: bound methods as getattr(instance, name)")
    add("halving_grid_gb_diabetes", HalvingGridSearchCV(
        GradientBoostingRegressor(n_estimators=20, random_state=0), {"max_depth": [2, 3], "learning_rate": [0.05, 0.2]},
        cv=3, random_state=0), Xd, yd, diab_in, notes="HalvingGridSearchCV")
    add("halving_random_hgb_iris", HalvingRandomSearchCV(
        HistGradientBoostingClassifier(max_iter=20, random_state=0), {"max_depth": [2, 3, None], "learning_rate": [0.05, 0.1, 0.3]},
        cv=3, random_state=0, factor=2), Xi, yi, iris_in, notes="HalvingRandomSearchCV")
    g = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=3, refit=False).fit(Xd, yd)
    untime(g)
    add_refusal("refuse_grid_refit_false", g, ["refit=False", "best_estimator_"],
                "a search fitted with refit=False has nothing to predict with")
    # Old module path (scikit-learn < 0.22 wrote sklearn.model_selection._search too,
    # but sklearn.grid_search before 0.20).
    best = GOLDENS["grid_logreg_iris"][2]
    add_layout("grid_logreg_iris_grid_search_module", "grid_logreg_iris",
               stand_in("sklearn.grid_search", "GridSearchCV",
                        {k: v for k, v in state_of(best).items() if k in ("best_estimator_", "refit", "estimator",
                                                                          "best_params_", "best_score_")}),
               "the same search under scikit-learn 0.19's sklearn.grid_search module")


def ttr_cases():
    Xd, yd, Xd_in = diabetes()
    diab_in = os.path.join(HERE, "diabetes_input.csv")
    Xc, churn, spend = customers(400, 7)
    cust_in = os.path.join(HERE, "customers_input.csv")
    add("ttr_ridge_log_exp", TransformedTargetRegressor(Ridge(alpha=0.5), func=np.log, inverse_func=np.exp),
        Xd, yd, diab_in, notes="func=np.log, inverse_func=np.exp")
    prep = ColumnTransformer([("num", StandardScaler(), ["age", "income", "score"]),
                              ("cat", OneHotEncoder(), ["city"])])
    add("ttr_pipeline_log1p_expm1", TransformedTargetRegressor(
        Pipeline([("prep", prep), ("hgb", HistGradientBoostingRegressor(max_iter=30, random_state=0))]),
        func=np.log1p, inverse_func=np.expm1), Xc, spend, cust_in,
        notes="a Pipeline with a text column as regressor; np.log1p / np.expm1")
    add("ttr_linreg_standard", TransformedTargetRegressor(LinearRegression(), transformer=StandardScaler()),
        Xd, yd, diab_in, notes="transformer=StandardScaler()")
    add("ttr_tree_minmax", TransformedTargetRegressor(DecisionTreeRegressor(max_depth=4, random_state=0),
                                                      transformer=MinMaxScaler(feature_range=(-1, 2))),
        Xd, yd, diab_in, notes="transformer=MinMaxScaler((-1, 2))")
    add("ttr_ridge_robust", TransformedTargetRegressor(Ridge(), transformer=RobustScaler()),
        Xd, yd, diab_in, notes="transformer=RobustScaler()")
    add("ttr_gb_maxabs", TransformedTargetRegressor(GradientBoostingRegressor(n_estimators=20, random_state=0),
                                                    transformer=MaxAbsScaler()),
        Xd, yd, diab_in, notes="transformer=MaxAbsScaler()")
    add("ttr_ridge_sqrt_square", TransformedTargetRegressor(Ridge(), func=np.sqrt, inverse_func=np.square,
                                                            check_inverse=False),
        Xd, yd, diab_in, notes="func=np.sqrt, inverse_func=np.square")
    add("ttr_ridge_2d", TransformedTargetRegressor(Ridge(), transformer=StandardScaler()),
        Xd, yd.reshape(-1, 1), diab_in, notes="a 2-D target: predict keeps its (n, 1) shape")
    t = TransformedTargetRegressor(Ridge(), func=np.arctan, inverse_func=np.tan, check_inverse=False)
    t.fit(Xd, yd / 400)
    add_refusal("refuse_ttr_tan", t, ["numpy.tan", "does not evaluate"],
                "inverse_func=np.tan is outside the allow-list of ufuncs")


def voting_cases():
    Xi, yi, _ = iris()
    iris_in = os.path.join(HERE, "iris_input.csv")
    Xb, yb, Xb_in, _ = cancer()
    bc_in = write_input(Xb_in, "cancer_input.csv")
    Xd, yd, _ = diabetes()
    diab_in = os.path.join(HERE, "diabetes_input.csv")
    Xc, churn, spend = customers(400, 7)
    cust_in = os.path.join(HERE, "customers_input.csv")

    add("voting_soft_weights_iris", VotingClassifier([
        ("lr", LogisticRegression(max_iter=2000)), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("rf", RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0))],
        voting="soft", weights=[2, 1, 1.5]), Xi, yi, iris_in, notes="soft voting, weights")
    add("voting_hard_drop_iris", VotingClassifier([
        ("lr", LogisticRegression(max_iter=2000)), ("skip", "drop"),
        ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
        ("gb", GradientBoostingClassifier(n_estimators=10, random_state=0))],
        voting="hard", weights=[1, 3, 1, 1]), Xi, yi, iris_in, notes="hard voting with a 'drop' member and weights")
    add("voting_hard_cancer_strings", VotingClassifier([
        ("lr", LogisticRegression(max_iter=5000)), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("hgb", HistGradientBoostingClassifier(max_iter=15, random_state=0)),
        ("et", ExtraTreesClassifier(n_estimators=6, random_state=0))]), Xb, yb, bc_in,
        notes="hard voting (ties between two pairs), string labels")
    add("voting_regressor_diabetes", VotingRegressor([
        ("lin", LinearRegression()), ("ridge", Ridge(alpha=2.0)),
        ("gb", GradientBoostingRegressor(n_estimators=15, random_state=0)),
        ("tree", DecisionTreeRegressor(max_depth=4, random_state=0))], weights=[1, 2, 3, 0.5]),
        Xd, yd, diab_in, notes="VotingRegressor with weights")
    add("voting_regressor_plain", VotingRegressor([
        ("lin", LinearRegression()), ("rf", RandomForestRegressor(n_estimators=5, random_state=0))]),
        Xd, yd, diab_in, notes="VotingRegressor, equal weights")
    num = ["age", "income", "score"]
    add("voting_soft_pipelines_customers", VotingClassifier([
        ("lr", Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), num),
                                                     ("cat", OneHotEncoder(), ["city"])])),
                         ("lr", LogisticRegression(max_iter=2000))])),
        ("tree", Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(), ["city"])], remainder="passthrough")),
                           ("tree", DecisionTreeClassifier(max_depth=4, random_state=0))]))], voting="soft"),
        Xc, churn, cust_in, notes="soft voting over two Pipelines that read a text column")
    vh = GOLDENS["voting_hard_drop_iris"][2]
    st = state_of(vh)
    st["estimators"] = [(n, None if e == "drop" else e) for n, e in st["estimators"]]
    add_layout("voting_hard_drop_iris_0_21", "voting_hard_drop_iris",
               stand_in("sklearn.ensemble.voting", "VotingClassifier", st),
               "scikit-learn 0.21: sklearn.ensemble.voting, None instead of 'drop'")


def renamed(obj, mapping, module=None, name=None):
    """A copy of obj whose attributes are renamed (new -> old), optionally as
    another class path."""
    st = {mapping.get(k, k): v for k, v in state_of(obj).items()}
    if module is None:
        o = copy.copy(obj)
        o.__dict__ = st
        return o
    return stand_in(module, name, st)


def calibration_cases():
    Xi, yi, _ = iris()
    iris_in = os.path.join(HERE, "iris_input.csv")
    Xb, yb, _, _ = cancer()
    bc_in = os.path.join(HERE, "cancer_input.csv")
    Xc, churn, spend = customers(400, 7)
    cust_in = os.path.join(HERE, "customers_input.csv")
    add("cal_sigmoid_logreg_cancer", CalibratedClassifierCV(LogisticRegression(max_iter=5000), cv=3),
        Xb, yb, bc_in, notes="sigmoid, binary string labels, LogisticRegression's decision_function")
    add("cal_isotonic_forest_iris", CalibratedClassifierCV(
        RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0), method="isotonic", cv=3),
        Xi, yi, iris_in, notes="isotonic, multiclass, predict_proba (a forest has no decision_function)")
    add("cal_isotonic_svc_iris", CalibratedClassifierCV(SVC(random_state=0), method="isotonic", cv=4),
        Xi, yi, iris_in, notes="isotonic over SVC's one-vs-rest decision_function")
    add("cal_sigmoid_linearsvc_single_cancer", CalibratedClassifierCV(LinearSVC(C=0.01, max_iter=20000, random_state=0),
                                                                     ensemble=False, cv=3),
        Xb, yb, bc_in, notes="ensemble=False: one calibrated classifier over LinearSVC")
    gb = GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0).fit(Xi.iloc[:60], yi[:60])
    add("cal_prefit_gb_iris", CalibratedClassifierCV(gb, cv="prefit", method="sigmoid"),
        Xi.iloc[60:], yi[60:], iris_in, notes="cv='prefit' over GradientBoostingClassifier")
    add("cal_gaussiannb_isotonic_cancer", CalibratedClassifierCV(GaussianNB(), method="isotonic", cv=3),
        Xb, yb, bc_in, notes="isotonic, binary, GaussianNB's predict_proba[:, 1:]")
    prep = ColumnTransformer([("num", StandardScaler(), ["age", "income", "score"]),
                              ("cat", OneHotEncoder(), ["city"])])
    add("cal_pipeline_customers", CalibratedClassifierCV(
        Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000))]), method="isotonic", cv=3),
        Xc, churn, cust_in, notes="a Pipeline with a text column, isotonic")
    add("cal_voting_iris", CalibratedClassifierCV(VotingClassifier([
        ("lr", LogisticRegression(max_iter=2000)), ("nb", GaussianNB())], voting="soft"), cv=3),
        Xi, yi, iris_in, notes="nested: calibrating a soft VotingClassifier (predict_proba)")
    # scikit-learn 1.1 (base_estimator) and 0.23 (calibrators_, classes_) layouts.
    cal = GOLDENS["cal_sigmoid_logreg_cancer"][2]
    old = renamed(cal, {"estimator": "base_estimator"})
    old.calibrated_classifiers_ = [renamed(c, {"estimator": "base_estimator"}) for c in cal.calibrated_classifiers_]
    add_layout("cal_sigmoid_logreg_cancer_1_1", "cal_sigmoid_logreg_cancer", old,
               "scikit-learn 1.1: _CalibratedClassifier.base_estimator")
    cal = GOLDENS["cal_isotonic_forest_iris"][2]
    old = renamed(cal, {"estimator": "base_estimator"})
    old.calibrated_classifiers_ = [renamed(c, {"estimator": "base_estimator", "calibrators": "calibrators_",
                                               "classes": "classes_"}) for c in cal.calibrated_classifiers_]
    add_layout("cal_isotonic_forest_iris_0_23", "cal_isotonic_forest_iris", old,
               "scikit-learn 0.23: base_estimator, calibrators_, classes_")


def stacking_cases():
    Xi, yi, _ = iris()
    iris_in = os.path.join(HERE, "iris_input.csv")
    Xb, yb, _, _ = cancer()
    bc_in = os.path.join(HERE, "cancer_input.csv")
    Xd, yd, _ = diabetes()
    diab_in = os.path.join(HERE, "diabetes_input.csv")
    Xc, churn, spend = customers(400, 7)
    cust_in = os.path.join(HERE, "customers_input.csv")
    add("stack_clf_iris", StackingClassifier([
        ("lr", LogisticRegression(max_iter=2000)), ("off", "drop"),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("svc", SVC(random_state=0))],
        final_estimator=LogisticRegression(max_iter=2000), cv=3), Xi, yi, iris_in,
        notes="auto stack methods: predict_proba, decision_function; a 'drop' member")
    add("stack_clf_cancer_passthrough", StackingClassifier([
        ("nb", GaussianNB()), ("gb", GradientBoostingClassifier(n_estimators=10, random_state=0))],
        passthrough=True, cv=3), Xb, yb, bc_in,
        notes="binary: predict_proba loses its first column; passthrough; string labels")
    add("stack_clf_predict_iris", StackingClassifier([
        ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)), ("nb", GaussianNB())],
        final_estimator=RandomForestClassifier(n_estimators=5, random_state=0), stack_method="predict", cv=3),
        Xi, yi, iris_in, notes="stack_method='predict' (encoded labels) into a forest")
    add("stack_reg_diabetes", StackingRegressor([
        ("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)),
        ("gb", GradientBoostingRegressor(n_estimators=10, random_state=0))], cv=3), Xd, yd, diab_in,
        notes="StackingRegressor, default RidgeCV final estimator")
    add("stack_reg_passthrough", StackingRegressor([
        ("lin", LinearRegression()), ("rf", RandomForestRegressor(n_estimators=5, random_state=0))],
        final_estimator=GradientBoostingRegressor(n_estimators=10, random_state=0), passthrough=True, cv=3),
        Xd, yd, diab_in, notes="passthrough into GradientBoostingRegressor")
    prep = ColumnTransformer([("num", StandardScaler(), ["age", "income", "score"]),
                              ("cat", OneHotEncoder(), ["city"])])
    add("stack_pipeline_customers", StackingClassifier([
        ("lr", Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000))])),
        ("tree", Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(), ["city"])], remainder="passthrough")),
                           ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))]))], cv=3),
        Xc, churn, cust_in, notes="Pipelines over a text column as members")


def multi_cases():
    Xi, yi, _ = iris()
    iris_in = os.path.join(HERE, "iris_input.csv")
    Xb, yb, _, yb01 = cancer()
    bc_in = os.path.join(HERE, "cancer_input.csv")
    Xd, yd, _ = diabetes()
    diab_in = os.path.join(HERE, "diabetes_input.csv")
    Y = np.c_[yd, Xd["bmi"] * 100 + yd / 3]
    add("multiout_reg_diabetes", MultiOutputRegressor(GradientBoostingRegressor(n_estimators=10, random_state=0)),
        Xd, Y, diab_in, notes="MultiOutputRegressor, two targets")
    big = (Xi["petal_length"] > 4.0).astype(int) * 10
    add("multiout_clf_iris", MultiOutputClassifier(LogisticRegression(max_iter=2000)),
        Xi, np.c_[yi, big], iris_in, notes="MultiOutputClassifier: a 3-class and a 2-class output")
    add("ovr_logreg_iris", OneVsRestClassifier(LogisticRegression(max_iter=2000)), Xi, yi, iris_in,
        notes="one-vs-rest over decision_function")
    add("ovr_tree_iris", OneVsRestClassifier(DecisionTreeClassifier(max_depth=2, random_state=0)), Xi, yi, iris_in,
        notes="one-vs-rest over predict_proba (ties: the last estimator wins)")
    Xall = pd.read_csv(iris_in)
    yall = datasets.load_iris().target[np.random.RandomState(0).permutation(150)]
    add("ovr_dummy_ties_iris", OneVsRestClassifier(DummyClassifier(strategy="prior")), Xall, yall, iris_in,
        signature=True, notes="column signature (DummyClassifier does not record its features); balanced classes: every estimator scores 1/3, and the last one wins the tie")
    add("ovr_nb_cancer", OneVsRestClassifier(GaussianNB()), Xb, yb, bc_in,
        notes="binary one-vs-rest, threshold 0.5 on predict_proba")
    add("ovr_svc_cancer", OneVsRestClassifier(LinearSVC(C=0.01, max_iter=20000, random_state=0)), Xb, yb, bc_in,
        notes="binary one-vs-rest, threshold 0 on decision_function")
    Ym = np.c_[yi == 0, yi == 2, Xi["sepal_width"] > 3.0, np.zeros(len(yi), dtype=int)].astype(int)
    add("ovr_multilabel_iris", OneVsRestClassifier(LogisticRegression(max_iter=2000)), Xi, Ym, iris_in,
        notes="multilabel, one label never set (_ConstantPredictor)")


def boosting_cases():
    Xi, yi, _ = iris()
    iris_in = os.path.join(HERE, "iris_input.csv")
    Xb, yb, _, _ = cancer()
    bc_in = os.path.join(HERE, "cancer_input.csv")
    Xd, yd, _ = diabetes()
    diab_in = os.path.join(HERE, "diabetes_input.csv")
    add("ada_sammer_iris", AdaBoostClassifier(n_estimators=25, random_state=0), Xi, yi, iris_in,
        notes="SAMME.R over stumps")
    add("ada_samme_iris", AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=20,
                                             algorithm="SAMME", random_state=0), Xi, yi, iris_in,
        notes="SAMME over depth-2 trees")
    add("ada_samme_cancer", AdaBoostClassifier(n_estimators=30, algorithm="SAMME", learning_rate=0.5,
                                               random_state=0), Xb, yb, bc_in, notes="SAMME, binary string labels")
    add("ada_sammer_logreg_cancer", AdaBoostClassifier(LogisticRegression(max_iter=5000), n_estimators=5,
                                                       random_state=0), Xb, yb, bc_in,
        notes="SAMME.R over LogisticRegression, binary")
    add("ada_reg_diabetes", AdaBoostRegressor(DecisionTreeRegressor(max_depth=3), n_estimators=30, random_state=0),
        Xd, yd, diab_in, notes="weighted median of 30 trees")
    eq = copy.deepcopy(GOLDENS["ada_reg_diabetes"][2])
    eq.estimator_weights_ = np.ones_like(eq.estimator_weights_)
    add("ada_reg_equal_weights_diabetes", eq, Xd, yd, diab_in, fit=False,
        notes="the same trees with equal weights: the cumulative weight meets half the total exactly (>= picks)")
    add("ada_reg_square_diabetes", AdaBoostRegressor(n_estimators=15, loss="square", random_state=0),
        Xd, yd, diab_in, notes="square loss, default depth-3 trees")
    add("bag_tree_iris", BaggingClassifier(DecisionTreeClassifier(random_state=0), n_estimators=12,
                                           max_features=0.75, bootstrap_features=True, random_state=0),
        Xi, yi, iris_in, notes="predict_proba averaged, feature subsets with repeats")
    add("bag_svc_votes_iris", BaggingClassifier(SVC(), n_estimators=7, max_features=3, random_state=0),
        Xi, yi, iris_in, notes="SVC has no predict_proba: votes are counted")
    add("bag_logreg_cancer_jobs", BaggingClassifier(LogisticRegression(max_iter=5000), n_estimators=9,
                                                    max_samples=0.5, n_jobs=2, random_state=0),
        Xb, yb, bc_in, notes="n_jobs=2: sums per job, then the job totals")
    add("bag_reg_diabetes", BaggingRegressor(DecisionTreeRegressor(max_depth=5), n_estimators=10,
                                             max_features=7, random_state=0), Xd, yd, diab_in,
        notes="BaggingRegressor over feature subsets")
    add("bag_reg_ridge_jobs", BaggingRegressor(Ridge(), n_estimators=10, n_jobs=3, random_state=0),
        Xd, yd, diab_in, notes="n_jobs=3 partitions 4/3/3")
    # Older module paths and attributes.
    ada = GOLDENS["ada_samme_iris"][2]
    add_layout("ada_samme_iris_0_21", "ada_samme_iris",
               renamed(ada, {"estimator": "base_estimator", "_estimator": "base_estimator_"},
                       "sklearn.ensemble.weight_boosting", "AdaBoostClassifier"),
               "scikit-learn 0.21: sklearn.ensemble.weight_boosting, base_estimator_")
    bag = GOLDENS["bag_reg_diabetes"][2]
    add_layout("bag_reg_diabetes_0_23", "bag_reg_diabetes",
               renamed(bag, {"n_features_in_": "n_features_"}, "sklearn.ensemble.bagging", "BaggingRegressor"),
               "scikit-learn 0.21: sklearn.ensemble.bagging, n_features_")
    # A search over a meta-estimator.
    add("grid_bagging_iris", GridSearchCV(BaggingClassifier(LogisticRegression(max_iter=2000), random_state=0),
                                          {"n_estimators": [3, 5]}, cv=3), Xi, yi, iris_in,
        notes="GridSearchCV whose best_estimator_ is a BaggingClassifier")


def main():
    for name in os.listdir(HERE):
        if name in KEEP:
            continue
        p = os.path.join(HERE, name)
        shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    # scipy distributions keep (and pickle) numpy's global RandomState.
    np.random.seed(0)
    search_cases()
    ttr_cases()
    voting_cases()
    calibration_cases()
    stacking_cases()
    multi_cases()
    boosting_cases()
    manifest = {
        "about": "scikit-learn meta-estimator fixtures; written by testdata/longtail/meta/gen.py",
        "generator": {"sklearn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "conventions": {
            "paths": "relative to testdata/",
            "inputs": "read by pandas.read_csv, then scored with the model's own columns",
            "proba_columns": "proba_<label> in classes_ order (multi-output: proba_<k>_<label>)",
            "tolerance": "|got - want| <= abs + rel*|want|; exact for labels",
            "refusals": "models mlbatch must refuse at load (exit 3) with every 'want' string in the message",
        },
        "cases": CASES,
        "refusals": REFUSALS,
    }
    mf.write_text(os.path.join(HERE, "cases.json"), json.dumps(manifest, indent=2) + "\n")
    lines = ["# Meta-estimator fixtures", "",
             "Written by `gen.py` (Debian's scikit-learn %s); do not edit by hand:" % sklearn.__version__, "",
             "    /usr/bin/python3 testdata/longtail/meta/gen.py", "",
             "| model | estimator | notes |", "|---|---|---|"]
    for c in CASES:
        lines.append("| `%s` | %s | %s |" % (c["model_dir"].split("/")[-1], c["estimator"].split(".")[-1], c["notes"]))
    for r in REFUSALS:
        lines.append("| `%s` | refused | %s |" % (r["model_dir"].split("/")[-1], r["notes"]))
    mf.write_text(os.path.join(HERE, "README.md"), "\n".join(lines) + "\n")
    print("%d cases, %d refusals" % (len(CASES), len(REFUSALS)))


if __name__ == "__main__":
    main()
