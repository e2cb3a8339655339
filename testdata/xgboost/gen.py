#!/usr/bin/python3
"""Generate mlbatch's XGBoost fixtures: MLflow model folders, inputs and goldens.

Run with Debian's Python stack (xgboost 1.7.4, scikit-learn 1.2.1, numpy,
pandas, PyYAML):

    /usr/bin/python3 testdata/xgboost/gen.py

Everything under testdata/xgboost/{models,inputs} and cases.json is rewritten.
The script is deterministic (fixed seeds, nthread=1, fixed ids and timestamps).

Each case is one MLflow model folder laid out as mlflow.xgboost.save_model
writes it (mlflow/xgboost/__init__.py, save_model): MLmodel with the
python_function (loader_module mlflow.xgboost) and xgboost (data, model_class,
model_format, xgb_version, code) flavors, model.<format>, conda.yaml,
python_env.yaml, requirements.txt. Goldens are computed from the saved file,
loaded the way MLflow loads it (model_class() then load_model) and called the
way MLflow's pyfunc calls it: Booster.predict(DMatrix(df)) for a Booster,
model.predict(df) / predict_proba(df) for the scikit-learn API.

Fixtures for formats written by newer xgboost versions are made by editing a
1.7 model the way those versions write it; each edit cites the xgboost source.
"""

import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb
import yaml
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_iris,
                              load_wine, make_regression)

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "models")
INPUTS = os.path.join(HERE, "inputs")

MLFLOW_VERSION = "2.16.2"
PYTHON_VERSION = "3.11.2"
CREATED = "2024-06-05 14:00:37.250000"

assert xgb.__version__ == "1.7.4", xgb.__version__


# --------------------------------------------------------------------------
# small writers


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def rel(path):
    return os.path.relpath(path, HERE).replace(os.sep, "/")


def fmt_float(v):
    v = float(v)
    if v != v:
        return ""  # NaN: empty cell, as pandas.to_csv writes it
    return repr(v)


def write_csv(path, header, rows):
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join(r))
    write_text(path, "\n".join(lines) + "\n")


def frame_csv(path, df):
    rows = [[fmt_float(v) for v in row] for row in df.to_numpy(dtype=np.float64)]
    write_csv(path, list(df.columns), rows)


def uuid_for(name):
    # Deterministic 32-hex model_uuid from the case name.
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------
# MLflow folder


def colspec(df):
    return json.dumps([{"type": "double", "name": c, "required": True} for c in df.columns])


def tensorspec(n, dtype="float64"):
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": [-1, n]}}])


def out_tensor(dtype, shape):
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": shape}}])


def write_mlflow_folder(case, model_file, size):
    d = case["dir"]
    fmt = case["model_format"]
    data = "model." + fmt
    mlmodel = {
        "flavors": {
            "python_function": {
                "data": data,
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.xgboost",
                "python_version": PYTHON_VERSION,
            },
            "xgboost": {
                "code": None,
                "data": data,
                "model_class": case["model_class"],
                "model_format": fmt,
                "xgb_version": case.get("xgb_version", xgb.__version__),
            },
        },
        "mlflow_version": MLFLOW_VERSION,
        "model_size_bytes": size,
        "model_uuid": uuid_for(case["name"]),
        "utc_time_created": CREATED,
    }
    if case.get("signature"):
        mlmodel["signature"] = case["signature"]
    write_text(os.path.join(d, "MLmodel"), yaml.safe_dump(mlmodel, default_flow_style=False, allow_unicode=True))
    reqs = [
        "mlflow==" + MLFLOW_VERSION,
        "numpy==" + np.__version__,
        "pandas==" + pd.__version__,
        "psutil==5.9.4",
        "scikit-learn==" + sklearn.__version__,
        "scipy==1.10.1",
        "xgboost==" + case.get("xgb_version", xgb.__version__),
    ]
    conda = {
        "channels": ["conda-forge"],
        "dependencies": ["python=" + PYTHON_VERSION, "pip<=23.0.1", {"pip": reqs}],
        "name": "mlflow-env",
    }
    write_text(os.path.join(d, "conda.yaml"), yaml.safe_dump(conda, default_flow_style=False))
    pyenv = {
        "python": PYTHON_VERSION,
        "build_dependencies": ["pip==23.0.1", "setuptools==66.1.1", "wheel==0.38.4"],
        "dependencies": ["-r requirements.txt"],
    }
    write_text(os.path.join(d, "python_env.yaml"), yaml.safe_dump(pyenv, default_flow_style=False, sort_keys=False))
    write_text(os.path.join(d, "requirements.txt"), "\n".join(reqs))


# --------------------------------------------------------------------------
# datasets


def frame(bunch):
    return pd.DataFrame(bunch.data, columns=list(bunch.feature_names)), bunch.target


DIAB_X, DIAB_Y = frame(load_diabetes())
BC_X, BC_Y = frame(load_breast_cancer())
IRIS_X, IRIS_Y = frame(load_iris())
WINE_X, WINE_Y = frame(load_wine())


def with_nans(df, frac, seed):
    rng = np.random.RandomState(seed)
    out = df.copy()
    mask = rng.rand(*out.shape) < frac
    out = out.mask(mask)
    return out


DIAB_NAN_X = with_nans(DIAB_X, 0.1, 7)


def cat_data():
    """Wine features plus an integer-coded categorical column 'region' (0..5)."""
    rng = np.random.RandomState(11)
    X = WINE_X[["alcohol", "malic_acid", "color_intensity", "proline"]].copy()
    region = rng.randint(0, 6, size=len(X))
    y = WINE_Y.astype(float) + np.where(region == 2, 1.5, 0.0) - np.where(region == 4, 1.0, 0.0)
    X["region"] = region.astype(float)
    return X, y


CAT_X, CAT_Y = cat_data()
CAT_COL = "region"
CAT_LEVELS = 10  # category codes present in the input (0..9; 6..9 unseen in training)


def bench_data():
    X, y = make_regression(n_samples=4000, n_features=13, n_informative=10, noise=5.0, random_state=3)
    return pd.DataFrame(X, columns=["f%d" % i for i in range(13)]), y


BENCH_X, BENCH_Y = bench_data()

DATASETS = {
    "diabetes": DIAB_X,
    "diabetes_nan": DIAB_NAN_X,
    "breast_cancer": BC_X,
    "iris": IRIS_X,
    "wine": WINE_X,
    "categorical": CAT_X,
    "bench": BENCH_X.iloc[:300],
}


# --------------------------------------------------------------------------
# cases

CASES = []


def case(name, dataset, model, model_class, fmt, method="booster", **kw):
    c = dict(
        name=name,
        dir=os.path.join(MODELS, name),
        dataset=dataset,
        model=model,
        model_class=model_class,
        model_format=fmt,
        method=method,
    )
    c.update(kw)
    CASES.append(c)
    return c


def dm(X, y=None, **kw):
    return xgb.DMatrix(X, label=y, nthread=1, **kw)


def train(params, X, y, rounds, **kw):
    p = {"nthread": 1, "seed": 0}
    p.update(params)
    return xgb.train(p, dm(X, y, **kw), rounds)


def build_cases():
    # --- Regression, one model in all three file formats (Booster) ----------
    reg = train({"objective": "reg:squarederror", "max_depth": 4, "eta": 0.3}, DIAB_X, DIAB_Y, 20)
    for fmt in ("json", "ubj", "xgb"):
        case("booster_reg_squarederror_" + fmt, "diabetes", reg, "xgboost.core.Booster", fmt,
             same_model="booster_reg_squarederror",
             signature={"inputs": colspec(DIAB_X), "outputs": out_tensor("float32", [-1]), "params": None})

    # --- One booster per objective family (JSON) ---------------------------
    y_pos = DIAB_Y.astype(float)
    case("booster_reg_squaredlogerror", "diabetes",
         train({"objective": "reg:squaredlogerror", "max_depth": 3, "eta": 0.5}, DIAB_X, y_pos, 15),
         "xgboost.core.Booster", "json")
    case("booster_reg_pseudohubererror", "diabetes",
         train({"objective": "reg:pseudohubererror", "max_depth": 3, "eta": 0.5, "base_score": 150}, DIAB_X, DIAB_Y, 15),
         "xgboost.core.Booster", "json")
    case("booster_reg_absoluteerror", "diabetes",
         train({"objective": "reg:absoluteerror", "max_depth": 3, "eta": 0.5}, DIAB_X, DIAB_Y, 15),
         "xgboost.core.Booster", "json")
    case("booster_count_poisson", "diabetes",
         train({"objective": "count:poisson", "max_depth": 3, "eta": 0.3, "base_score": 150}, DIAB_X, np.round(DIAB_Y / 10), 15),
         "xgboost.core.Booster", "json", note="base_score 150 -> margin log(150)")
    case("booster_reg_gamma", "diabetes",
         train({"objective": "reg:gamma", "max_depth": 3, "eta": 0.3, "base_score": 2.5}, DIAB_X, y_pos, 15),
         "xgboost.core.Booster", "json", note="base_score 2.5 -> margin log(2.5)")
    case("booster_reg_tweedie", "diabetes",
         train({"objective": "reg:tweedie", "tweedie_variance_power": 1.4, "max_depth": 3, "eta": 0.3}, DIAB_X, y_pos, 15),
         "xgboost.core.Booster", "json")
    cox_y = np.where(np.arange(len(DIAB_Y)) % 4 == 0, -1, 1) * DIAB_Y.astype(float)
    case("booster_survival_cox", "diabetes",
         train({"objective": "survival:cox", "max_depth": 3, "eta": 0.3}, DIAB_X, cox_y, 10),
         "xgboost.core.Booster", "json")
    lo = DIAB_Y.astype(float)
    hi = np.where(np.arange(len(lo)) % 3 == 0, np.inf, lo)
    aft = xgb.train({"objective": "survival:aft", "aft_loss_distribution": "normal", "max_depth": 3, "eta": 0.3,
                     "nthread": 1, "seed": 0},
                    xgb.DMatrix(DIAB_X, label_lower_bound=lo, label_upper_bound=hi, nthread=1), 10)
    case("booster_survival_aft", "diabetes", aft, "xgboost.core.Booster", "json")
    y01 = (DIAB_Y - DIAB_Y.min()) / (DIAB_Y.max() - DIAB_Y.min())
    case("booster_reg_logistic", "diabetes",
         train({"objective": "reg:logistic", "max_depth": 3, "eta": 0.3}, DIAB_X, y01, 15),
         "xgboost.core.Booster", "json")
    bl = train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "base_score": 0.3}, BC_X, BC_Y, 15)
    case("booster_binary_logistic", "breast_cancer", bl, "xgboost.core.Booster", "json",
         same_model="booster_binary_logistic", note="base_score 0.3 -> margin logit(0.3)")
    case("booster_binary_logistic_xgb", "breast_cancer", bl, "xgboost.core.Booster", "xgb",
         same_model="booster_binary_logistic", note="base_score 0.3 -> margin logit(0.3)")
    case("booster_binary_logitraw", "breast_cancer",
         train({"objective": "binary:logitraw", "max_depth": 3, "eta": 0.3, "base_score": 0.3}, BC_X, BC_Y, 15),
         "xgboost.core.Booster", "json", note="raw margin out; base_score 0.3 is the margin as is (no logit)")
    case("booster_binary_hinge", "breast_cancer",
         train({"objective": "binary:hinge", "max_depth": 3, "eta": 0.3}, BC_X, BC_Y, 15),
         "xgboost.core.Booster", "json")
    softprob = train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2, "eta": 0.3}, IRIS_X, IRIS_Y, 10)
    case("booster_multi_softprob", "iris", softprob, "xgboost.core.Booster", "json",
         signature={"inputs": colspec(IRIS_X), "outputs": out_tensor("float32", [-1, 3]), "params": None})
    case("booster_multi_softmax", "iris",
         train({"objective": "multi:softmax", "num_class": 3, "max_depth": 2, "eta": 0.3}, IRIS_X, IRIS_Y, 10),
         "xgboost.core.Booster", "ubj")
    qid = np.repeat(np.arange(34), 13)[: len(DIAB_X)]
    n = len(qid)
    case("booster_rank_pairwise", "diabetes",
         xgb.train({"objective": "rank:pairwise", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0},
                   xgb.DMatrix(DIAB_X.iloc[:n], label=(DIAB_Y[:n] > 140).astype(int), qid=qid, nthread=1), 10),
         "xgboost.core.Booster", "json")
    rk = xgb.XGBRanker(objective="rank:ndcg", n_estimators=10, max_depth=3, learning_rate=0.3, n_jobs=1, random_state=0)
    rk.fit(DIAB_X.iloc[:n], np.minimum(DIAB_Y[:n] // 80, 3).astype(int), qid=qid)
    case("xgbranker_ndcg", "diabetes", rk, "xgboost.sklearn.XGBRanker", "json", method="sklearn")

    # --- Missing values ----------------------------------------------------
    case("booster_reg_nan", "diabetes_nan",
         train({"objective": "reg:squarederror", "max_depth": 4, "eta": 0.3}, DIAB_NAN_X, DIAB_Y, 15),
         "xgboost.core.Booster", "json", note="trained and scored with ~10% NaN cells")
    rnan = xgb.XGBRegressor(n_estimators=15, max_depth=4, learning_rate=0.3, n_jobs=1, random_state=0)
    rnan.fit(DIAB_NAN_X, DIAB_Y)
    case("xgbregressor_nan_xgb", "diabetes_nan", rnan, "xgboost.sklearn.XGBRegressor", "xgb", method="sklearn",
         note="old binary format: no feature names in the file, columns by position")

    # --- scikit-learn API --------------------------------------------------
    r = xgb.XGBRegressor(n_estimators=20, max_depth=3, learning_rate=0.3, n_jobs=1, random_state=0)
    r.fit(DIAB_X, DIAB_Y)
    case("xgbregressor_diabetes", "diabetes", r, "xgboost.sklearn.XGBRegressor", "json", method="sklearn",
         signature={"inputs": colspec(DIAB_X), "outputs": out_tensor("float32", [-1]), "params": None})

    # Wine as numpy: no feature names anywhere, tensor signature.
    rw = xgb.XGBRegressor(n_estimators=15, max_depth=3, learning_rate=0.3, n_jobs=1, random_state=0)
    rw.fit(WINE_X.to_numpy(), WINE_X["proline"].to_numpy() / 100)
    case("xgbregressor_wine_numpy", "wine", rw, "xgboost.sklearn.XGBRegressor", "ubj", method="sklearn",
         positional=True,
         signature={"inputs": tensorspec(13), "outputs": out_tensor("float32", [-1]), "params": None})

    mt = xgb.XGBRegressor(n_estimators=8, max_depth=3, learning_rate=0.3, tree_method="hist", n_jobs=1, random_state=0)
    mt.fit(DIAB_X, np.c_[DIAB_Y, np.log(DIAB_Y)])
    case("xgbregressor_multitarget", "diabetes", mt, "xgboost.sklearn.XGBRegressor", "json", method="sklearn",
         note="two targets: y and log(y); tree_info alternates targets")

    # Classifier with early stopping: best_iteration decides the trees used.
    Xtr, Xva = BC_X.iloc[::2], BC_X.iloc[1::2]
    ytr, yva = BC_Y[::2], BC_Y[1::2]
    cb = xgb.XGBClassifier(n_estimators=200, max_depth=3, learning_rate=0.5, early_stopping_rounds=5,
                           eval_metric="logloss", n_jobs=1, random_state=0)
    cb.fit(Xtr, ytr, eval_set=[(Xva, yva)], verbose=False)
    assert cb.best_iteration + 1 < cb.get_booster().num_boosted_rounds()
    for fmt in ("json", "ubj", "xgb"):
        case("xgbclassifier_binary_earlystop_" + fmt, "breast_cancer", cb, "xgboost.sklearn.XGBClassifier", fmt,
             method="sklearn", same_model="xgbclassifier_binary_earlystop",
             note="best_iteration %d of %d rounds" % (cb.best_iteration, cb.get_booster().num_boosted_rounds()))

    Xtr, Xva = WINE_X.iloc[::2], WINE_X.iloc[1::2]
    ytr, yva = WINE_Y[::2], WINE_Y[1::2]
    cm = xgb.XGBClassifier(n_estimators=200, max_depth=2, learning_rate=0.5, early_stopping_rounds=4,
                           eval_metric="mlogloss", n_jobs=1, random_state=0)
    cm.fit(Xtr, ytr, eval_set=[(Xva, yva)], verbose=False)
    assert cm.best_iteration + 1 < cm.get_booster().num_boosted_rounds()
    case("xgbclassifier_multiclass_earlystop", "wine", cm, "xgboost.sklearn.XGBClassifier", "ubj", method="sklearn",
         signature={"inputs": colspec(WINE_X), "outputs": out_tensor("int64", [-1]), "params": None},
         note="multi:softprob, best_iteration %d of %d rounds" % (cm.best_iteration, cm.get_booster().num_boosted_rounds()))

    cs = xgb.XGBClassifier(objective="multi:softmax", n_estimators=10, max_depth=2, learning_rate=0.3, n_jobs=1,
                           random_state=0)
    cs.fit(IRIS_X, IRIS_Y)
    case("xgbclassifier_multi_softmax", "iris", cs, "xgboost.sklearn.XGBClassifier", "json", method="sklearn",
         note="predict: booster labels cast to int32; predict_proba: scipy softmax of the margins")

    # --- DART ---------------------------------------------------------------
    dart_params = {"booster": "dart", "max_depth": 3, "eta": 0.3, "rate_drop": 0.3, "skip_drop": 0.0,
                   "base_score": 150, "objective": "reg:squarederror"}
    dart = train(dart_params, DIAB_X, DIAB_Y, 15)
    for fmt in ("json", "xgb"):
        case("booster_dart_" + fmt, "diabetes", dart, "xgboost.core.Booster", fmt, same_model="booster_dart",
             note="DMatrix path: out += leaf * weight_drop")
    rd = xgb.XGBRegressor(booster="dart", n_estimators=15, max_depth=3, learning_rate=0.3, rate_drop=0.3,
                          base_score=150, n_jobs=1, random_state=0)
    rd.fit(DIAB_X, DIAB_Y)
    case("xgbregressor_dart", "diabetes", rd, "xgboost.sklearn.XGBRegressor", "json", method="sklearn",
         note="inplace path: out += ((base + leaf) - base) * weight_drop")
    cd = xgb.XGBClassifier(booster="dart", n_estimators=10, max_depth=2, learning_rate=0.3, rate_drop=0.2,
                           n_jobs=1, random_state=0)
    cd.fit(IRIS_X, IRIS_Y)
    case("xgbclassifier_dart_iris", "iris", cd, "xgboost.sklearn.XGBClassifier", "ubj", method="sklearn")

    # --- gblinear -----------------------------------------------------------
    lin = train({"booster": "gblinear", "objective": "reg:squarederror", "eta": 0.5, "lambda": 0.1}, DIAB_X, DIAB_Y, 20)
    for fmt in ("json", "xgb"):
        case("booster_gblinear_" + fmt, "diabetes_nan", lin, "xgboost.core.Booster", fmt, same_model="booster_gblinear",
             note="NaN features are skipped (sparse row)")
    cl = xgb.XGBClassifier(booster="gblinear", n_estimators=20, learning_rate=0.5, n_jobs=1, random_state=0)
    cl.fit(WINE_X / WINE_X.max(), WINE_Y)
    case("xgbclassifier_gblinear_wine", "wine", cl, "xgboost.sklearn.XGBClassifier", "json", method="sklearn",
         note="gblinear ignores best_iteration; the sklearn API predicts through a DMatrix")

    # --- Forests: num_parallel_tree > 1 ----------------------------------------
    rf = xgb.XGBRFRegressor(n_estimators=12, max_depth=4, n_jobs=1, random_state=0)
    rf.fit(DIAB_X, DIAB_Y)
    case("xgbrfregressor_diabetes", "diabetes", rf, "xgboost.sklearn.XGBRFRegressor", "json", method="sklearn")
    rfc = xgb.XGBRFClassifier(n_estimators=8, max_depth=3, n_jobs=1, random_state=0)
    rfc.fit(BC_X, BC_Y)
    case("xgbrfclassifier_bc", "breast_cancer", rfc, "xgboost.sklearn.XGBRFClassifier", "ubj", method="sklearn")
    case("booster_boosted_forest_multiclass", "iris",
         train({"objective": "multi:softprob", "num_class": 3, "num_parallel_tree": 3, "max_depth": 2, "eta": 0.5,
                "subsample": 0.7, "colsample_bynode": 0.8}, IRIS_X, IRIS_Y, 4),
         "xgboost.core.Booster", "xgb", note="4 rounds x 3 classes x 3 parallel trees")

    # --- Categorical splits ----------------------------------------------------
    cat_train = CAT_X.copy()
    cat_train[CAT_COL] = pd.Categorical(cat_train[CAT_COL].astype(int), categories=list(range(6)))
    cr = xgb.XGBRegressor(n_estimators=10, max_depth=3, learning_rate=0.3, tree_method="hist",
                          enable_categorical=True, max_cat_to_onehot=1, n_jobs=1, random_state=0)
    cr.fit(cat_train, CAT_Y)
    case("xgbregressor_categorical", "categorical", cr, "xgboost.sklearn.XGBRegressor", "json", method="sklearn",
         categorical=True, note="partition splits on 'region'; category in the node's set goes right")
    cc = xgb.XGBClassifier(n_estimators=8, max_depth=3, learning_rate=0.3, tree_method="hist",
                           enable_categorical=True, max_cat_to_onehot=1, n_jobs=1, random_state=0)
    cc.fit(cat_train, WINE_Y)
    case("xgbclassifier_categorical", "categorical", cc, "xgboost.sklearn.XGBClassifier", "ubj", method="sklearn",
         categorical=True)
    cb2 = xgb.train({"tree_method": "hist", "max_depth": 3, "eta": 0.3, "max_cat_to_onehot": 1, "nthread": 1,
                     "seed": 0}, xgb.DMatrix(cat_train, label=CAT_Y, enable_categorical=True, nthread=1), 10)
    case("booster_categorical", "categorical", cb2, "xgboost.core.Booster", "json", categorical_probes=True,
         note="input adds negative, fractional, unseen and >= 2^24 category values; pyfunc passes codes as numbers")

    # --- Benchmark model: 100 trees, depth 6, 13 features ------------------
    bench = train({"objective": "reg:squarederror", "max_depth": 6, "eta": 0.1}, BENCH_X, BENCH_Y, 100)
    case("bench_reg_100x6", "bench", bench, "xgboost.core.Booster", "ubj",
         note="BenchmarkPredict100Trees; bench_native.py times xgboost on the same file")


# --------------------------------------------------------------------------
# inputs: dataset rows plus threshold probes


def boosters_of(dataset):
    out = []
    for c in CASES:
        if c["dataset"] == dataset:
            m = c["model"]
            out.append(m if isinstance(m, xgb.Booster) else m.get_booster())
    return out


def split_thresholds(booster, limit):
    """(feature index, float32 threshold) of numerical splits in the first trees."""
    j = json.loads(booster.save_raw("json"))
    gb = j["learner"]["gradient_booster"]
    if gb["name"] == "gblinear":
        return []
    trees = (gb["gbtree"] if gb["name"] == "dart" else gb)["model"]["trees"]
    out = []
    for t in trees[:3]:
        for i, l in enumerate(t["left_children"]):
            if l != -1 and t["split_type"][i] == 0:
                out.append((t["split_indices"][i], np.float32(t["split_conditions"][i])))
    return out[:limit]


def make_input(dataset):
    X = DATASETS[dataset].copy().reset_index(drop=True)
    rows = []
    probes = []
    seen = set()
    for b in boosters_of(dataset):
        for f, thr in split_thresholds(b, 6):
            if (f, thr) in seen or not np.isfinite(thr):
                continue
            seen.add((f, thr))
            probes.append((f, thr))
    probes = probes[:20]
    for k, (f, thr) in enumerate(probes):
        base = X.iloc[(7 * k) % len(X)].copy()
        exact = float(thr)
        # x == threshold goes right (strict <); a float64 just below the float32
        # threshold rounds up to it and goes right too; the float32 below goes left.
        for v in (exact, np.nextafter(exact, -np.inf), float(np.nextafter(thr, np.float32(-np.inf)))):
            r = base.copy()
            r.iloc[f] = v
            rows.append(r)
    if rows:
        X = pd.concat([X, pd.DataFrame(rows)], ignore_index=True)
    if dataset == "categorical":
        extra = []
        for code in (6, 7, 9):  # codes never seen in training
            r = X.iloc[code].copy()
            r[CAT_COL] = code
            extra.append(r)
        r = X.iloc[3].copy()
        r[CAT_COL] = np.nan
        extra.append(r)
        X = pd.concat([X, pd.DataFrame(extra)], ignore_index=True)
    return X


def categorical_probes(X):
    """Category values only a numeric column can carry: negative, fractional, huge."""
    extra = []
    for k, v in enumerate((-1.0, -0.5, 2.5, 4.999, 16777215.0, 16777216.0, 1e9)):
        r = X.iloc[k].copy()
        r[CAT_COL] = v
        extra.append(r)
    return pd.concat([X, pd.DataFrame(extra)], ignore_index=True)


# --------------------------------------------------------------------------
# saving and goldens


def save_model_file(c, path):
    m = c["model"]
    fmt = c["model_format"]
    tmp = os.path.join(HERE, ".tmp_model." + ("json" if fmt == "json" else "ubj" if fmt == "ubj" else "bin"))
    m.save_model(tmp)  # the extension picks the format in xgboost 1.7
    with open(tmp, "rb") as f:
        data = f.read()
    os.remove(tmp)
    write_bytes(path, data)
    return data


def load_like_mlflow(c, path):
    cls = c["model_class"]
    if cls == "xgboost.core.Booster":
        m = xgb.Booster()
        m.load_model(path)
        m.set_param({"nthread": 1})
        return m
    name = cls.rsplit(".", 1)[1]
    m = getattr(xgb, name)()
    m.load_model(path)
    m.set_params(n_jobs=1)
    return m


def predict_frame(c, X):
    """The DataFrame MLflow's pyfunc hands to the model."""
    if c.get("categorical"):
        X = X.copy()
        X[CAT_COL] = pd.Categorical(X[CAT_COL], categories=list(range(CAT_LEVELS)))
    if c.get("positional"):
        return X.to_numpy()
    return X


def goldens(c, path, X):
    m = load_like_mlflow(c, path)
    data = predict_frame(c, X)
    out = {}
    if isinstance(m, xgb.Booster):
        p = m.predict(xgb.DMatrix(data, nthread=1), validate_features=True)
        out["predict"] = p
    else:
        out["predict"] = m.predict(data, validate_features=True)
        if isinstance(m, xgb.XGBClassifier):
            out["predict_proba"] = m.predict_proba(data, validate_features=True)
    return out


def write_goldens(c, res):
    outputs = []
    p = res["predict"]
    d = c["dir"]
    if "predict_proba" in res:
        header = ["prediction"]
        rows = [[str(int(v))] for v in p]
        write_csv(os.path.join(d, "expected.csv"), header, rows)
        outputs.append({"method": "predict", "golden": rel(os.path.join(d, "expected.csv")), "columns": header,
                        "type": "int64", "tolerance": {"exact": True}})
        pr = res["predict_proba"]
        header = ["proba_%d" % k for k in range(pr.shape[1])]
        write_csv(os.path.join(d, "expected_proba.csv"), header, [[fmt_float(v) for v in row] for row in pr])
        outputs.append({"method": "predict_proba", "golden": rel(os.path.join(d, "expected_proba.csv")),
                        "columns": header, "type": "float64", "tolerance": {"rel": 1e-6, "abs": 1e-7}})
        return outputs
    if p.ndim == 1:
        header = ["prediction"]
        rows = [[fmt_float(v)] for v in p]
    else:
        header = ["prediction_%d" % k for k in range(p.shape[1])]
        rows = [[fmt_float(v) for v in row] for row in p]
    write_csv(os.path.join(d, "expected.csv"), header, rows)
    outputs.append({"method": "predict", "golden": rel(os.path.join(d, "expected.csv")), "columns": header,
                    "type": "float64", "tolerance": {"rel": 1e-6, "abs": 1e-7}})
    return outputs


# --------------------------------------------------------------------------
# formats of newer xgboost versions, made by editing 1.7 files


def edit_v31_base_score_array(src_case, name):
    """xgboost >= 3.1 writes base_score as a JSON array inside the string.

    Source: src/learner.cc, LearnerModelParamLegacy::ToJson (`ss << base_score`
    where base_score is a common::ParamArray<float>) and
    src/common/param_array.cc, WriteStream (an F32Array through JsonWriter:
    "[3E-1]"). 2.0+ also writes gbtree's iteration_indptr
    (src/gbm/gbtree_model.cc, GBTreeModel::SaveModel) and version [3,1,0].
    """
    src = os.path.join(src_case["dir"], "model.json")
    with open(src) as f:
        text = f.read()
    j = json.loads(text)
    bs = j["learner"]["learner_model_param"]["base_score"]
    assert not bs.startswith("[")
    text = text.replace('"base_score":"%s"' % bs, '"base_score":"[%s]"' % bs, 1)
    n = len(j["learner"]["gradient_booster"]["model"]["trees"])
    indptr = ",".join(str(i) for i in range(n + 1))
    text = text.replace('"tree_info":[', '"iteration_indptr":[%s],"tree_info":[' % indptr, 1)
    text = text.replace('"version":[1,7,4]', '"version":[3,1,0]', 1)
    c = dict(src_case)
    c.update(name=name, dir=os.path.join(MODELS, name), xgb_version="3.1.0", edited_from=src_case["name"],
             note="base_score '[%s]' (3.1 array form) and iteration_indptr; predictions equal %s's" % (bs, src_case["name"]))
    return c, text.encode()


def edit_v31_multiclass_intercept(src_case, name, intercept):
    """3.1 multi-class: one intercept per class, in margin space (softmax has no
    inverse link: multi:softprob's InitEstimation in src/objective/multiclass_obj.cc
    stores centred log priors). Golden: 1.7 with the same per-class base_margin.
    """
    src = os.path.join(src_case["dir"], "model.json")
    with open(src) as f:
        text = f.read()
    j = json.loads(text)
    bs = j["learner"]["learner_model_param"]["base_score"]
    arr = "[" + ",".join(intercept) + "]"
    text = text.replace('"base_score":"%s"' % bs, '"base_score":"%s"' % arr, 1)
    text = text.replace('"version":[1,7,4]', '"version":[3,1,0]', 1)
    c = dict(src_case)
    c.update(name=name, dir=os.path.join(MODELS, name), xgb_version="3.1.0", edited_from=src_case["name"],
             base_margin=[float(np.float32(float(v))) for v in intercept],
             note="per-class base_score %s (3.1 array form); golden from 1.7 with that base_margin" % arr)
    return c, text.encode()


def edit_pre10_binary(src_case, name):
    """Binary files from xgboost < 1.0 have zero version fields and hold
    base_score already as a margin (src/learner.cc, LearnerIO::LoadModel:
    'Before 1.0.0, base_score is saved as a transformed value')."""
    src = os.path.join(src_case["dir"], "model.xgb")
    with open(src, "rb") as f:
        data = bytearray(f.read())
    assert data[:4] == b"binf"
    p = 4
    base = struct.unpack_from("<f", data, p)[0]
    margin = np.float32(-math.log(1.0 / base - 1.0))
    struct.pack_into("<f", data, p, float(margin))
    struct.pack_into("<II", data, p + 20, 0, 0)  # major, minor
    struct.pack_into("<I", data, p + 28, 0)  # num_target (reserved then)
    c = dict(src_case)
    c.update(name=name, dir=os.path.join(MODELS, name), xgb_version="0.90", edited_from=src_case["name"],
             note="version 0.0 header, base_score stored as margin logit(%r)" % base)
    return c, bytes(data)


# --------------------------------------------------------------------------


def feature_source(c):
    """Where mlbatch takes the model's input columns from."""
    if c.get("signature"):
        return "signature"
    with open(os.path.join(c["dir"], "MLmodel")) as f:
        data_file = yaml.safe_load(f)["flavors"]["xgboost"]["data"]
    with open(os.path.join(c["dir"], data_file), "rb") as f:
        head = f.read(2)
    if head[:1] != b"{":
        return "position"  # the binary format keeps no feature names
    b = c["model"] if isinstance(c["model"], xgb.Booster) else c["model"].get_booster()
    return "feature_names" if b.feature_names else "position"


def write_seeds():
    """Tiny models in every format: seeds for the Go fuzzers (FuzzLoadJSON,
    FuzzLoadUBJSON, FuzzLoadBinary), small enough to mutate quickly."""
    d = os.path.join(HERE, "seeds")
    X, y = IRIS_X.iloc[:, :2], (IRIS_Y == 1).astype(int)
    tiny = train({"objective": "binary:logistic", "max_depth": 2, "eta": 0.5}, X, y, 2)
    multi = train({"objective": "multi:softprob", "num_class": 3, "max_depth": 1, "eta": 0.5}, X, IRIS_Y, 1)
    dart = train({"booster": "dart", "max_depth": 1, "rate_drop": 0.5, "skip_drop": 0.0}, X, IRIS_Y, 2)
    lin = train({"booster": "gblinear", "num_class": 3, "objective": "multi:softmax"}, X, IRIS_Y, 1)
    cat_train = CAT_X[["alcohol", CAT_COL]].copy()
    cat_train[CAT_COL] = pd.Categorical(cat_train[CAT_COL].astype(int), categories=list(range(6)))
    cat = xgb.train({"tree_method": "hist", "max_depth": 2, "max_cat_to_onehot": 1, "nthread": 1, "seed": 0},
                    xgb.DMatrix(cat_train, label=CAT_Y, enable_categorical=True, nthread=1), 1)
    for name, m, exts in (("tiny", tiny, ("json", "ubj", "bin")), ("multi", multi, ("json", "ubj", "bin")),
                          ("dart", dart, ("json", "ubj", "bin")), ("linear", lin, ("json", "ubj", "bin")),
                          ("categorical", cat, ("json", "ubj"))):
        for ext in exts:
            path = os.path.join(d, name + "." + ext)
            os.makedirs(d, exist_ok=True)
            m.save_model(path)


def main():
    for d in (MODELS, INPUTS, os.path.join(HERE, "seeds")):
        if os.path.exists(d):
            shutil.rmtree(d)
    build_cases()
    write_seeds()

    inputs = {}
    for ds in sorted({c["dataset"] for c in CASES}):
        X = make_input(ds)
        inputs[ds] = X
        frame_csv(os.path.join(INPUTS, ds + ".csv"), X)
    Xcp = categorical_probes(inputs["categorical"])
    frame_csv(os.path.join(INPUTS, "categorical_probes.csv"), Xcp)

    manifest = []
    by_name = {}
    for c in CASES:
        path = os.path.join(c["dir"], "model." + c["model_format"])
        data = save_model_file(c, path)
        X = Xcp if c.get("categorical_probes") else inputs[c["dataset"]]
        inp = "inputs/categorical_probes.csv" if c.get("categorical_probes") else "inputs/%s.csv" % c["dataset"]
        res = goldens(c, path, X)
        c["input"] = inp
        c["outputs"] = write_goldens(c, res)
        write_mlflow_folder(c, path, len(data))
        by_name[c["name"]] = c
        manifest.append(c)

    # Edited fixtures.
    edited = []
    c, data = edit_v31_base_score_array(by_name["booster_binary_logistic"], "v31_booster_binary_base_score_array")
    edited.append((c, data))
    c, data = edit_v31_multiclass_intercept(by_name["booster_multi_softprob"], "v31_booster_multiclass_intercept",
                                            ["5E-1", "2.5E-1", "-1E0"])
    edited.append((c, data))
    c, data = edit_pre10_binary(by_name["booster_binary_logistic_xgb"], "pre10_booster_binary_logistic")
    edited.append((c, data))
    # 2.1+ writes UBJSON under the name model.xgb: same bytes, other name.
    src = by_name["xgbclassifier_binary_earlystop_ubj"]
    c = dict(src)
    c.update(name="v21_xgbclassifier_ubj_named_xgb", dir=os.path.join(MODELS, "v21_xgbclassifier_ubj_named_xgb"),
             model_format="xgb", xgb_version="2.1.0", edited_from=src["name"],
             note="UBJSON bytes in model.xgb (xgboost >= 2.1 default); the format comes from the bytes")
    with open(os.path.join(src["dir"], "model.ubj"), "rb") as f:
        edited.append((c, f.read()))

    for c, data in edited:
        path = os.path.join(c["dir"], "model." + c["model_format"])
        write_bytes(path, data)
        X = inputs[c["dataset"]]
        if c["name"].startswith("v31_") and "base_margin" not in c:
            # xgboost 1.7 cannot read the 3.1 form; the edit does not change the
            # model, so the source's predictions are the golden.
            res = goldens(by_name[c["edited_from"]], os.path.join(by_name[c["edited_from"]]["dir"], "model.json"), X)
        elif "base_margin" in c:
            m = xgb.Booster()
            m.load_model(os.path.join(by_name[c["edited_from"]]["dir"], "model.json"))
            m.set_param({"nthread": 1})
            bm = np.tile(np.array(c["base_margin"], dtype=np.float32), (len(X), 1))
            res = {"predict": m.predict(xgb.DMatrix(X, base_margin=bm, nthread=1), validate_features=True)}
        else:
            res = goldens(c, path, X)
        c["outputs"] = write_goldens(c, res)
        c["input"] = "inputs/%s.csv" % c["dataset"]
        write_mlflow_folder(c, path, len(data))
        manifest.append(c)

    cases = []
    for c in manifest:
        b = c["model"] if isinstance(c["model"], xgb.Booster) else c["model"].get_booster()
        cfg = json.loads(b.save_config())
        entry = {
            "name": c["name"],
            "model_dir": rel(c["dir"]),
            "model_class": c["model_class"],
            "model_format": c["model_format"],
            "booster": cfg["learner"]["gradient_booster"]["name"],
            "objective": cfg["learner"]["objective"]["name"],
            "xgb_version": c.get("xgb_version", xgb.__version__),
            "input": c["input"],
            "feature_source": feature_source(c),
            "outputs": c["outputs"],
        }
        for k in ("same_model", "edited_from", "note"):
            if c.get(k):
                entry[k] = c[k]
        cases.append(entry)

    doc = {
        "generator": "testdata/xgboost/gen.py (xgboost %s, scikit-learn %s, numpy %s, pandas %s)"
                     % (xgb.__version__, sklearn.__version__, np.__version__, pd.__version__),
        "conventions": {
            "paths": "relative to testdata/xgboost",
            "float_format": "Python repr of the float32 prediction widened to float64; parse, do not compare text",
            "nan_in_inputs": "empty CSV cell",
            "golden_call": "Booster: Booster.predict(DMatrix(df)); scikit-learn API: predict(df), predict_proba(df); "
                           "models loaded from the saved file as mlflow.xgboost loads them",
            "categorical": "inputs carry category codes as numbers (pandas cat.codes for categories 0..%d)" % (CAT_LEVELS - 1),
            "tolerance": "|got - want| <= abs + rel*|want|; exact for labels",
            "same_model": "cases sharing same_model are one model saved in several formats: identical predictions",
        },
        "cases": cases,
    }
    write_text(os.path.join(HERE, "cases.json"), json.dumps(doc, indent=1) + "\n")
    total = 0
    for root, _, files in os.walk(HERE):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print("%d cases, %.2f MB under testdata/xgboost" % (len(cases), total / 1e6), file=sys.stderr)


if __name__ == "__main__":
    main()
