#!/usr/bin/python3
"""Re-pickle models fitted by scikit-learn 1.2.1 in the forms other releases wrote.

Debian ships one scikit-learn (1.2.1) and one numpy (1.24), but users log models
from scikit-learn 0.23 through 1.8 and numpy 1.x and 2.x. This script fits real
models, then writes each one again with the module paths, attribute names and
attribute values a given release stores (see README.md for the table of what
each release wrote and where in scikit-learn's history it comes from), and,
for the numpy 2 cases, with numpy 2's numpy._core globals. Every object of the
model is re-created as a stand-in of the exact class path that release used,
with its own _sklearn_version, so the bytes are what that release writes. The
goldens are what scikit-learn 1.2.1 predicts for the original object: every
rewrite keeps the fitted numbers, so every release predicts the same (the
README notes the two cases where a release's arithmetic differs in rounding
only).

Run with /usr/bin/python3 (scikit-learn 1.2.1, numpy 1.24, pandas 1.5):

    /usr/bin/python3 testdata/longtail/compat/gen.py

Deterministic: fixed seeds, single-threaded numerics. The script owns
testdata/longtail/compat/ except itself and README.md.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import contextlib
import copy
import copyreg
from functools import partial
import io
import json
import pickle
import shutil
import types
import warnings

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss, HalfSquaredError
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MinMaxScaler, OneHotEncoder, OrdinalEncoder,
                                   PolynomialFeatures, StandardScaler)
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_array

warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTDATA, "gen"))
import make_fixtures as mf  # noqa: E402  (MLflow folder helpers)

KEEP = {"gen.py", "README.md", "__pycache__"}
FLOAT_TOL = {"rel": 1e-9, "abs": 1e-12, "note": "float64 arithmetic in numpy's order"}
LABEL_TOL = {"exact": True, "note": "labels compare exactly"}
CASES, REFUSALS = [], []


def rel(path):
    return os.path.relpath(path, TESTDATA).replace(os.sep, "/")


def vkey(v):
    return tuple(int(p) for p in v.split(".")[:2])


# --------------------------------------------------------------------------
# stand-ins: classes pickled by reference under any module path


STANDINS = {}


def standin(path):
    mod, _, name = path.rpartition(".")
    if (mod, name) not in STANDINS:
        cls = type(name, (), {})
        cls.__module__, cls.__qualname__ = mod, name
        STANDINS[(mod, name)] = cls
    return STANDINS[(mod, name)]


def make(path, state):
    obj = object.__new__(standin(path))
    obj.__dict__.update(state)
    return obj


@contextlib.contextmanager
def standins_installed():
    """Point module.name at each stand-in while pickling (pickle checks that a
    class is found where it says it lives), then put the real classes back."""
    saved = []
    for (mod, name), cls in STANDINS.items():
        m = sys.modules.get(mod)
        if m is None:
            m = types.ModuleType(mod)
            sys.modules[mod] = m
        saved.append((m, name, m.__dict__.get(name, None), name in m.__dict__))
        setattr(m, name, cls)
    try:
        yield
    finally:
        for m, name, old, had in saved:
            if had:
                setattr(m, name, old)
            else:
                delattr(m, name)


def fake_function(module, name):
    """A function pickled by reference as module.name (for numpy 2's globals)."""
    m = sys.modules.get(module)
    if m is None:
        m = types.ModuleType(module)
        sys.modules[module] = m

    def f(*args):
        raise RuntimeError("stand-in")

    f.__module__, f.__qualname__, f.__name__ = module, name, name
    setattr(m, name, f)
    return f


class Numpy2Pickler(pickle.Pickler):
    """Writes numpy arrays and scalars with numpy 2's global names
    (numpy._core.multiarray._reconstruct / scalar, and with protocol 5
    numpy._core.numeric._frombuffer), as numpy 2 pickles them."""

    reconstruct = staticmethod(fake_function("numpy._core.multiarray", "_reconstruct"))
    scalar = staticmethod(fake_function("numpy._core.multiarray", "scalar"))
    frombuffer = staticmethod(fake_function("numpy._core.numeric", "_frombuffer"))

    def __init__(self, f, protocol):
        super().__init__(f, protocol=protocol)
        self.protocol = protocol

    def reducer_override(self, obj):
        if type(obj) is np.ndarray:
            rv = obj.__reduce_ex__(self.protocol)
            if rv[0] is np.core.multiarray._reconstruct:
                return (self.reconstruct,) + tuple(rv[1:])
            if rv[0] is np.core.numeric._frombuffer:
                return (self.frombuffer,) + tuple(rv[1:])
            raise AssertionError(rv[0])
        if isinstance(obj, np.generic):
            rv = obj.__reduce__()
            assert rv[0] is np.core.multiarray.scalar
            return (self.scalar,) + tuple(rv[1:])
        return NotImplemented


def dumps(obj, numpy2=False, protocol=4):
    buf = io.BytesIO()
    with standins_installed():
        if numpy2:
            Numpy2Pickler(buf, protocol=protocol).dump(obj)
        else:
            pickle.Pickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


# --------------------------------------------------------------------------
# what each release stored


def drop(state, *names):
    for n in names:
        state.pop(n, None)


def common(state, v):
    if vkey(v) < (1, 0):
        drop(state, "feature_names_in_")
    if vkey(v) < (0, 24):
        drop(state, "n_features_in_")


def as_release(obj, v, extra=None):
    """A copy of fitted obj as release v pickles it: every scikit-learn object
    becomes a stand-in of the class path v used, with the attributes v stored.
    extra(path, state) may edit further."""

    memo = {}

    def walk(x):
        if id(x) in memo:
            return memo[id(x)]
        if isinstance(x, list):
            out = [walk(i) for i in x]
        elif isinstance(x, tuple):
            out = tuple(walk(i) for i in x)
        elif isinstance(x, dict):
            out = {k: walk(i) for k, i in x.items()}
        elif isinstance(x, np.ndarray) and x.dtype == object:
            out = np.empty(x.shape, dtype=object)
            for idx in np.ndindex(x.shape):
                out[idx] = walk(x[idx])
        elif hasattr(x, "__dict__") and type(x).__module__.startswith("sklearn.") and not isinstance(x, type):
            path = "%s.%s" % (type(x).__module__, type(x).__name__)
            state = {k: walk(i) for k, i in x.__dict__.items()}
            path = rewrite(path, state, v, x)
            if extra is not None:
                path = extra(path, state) or path
            if isinstance(x, BaseEstimator):
                state["_sklearn_version"] = v
            out = make(path, state)
        else:
            out = x
        memo[id(x)] = out
        return out

    return walk(obj)


GB_OLD_LOSS = {"squared_error": ("ls", "LeastSquaresError"), "log_loss": ("deviance", None)}
HGB_OLD_LOSS = {
    "HalfSquaredError": ("least_squares", "LeastSquares", True),
    "HalfPoissonLoss": ("poisson", "Poisson", False),
    "HalfBinomialLoss": ("binary_crossentropy", "BinaryCrossEntropy", False),
    "HalfMultinomialLoss": ("categorical_crossentropy", "CategoricalCrossEntropy", False),
}


OLD_MODULES = {
    "sklearn.tree._classes": "sklearn.tree.tree",
    "sklearn.ensemble._forest": "sklearn.ensemble.forest",
    "sklearn.ensemble._gb": "sklearn.ensemble.gradient_boosting",
    "sklearn.preprocessing._data": "sklearn.preprocessing.data",
    "sklearn.linear_model._base": "sklearn.linear_model.base",
    "sklearn.linear_model._ridge": "sklearn.linear_model.ridge",
    "sklearn.linear_model._logistic": "sklearn.linear_model.logistic",
    "sklearn.impute._base": "sklearn.impute",
}


def rewrite(path, s, v, orig):
    """Edit state s of one object (class path) into release v's form; returns
    the class path v used."""
    name = path.rpartition(".")[2]
    ver = vkey(v)
    common(s, v)
    if ver < (0, 22):
        # Before 0.22 the classes lived in public modules (0.22 made them private
        # and kept deprecated aliases until 0.24).
        mod, _, _ = path.rpartition(".")
        mod = OLD_MODULES.get(mod, mod)
        if name == "PolynomialFeatures":
            mod = "sklearn.preprocessing.data"
        path = mod + "." + name
    if name == "LogisticRegression":
        if (1, 5) <= ver < (1, 8):
            s["multi_class"] = "deprecated"
        elif ver >= (1, 8):
            drop(s, "multi_class")
            s["penalty"] = "deprecated"  # 1.8 deprecates penalty for l1_ratio
            s["l1_ratio"] = 0.0
    elif name in ("DecisionTreeClassifier", "DecisionTreeRegressor"):
        if ver < (1, 0):
            if hasattr(orig, "n_features_in_"):
                s["n_features_"] = orig.n_features_in_
        if ver >= (1, 4):
            s["monotonic_cst"] = None
    elif name == "RandomForestClassifier":
        if ver < (1, 2):
            s["base_estimator_"] = s.pop("_estimator")
            s["base_estimator"] = s.pop("estimator")
            if hasattr(orig, "n_features_in_"):
                s["n_features_"] = orig.n_features_in_
    elif name in ("GradientBoostingClassifier", "GradientBoostingRegressor"):
        if ver < (1, 0):
            if hasattr(orig, "n_features_in_"):
                s["n_features_"] = orig.n_features_in_
        if ver < (1, 1):
            # loss_ (a _gb_losses object) and the old loss names.
            old = s.pop("_loss")
            loss = "deviance" if s["loss"] == "log_loss" else {"squared_error": "ls"}.get(s["loss"], s["loss"])
            s["loss"] = loss
            s["loss_"] = make("sklearn.ensemble._gb_losses." + type(old).__name__, {"K": old.K})
        elif ver >= (1, 4):
            # The common losses of sklearn._loss replace _gb_losses.
            if not hasattr(orig, "classes_"):
                loss = HalfSquaredError()
            elif orig.n_classes_ == 2:
                loss = HalfBinomialLoss()
            else:
                loss = HalfMultinomialLoss(n_classes=orig.n_classes_)
            s["_loss"] = as_release(loss, v)
    elif name in ("DummyClassifier",):
        if ver < (0, 24):
            s["_strategy"] = s["strategy"]
            s["output_2d_"] = False
    elif name in ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor"):
        if ver < (1, 1):
            old = type(orig._loss).__name__
            pname, cls, const = HGB_OLD_LOSS[old]
            if s["loss"] in ("log_loss",):
                s["loss"] = "auto"
            elif ver < (1, 0):
                s["loss"] = pname
            s["_loss"] = make("sklearn.ensemble._hist_gradient_boosting.loss." + cls,
                              {"hessians_are_constant": const})
            s["_baseline_prediction"] = np.asarray(orig._baseline_prediction).reshape(-1, 1)
            drop(s, "interaction_cst", "class_weight")
        if ver < (0, 24):
            drop(s, "is_categorical_", "categorical_features", "_n_features")
            if hasattr(orig, "n_features_in_"):
                s["n_features_"] = orig.n_features_in_
        if ver >= (1, 4) and "_preprocessor" not in s:
            s.update(_preprocessor=None, _is_categorical_remapped=None, categorical_features="from_dtype")
    elif name == "TreePredictor":
        if ver < (0, 24):
            nodes = orig.nodes
            dt = np.dtype([("value", "<f8"), ("count", "<u4"), ("feature_idx", "<u4"),
                           ("threshold", "<f8"), ("missing_go_to_left", "u1"), ("left", "<u4"),
                           ("right", "<u4"), ("gain", "<f8"), ("depth", "<u4"), ("is_leaf", "u1"),
                           ("bin_threshold", "u1")])
            new = np.zeros(nodes.shape, dtype=dt)
            for f in dt.names:
                new[f] = nodes["num_threshold" if f == "threshold" else f]
            s.clear()
            s["nodes"] = new
    elif name == "_BinMapper":
        if ver < (0, 24):
            drop(s, "is_categorical", "known_categories", "n_threads", "is_categorical_")
    elif name == "OneHotEncoder":
        if ver < (1, 1):
            drop(s, "_infrequent_enabled", "_n_features_outs", "max_categories", "min_frequency",
                 "_default_to_infrequent_mappings", "_infrequent_indices")
        if ver < (1, 2):
            s["sparse"] = s.pop("sparse_output")
        if ver >= (1, 3) and "drop_idx_" in s:
            s["_drop_idx_after_grouping"] = s["drop_idx_"]
            s["feature_name_combiner"] = "concat"
        if ver >= (1, 4):
            drop(s, "sparse")
    elif name == "OrdinalEncoder":
        if ver < (0, 24):
            drop(s, "handle_unknown", "unknown_value")
        if ver < (1, 1):
            drop(s, "encoded_missing_value", "_missing_indices")
        if ver >= (1, 3):
            s.update(_infrequent_enabled=False, max_categories=None, min_frequency=None)
    elif name == "SimpleImputer":
        if ver < (1, 2):
            drop(s, "keep_empty_features")
        if ver < (1, 1):
            drop(s, "_fit_dtype")
        if ver >= (1, 6) and "_fit_dtype" in s:
            s["_fill_dtype"] = s.pop("_fit_dtype")
    elif name == "MinMaxScaler":
        if ver < (0, 24):
            drop(s, "clip")
    elif name == "PolynomialFeatures":
        if ver < (1, 0):
            drop(s, "_min_degree", "_max_degree", "_n_out_full", "order")
            if hasattr(orig, "n_features_in_"):
                s["n_input_features_"] = orig.n_features_in_
            if ver >= (0, 22):
                path = "sklearn.preprocessing._data.PolynomialFeatures"
    elif name == "KBinsDiscretizer":
        if ver < (0, 24):
            drop(s, "dtype")
        if ver < (1, 1):
            drop(s, "subsample", "random_state")
    elif name == "ColumnTransformer" and hasattr(orig, "transformers_"):
        if ver < (1, 0):
            drop(s, "_transformer_to_input_indices", "output_indices_", "_name_to_fitted_passthrough")
        if ver < (0, 24):
            s["_df_columns"] = pd.Index(list(orig.feature_names_in_))
            s["_has_str_cols"] = True
        elif ver < (1, 0):
            s["_feature_names_in"] = np.asarray(orig.feature_names_in_, dtype=object)
        if ver >= (1, 7):
            # Remainder columns follow the other transformers' columns: names.
            names = list(orig.feature_names_in_)
            s["transformers_"] = [(n, t, [names[i] for i in c] if n == "remainder" else c)
                                  for n, t, c in s["transformers_"]]
            s["force_int_remainder_cols"] = "deprecated"
    elif name == "Pipeline":
        if ver >= (1, 6):
            s["transform_input"] = None
    return path


# --------------------------------------------------------------------------
# data and cases


def write_input(df, name):
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, lineterminator="\n", float_format=repr)
    return path


def signature(X):
    kinds = {"f": "double", "i": "long", "b": "boolean"}
    inputs = [{"type": kinds.get(X[c].dtype.kind, "string"), "name": c, "required": True} for c in X.columns]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(mf.out_tensor()), "params": None}


def final_of(est):
    while isinstance(est, Pipeline):
        est = est.steps[-1][1]
    return est


def qual(est):
    return "%s.%s" % (type(est).__module__, type(est).__name__)


def goldens(name, est, in_name, in_path):
    """Write (once per model) the 1.2.1 predictions for an input; return outputs."""
    d = os.path.join(HERE, "golden", name)
    os.makedirs(d, exist_ok=True)
    X = pd.read_csv(in_path, float_precision="round_trip")  # as mlbatch parses: correctly rounded
    final = final_of(est)
    is_clf = hasattr(final, "classes_")
    pred = np.asarray(est.predict(X))
    outputs = []
    golden = os.path.join(d, "expected_%s.csv" % in_name)
    kind = mf.label_type(final.classes_) if is_clf else "float64"
    mf.write_csv(golden, ["prediction"], [[mf.fmt_label(v) if is_clf else mf.fmt_float(v)] for v in pred])
    outputs.append({"method": "predict", "golden": rel(golden), "columns": ["prediction"], "type": kind,
                    "tolerance": LABEL_TOL if is_clf else FLOAT_TOL})
    if is_clf:
        proba = est.predict_proba(X)
        pcols = ["proba_" + mf.fmt_label(c) for c in final.classes_]
        golden = os.path.join(d, "expected_proba_%s.csv" % in_name)
        mf.write_csv(golden, pcols, [[mf.fmt_float(v) for v in r] for r in proba])
        outputs.append({"method": "predict_proba", "golden": rel(golden), "columns": pcols,
                        "type": "float64", "tolerance": FLOAT_TOL})
    return outputs


def add(name, est, X_in, in_name, releases, *, numpy2=(), protocol5=(), notes="", extra=None, predictor=None):
    """Write est (fitted by 1.2.1) as each release in releases pickles it;
    predictor (default est) is what 1.2.1 runs for the goldens."""
    in_path = os.path.join(HERE, in_name + ".csv")
    if not os.path.exists(in_path):
        write_input(X_in, in_name + ".csv")
    outputs = goldens(name, predictor or est, in_name, in_path)
    for v in releases:
        for np2 in ([False, True] if v in numpy2 else [False]):
            for proto in ([4, 5] if (np2 and v in protocol5) else [4]):
                tag = "%s_v%s%s%s" % (name, v.replace(".", ""), "_numpy2" if np2 else "",
                                      "_p5" if proto == 5 else "")
                d = os.path.join(HERE, tag)
                blob = dumps(as_release(est, v, extra), numpy2=np2, protocol=proto)
                mf.save_sklearn_model(d, pickled=blob, fmt="cloudpickle", protocol=proto,
                                      signature=signature(X_in), utc_time="2024-06-10 08:00:00.000000")
                CASES.append({
                    "name": rel(d) + ":" + in_name,
                    "model_dir": rel(d),
                    "input": rel(in_path),
                    "release": v,
                    "numpy": "2.x" if np2 else "1.x",
                    "pickle_protocol": proto,
                    "estimator": qual(est),
                    "final_estimator": qual(final_of(est)),
                    "serialization_format": "cloudpickle",
                    "feature_source": "signature",
                    "outputs": outputs,
                    "notes": notes,
                })


def frame(d, names=None):
    return pd.DataFrame(d.data, columns=names or [n.replace(" ", "_").replace("/", "_") for n in d.feature_names])


def split(X, y, n_test=40):
    idx = np.random.RandomState(0).permutation(len(X))
    te, tr = idx[:n_test], idx[n_test:]
    return X.iloc[tr].reset_index(drop=True), y[tr], X.iloc[te].reset_index(drop=True)


def customers(n, seed):
    r = np.random.RandomState(seed)
    age = r.randint(18, 80, n).astype(float)
    income = np.round(r.lognormal(10, 0.5, n), 2)
    income[r.rand(n) < 0.1] = np.nan
    city = r.choice(["Berlin", "Lyon", "Madrid", "Oslo", "Paris"], n).astype(object)
    city[r.rand(n) < 0.1] = np.nan
    plan = r.choice(["basic", "plus", "premium"], n, p=[0.5, 0.3, 0.2])
    tenure = r.randint(0, 120, n).astype(float)
    X = pd.DataFrame({"age": age, "income": income, "city": city, "plan": plan, "tenure": tenure})
    score = 0.03 * (age - 45) + 0.4 * (plan == "premium") - 0.01 * tenure + r.normal(0, 0.5, n)
    y = np.where(score > 0.2, "churn", np.where(score > -0.6, "stay", "upgrade")).astype(object)
    return X, y


ALL = ["0.23.2", "0.24.2", "1.0.2", "1.1.3", "1.3.2", "1.4.2", "1.5.2", "1.6.1", "1.7.2", "1.8.0"]


def main():
    for f in os.listdir(HERE):
        if f not in KEEP:
            p = os.path.join(HERE, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)

    iris = datasets.load_iris()
    Xi = frame(iris, ["sepal_length", "sepal_width", "petal_length", "petal_width"])
    yi = np.array(["setosa", "versicolor", "virginica"], dtype=object)[iris.target]
    Xi_fit, yi_fit, Xi_in = split(Xi, yi)
    bc = datasets.load_breast_cancer()
    Xb = frame(bc, ["f%02d" % i for i in range(30)])
    Xb_fit, yb_fit, Xb_in = split(Xb, bc.target, 60)
    dia = datasets.load_diabetes()
    Xd = frame(dia)
    Xd_fit, yd_fit, Xd_in = split(Xd, dia.target, 60)
    wine = datasets.load_wine()
    Xw = frame(wine)
    Xw_fit, yw_fit, Xw_in = split(Xw, wine.target, 40)

    # LogisticRegression: multi_class over the releases.
    lr = LogisticRegression(max_iter=5000).fit(Xi_fit, yi_fit)
    add("logreg_multinomial_iris", lr, Xi_in, "iris", ["0.21.3"] + ALL, numpy2=["1.8.0"], protocol5=["1.8.0"],
        notes="multinomial (lbfgs, multi_class auto / 'deprecated' / absent)")
    lrb = LogisticRegression(max_iter=10000).fit(Xb_fit, yb_fit)
    add("logreg_binary_bc", lrb, Xb_in, "bc", ["0.23.2", "1.5.2", "1.8.0"], numpy2=["1.8.0"],
        notes="binary: one-vs-rest sigmoid in every release")
    lrn = LogisticRegression(solver="newton-cholesky").fit(Xw_fit, yw_fit)
    add("logreg_newton_cholesky_ovr_wine", lrn, Xw_in, "wine", ["1.3.2", "1.5.2"],
        notes="newton-cholesky fitted one-vs-rest up to 1.5, and predicted OvR probabilities")
    # From 1.6 newton-cholesky fits the multinomial loss: the same coefficients as a
    # multinomial lbfgs model, saved as a 1.6/1.8 newton-cholesky model, predict softmax.
    lrm = LogisticRegression(max_iter=5000).fit(Xw_fit, yw_fit)

    def as_newton(path, state):
        if path.endswith("LogisticRegression"):
            state["solver"] = "newton-cholesky"
    add("logreg_newton_cholesky_multinomial_wine", lrm, Xw_in, "wine", ["1.6.1", "1.8.0"],
        extra=as_newton, notes="newton-cholesky from 1.6: multinomial, softmax probabilities")

    # Linear regression, trees, forests, gradient boosting.
    add("linreg_diabetes", LinearRegression().fit(Xd_fit, yd_fit), Xd_in, "diabetes",
        ["0.21.3", "0.23.2", "1.8.0"], numpy2=["1.8.0"])
    add("dtree_clf_iris", DecisionTreeClassifier(random_state=0).fit(Xi_fit, yi_fit), Xi_in, "iris",
        ["0.21.3", "0.23.2", "1.0.2", "1.4.2"],
        notes="sklearn.tree.tree before 0.22, n_features_ before 1.0, monotonic_cst from 1.4")
    add("rf_clf_wine", RandomForestClassifier(n_estimators=15, random_state=0).fit(Xw_fit, yw_fit),
        Xw_in, "wine", ["0.21.3", "0.23.2", "1.1.3"],
        notes="sklearn.ensemble.forest before 0.22, base_estimator_ before 1.2")
    add("gbc_binary_bc", GradientBoostingClassifier(n_estimators=30, random_state=0).fit(Xb_fit, yb_fit),
        Xb_in, "bc", ["0.21.3", "0.23.2", "1.0.2", "1.4.2", "1.8.0"],
        notes="loss_ = _gb_losses.BinomialDeviance before 1.1; _loss = sklearn._loss HalfBinomialLoss from 1.4")
    add("gbc_multiclass_wine", GradientBoostingClassifier(n_estimators=20, random_state=0).fit(Xw_fit, yw_fit),
        Xw_in, "wine", ["0.23.2", "1.4.2"],
        notes="MultinomialDeviance before 1.1; HalfMultinomialLoss from 1.4 (centred init, softmax: "
              "the same probabilities up to rounding)")
    add("gbr_diabetes", GradientBoostingRegressor(n_estimators=30, random_state=0).fit(Xd_fit, yd_fit),
        Xd_in, "diabetes", ["0.23.2", "1.4.2"], notes="loss 'ls' and LeastSquaresError before 1.0")

    # HistGradientBoosting: the private loss module before 1.1, 0.23's node records.
    rng = np.random.RandomState(1)
    Xi_nan = Xi_in.copy()
    Xi_nan.iloc[rng.rand(len(Xi_nan)) < 0.2, 2] = np.nan
    Xi_fit_nan = Xi_fit.copy()
    Xi_fit_nan.iloc[np.random.RandomState(2).rand(len(Xi_fit)) < 0.1, 2] = np.nan
    hgbc = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(Xi_fit_nan, yi_fit)
    add("hgbc_multiclass_iris_nan", hgbc, Xi_nan, "iris_nan", ["0.23.2", "0.24.2", "1.0.2", "1.1.3", "1.8.0"],
        notes="CategoricalCrossEntropy (exp(raw - logsumexp)) before 1.1")
    hgbb = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(Xb_fit, yb_fit)
    add("hgbc_binary_bc", hgbb, Xb_in, "bc", ["0.23.2", "1.0.2"], notes="BinaryCrossEntropy before 1.1")
    hgbr = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(Xd_fit, yd_fit)
    add("hgbr_diabetes", hgbr, Xd_in, "diabetes", ["0.23.2", "1.0.2"], notes="LeastSquares before 1.1")
    hgbp = HistGradientBoostingRegressor(loss="poisson", max_iter=20, random_state=0).fit(Xd_fit, yd_fit)
    add("hgbr_poisson_diabetes", hgbp, Xd_in, "diabetes", ["0.23.2"], notes="Poisson before 1.1")

    # Pipelines: ColumnTransformer, encoders, imputers, scalers.
    Xc_fit, yc_fit = customers(400, 0)
    Xc_in, _ = customers(80, 1)
    num = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    cat = Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                    ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))])
    ct = ColumnTransformer([("num", num, ["age", "income"]), ("cat", cat, ["city", "plan"])],
                           remainder="passthrough")
    pipe = Pipeline([("prep", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(Xc_fit, yc_fit)
    add("ct_logreg_customers", pipe, Xc_in, "customers", ALL, numpy2=["1.7.2", "1.8.0"], protocol5=["1.8.0"],
        notes="columns by name: _df_columns (pandas Index) in 0.23, _feature_names_in in 0.24, "
              "feature_names_in_ from 1.0; remainder columns by name from 1.7")
    ct2 = ColumnTransformer([("ord", OrdinalEncoder(), ["plan"]), ("keep", "passthrough", ["age", "tenure"]),
                             ("oh", OneHotEncoder(drop="first", sparse_output=False), ["plan"])],
                            remainder="drop")
    pipe2 = Pipeline([("prep", ct2), ("tree", DecisionTreeClassifier(max_depth=4, random_state=0))])
    pipe2.fit(Xc_fit, yc_fit)
    add("ct_ordinal_tree_customers", pipe2, Xc_in, "customers", ["0.23.2", "1.0.2", "1.3.2", "1.4.2", "1.6.1"],
        notes="OrdinalEncoder without handle_unknown (0.23) and without encoded_missing_value "
              "(before 1.1); OneHotEncoder drop_idx_ and _drop_idx_after_grouping (1.3+)")
    poly = Pipeline([("scale", MinMaxScaler()), ("poly", PolynomialFeatures(2)), ("ridge", Ridge(alpha=0.1))])
    poly.fit(Xd_fit, yd_fit)
    add("poly_ridge_diabetes", poly, Xd_in, "diabetes", ["0.21.3", "0.23.2", "0.24.2", "1.0.2"],
        notes="PolynomialFeatures in sklearn.preprocessing._data with n_input_features_ before 1.0; "
              "MinMaxScaler without clip in 0.23")
    kb = Pipeline([("bins", KBinsDiscretizer(n_bins=4, encode="onehot-dense")),
                   ("clf", LogisticRegression(max_iter=5000))]).fit(Xi_fit, yi_fit)
    add("kbins_logreg_iris", kb, Xi_in, "iris", ["0.23.2", "1.0.2"],
        notes="KBinsDiscretizer without dtype (0.23) and subsample (before 1.1)")

    # HistGradientBoosting with categorical features as 1.4+ fits it: an internal
    # _preprocessor (OrdinalEncoder for the categorical columns, unknown and
    # missing as NaN, then check_array for the others) puts the categorical
    # columns first, and the trees are fitted on that. 1.2.1 fits the same pieces;
    # its Pipeline(pre, trees) predicts what 1.4's predict computes.
    Xh_fit, yh_fit = customers(400, 3)
    Xh_in, _ = customers(80, 4)
    Xh_in.loc[[3, 17, 40], "city"] = "Rome"  # unseen: NaN after the encoder
    cat_mask = np.array([c in ("city", "plan") for c in Xh_fit.columns])
    enc = OrdinalEncoder(categories="auto", handle_unknown="use_encoded_value", unknown_value=np.nan,
                         encoded_missing_value=np.nan, dtype=np.float64)
    numerical = FunctionTransformer(partial(check_array, dtype=[np.float64], force_all_finite=False))
    pre = ColumnTransformer([("encoder", enc, cat_mask), ("numerical", numerical, ~cat_mask)])
    pre.set_output(transform="default")
    Xr = pre.fit_transform(Xh_fit)
    ncat = int(cat_mask.sum())
    remapped = np.r_[np.ones(ncat, dtype=bool), np.zeros(len(cat_mask) - ncat, dtype=bool)]
    trees = HistGradientBoostingClassifier(categorical_features=remapped, max_iter=25, random_state=0).fit(Xr, yh_fit)
    golden_pipe = Pipeline([("pre", copy.deepcopy(pre)), ("hgb", copy.deepcopy(trees))])
    trees._preprocessor = pre
    trees._is_categorical_remapped = remapped
    trees.is_categorical_ = cat_mask
    trees.categorical_features = "from_dtype"
    trees.n_features_in_ = pre.n_features_in_
    trees.feature_names_in_ = pre.feature_names_in_
    add("hgbc_categorical_preprocessor_customers", trees, Xh_in, "customers_unseen", ["1.4.2", "1.8.0"],
        numpy2=["1.8.0"], predictor=golden_pipe,
        notes="_preprocessor (ColumnTransformer: OrdinalEncoder + FunctionTransformer(check_array)) from 1.4")

    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"about": __doc__.strip().splitlines()[0],
                   "generator": {"sklearn": "1.2.1", "numpy": np.__version__, "pandas": pd.__version__},
                   "cases": CASES}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
