#!/usr/bin/python3
"""Generate mlbatch's scikit-learn Pipeline fixtures: mixed-type input tables,
MLflow model folders (cloudpickle and skops), golden predictions and cases.json.

Run with Debian's Python stack (scikit-learn 1.2.1, numpy 1.24, pandas 1.5,
cloudpickle 2.2), which is /usr/bin/python3:

    /usr/bin/python3 testdata/pipelines/gen.py

Inputs are read back with pandas.read_csv before scoring, so the goldens are what
scikit-learn computes on the DataFrame pandas builds from each CSV file: empty
cells are NaN in numeric columns and NaN (missing) in text columns, True/False
columns are bool (object when they have empty cells).

The skops files are written by skops_writer.py (Debian has no skops), which
follows the skops format as skops' source defines it; see that file.

Deterministic: fixed seeds, single-threaded numerics; a rerun gives identical
bytes. The script owns testdata/pipelines/ except itself, skops_writer.py and
README.md, which it also writes.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    # str hashing decides set order, which shows in scikit-learn's messages.
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json
import shutil
import warnings
import zipfile

import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge, SGDRegressor
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTDATA, "gen"))
sys.path.insert(0, HERE)
import make_fixtures as mf  # noqa: E402  (MLflow folder helpers)
import skops_writer  # noqa: E402

KEEP = {"gen.py", "skops_writer.py", "__pycache__"}
FLOAT_TOL = {"rel": 1e-9, "abs": 1e-12, "note": "float64 transforms, then the estimator"}
LABEL_TOL = {"exact": True, "note": "labels compare exactly"}
CASES, ERRORS, REFUSALS = [], [], []
FITTED = {}


def rel(path):
    return os.path.relpath(path, TESTDATA).replace(os.sep, "/")


# --------------------------------------------------------------------------
# data


def customers(n, seed, unseen=False):
    """A synthetic customer table: numbers, text, booleans, missing values."""
    rng = np.random.RandomState(seed)
    cities = ["Paris", "Lyon", "Berlin", "Madrid", "Rome", "Oslo", "Vienna", "Porto"]
    cp = np.array([0.28, 0.2, 0.15, 0.12, 0.1, 0.07, 0.05, 0.03])
    plans = ["basic", "plus", "premium"]
    channels = ["web", "store", "phone", "partner", "unknown"]
    age = np.round(rng.normal(41, 12, n).clip(18, 90), 1)
    age[rng.rand(n) < 0.08] = np.nan
    income = np.round(rng.lognormal(10.3, 0.45, n), 2)
    income[rng.rand(n) < 0.05] = np.nan
    score = np.round(rng.rand(n), 6)
    tenure = rng.randint(0, 121, n)
    products = rng.randint(1, 6, n)
    city = rng.choice(cities, n, p=cp).astype(object)
    city[rng.rand(n) < 0.05] = np.nan
    plan = rng.choice(plans, n, p=[0.5, 0.3, 0.2]).astype(object)
    plan[rng.rand(n) < 0.03] = np.nan
    channel = rng.choice(channels, n, p=[0.45, 0.25, 0.15, 0.05, 0.10]).astype(object)
    is_active = rng.rand(n) < 0.7
    has_card = (rng.rand(n) < 0.4).astype(object)
    has_card[rng.rand(n) < 0.1] = np.nan
    legacy = np.full(n, np.nan)
    if unseen:
        k = max(1, n // 5)
        idx = rng.choice(n, 3 * k, replace=False)
        city[idx[:k]] = rng.choice(["Atlantis", "Gotham"], k).astype(object)
        plan[idx[k:2 * k]] = "enterprise"
        channel[idx[2 * k:]] = "fax"
        legacy[:3] = [0.5, 0.25, 0.125]
    df = pd.DataFrame({
        "customer_id": np.arange(1, n + 1) + seed * 10000,
        "age": age, "income": income, "score": score, "tenure_months": tenure,
        "num_products": products, "city": city, "plan": plan, "channel": channel,
        "is_active": is_active, "has_card": has_card, "legacy_score": legacy,
    })
    lin = (0.03 * np.nan_to_num(age, nan=41) - 0.02 * tenure + 1.2 * score
           + np.where(plan == "premium", -0.8, 0.3) + np.where(is_active, -0.7, 0.4)
           + rng.normal(0, 0.6, n) - 0.5)
    churn = (lin > 0).astype(np.int64)
    spend = (np.nan_to_num(income, nan=30000) / 1000 + 12 * products + 0.5 * tenure
             + np.where(city == "Paris", 15.0, 0.0) + rng.normal(0, 5, n))
    seg = np.where(spend < np.quantile(spend, 0.4), "bronze",
                   np.where(spend < np.quantile(spend, 0.8), "silver", "gold")).astype(object)
    return df, churn, np.round(spend, 4), seg


def titanic(n, seed):
    """A Titanic-like table."""
    rng = np.random.RandomState(seed)
    pclass = rng.choice([1, 2, 3], n, p=[0.25, 0.2, 0.55])
    sex = rng.choice(["male", "female"], n, p=[0.64, 0.36]).astype(object)
    age = np.round(rng.normal(30, 14, n).clip(0.42, 80), 1)
    age[rng.rand(n) < 0.2] = np.nan
    sibsp = rng.poisson(0.5, n)
    parch = rng.poisson(0.4, n)
    fare = np.round(rng.lognormal(2.9, 0.9, n) * (4 - pclass) / 2, 4)
    embarked = rng.choice(["S", "C", "Q"], n, p=[0.72, 0.19, 0.09]).astype(object)
    embarked[rng.rand(n) < 0.02] = np.nan
    deck = rng.choice(list("ABCDEFG"), n).astype(object)
    deck[rng.rand(n) < 0.75] = np.nan
    alone = (sibsp + parch) == 0
    df = pd.DataFrame({"pclass": pclass, "sex": sex, "age": age, "sibsp": sibsp, "parch": parch,
                       "fare": fare, "embarked": embarked, "deck": deck, "alone": alone})
    lin = (1.5 * (sex == "female") - 0.9 * (pclass - 2) - 0.02 * np.nan_to_num(age, nan=30)
           + 0.3 * alone + rng.normal(0, 0.8, n))
    return df, (lin > 0).astype(np.int64)


def write_input(df, name):
    """Write df as pandas does (NaN as empty cells) and return its path."""
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, lineterminator="\n")
    return path


# --------------------------------------------------------------------------
# MLflow folders, goldens, cases


def sig_type(series):
    k = series.dtype.kind
    if k == "i":
        return "long"
    if k == "f":
        return "double"
    if k == "b":
        return "boolean"
    vals = series.dropna()
    if len(vals) and all(isinstance(v, (bool, np.bool_)) for v in vals):
        return "boolean"
    return "string"


def signature_for(X, outputs_type):
    inputs = [{"type": sig_type(X[c]), "name": c, "required": True} for c in X.columns]
    out = [{"type": "tensor", "tensor-spec": {"dtype": outputs_type, "shape": [-1]}}]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(out), "params": None}


def save_model(path, est, fmt, signature):
    """An MLflow sklearn folder; fmt is cloudpickle or skops."""
    if fmt == "cloudpickle":
        mf.save_sklearn_model(path, est, fmt="cloudpickle", protocol=4, signature=signature,
                              utc_time="2024-06-10 08:00:00.000000")
        return
    comp = zipfile.ZIP_DEFLATED if fmt == "skops-deflate" else zipfile.ZIP_STORED
    data = skops_writer.dumps(est, compression=comp)
    mf.save_sklearn_model(path, pickled=data, fmt="cloudpickle", protocol=4, signature=signature,
                          utc_time="2024-06-10 08:00:00.000000")
    # Rewrite the flavor the way MLflow (>= 2.18) writes a skops model.
    os.remove(os.path.join(path, "model.pkl"))
    mf.write_bytes(os.path.join(path, "model.skops"), data)
    mlmodel_path = os.path.join(path, "MLmodel")
    import yaml
    with open(mlmodel_path) as f:
        mm = yaml.safe_load(f)
    mm["flavors"]["python_function"]["model_path"] = "model.skops"
    mm["flavors"]["sklearn"]["pickled_model"] = "model.skops"
    mm["flavors"]["sklearn"]["serialization_format"] = "skops"
    mm["flavors"]["sklearn"]["skops_trusted_types"] = []
    mf.write_yaml(mlmodel_path, mm)
    req = os.path.join(path, "requirements.txt")
    with open(req) as f:
        pins = [p for p in f.read().split("\n") if not p.startswith("cloudpickle")]
    pins.append("skops==" + skops_writer.SKOPS_VERSION)
    mf.write_text(req, "\n".join(sorted(pins, key=lambda p: (not p.startswith("mlflow"), p))))


def fmt_cell(v, kind):
    return mf.fmt_float(v) if kind == "float64" else mf.fmt_label(v)


def write_golden(path, columns, rows):
    mf.write_csv(path, columns, rows)


def names_out(pipe):
    """get_feature_names_out of everything before the final estimator."""
    try:
        return [str(n) for n in pipe[:-1].get_feature_names_out()]
    except Exception:
        return None


def add_case(name, pipe, X_fit, y, inputs, *, signature=False, fmts=("cloudpickle",), notes="", sig_columns=None):
    """Fit pipe, save it in each format, write goldens for every input."""
    pipe.fit(X_fit, y)
    FITTED[name] = pipe
    final = pipe.steps[-1][1] if isinstance(pipe, Pipeline) else pipe
    is_clf = hasattr(final, "classes_")
    sig = None
    if signature:
        X_sig = X_fit if sig_columns is None else X_fit[sig_columns]
        sig = signature_for(X_sig, "int64" if is_clf and np.asarray(final.classes_).dtype.kind in "iu" else "float64")
    for fmt in fmts:
        d = os.path.join(HERE, name if fmt == "cloudpickle" else name + "_" + fmt.replace("-", "_"))
        save_model(d, pipe, fmt, sig)
        for in_name, in_path in inputs:
            df = pd.read_csv(in_path)
            X = df[[c for c in X_fit.columns if c in df.columns]]
            outputs = []
            pred = pipe.predict(X)
            kind = "float64"
            if is_clf:
                kind = mf.label_type(final.classes_)
            golden = os.path.join(d, "expected_%s.csv" % in_name)
            write_golden(golden, ["prediction"], [[fmt_cell(v, kind)] for v in pred])
            outputs.append({"method": "predict", "golden": rel(golden), "columns": ["prediction"],
                            "type": kind, "tolerance": LABEL_TOL if is_clf else FLOAT_TOL})
            if is_clf:
                proba = pipe.predict_proba(X)
                cols = ["proba_" + mf.fmt_label(c) for c in final.classes_]
                golden = os.path.join(d, "expected_proba_%s.csv" % in_name)
                write_golden(golden, cols, [[mf.fmt_float(v) for v in r] for r in proba])
                outputs.append({"method": "predict_proba", "golden": rel(golden), "columns": cols,
                                "type": "float64", "tolerance": FLOAT_TOL})
            case = {
                "name": rel(d) + ":" + in_name,
                "model_dir": rel(d),
                "input": rel(in_path),
                "estimator": "%s.%s" % (type(pipe).__module__, type(pipe).__name__),
                "final_estimator": "%s.%s" % (type(final).__module__, type(final).__name__),
                "serialization_format": "skops" if fmt.startswith("skops") else fmt,
                "feature_source": "signature" if signature else (
                    "feature_names_in_" if hasattr(pipe, "feature_names_in_") else "position"),
                "features": [str(c) for c in X_fit.columns],
                "names_out": names_out(pipe),
                "outputs": outputs,
                "notes": notes,
            }
            if is_clf:
                case["classes"] = [mf.fmt_label(c) for c in final.classes_]
            CASES.append(case)
    return pipe


class _RemainderColsList(list):
    """Stands in for scikit-learn 1.5/1.6's UserList of the same name: pickled
    by reference with its items in the "data" attribute, as a UserList is."""

    def __reduce__(self):
        import copyreg
        return (copyreg.__newobj__, (type(self),), {"data": list(self), "future_dtype": None,
                                                      "warning_was_emitted": False, "warning_enabled": True})


def as_later_release(pipe):
    """A copy of a fitted pipeline with the attributes later scikit-learn releases
    store instead: OneHotEncoder's _drop_idx_after_grouping (1.3+, with drop_idx_
    then indexing categories_), no 'sparse' attribute (1.4+), SimpleImputer's
    _fill_dtype (1.6+), ColumnTransformer remainder columns as
    _RemainderColsList (1.5, 1.6). Predictions are the same."""
    import copy
    import sklearn.compose._column_transformer as ctmod
    pipe = copy.deepcopy(pipe)

    def walk(est):
        if isinstance(est, Pipeline):
            for _, s in est.steps:
                walk(s)
        elif isinstance(est, FeatureUnion):
            for _, t in est.transformer_list:
                walk(t)
        elif isinstance(est, ColumnTransformer):
            new = []
            for name, t, cols in est.transformers_:
                walk(t)
                if name == "remainder":
                    cols = _RemainderColsList(cols)
                new.append((name, t, cols))
            est.transformers_ = new
        elif isinstance(est, OneHotEncoder):
            est.__dict__.pop("sparse", None)
            if est.drop_idx_ is not None:
                est._drop_idx_after_grouping = est.drop_idx_
                orig = []
                for j, d in enumerate(est.drop_idx_):
                    m = est._default_to_infrequent_mappings[j] if est._infrequent_enabled else None
                    orig.append(d if d is None or m is None else int(np.flatnonzero(m == d)[0]))
                est.drop_idx_ = np.asarray(orig, dtype=object)
        elif isinstance(est, SimpleImputer):
            est._fill_dtype = est.__dict__.pop("_fit_dtype")

    walk(pipe)
    _RemainderColsList.__module__ = ctmod.__name__
    _RemainderColsList.__qualname__ = "_RemainderColsList"
    ctmod._RemainderColsList = _RemainderColsList
    return pipe


def add_later_release(name, like):
    """Save `like`'s fitted pipeline as later releases pickle it, reusing its goldens."""
    src = [c for c in CASES if c["model_dir"] == rel(os.path.join(HERE, like))]
    d = os.path.join(HERE, name)
    save_model(d, as_later_release(FITTED[like]), "cloudpickle", None)
    for c in src:
        c = dict(c, name=rel(d) + ":" + c["name"].split(":")[1], model_dir=rel(d),
                 feature_source="feature_names_in_",
                 notes="%s re-pickled with the attributes of scikit-learn 1.3-1.6" % like)
        CASES.append(c)


def add_refusal(name, est, X, y, fmt, want, notes):
    """A model mlbatch must refuse to load, with the words its message must hold."""
    if y is None:
        est.fit(X)
    else:
        est.fit(X, y)
    d = os.path.join(HERE, name)
    save_model(d, est, fmt, None)
    REFUSALS.append({"name": name, "kind": "model_load", "model_dir": rel(d), "format": fmt,
                     "want": want, "notes": notes})


def add_error(name, model_name, in_path, *, row, column, value, python_error, notes=""):
    ERRORS.append({"name": name, "kind": "input_data", "model_dir": rel(os.path.join(HERE, model_name)),
                   "input": rel(in_path), "row": row, "column": column, "value": value,
                   "python_error": python_error, "notes": notes})


def python_error(pipe, X):
    try:
        pipe.predict(X)
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, e)
    raise AssertionError("expected predict to fail")


# --------------------------------------------------------------------------
# pipelines


def main():
    warnings.filterwarnings("ignore", category=UserWarning)
    for f in os.listdir(HERE):
        if f not in KEEP:
            p = os.path.join(HERE, f)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)

    train, churn, spend, seg = customers(500, 1)
    test, _, _, _ = customers(160, 2)
    unseen, _, _, _ = customers(40, 3, unseen=True)
    cust_in = write_input(test, "customers_input.csv")
    cust_unseen = write_input(unseen, "customers_unseen.csv")
    cust = [("input", cust_in)]
    cust_all = [("input", cust_in), ("unseen", cust_unseen)]

    num = ["age", "income", "score", "tenure_months", "num_products"]
    cat = ["city", "plan", "channel"]
    allc = num + cat + ["is_active", "has_card"]

    # 1. The canonical mixed pipeline, with a column signature; skops too.
    add_case("customers_ct_logreg", Pipeline([
        ("prep", ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), num),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
            ("flag", "passthrough", ["is_active"]),
        ])),
        ("clf", LogisticRegression(max_iter=2000)),
    ]), train[num + cat + ["is_active"]], churn, cust_all, signature=True,
        fmts=("cloudpickle", "skops"),
        notes="ColumnTransformer: mean imputer + StandardScaler, OneHotEncoder(ignore), bool passthrough; signature with string/long/double/boolean")

    # 1b. A column the ColumnTransformer drops is optional: the second input has no
    # customer_id; a signature listing the columns in another order.
    no_id = write_input(test.drop(columns=["customer_id"]), "customers_no_id_input.csv")
    add_case("customers_dropped_id_logreg", Pipeline([
        ("prep", ColumnTransformer([
            ("num", SimpleImputer(strategy="median"), ["age", "score"]),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["city"]),
        ], remainder="drop")),
        ("clf", LogisticRegression(max_iter=2000)),
    ]), train[["customer_id", "age", "city", "score"]], churn, [("input", cust_in), ("no_id", no_id)],
        notes="remainder='drop' drops customer_id, which the input may lack")
    add_case("customers_signature_reordered_logreg", Pipeline([
        ("prep", ColumnTransformer([
            ("num", SimpleImputer(), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["plan", "city"]),
        ])),
        ("clf", LogisticRegression(max_iter=2000)),
    ]), train[["age", "income", "plan", "city"]], churn, cust, signature=True,
        sig_columns=["city", "plan", "income", "age"],
        notes="the signature lists the columns in another order than feature_names_in_")

    # 2. Trees over imputed, one-hot (drop='first') and boolean columns; names only.
    add_case("customers_ct_forest", Pipeline([
        ("prep", ColumnTransformer([
            ("num", SimpleImputer(strategy="median"), num),
            ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                              ("onehot", OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False))]), cat),
            ("card", SimpleImputer(strategy="most_frequent"), ["has_card"]),
        ], remainder="passthrough")),
        ("rf", RandomForestClassifier(n_estimators=25, max_depth=6, random_state=0)),
    ]), train[allc], churn, cust_all, fmts=("cloudpickle", "skops"),
        notes="median / most_frequent imputers (strings and an object bool column), drop='first', remainder passthrough of a bool column")

    # 3. Ordinal encoding with unknown and missing codes, HGB multiclass on string labels.
    add_case("customers_ordinal_hgb", Pipeline([
        ("prep", ColumnTransformer([
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                   encoded_missing_value=-2), cat + ["has_card"]),
        ], remainder="passthrough", verbose_feature_names_out=False)),
        ("hgb", HistGradientBoostingClassifier(max_iter=30, random_state=0)),
    ]), train[num + cat + ["has_card"]], seg, cust_all, fmts=("cloudpickle", "skops"),
        notes="OrdinalEncoder unknown_value=-1, encoded_missing_value=-2; HGB with NaN; verbose_feature_names_out=False")

    # 4. handle_unknown='error': scores the input, fails on the unseen file.
    err_pipe = add_case("customers_onehot_error_ridge", Pipeline([
        ("prep", ColumnTransformer([
            ("cat", OneHotEncoder(handle_unknown="error"), ["city", "plan"]),
            ("num", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=0.0)),
                              ("scale", MinMaxScaler(clip=True))]), ["age", "income", "tenure_months"]),
        ])),
        ("ridge", Ridge(alpha=0.5)),
    ]), train[["city", "plan", "age", "income", "tenure_months"]], spend, cust,
        notes="OneHotEncoder(handle_unknown='error'); constant imputer; MinMaxScaler(clip=True)")
    X_unseen = pd.read_csv(cust_unseen)[["city", "plan", "age", "income", "tenure_months"]]
    cats = err_pipe.named_steps["prep"].named_transformers_["cat"].categories_
    row = col = val = None
    for j, c in enumerate(["city", "plan"]):
        known = set(x for x in cats[j] if x == x)
        has_nan = any(x != x for x in cats[j])
        for i, v in enumerate(X_unseen[c]):
            ok = (v in known) if v == v else has_nan
            if not ok:
                row, col, val = i + 1, c, v
                break
        if row:
            break
    add_error("customers-onehot-unseen-category", "customers_onehot_error_ridge", cust_unseen,
              row=row, column=col, value=val, python_error=python_error(err_pipe, X_unseen),
              notes="OneHotEncoder(handle_unknown='error') meets a city it was not fitted on")

    # 5. Infrequent categories (min_frequency, infrequent_if_exist), GradientBoosting.
    add_case("customers_infrequent_gb", Pipeline([
        ("prep", ColumnTransformer([
            ("cat", OneHotEncoder(min_frequency=30, handle_unknown="infrequent_if_exist", sparse_output=False), cat),
            ("num", SimpleImputer(), num),
        ])),
        ("gb", GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0)),
    ]), train[num + cat], churn, cust_all, fmts=("cloudpickle", "skops"),
        notes="min_frequency=30 with handle_unknown='infrequent_if_exist'")

    # 6. max_categories, drop='if_binary', sparse one-hot output (sparse_threshold=1).
    add_case("customers_maxcat_sparse_logreg", Pipeline([
        ("prep", ColumnTransformer([
            ("cat", OneHotEncoder(max_categories=4, drop="if_binary", handle_unknown="infrequent_if_exist"),
             cat + ["is_active"]),
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler(with_mean=False))]), num),
        ], sparse_threshold=1.0)),
        ("clf", LogisticRegression(max_iter=3000)),
    ]), train[num + cat + ["is_active"]], seg, cust_all, signature=True,
        notes="max_categories=4, drop='if_binary' on a bool column, sparse output: StandardScaler(with_mean=False) scales by the reciprocal; multinomial on string labels")

    # 7. drop given per feature, infrequent via max_categories too.
    add_case("customers_drop_array_linreg", Pipeline([
        ("prep", ColumnTransformer([
            ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                              ("onehot", OneHotEncoder(drop=["Paris", "basic"], sparse_output=False))]), ["city", "plan"]),
            ("num", SimpleImputer(strategy="median"), ["income", "tenure_months", "num_products"]),
        ])),
        ("lin", LinearRegression()),
    ]), train[["city", "plan", "income", "tenure_months", "num_products"]], spend, cust,
        notes="constant imputer on strings ('missing'), OneHotEncoder(drop=['Paris', 'basic'])")

    # 8. add_indicator, MissingIndicator(features='all') in a FeatureUnion, a tree.
    add_case("customers_indicators_tree", Pipeline([
        ("prep", ColumnTransformer([
            ("num", FeatureUnion([
                ("imp", SimpleImputer(strategy="constant", fill_value=-1.0, add_indicator=True)),
                ("all", MissingIndicator(features="all")),
            ]), ["age", "income", "score"]),
            ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent", add_indicator=True)),
                              ("enc", OrdinalEncoder())]), ["city", "plan"]),
        ])),
        ("tree", DecisionTreeClassifier(max_depth=5, random_state=0)),
    ]), train[["age", "income", "score", "city", "plan"]], churn, cust,
        notes="SimpleImputer(add_indicator=True) on numbers and strings, MissingIndicator(features='all'), FeatureUnion")

    # 9. missing_values other than NaN, MissingIndicator missing-only, keep_empty_features.
    add_case("customers_missing_markers_lasso", Pipeline([
        ("prep", ColumnTransformer([
            ("chan", Pipeline([("imp", SimpleImputer(missing_values="unknown", strategy="most_frequent")),
                               ("enc", OneHotEncoder(sparse_output=False))]), ["channel"]),
            ("legacy", SimpleImputer(strategy="mean", keep_empty_features=True), ["legacy_score"]),
            ("legacy_dropped", SimpleImputer(strategy="mean"), ["legacy_score", "score"]),
            ("miss", MissingIndicator(error_on_new=False), ["age", "income", "score"]),
            ("prod", SimpleImputer(missing_values=1, strategy="constant", fill_value=0), ["num_products"]),
        ])),
        ("lasso", Lasso(alpha=0.01, max_iter=10000)),
    ]), train[["channel", "legacy_score", "score", "age", "income", "num_products"]], spend, cust,
        notes="missing_values='unknown' and 1, keep_empty_features, a dropped all-NaN column, MissingIndicator missing-only")

    # 10. Scalers.
    scal = ["age", "income", "score", "tenure_months"]
    Xs = train[scal]
    add_case("scalers_robust_maxabs_sgd", Pipeline([
        ("imp", SimpleImputer(strategy="median")),
        ("robust", RobustScaler(quantile_range=(10.0, 90.0))),
        ("maxabs", MaxAbsScaler()),
        ("sgd", SGDRegressor(random_state=0, max_iter=2000, tol=None)),
    ]), Xs, spend, cust, notes="RobustScaler, MaxAbsScaler")
    for norm in ("l1", "l2", "max"):
        add_case("normalizer_%s_logreg" % norm, Pipeline([
            ("imp", SimpleImputer()),
            ("scale", StandardScaler(with_std=False)),
            ("norm", Normalizer(norm=norm)),
            ("clf", LogisticRegression(max_iter=2000)),
        ]), Xs, churn, cust, notes="StandardScaler(with_std=False), Normalizer(%s)" % norm)
    add_case("minmax_noclip_robust_nocenter_ridge", Pipeline([
        ("imp", SimpleImputer(strategy="most_frequent")),
        ("minmax", MinMaxScaler(feature_range=(-2, 3))),
        ("robust", RobustScaler(with_centering=False)),
        ("ridge", Ridge()),
    ]), Xs, spend, cust, notes="MinMaxScaler without clip (values beyond the range), RobustScaler(with_centering=False)")

    # 11. Polynomial features.
    for tag, poly in [("deg2", PolynomialFeatures(2)),
                      ("deg3_interaction", PolynomialFeatures(3, interaction_only=True, include_bias=False)),
                      ("deg2to3_nobias", PolynomialFeatures((2, 3), include_bias=False)),
                      ("deg3_bias_min2", PolynomialFeatures((2, 3)))]:
        add_case("poly_%s_ridge" % tag, Pipeline([
            ("imp", SimpleImputer()),
            ("scale", StandardScaler()),
            ("poly", poly),
            ("ridge", Ridge(alpha=1.0)),
        ]), train[["age", "income", "score"]], spend, cust, notes="PolynomialFeatures %s" % tag)

    # 12. KBinsDiscretizer.
    for enc, strat in [("onehot-dense", "quantile"), ("ordinal", "uniform"), ("onehot", "kmeans")]:
        add_case("kbins_%s_%s_logreg" % (enc.replace("-", "_"), strat), Pipeline([
            ("imp", SimpleImputer(strategy="median")),
            ("bins", KBinsDiscretizer(n_bins=5, encode=enc, strategy=strat)),
            ("clf", LogisticRegression(max_iter=2000)),
        ]), Xs, churn, cust, notes="KBinsDiscretizer encode=%s strategy=%s" % (enc, strat))

    # 13. Pipeline structure: passthrough/None steps, FunctionTransformer(None),
    # nested pipelines three deep, weights.
    add_case("nested_passthrough_weights_gbr", Pipeline([
        ("noop", "passthrough"),
        ("inner", Pipeline([
            ("none", None),
            ("union", FeatureUnion([
                ("scaled", Pipeline([("imp", SimpleImputer()), ("deep", Pipeline([
                    ("ident", FunctionTransformer()), ("scale", StandardScaler())]))])),
                ("bins", Pipeline([("imp", SimpleImputer(strategy="median")),
                                   ("kb", KBinsDiscretizer(n_bins=3, encode="ordinal"))])),
            ], transformer_weights={"scaled": 2.0, "bins": 0.5})),
        ])),
        ("validate", FunctionTransformer(validate=True)),
        ("gbr", GradientBoostingRegressor(n_estimators=30, random_state=0)),
    ]), Xs, spend, cust, fmts=("cloudpickle", "skops"),
        notes="'passthrough' and None steps, nested Pipelines, FeatureUnion weights, FunctionTransformer()")

    # 14. Column selection by index, mask and slice; remainder as an estimator;
    # transformer_weights; fitted on a numpy array (positional inputs).
    Xnum = train[["age", "income", "score", "tenure_months", "num_products"]]
    add_case("positional_selectors_hgbr", Pipeline([
        ("prep", ColumnTransformer([
            ("first", SimpleImputer(strategy="median"), [0, 1]),
            ("mask", StandardScaler(), np.array([False, False, True, False, False])),
            ("slice", "passthrough", slice(3, 4)),
        ], remainder=MinMaxScaler(), transformer_weights={"first": 0.5})),
        ("hgbr", HistGradientBoostingRegressor(max_iter=40, random_state=0)),
    ]), Xnum, spend, cust, notes="fit on a DataFrame; columns chosen by index list, boolean mask and slice; remainder=MinMaxScaler(); transformer_weights")
    # Same selectors fitted on a plain array: no names, inputs by position.
    pos = Pipeline([
        ("prep", ColumnTransformer([
            ("first", SimpleImputer(strategy="median"), [0, -4]),
            ("slice", StandardScaler(), slice(2, 4)),
        ], remainder="drop")),
        ("et", ExtraTreesRegressor(n_estimators=15, max_depth=5, random_state=0)),
    ])
    pos.fit(Xnum.to_numpy(), spend)
    d = os.path.join(HERE, "positional_numpy_extratrees")
    save_model(d, pos, "cloudpickle", None)
    pos_in = write_input(pd.read_csv(cust_in)[Xnum.columns], "customers_numeric_input.csv")
    pred = pos.predict(pd.read_csv(pos_in).to_numpy())
    golden = os.path.join(d, "expected_input.csv")
    write_golden(golden, ["prediction"], [[mf.fmt_float(v)] for v in pred])
    CASES.append({"name": rel(d) + ":input", "model_dir": rel(d), "input": rel(pos_in),
                  "estimator": "sklearn.pipeline.Pipeline",
                  "final_estimator": "sklearn.ensemble._forest.ExtraTreesRegressor",
                  "serialization_format": "cloudpickle", "feature_source": "position",
                  "features": [], "names_out": names_out(pos),
                  "outputs": [{"method": "predict", "golden": rel(golden), "columns": ["prediction"],
                               "type": "float64", "tolerance": FLOAT_TOL}],
                  "notes": "fit on a numpy array: positional inputs; negative index and slice selectors; remainder dropped"})

    # 15. Name slices, callables resolved... and set_output("pandas") feeding a
    # second ColumnTransformer that selects by the first one's output names.
    inner = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), slice("age", "score")),
        ("cat", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), ["city", "plan"]),
    ], verbose_feature_names_out=False)
    second = ColumnTransformer([
        ("scaled", StandardScaler(), ["age", "income"]),
        ("keep", "passthrough", ["city_Paris", "plan_premium", "score"]),
    ], verbose_feature_names_out=True)
    pd_pipe = Pipeline([("first", inner), ("second", second), ("clf", LogisticRegression(max_iter=2000))])
    pd_pipe.set_output(transform="pandas")
    add_case("pandas_output_two_ct_logreg", pd_pipe, train[["age", "income", "score", "city", "plan"]], churn,
             cust_all, fmts=("cloudpickle", "skops"),
             notes="set_output(transform='pandas'); a slice of names; the second ColumnTransformer selects the first one's output names (verbose_feature_names_out=False there)")

    # 16. Booleans one-hot encoded (bool dtype and object with NaN).
    add_case("booleans_onehot_dummy", Pipeline([
        ("prep", ColumnTransformer([
            ("b", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["is_active", "has_card"]),
        ])),
        ("dummy", DummyClassifier(strategy="prior")),
    ]), train[["is_active", "has_card"]], churn, cust, signature=True,
        notes="OneHotEncoder on a bool column and on an object column of booleans with NaN; DummyClassifier")
    add_case("booleans_onehot_tree", Pipeline([
        ("prep", ColumnTransformer([
            ("b", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["is_active", "has_card"]),
            ("n", SimpleImputer(), ["score", "age"]),
        ])),
        ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)),
    ]), train[["is_active", "has_card", "score", "age"]], spend, cust, signature=True, fmts=("cloudpickle", "skops-deflate"),
        notes="booleans with and without NaN; skops archive compressed with deflate")

    # 17. Titanic-like table.
    ttrain, tsurv = titanic(600, 11)
    ttest, _ = titanic(150, 12)
    tin = write_input(ttest, "titanic_input.csv")
    tnum, tcat = ["age", "sibsp", "parch", "fare"], ["pclass", "sex", "embarked", "deck"]
    add_case("titanic_logreg", Pipeline([
        ("prep", ColumnTransformer([
            ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), tnum),
            ("cat", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="NA")),
                              ("enc", OneHotEncoder(handle_unknown="ignore"))]), tcat),
        ], remainder="passthrough")),
        ("clf", LogisticRegression(max_iter=2000)),
    ]), ttrain, tsurv, [("input", tin)], signature=True, fmts=("cloudpickle", "skops"),
        notes="Titanic-like: numbers, text with NaN, an int column one-hot encoded, a bool passed through")
    add_case("titanic_ordinal_hgb", Pipeline([
        ("prep", ColumnTransformer([
            ("num", SimpleImputer(strategy="median"), tnum),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), tcat),
        ], remainder="passthrough")),
        ("hgb", HistGradientBoostingClassifier(max_iter=25, random_state=0)),
    ]), ttrain, tsurv, [("input", tin)],
        notes="OrdinalEncoder with NaN kept (encoded_missing_value default) and unknown_value=nan")

    # 18. The classic numeric pipeline.
    bc = datasets.load_breast_cancer(as_frame=True)
    bX, by = bc.data, bc.target
    bin_ = write_input(bX.iloc[400:], "breast_cancer_input.csv")
    add_case("breast_cancer_scaler_logreg", Pipeline([
        ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=5000)),
    ]), bX.iloc[:400], by.iloc[:400].to_numpy(), [("input", bin_)], signature=True,
        fmts=("cloudpickle", "skops"), notes="StandardScaler -> LogisticRegression, column signature")

    # An error case without categories: NaN reaching LogisticRegression.
    nan_pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))])
    nan_pipe.fit(train[["score", "age"]].fillna(40.0), churn)
    d = os.path.join(HERE, "scaler_logreg_no_imputer")
    save_model(d, nan_pipe, "cloudpickle", None)
    Xn = pd.read_csv(cust_in)[["score", "age"]]
    first = int(np.flatnonzero(Xn["age"].isna().to_numpy())[0])
    add_error("customers-nan-reaches-logreg", "scaler_logreg_no_imputer", cust_in, row=first + 1,
              column="age", value="nan", python_error=python_error(nan_pipe, Xn),
              notes="StandardScaler lets NaN through; LogisticRegression refuses it")

    # Later releases' attributes on the same fitted pipelines.
    add_later_release("later_release_ct_forest", "customers_ct_forest")
    add_later_release("later_release_maxcat_sparse_logreg", "customers_maxcat_sparse_logreg")
    add_later_release("later_release_drop_array_linreg", "customers_drop_array_linreg")

    # Models mlbatch refuses, and says why.
    from sklearn.compose import make_column_selector
    Xr = train[["age", "score", "city"]].fillna({"age": 40.0})
    for fmt in ("cloudpickle", "skops"):
        add_refusal("refuse_function_transformer_%s" % fmt, Pipeline([
            ("log", FunctionTransformer(np.log1p)), ("lr", LinearRegression())]), Xr[["age", "score"]], spend, fmt,
            ["log1p", "cannot run arbitrary Python code"],
            "FunctionTransformer(np.log1p): a Python function")
    add_refusal("refuse_lambda_selector", Pipeline([
        ("prep", ColumnTransformer([("n", StandardScaler(), lambda X: ["age", "score"])])),
        ("lr", LinearRegression())]), Xr, spend, "cloudpickle", ["cloudpickle", "cannot run arbitrary Python code"],
        "columns chosen by a lambda")
    add_refusal("refuse_make_column_selector", Pipeline([
        ("prep", ColumnTransformer([("n", StandardScaler(), make_column_selector(dtype_include=np.number))])),
        ("lr", LinearRegression())]), Xr, spend, "cloudpickle", ["make_column_selector", "name, index, boolean mask or slice"],
        "columns chosen by make_column_selector")
    add_refusal("refuse_transformer_only", ColumnTransformer([("n", StandardScaler(), ["age", "score"])]), Xr, None,
                "cloudpickle", ["ColumnTransformer is a transformer", "no predict"],
                "a ColumnTransformer on its own: nothing predicts")

    manifest = {
        "about": "scikit-learn Pipeline fixtures; written by testdata/pipelines/gen.py",
        "generator": {"sklearn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                      "skops_format": "protocol %d (written by skops_writer.py)" % skops_writer.PROTOCOL},
        "conventions": {
            "paths": "relative to testdata/",
            "inputs": "read by pandas.read_csv, then scored with the model's own columns",
            "proba_columns": "proba_<label> in classes_ order, label as Python str()",
            "tolerance": "|got - want| <= abs + rel*|want|; exact for labels",
            "names_out": "get_feature_names_out() of the steps before the final estimator, null when scikit-learn cannot name them",
        },
        "cases": CASES,
        "errors": ERRORS,
        "refusals": REFUSALS,
    }
    mf.write_text(os.path.join(HERE, "cases.json"), json.dumps(manifest, indent=2) + "\n")
    write_readme()
    print("%d cases, %d error cases" % (len(CASES), len(ERRORS)))


def write_readme():
    lines = ["# Pipeline fixtures", "",
             "Written by `gen.py` (Debian's scikit-learn %s); do not edit by hand:" % sklearn.__version__, "",
             "    /usr/bin/python3 testdata/pipelines/gen.py", "",
             "- `customers_input.csv`, `customers_unseen.csv`: a synthetic customer table (numbers, text,",
             "  booleans, missing values); the second holds categories never seen in training.",
             "- `titanic_input.csv`, `breast_cancer_input.csv`, `customers_numeric_input.csv`.",
             "- One MLflow sklearn folder per pipeline; `_skops` / `_skops_deflate` folders hold the same",
             "  fitted pipeline in the skops format, written by `skops_writer.py`.",
             "- `cases.json`: every (model, input) pair with its golden files, and the inputs that must fail",
             "  (`errors`: the row, column and value mlbatch must report, and Python's own message).", "",
             "| model | notes |", "|---|---|"]
    seen = set()
    for c in CASES:
        if c["model_dir"] in seen:
            continue
        seen.add(c["model_dir"])
        lines.append("| `%s` | %s |" % (c["model_dir"].split("/", 1)[1], c["notes"] or ""))
    mf.write_text(os.path.join(HERE, "README.md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
