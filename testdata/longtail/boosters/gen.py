#!/usr/bin/python3
"""Generate mlbatch's fixtures for boosters pickled inside scikit-learn objects
(XGBoost's and LightGBM's scikit-learn wrappers, usually as the last step of a
Pipeline) and for IsolationForest.

Run with Debian's Python stack (scikit-learn 1.2.1, numpy 1.24, pandas 1.5,
xgboost 1.7.4, cloudpickle), which is /usr/bin/python3:

    /usr/bin/python3 testdata/longtail/boosters/gen.py

XGBoost goldens are what the real xgboost 1.7.4 predicts. Memory-snapshot
layouts of older xgboost releases are rebuilt from the 1.7.4 booster (see
xgb_old_layouts) and, where xgboost 1.7.4 still reads them, checked by
unpickling them and predicting again.

There is no lightgbm package here: the LightGBM models and their goldens come
from testdata/lightgbm/gen.py's model builder and evaluator (written from
LightGBM's C++ sources; see testdata/lightgbm/README.md), and the scikit-learn
wrapper classes are that script's stand-ins pickled under lightgbm.sklearn.

Inputs are read back with pandas.read_csv (float_precision="round_trip", so
every number is the exact value the CSV spells) before scoring, so goldens are
what the models compute on the DataFrame pandas builds from each CSV file.

Deterministic: fixed seeds, single-threaded numerics. The script owns
testdata/longtail/boosters/ except itself.
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
import struct
import warnings

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TESTDATA, "gen"))
import make_fixtures as mf  # noqa: E402  (MLflow folder helpers)

KEEP = {"gen.py", "__pycache__"}
XGB_TOL = {"rel": 1e-6, "abs": 1e-7, "note": "float32 accumulation, as xgboost"}
FLOAT_TOL = {"rel": 1e-9, "abs": 1e-12, "note": "float64"}
LABEL_TOL = {"exact": True, "note": "labels compare exactly"}
CASES, ERRORS, REFUSALS = [], [], []
UTC = "2024-06-12 08:00:00.000000"


def rel(path):
    return os.path.relpath(path, TESTDATA).replace(os.sep, "/")


def qualname(o):
    return type(o).__module__ + "." + type(o).__name__


def final_of(est):
    return est.steps[-1][1] if isinstance(est, Pipeline) else est


def read_csv(path):
    """pandas.read_csv with exact float parsing: the default parser can be an
    ulp off, which moves a value sitting on a tree threshold to the other side."""
    return pd.read_csv(path, float_precision="round_trip")


def write_input(df, name):
    path = os.path.join(HERE, name)
    df.to_csv(path, index=False, lineterminator="\n")
    return path


def sig_type(series):
    k = series.dtype.kind
    if k == "i":
        return "long"
    if k == "f":
        return "double"
    if k == "b":
        return "boolean"
    return "string"


def signature_for(X, out_dtype):
    inputs = [{"type": sig_type(X[c]), "name": c, "required": True} for c in X.columns]
    out = [{"type": "tensor", "tensor-spec": {"dtype": out_dtype, "shape": [-1]}}]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(out), "params": None}


def fmt_cell(v, kind):
    return mf.fmt_float(v) if kind == "float64" else mf.fmt_label(v)


def label_kind(pred):
    pred = np.asarray(pred)
    return {"b": "bool", "i": "int64", "u": "int64", "f": "float64"}.get(pred.dtype.kind, "string")


def add_case(name, est, in_path, columns, *, pickled=None, signature=True, tol=XGB_TOL,
             proba_names=None, notes="", score=None):
    """Save est (or the given pickle bytes) as an MLflow sklearn folder and write
    goldens from est's predict (and predict_proba for classifiers) on the CSV."""
    d = os.path.join(HERE, name)
    df = read_csv(in_path)
    X = df[columns]
    sig = None
    pred = est.predict(X)
    kind = "float64" if np.asarray(pred).dtype.kind == "f" else label_kind(pred)
    if signature:
        sig = signature_for(X, {"float64": "float64", "int64": "int64"}.get(kind, "str"))
    mf.save_sklearn_model(d, est, pickled=pickled, fmt="cloudpickle", protocol=4, signature=sig, utc_time=UTC)
    outputs = []
    golden = os.path.join(d, "expected.csv")
    mf.write_csv(golden, ["prediction"], [[fmt_cell(v, kind)] for v in pred])
    outputs.append({"method": "predict", "golden": rel(golden), "columns": ["prediction"], "type": kind,
                    "tolerance": tol if kind == "float64" else LABEL_TOL})
    final = final_of(est)
    if hasattr(final, "predict_proba"):
        proba = est.predict_proba(X)
        if proba_names is None:
            proba_names = [str(i) for i in range(proba.shape[1])]
        cols = ["proba_" + n for n in proba_names]
        golden = os.path.join(d, "expected_proba.csv")
        mf.write_csv(golden, cols, [[mf.fmt_float(v) for v in r] for r in proba])
        outputs.append({"method": "predict_proba", "golden": rel(golden), "columns": cols, "type": "float64",
                        "tolerance": tol})
    if score is not None:
        for method, values, col in score:
            golden = os.path.join(d, "expected_%s.csv" % method)
            mf.write_csv(golden, [col], [[mf.fmt_float(v)] for v in values])
            outputs.append({"method": method, "golden": rel(golden), "columns": [col], "type": "float64",
                            "tolerance": FLOAT_TOL})
    CASES.append({
        "name": rel(d),
        "model_dir": rel(d),
        "input": rel(in_path),
        "flavor": "sklearn",
        "estimator": qualname(est),
        "final_estimator": qualname(final),
        "feature_source": "signature" if signature else "position",
        "features": list(columns),
        "outputs": outputs,
        "notes": notes,
    })
    return pred


# --------------------------------------------------------------------------
# data


def diabetes():
    X, y = datasets.load_diabetes(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


def shoppers(n, seed):
    """A synthetic table: numbers with missing values and a text column."""
    rng = np.random.RandomState(seed)
    df = pd.DataFrame({
        "visits": rng.poisson(4, n).astype(float),
        "minutes": np.round(rng.gamma(2.0, 7.5, n), 3),
        "basket": np.round(rng.lognormal(3.0, 0.6, n), 2),
        "discount": np.round(rng.rand(n), 4),
        "region": rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
    })
    df.loc[rng.rand(n) < 0.08, "minutes"] = np.nan
    df.loc[rng.rand(n) < 0.05, "basket"] = np.nan
    score = (0.3 * df["visits"] + 0.05 * df["minutes"].fillna(10) - 0.01 * df["basket"].fillna(20)
             + 2.0 * df["discount"] + (df["region"] == "north") * 0.8 + rng.normal(0, 0.7, n))
    return df, score.to_numpy()


# --------------------------------------------------------------------------
# XGBoost


def xgb_pipe(scaler_cols, est, text_cols=()):
    parts = [("num", StandardScaler(), list(scaler_cols))]
    if text_cols:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(text_cols)))
    return Pipeline([("prep", ColumnTransformer(parts)), ("model", est)])


def reload(est):
    return pickle.loads(pickle.dumps(est, protocol=4))


def xgb_cases():
    # Regression: diabetes, StandardScaler -> XGBRegressor.
    X, y = diabetes()
    cols = list(X.columns)
    inp = write_input(X.iloc[::3].reset_index(drop=True), "diabetes_input.csv")
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", xgb.XGBRegressor(n_estimators=40, max_depth=4, learning_rate=0.2, random_state=0))])
    pipe.fit(X, y)
    add_case("xgb_regressor_pipeline", pipe, inp, cols,
             notes="StandardScaler -> XGBRegressor (UBJSON snapshot, xgboost 1.7)")

    # The same regressor as the top-level object (no Pipeline), no signature:
    # the booster's feature names (fitted on a DataFrame) name the inputs.
    reg = xgb.XGBRegressor(n_estimators=25, max_depth=3, random_state=1).fit(X, y)
    add_case("xgb_regressor_bare", reg, inp, cols, signature=False,
             notes="XGBRegressor pickled alone, fitted on a DataFrame: inputs from the booster's feature_names")

    # Mixed table: numbers with NaN and text -> XGBClassifier (binary).
    df, score = shoppers(600, 11)
    ycls = (score > np.median(score)).astype(int)
    num, txt = ["visits", "minutes", "basket", "discount"], ["region"]
    shop_in = write_input(shoppers(160, 12)[0], "shoppers_input.csv")
    pipe = xgb_pipe(num, xgb.XGBClassifier(n_estimators=30, max_depth=3, learning_rate=0.3, random_state=0), txt)
    pipe.fit(df, ycls)
    add_case("xgb_classifier_binary_ct", pipe, shop_in, num + txt,
             notes="ColumnTransformer(StandardScaler, OneHotEncoder) -> XGBClassifier, NaN reach the booster as missing")

    # Multi-class with early stopping: best_iteration < the rounds fitted.
    wine = datasets.load_wine(as_frame=True)
    Xw, yw = wine.data, wine.target.to_numpy()
    rng = np.random.RandomState(5)
    idx = rng.permutation(len(Xw))
    tr, va = idx[:120], idx[120:]
    scaler = StandardScaler().fit(Xw.iloc[tr])
    clf = xgb.XGBClassifier(n_estimators=60, max_depth=2, learning_rate=0.5, early_stopping_rounds=5,
                            random_state=0)
    clf.fit(scaler.transform(Xw.iloc[tr]), yw[tr], eval_set=[(scaler.transform(Xw.iloc[va]), yw[va])], verbose=False)
    assert clf.best_iteration + 1 < clf.get_booster().num_boosted_rounds(), "early stopping did not stop early"
    pipe = Pipeline([("scale", scaler), ("model", clf)])
    wine_in = write_input(Xw.iloc[::2].reset_index(drop=True), "wine_input.csv")
    Xs = scaler.transform(read_csv(wine_in))
    assert not np.array_equal(clf.predict_proba(Xs), clf.predict_proba(Xs, iteration_range=(0, clf.get_booster().num_boosted_rounds()))), \
        "best_iteration makes no difference on the input"
    add_case("xgb_classifier_multiclass_early_stop", pipe, wine_in, list(Xw.columns),
             notes="StandardScaler -> XGBClassifier(multi:softprob), early stopping: best_iteration %d of %d rounds"
             % (clf.best_iteration, clf.get_booster().num_boosted_rounds()))

    # multi:softmax: predict casts the class, predict_proba is scipy's softmax of the margins.
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", xgb.XGBClassifier(objective="multi:softmax", n_estimators=12, max_depth=3,
                                                 random_state=0))])
    pipe.fit(Xw, yw)
    add_case("xgb_classifier_softmax", pipe, wine_in, list(Xw.columns),
             notes="XGBClassifier(objective='multi:softmax')")

    # A bare XGBClassifier fitted on a DataFrame (no Pipeline, no signature).
    clf = xgb.XGBClassifier(n_estimators=8, max_depth=3, random_state=0).fit(Xw, yw)
    add_case("xgb_classifier_bare", clf, wine_in, list(Xw.columns), signature=False,
             notes="XGBClassifier pickled alone, fitted on a DataFrame, 3 classes")

    # String labels through xgboost < 1.6's label encoder (_le): predict maps the
    # class indices through _le.inverse_transform (still so in 1.7's predict).
    labels = np.array(["gold", "silver", "bronze"])[yw]
    le = xgb.compat.XGBoostLabelEncoder().fit(labels)
    clf = xgb.XGBClassifier(n_estimators=10, max_depth=2, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("model", clf)]).fit(Xw, le.transform(labels))
    clf._le = le
    clf.classes_ = le.classes_
    clf.use_label_encoder = True
    add_case("xgb_classifier_label_encoder", pipe, wine_in, list(Xw.columns),
             proba_names=[str(c) for c in le.classes_],
             notes="XGBClassifier with the _le label encoder of xgboost < 1.6: string labels")

    # XGBRFRegressor and XGBRFClassifier (num_parallel_tree forests).
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", xgb.XGBRFRegressor(n_estimators=8, max_depth=4, random_state=0))]).fit(X, y)
    add_case("xgb_rf_regressor", pipe, inp, cols, notes="XGBRFRegressor: one round of 8 parallel trees")
    pipe = xgb_pipe(num, xgb.XGBRFClassifier(n_estimators=6, max_depth=3, random_state=0), txt).fit(df, ycls)
    add_case("xgb_rf_classifier", pipe, shop_in, num + txt, notes="XGBRFClassifier, binary")

    # XGBRanker (fitted on query groups), and a custom missing value.
    qid = np.repeat(np.arange(len(df) // 20), 20)
    rel_y = np.digitize(score, np.quantile(score, [0.25, 0.5, 0.75]))
    ranker = xgb.XGBRanker(n_estimators=15, max_depth=3, random_state=0)
    prep = ColumnTransformer([("num", SimpleImputer(fill_value=-1.0, strategy="constant"), num),
                              ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), txt)])
    ranker.fit(prep.fit_transform(df), rel_y, qid=qid)
    pipe = Pipeline([("prep", prep), ("model", ranker)])
    add_case("xgb_ranker", pipe, shop_in, num + txt, notes="SimpleImputer + OneHotEncoder -> XGBRanker (rank:pairwise)")

    reg = xgb.XGBRegressor(n_estimators=20, max_depth=3, missing=-1.0, random_state=0)
    reg.fit(prep.transform(df), score)
    pipe = Pipeline([("prep", prep), ("model", reg)])
    add_case("xgb_regressor_missing", pipe, shop_in, num + txt,
             notes="XGBRegressor(missing=-1.0): the imputer's -1 fill is read as missing")

    # gblinear: no iteration range, DMatrix path.
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", xgb.XGBRegressor(booster="gblinear", n_estimators=30, random_state=0))]).fit(X, y)
    add_case("xgb_regressor_gblinear", pipe, inp, cols, notes="XGBRegressor(booster='gblinear')")

    xgb_old_layouts(X, y, cols, inp)
    xgb_in_meta(X, y, cols, inp, Xw, yw, wine_in)
    xgb_refusals(X, y)


def xgb_in_meta(X, y, cols, inp, Xw, yw, wine_in):
    """Boosters as members of scikit-learn meta-estimators (through the shared
    regressor/probClassifier interfaces)."""
    from sklearn.ensemble import VotingClassifier, VotingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    pipe = Pipeline([("scale", StandardScaler()), ("vote", VotingRegressor([
        ("xgb", xgb.XGBRegressor(n_estimators=15, max_depth=3, random_state=0)),
        ("ridge", Ridge(alpha=1.0))]))]).fit(X, y)
    add_case("xgb_in_voting_regressor", pipe, inp, cols, notes="VotingRegressor(XGBRegressor, Ridge)")
    pipe = Pipeline([("scale", StandardScaler()), ("vote", VotingClassifier([
        ("xgb", xgb.XGBClassifier(n_estimators=10, max_depth=2, random_state=0)),
        ("lr", LogisticRegression(max_iter=500))], voting="soft"))]).fit(Xw, np.array(["a", "b", "c"])[yw])
    add_case("xgb_in_voting_classifier", pipe, wine_in, list(Xw.columns), proba_names=["a", "b", "c"],
             notes="VotingClassifier(soft: XGBClassifier, LogisticRegression), string labels through le_")


def snapshot_json(booster):
    """The memory snapshot of xgboost 1.3 to 1.5: JSON {"Config": ..., "Model": ...}."""
    config = json.loads(booster.save_config())
    model = json.loads(bytes(booster.save_raw("json")))
    return json.dumps({"Config": config, "Model": model}, separators=(",", ":")).encode()


def snapshot_config_offset(booster):
    """The memory snapshot of xgboost 1.0 to 1.2: "CONFIG-offset:", the binary
    model's length as int64, the binary model, then the JSON configuration."""
    model = bytes(booster.save_raw("deprecated"))
    return b"CONFIG-offset:" + struct.pack("<q", len(model)) + model + booster.save_config().encode()


def with_handle(est, handle, drop_best=False):
    """A pickle of est whose Booster state carries handle instead of 1.7's snapshot."""
    est = copy.deepcopy(est)
    final = final_of(est)
    booster = final.get_booster()
    orig = type(booster).__getstate__

    def getstate(self):
        state = orig(self)
        if self is booster:
            state["handle"] = bytearray(handle)
            if drop_best:
                state.pop("best_iteration", None)
                state.pop("best_ntree_limit", None)
        return state

    type(booster).__getstate__ = getstate
    try:
        return pickle.dumps(est, protocol=2)
    finally:
        type(booster).__getstate__ = orig


def xgb_old_layouts(X, y, cols, inp):
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", xgb.XGBRegressor(n_estimators=20, max_depth=3, random_state=3))]).fit(X, y)
    booster = final_of(pipe).get_booster()
    for name, handle, note in [
        ("xgb_snapshot_json", snapshot_json(booster), "JSON memory snapshot (xgboost 1.3-1.5), pickle protocol 2"),
        ("xgb_snapshot_config_offset", snapshot_config_offset(booster),
         "CONFIG-offset binary memory snapshot (xgboost 1.0-1.2), pickle protocol 2"),
    ]:
        data = with_handle(pipe, handle)
        back = pickle.loads(data)  # xgboost 1.7.4 reads these layouts too
        df = read_csv(inp)[cols]
        assert np.array_equal(back.predict(df), pipe.predict(df)), name
        add_case(name, back, inp, cols, pickled=data, notes=note)
    # Before 1.0 the handle was the bare binary model (and there was no
    # best_iteration unless early stopping ran). xgboost 1.7 no longer
    # unpickles it; the trees are the same, so the goldens are 1.7's.
    data = with_handle(pipe, bytes(booster.save_raw("deprecated")), drop_best=True)
    add_case("xgb_snapshot_binary", pipe, inp, cols, pickled=data,
             notes="bare binary model as the Booster handle (xgboost < 1.0), no best_iteration; "
                   "goldens from the same booster in 1.7")


# --------------------------------------------------------------------------
# LightGBM (no lightgbm package: testdata/lightgbm/gen.py's builder, evaluator
# and stand-in classes)


def lgbgen():
    import importlib.util
    spec = importlib.util.spec_from_file_location("lightgbm_fixture_gen", os.path.join(TESTDATA, "lightgbm", "gen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def lgb_model(G, spec, binary_features):
    """Random trees (testdata/lightgbm/gen.py's Builder) over spec's features;
    features in binary_features only ever hold 0 or 1 (one-hot or indicator
    columns), so their splits sit between those."""
    builder = G.Builder(spec)
    for f in binary_features:
        builder.pools[f] = ("num", [0.5, G.KZT, 0.0], [0.0, 1.0])
    trees = []
    for _ in range(spec.iterations):
        for k in range(spec.num_class):
            trees.append(builder.tree(k if spec.num_class > 1 else None, False))
    text = G.model_text(spec, trees, builder.pools)
    if "pandas_categorical" not in text:
        text += "\npandas_categorical:null\n"
    return text, builder.pools


def lgb_estimator(G, cls, text, spec, *, labels, handle_key, best_iteration):
    """A fitted stand-in LGBM estimator, state as LightGBM pickles it."""
    data = G.sklearn_pickle(cls, text, spec, labels=labels, handle_key=handle_key,
                            best_iteration=best_iteration, protocol=4)
    est = pickle.loads(data)  # an instance of the stand-in classes sklearn_pickle just registered
    # Unpickling put the Booster's state in its __dict__; the stand-in pickles
    # self.state, so keep the state there for the Pipeline's pickle.
    est._Booster.state = dict(est._Booster.__dict__)
    install_lgb_predict(G)
    return est


def install_lgb_predict(G):
    """predict/predict_proba for the stand-ins, as LightGBM's sklearn.py and
    Booster.predict(num_iteration=None) compute them, with gen.py's Reference
    evaluator for the booster."""
    sk = sys.modules["lightgbm.sklearn"]
    cache = {}

    def scores(self, X):
        st = self._Booster.state
        text = st.get("_handle", st.get("handle"))
        ref = cache.setdefault(id(text), G.Reference(text))
        X = np.asarray(X, dtype=np.float64)
        out = np.array([ref.predict(list(r), num_iteration=st["best_iteration"]) for r in X])
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X):
        p = scores(self, X)
        if self._n_classes > 2:
            return p
        return np.vstack((1.0 - p, p)).transpose()

    def clf_predict(self, X):
        return self._le.inverse_transform(np.argmax(predict_proba(self, X), axis=1))

    sk.LGBMRegressor.predict = scores
    sk.LGBMRanker.predict = scores
    sk.LGBMClassifier.predict = clf_predict
    sk.LGBMClassifier.predict_proba = predict_proba


def lgb_table(pools, n_num, n, seed, names):
    """Input rows: numeric columns drawn from the trees' probe values (NaN,
    values on and one ulp around thresholds, tiny values), and a text column."""
    rng = np.random.RandomState(seed)
    cols = {}
    for f in range(n_num):
        probes = pools[f][2]
        cols[names[f]] = [probes[i] for i in rng.randint(0, len(probes), n)]
    cols["region"] = rng.choice(["north", "south", "east", "west"], n)
    return pd.DataFrame(cols)


def lgb_cases():
    G = lgbgen()
    num = ["visits", "minutes", "basket", "discount"]

    # ColumnTransformer(passthrough numbers, one-hot region) -> LGBMClassifier,
    # binary, string labels, LightGBM 4 (_handle).
    spec = G.Spec("lgbm_ct_binary", version="v4", objective="binary sigmoid:1", n_features=8,
                  iterations=6, depth=4, seed=51)
    text, pools = lgb_model(G, spec, range(4, 8))
    df = lgb_table(pools, 4, 300, 52, num)
    ct = ColumnTransformer([("num", "passthrough", num),
                            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["region"])])
    ct.fit(df)
    assert ct.transform(df).shape[1] == 8
    clf = lgb_estimator(G, "LGBMClassifier", text, spec, labels=["churn", "stay"], handle_key="_handle",
                        best_iteration=0)
    pipe = Pipeline([("prep", ct), ("model", clf)])
    inp = write_input(df, "lgbm_input.csv")
    add_case("lgbm_classifier_ct_v4", pipe, inp, num + ["region"], tol=FLOAT_TOL, proba_names=["churn", "stay"],
             notes="ColumnTransformer(passthrough, OneHotEncoder) -> LGBMClassifier (LightGBM 4 state: _handle), "
                   "string labels; NaN and values within kZeroThreshold reach the booster")
    lgb_flavor_folders(G, pipe, inp, num + ["region"], ["churn", "stay"])

    # SimpleImputer -> LGBMClassifier, 3 classes, LightGBM 3 (handle), early stopping.
    spec = G.Spec("lgbm_multi", version="v3", objective="multiclass num_class:3", num_class=3, n_features=4,
                  iterations=5, depth=3, seed=53)
    text, pools = lgb_model(G, spec, ())
    df3 = lgb_table(pools, 4, 200, 54, num)
    imp = SimpleImputer(strategy="median").fit(df3[num])
    clf = lgb_estimator(G, "LGBMClassifier", text, spec, labels=[7, 2, 4], handle_key="handle", best_iteration=3)
    pipe = Pipeline([("impute", imp), ("model", clf)])
    inp3 = write_input(df3[num], "lgbm_multi_input.csv")
    add_case("lgbm_classifier_multiclass_v3", pipe, inp3, num, tol=FLOAT_TOL, proba_names=["2", "4", "7"],
             notes="SimpleImputer -> LGBMClassifier (LightGBM 3 state: handle), int labels, best_iteration 3 of 5")

    # SimpleImputer(add_indicator) -> LGBMRegressor, LightGBM 4.
    imp = SimpleImputer(strategy="mean", add_indicator=True).fit(df[num])
    width = imp.transform(df[num]).shape[1]
    spec = G.Spec("lgbm_reg", version="v4", objective="regression", n_features=width, iterations=5, depth=3,
                  seed=55)
    text, _ = lgb_model(G, spec, range(4, width))
    reg = lgb_estimator(G, "LGBMRegressor", text, spec, labels=None, handle_key="_handle", best_iteration=0)
    pipe = Pipeline([("impute", imp), ("model", reg)])
    add_case("lgbm_regressor_imputer_v4", pipe, inp, num, tol=FLOAT_TOL,
             notes="SimpleImputer(add_indicator=True) -> LGBMRegressor (%d features)" % width)

    # LGBMRanker (lambdarank), LightGBM 3, and a bare LGBMRegressor of LightGBM 2.
    spec = G.Spec("lgbm_rank", version="v3", objective="lambdarank", n_features=4, iterations=4, seed=56)
    text, pools = lgb_model(G, spec, ())
    rk = lgb_estimator(G, "LGBMRanker", text, spec, labels=None, handle_key="handle", best_iteration=0)
    add_case("lgbm_ranker_v3", Pipeline([("impute", SimpleImputer(strategy="median").fit(df3[num])), ("model", rk)]),
             inp3, num, tol=FLOAT_TOL, notes="SimpleImputer -> LGBMRanker (lambdarank)")
    spec = G.Spec("lgbm_v2", version="v2", objective="regression", n_features=4, iterations=4, seed=57,
                  tree_sizes=False, numeric_dts=(0, 2, 8, 10), feature_names=num)
    text, pools = lgb_model(G, spec, ())
    reg = lgb_estimator(G, "LGBMRegressor", text, spec, labels=None, handle_key="handle", best_iteration=0)
    add_case("lgbm_regressor_bare_v2", reg, inp3, num, signature=False, tol=FLOAT_TOL,
             notes="LGBMRegressor pickled alone (LightGBM 2 text, no tree_sizes), inputs by the booster's feature_names")

    import cloudpickle
    cut = lgb_estimator(G, "LGBMRegressor", text[:len(text) // 2], spec, labels=None, handle_key="_handle",
                        best_iteration=0)
    add_refusal("lgbm_truncated_text", cloudpickle.dumps(Pipeline([("impute", SimpleImputer().fit(df3[num])),
                                                                   ("model", cut)]), protocol=4),
                "booster", "a Pipeline ending in an LGBMRegressor whose model text is cut in half")


def lgb_flavor_folders(G, pipe, inp, columns, proba_names):
    """The same Pipeline logged with the lightgbm flavor: model.pkl holds the
    Pipeline and model_class names it (MLflow 2), or there is no model_class
    (MLflow 1.x)."""
    import cloudpickle
    data = cloudpickle.dumps(pipe, protocol=4)
    X = read_csv(inp)[columns]
    pred, proba = pipe.predict(X), pipe.predict_proba(X)
    for name, mlflow_major in [("lgbm_flavor_pipeline", "2"), ("lgbm_flavor_pipeline_mlflow1", "1")]:
        spec = G.Spec(name, version="v4", objective="binary", signature=None, mlflow=mlflow_major,
                      model_class=mlflow_major != "1")
        d = os.path.join(HERE, name)
        G.mlflow_folder(d, spec, "model.pkl", data, "sklearn.pipeline.Pipeline")
        golden = os.path.join(d, "expected.csv")
        mf.write_csv(golden, ["prediction"], [[str(v)] for v in pred])
        pgold = os.path.join(d, "expected_proba.csv")
        cols = ["proba_" + n for n in proba_names]
        mf.write_csv(pgold, cols, [[mf.fmt_float(v) for v in r] for r in proba])
        CASES.append({
            "name": rel(d), "model_dir": rel(d), "input": rel(inp), "flavor": "lightgbm",
            "estimator": qualname(pipe), "final_estimator": qualname(final_of(pipe)),
            "feature_source": "feature_names_in_", "features": list(columns),
            "outputs": [{"method": "predict", "golden": rel(golden), "columns": ["prediction"], "type": "string",
                         "tolerance": LABEL_TOL},
                        {"method": "predict_proba", "golden": rel(pgold), "columns": cols, "type": "float64",
                         "tolerance": FLOAT_TOL}],
            "notes": "lightgbm flavor whose model.pkl holds the Pipeline (MLflow %s.x%s)" % (
                mlflow_major, ", model_class sklearn.pipeline.Pipeline" if mlflow_major != "1" else ", no model_class"),
        })


# --------------------------------------------------------------------------
# IsolationForest


def layouts_relayout():
    import importlib.util
    spec = importlib.util.spec_from_file_location("layouts_gen", os.path.join(TESTDATA, "layouts", "gen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.relayout


def iforest_scores(est, inp, columns):
    X = read_csv(inp)[columns]
    return [("score_samples", est.score_samples(X), "score_samples"),
            ("decision_function", est.decision_function(X), "decision_function")]


def add_iforest(name, est, inp, columns, *, pickled=None, notes="", signature=True):
    add_case(name, est, inp, columns, pickled=pickled, notes=notes, signature=signature)
    # score_samples and decision_function are not CLI outputs (predict is what
    # pyfunc calls); the Go unit tests compare them.
    d = os.path.join(HERE, name)
    case = CASES[-1]
    case["scores"] = {}
    for method, values, col in iforest_scores(est, inp, columns):
        golden = os.path.join(d, "expected_%s.csv" % method)
        mf.write_csv(golden, [col], [[mf.fmt_float(v)] for v in values])
        case["scores"][method] = rel(golden)


def iforest_later_release(est):
    """The fitted forest as scikit-learn 1.4+ pickles it: trees in the 1.3+ node
    layout (missing_go_to_left), the per-node caches _decision_path_lengths and
    _average_path_length_per_tree, no base_estimator parameter."""
    from sklearn.ensemble._iforest import _average_path_length
    relayout = layouts_relayout()
    est = copy.deepcopy(est)
    est._average_path_length_per_tree = tuple(_average_path_length(t.tree_.n_node_samples) for t in est.estimators_)
    depths = []
    for t in est.estimators_:
        tr = t.tree_
        d = np.zeros(tr.node_count, dtype=np.int64)
        for i in range(tr.node_count):
            if tr.children_left[i] != -1:
                d[tr.children_left[i]] = d[tr.children_right[i]] = d[i] + 1
        depths.append(d + 1)
    est._decision_path_lengths = tuple(depths)
    del est.__dict__["base_estimator"]
    for t in est.estimators_ + [est._estimator, est.estimator]:
        if hasattr(t, "tree_"):
            t.tree_ = relayout(t.tree_, "skl13")
        t.monotonic_cst = None
    return pickle.dumps(est, protocol=5)


def iforest_old_release(est):
    """As scikit-learn 0.23/0.24 pickled it: base_estimator_ instead of
    _estimator/estimator, base_estimator as the parameter."""
    est = copy.deepcopy(est)
    d = est.__dict__
    d["base_estimator_"] = d.pop("_estimator")
    d["base_estimator"] = d.pop("estimator")
    d.pop("_max_samples", None)
    d["_sklearn_version"] = "0.23.2"

    cls = type(est)
    orig = cls.__getstate__
    cls.__getstate__ = lambda self: dict(self.__dict__)  # keep the old _sklearn_version
    try:
        return pickle.dumps(est, protocol=3)
    finally:
        cls.__getstate__ = orig


def iforest_cases():
    rng = np.random.RandomState(21)
    n = 400
    inl = rng.normal(0, 1, (n, 4)) * [1.0, 2.0, 0.5, 1.5] + [0, 5, -1, 2]
    out = rng.uniform(-8, 12, (20, 4))
    X = pd.DataFrame(np.vstack([inl, out]), columns=["f1", "f2", "f3", "f4"]).round(4)
    test = pd.DataFrame(np.vstack([rng.normal(0, 1, (120, 4)) * [1.0, 2.0, 0.5, 1.5] + [0, 5, -1, 2],
                                   rng.uniform(-10, 14, (40, 4))]), columns=X.columns).round(4)
    test = pd.concat([test, X.iloc[:40]], ignore_index=True)  # training rows too
    inp = write_input(test, "iforest_input.csv")
    cols = list(X.columns)

    est = IsolationForest(n_estimators=60, random_state=0).fit(X)
    add_iforest("iforest_auto", est, inp, cols, notes="IsolationForest, contamination='auto' (offset_ -0.5), "
                                                      "256 samples per tree, fitted on a DataFrame")
    add_iforest("iforest_layout_1_4", est, inp, cols, pickled=iforest_later_release(est),
                notes="the same forest as scikit-learn 1.4+ pickles it (1.3+ tree nodes, "
                      "_decision_path_lengths, _average_path_length_per_tree)")
    add_iforest("iforest_layout_0_23", est, inp, cols, pickled=iforest_old_release(est),
                notes="the same forest with scikit-learn 0.23's attributes (base_estimator_)")

    # Pickled state must read back the same in scikit-learn itself.
    for data in (iforest_old_release(est),):
        back = pickle.loads(data)
        assert np.array_equal(back.score_samples(test), est.score_samples(test))

    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", IsolationForest(n_estimators=40, max_samples=90, max_features=2, bootstrap=True,
                                               contamination=0.07, random_state=3))]).fit(X)
    add_iforest("iforest_pipeline_max_features", pipe, inp, cols,
                notes="StandardScaler -> IsolationForest(max_features=2, bootstrap, max_samples=90, "
                      "contamination=0.07): trees read estimators_features_")
    small = IsolationForest(n_estimators=7, max_samples=3, max_features=0.75, random_state=5).fit(X)
    add_iforest("iforest_tiny_samples", small, inp, cols, signature=False,
                notes="max_samples=3 (leaves of 1 and 2 samples), 3 of 4 features, no signature")


def add_refusal(name, data, want, notes):
    """A model folder that must fail to load (exit code 3) with want in the message."""
    d = os.path.join(HERE, "bad", name)
    mf.save_sklearn_model(d, None, pickled=data, fmt="cloudpickle", protocol=4, utc_time=UTC)
    REFUSALS.append({"name": rel(d), "model_dir": rel(d), "want": want, "notes": notes})


def custom_objective(y_true, y_pred):
    return y_pred - y_true, np.ones_like(y_pred)


def xgb_refusals(X, y):
    import cloudpickle
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", xgb.XGBRegressor(n_estimators=3, max_depth=2, random_state=0))]).fit(X, y)
    snap = bytes(final_of(pipe).get_booster().__getstate__()["handle"])
    add_refusal("xgb_truncated_snapshot", with_handle(pipe, snap[:len(snap) // 2]), "_Booster",
                "the Booster's memory snapshot cut in half")
    add_refusal("xgb_garbage_handle", with_handle(pipe, b"not a model at all, just some bytes"), "_Booster",
                "the Booster's handle holds bytes that are no XGBoost model")
    bad = struct.pack("<q", 1 << 40)
    add_refusal("xgb_config_offset_overrun", with_handle(pipe, b"CONFIG-offset:" + bad + b"{}"), "memory snapshot says",
                "a CONFIG-offset snapshot whose model length runs past the end")
    unfitted = Pipeline([("scale", StandardScaler().fit(X)), ("model", xgb.XGBRegressor())])
    add_refusal("xgb_unfitted", pickle.dumps(unfitted, protocol=4), "_Booster",
                "an XGBRegressor that was never fitted (no _Booster)")
    custom_objective.__module__ = "__main__"
    est = xgb.XGBRegressor(n_estimators=2, objective=custom_objective).fit(X, y)
    add_refusal("xgb_custom_objective", cloudpickle.dumps(est, protocol=4), "Python code",
                "XGBRegressor with a callable objective pickled by value: fails closed")


# --------------------------------------------------------------------------


def readme():
    lines = ["# Boosters inside scikit-learn objects, and IsolationForest", "",
             "Written by `gen.py` (`/usr/bin/python3 testdata/longtail/boosters/gen.py`); see its docstring.",
             "`cases.json` lists every case in the fixtureCase format (cmd/mlbatch/score_test.go).", "",
             "| case | estimator | final step | notes |", "| --- | --- | --- | --- |"]
    for c in CASES:
        lines.append("| %s | %s | %s | %s |" % (c["name"].split("/")[-1], c["estimator"].split(".")[-1],
                                               c["final_estimator"], c["notes"]))
    lines += ["", "Models that must fail to load (`refusals` in cases.json, exit code 3):", ""]
    for r in REFUSALS:
        lines.append("- `%s`: %s" % (r["name"].split("/", 2)[-1], r["notes"]))
    mf.write_text(os.path.join(HERE, "README.md"), "\n".join(lines) + "\n")


def main():
    warnings.simplefilter("ignore")
    for entry in os.listdir(HERE):
        if entry not in KEEP:
            p = os.path.join(HERE, entry)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    xgb_cases()
    lgb_cases()
    iforest_cases()
    readme()
    doc = {"about": "boosters pickled inside scikit-learn objects, and IsolationForest; written by "
                    "testdata/longtail/boosters/gen.py",
           "generator": {"sklearn": __import__("sklearn").__version__, "numpy": np.__version__,
                         "pandas": pd.__version__, "xgboost": xgb.__version__},
           "cases": CASES, "errors": ERRORS, "refusals": REFUSALS}
    mf.write_text(os.path.join(HERE, "cases.json"), json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
