#!/usr/bin/python3
"""Generate mlbatch's test fixtures: MLflow model folders, tracking stores,
inputs and golden predictions.

Run with Debian's Python stack (scikit-learn 1.2.1, numpy 1.24, pandas 1.5,
cloudpickle 2.2), which is /usr/bin/python3, not the python3 on the PATH:

    /usr/bin/python3 testdata/gen/make_fixtures.py

There is no mlflow package here, so the MLflow folder layouts (MLmodel,
meta.yaml, tags, ...) are written by hand, the way MLflow's own file store and
sklearn flavor write them (yaml.safe_dump with sorted keys, tag files without a
trailing newline, metric lines "timestamp value step", ...).

Everything is deterministic: fixed seeds, fixed ids and timestamps, single
threaded numerics. Running the script twice gives identical bytes.

The script owns these folders under testdata/ and rewrites them completely:
demo/, mlruns/, models/, bad/, plus README.md and gen/fixtures.json.
"""

import os

# Single-threaded numerics: OpenMP/BLAS thread counts can change float sums.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import hashlib
import io
import json
import pickle
import shutil
import sys
import types

import cloudpickle
import numpy as np
import pandas as pd
import scipy
import sklearn
import yaml
from sklearn import datasets
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDRegressor,
)
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
OWNED = ("demo", "mlruns", "models", "bad", "golden")

PY_VERSION = "%d.%d.%d" % sys.version_info[:3]
SKLEARN_VERSION = sklearn.__version__

# The machine the stores were "recorded" on. Every absolute URI in the
# committed stores points there, so a resolver has to re-root it onto the
# store it was given.
ALICE_DEMO = "file:///home/alice/mlbatch-demo/mlruns"
ALICE_STORE = "file:///home/alice/project/mlruns"

ML2 = "2.16.2"  # MLflow 2.x: runs/<id>/artifacts/<path>, mlflow.log-model.history
ML3 = "3.1.0"  # MLflow 3.x: <exp>/models/m-<id>/, no history tag

LINEAR_TOL = {"rel": 1e-9, "abs": 1e-12,
              "note": "float64 dot product; summation order may differ from BLAS"}
LABEL_TOL = {"exact": True, "note": "labels compare exactly"}


def fixed_hex(name):
    """A stable 32-hex id (looks like uuid4().hex) derived from a name."""
    return hashlib.md5(("mlbatch-fixture:" + name).encode()).hexdigest()


def model_id_for(name):
    return "m-" + fixed_hex("logged-model:" + name)


# --------------------------------------------------------------------------
# small writers


def rel(path):
    return os.path.relpath(path, TESTDATA).replace(os.sep, "/")


def mkdirs(path):
    os.makedirs(path, exist_ok=True)
    return path


def write_bytes(path, data):
    mkdirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(data)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def write_yaml(path, data):
    # What mlflow.utils.file_utils.write_yaml and Model.to_yaml do:
    # safe_dump, block style, keys sorted (PyYAML default), default width.
    write_text(path, yaml.safe_dump(data, default_flow_style=False, allow_unicode=True))


def fmt_float(v):
    v = float(v)
    if v != v:
        return ""  # NaN is an empty cell, as pandas.to_csv writes it
    return repr(v)


def fmt_label(v):
    """Python's str() of a class label, the way pandas prints it."""
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    return str(v)


def write_csv(path, columns, rows):
    """rows: list of lists of already formatted strings."""
    buf = io.StringIO()
    buf.write(",".join(columns) + "\n")
    for r in rows:
        buf.write(",".join(r) + "\n")
    write_text(path, buf.getvalue())


def write_frame(path, df):
    rows = [[fmt_float(v) for v in row] for row in df.itertuples(index=False, name=None)]
    write_csv(path, list(df.columns), rows)


def label_type(classes):
    k = np.asarray(classes).dtype.kind
    return {"b": "bool", "i": "int64", "u": "int64", "f": "float64"}.get(k, "string")


# --------------------------------------------------------------------------
# MLflow model folder (sklearn flavor), as mlflow.sklearn.save_model writes it


def env_files(mlflow_version, fmt):
    pins = ["mlflow==" + mlflow_version]
    if fmt == "cloudpickle":
        pins.append("cloudpickle==" + cloudpickle.__version__)
    pins += [
        "numpy==" + np.__version__,
        "psutil==5.9.4",
        "scikit-learn==" + SKLEARN_VERSION,
        "scipy==" + scipy.__version__,
    ]
    conda = {
        "channels": ["conda-forge"],
        "dependencies": ["python=" + PY_VERSION, "pip<=23.0.1", {"pip": pins}],
        "name": "mlflow-env",
    }
    python_env = (
        "python: %s\nbuild_dependencies:\n- pip==23.0.1\n- setuptools==66.1.1\n- wheel==0.38.4\n"
        "dependencies:\n- -r requirements.txt\n" % PY_VERSION
    )
    return conda, python_env, "\n".join(pins)


def dump_pickle(est, fmt, protocol):
    if fmt == "pickle":
        return pickle.dumps(est, protocol=protocol)
    if fmt == "cloudpickle":
        return cloudpickle.dumps(est, protocol=protocol)
    raise ValueError(fmt)


def col_signature(columns, outputs):
    inputs = [{"type": "double", "name": c, "required": True} for c in columns]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs), "params": None}


def tensor_signature(n_features, outputs):
    inputs = [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, n_features]}}]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs), "params": None}


def out_tensor(dtype="float64", width=None):
    shape = [-1] if width is None else [-1, width]
    return [{"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": shape}}]


def save_sklearn_model(path, est=None, *, pickled=None, fmt="cloudpickle", protocol=4,
                       signature=None, input_example=None, mlflow_version=ML2,
                       run_id=None, artifact_path=None, model_id=None, utc_time=None,
                       model_uuid=None, omit=()):
    """Write an MLflow sklearn-flavor model folder. Returns (mlmodel dict, history dict)."""
    mkdirs(path)
    data = pickled if pickled is not None else dump_pickle(est, fmt, protocol)
    conda, python_env, requirements = env_files(mlflow_version, fmt)
    files = {"model.pkl": data,
             "conda.yaml": yaml.safe_dump(conda, default_flow_style=False).encode(),
             "python_env.yaml": python_env.encode(),
             "requirements.txt": requirements.encode()}
    example_info = None
    if input_example is not None:
        split = {"columns": list(input_example.columns),
                 "data": [[float(v) for v in r] for r in input_example.itertuples(index=False, name=None)]}
        files["input_example.json"] = json.dumps(split).encode()
        files["serving_input_example.json"] = json.dumps({"dataframe_split": split}, indent=2).encode()
        example_info = {"artifact_path": "input_example.json", "pandas_orient": "split",
                        "serving_input_path": "serving_input_example.json", "type": "dataframe"}
    for name, blob in files.items():
        if name not in omit:
            write_bytes(os.path.join(path, name), blob)

    pyfunc = {"model_path": "model.pkl", "predict_fn": "predict", "loader_module": "mlflow.sklearn",
              "python_version": PY_VERSION,
              "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}}
    skl = {"pickled_model": "model.pkl", "sklearn_version": SKLEARN_VERSION,
           "serialization_format": fmt, "code": None}
    flavors = {"python_function": pyfunc, "sklearn": skl}
    uuid_ = model_id if model_id else (model_uuid or fixed_hex("uuid:" + rel(path)))
    mlmodel = {}
    if artifact_path is not None:
        mlmodel["artifact_path"] = artifact_path
    mlmodel["flavors"] = flavors
    mlmodel["mlflow_version"] = mlflow_version
    mlmodel["model_size_bytes"] = sum(len(b) for n, b in files.items() if n not in omit)
    mlmodel["model_uuid"] = uuid_
    if run_id is not None:
        mlmodel["run_id"] = run_id
    if example_info is not None:
        mlmodel["saved_input_example_info"] = example_info
    if signature is not None:
        mlmodel["signature"] = signature
    mlmodel["utc_time_created"] = utc_time or "2024-06-03 09:15:42.123456"
    if mlflow_version.startswith("3."):
        mlmodel["model_id"] = model_id
        mlmodel["prompts"] = None
        if signature is not None:
            mlmodel["is_signature_from_type_hint"] = False
            mlmodel["type_hint_from_example"] = False
    if "MLmodel" not in omit:
        write_yaml(os.path.join(path, "MLmodel"), mlmodel)
    # mlflow.log-model.history entry (MLflow 2.x Model.get_tags_dict order)
    history = {"run_id": run_id, "artifact_path": artifact_path,
               "utc_time_created": mlmodel["utc_time_created"], "model_uuid": uuid_,
               "flavors": flavors}
    return mlmodel, history


# --------------------------------------------------------------------------
# MLflow file store pieces (mlflow/store/tracking/file_store.py)


def write_experiment(store, exp_id, name, artifact_root, created, lifecycle="active", trash=False):
    base = os.path.join(store, ".trash") if trash else store
    d = mkdirs(os.path.join(base, exp_id))
    meta = {"artifact_location": "%s/%s" % (artifact_root, exp_id), "creation_time": created,
            "experiment_id": exp_id, "last_update_time": created, "lifecycle_stage": lifecycle,
            "name": name}
    write_yaml(os.path.join(d, "meta.yaml"), meta)
    return d


def write_run(exp_dir, exp_id, run_id, run_name, artifact_root, start, end, *, user="alice",
              lifecycle="active", deleted_time=None, tags=None, params=None, metrics=None):
    d = mkdirs(os.path.join(exp_dir, run_id))
    meta = {"artifact_uri": "%s/%s/%s/artifacts" % (artifact_root, exp_id, run_id),
            "end_time": end, "entry_point_name": "", "experiment_id": exp_id,
            "lifecycle_stage": lifecycle, "run_id": run_id, "run_name": run_name,
            "run_uuid": run_id, "source_name": "", "source_type": 4, "source_version": "",
            "start_time": start, "status": 3, "tags": [], "user_id": user}
    if deleted_time is not None:
        meta["deleted_time"] = deleted_time
    write_yaml(os.path.join(d, "meta.yaml"), meta)
    all_tags = {"mlflow.runName": run_name, "mlflow.source.name": "train.py",
                "mlflow.source.type": "LOCAL", "mlflow.user": user,
                "mlflow.source.git.commit": fixed_hex("commit:" + run_id)[:32] + "0badf00d"}
    all_tags.update(tags or {})
    for k, v in all_tags.items():
        write_text(os.path.join(d, "tags", k), v)  # no trailing newline, like MLflow
    for k, v in (params or {}).items():
        write_text(os.path.join(d, "params", k), v)
    for k, lines in (metrics or {}).items():
        write_text(os.path.join(d, "metrics", k),
                   "".join("%d %s %d\n" % (ts, repr(float(val)), step) for ts, val, step in lines))
    return d


def history_tag(entries):
    return json.dumps(entries)


# --------------------------------------------------------------------------
# data


def diabetes_frame():
    ds = datasets.load_diabetes(as_frame=True)
    return ds.data.astype(np.float64), ds.target.astype(np.float64)


def clf_frame(name):
    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer}[name]
    ds = loader(as_frame=True)
    return ds.data.astype(np.float64), ds.target.astype(np.int64), list(ds.target_names)


class Manifest:
    def __init__(self):
        self.cases = []
        self.resolve = []
        self.errors = []

    def dump(self):
        return {
            "version": 1,
            "about": "mlbatch fixtures written by testdata/gen/make_fixtures.py. All paths are "
                     "relative to the testdata/ directory. See testdata/README.md.",
            "generator": {"script": "gen/make_fixtures.py", "python": PY_VERSION,
                          "sklearn": SKLEARN_VERSION, "numpy": np.__version__,
                          "pandas": pd.__version__, "cloudpickle": cloudpickle.__version__},
            "conventions": {
                "float_format": "Python repr(float): shortest round-trip; parse, do not compare text",
                "nan_in_inputs": "empty CSV cell",
                "single_output_column": "prediction",
                "multi_output_columns": "prediction_0..prediction_{k-1}",
                "proba_columns": "proba_<label> in classes_ order, label as Python str() "
                                 "(int 0 -> '0', float 0.0 -> '0.0', bool -> 'True'/'False'); "
                                 "multi-output classifiers: proba_<output>_<label>",
                "label_values": "written as Python str(); compare by label_type: int64/float64 "
                                "numerically, bool case-insensitively, string exactly",
                "tolerance": "a value b passes against golden g when |b-g| <= abs + rel*|g|; "
                             "exact=true means equal after parsing",
            },
            "cases": self.cases,
            "resolve": self.resolve,
            "errors": self.errors,
        }


M = Manifest()


def predict_columns(pred):
    pred = np.asarray(pred)
    if pred.ndim == 1:
        return ["prediction"], pred.reshape(-1, 1)
    return ["prediction_%d" % i for i in range(pred.shape[1])], pred


def write_regression_golden(path, pred):
    cols, arr = predict_columns(pred)
    write_csv(path, cols, [[fmt_float(v) for v in row] for row in arr])
    return cols


def add_case(name, *, model_dir, model_uri=None, tracking_uri=None, input_path, outputs,
             estimator, fmt, protocol, feature_source, features, group, notes="", **extra):
    case = {"name": name, "group": group,
            "model_uri": model_uri or model_dir, "tracking_uri": tracking_uri,
            "model_dir": model_dir, "estimator": estimator, "flavor": "sklearn",
            "serialization_format": fmt, "pickle_protocol": protocol,
            "feature_source": feature_source, "features": features,
            "input": input_path, "outputs": outputs}
    case.update(extra)
    if notes:
        case["notes"] = notes
    M.cases.append(case)
    return case


def qualname(est):
    return type(est).__module__ + "." + type(est).__name__


# --------------------------------------------------------------------------
# phase 1: demo


def make_demo():
    X, y = diabetes_frame()
    demo = os.path.join(TESTDATA, "demo")
    write_frame(os.path.join(demo, "diabetes.csv"), X)
    est = LinearRegression().fit(X, y)
    pred = est.predict(X)

    store = os.path.join(demo, "mlruns")
    exp = write_experiment(store, "0", "Default", ALICE_DEMO, 1717405200000)
    run_id = fixed_hex("run:demo")
    sig = col_signature(list(X.columns), out_tensor())
    art = os.path.join(exp, run_id, "artifacts", "model")
    _, hist = save_sklearn_model(art, est, signature=sig, input_example=X.head(5),
                                 run_id=run_id, artifact_path="model",
                                 utc_time="2024-06-03 09:40:11.482913")
    write_run(exp, "0", run_id, "diabetes-linreg", ALICE_DEMO, 1717407600123, 1717407611904,
              tags={"mlflow.log-model.history": history_tag([hist])},
              params={"fit_intercept": "True", "positive": "False"},
              metrics={"r2": [(1717407611500, est.score(X, y), 0)]})
    cols = write_regression_golden(os.path.join(demo, "expected.csv"), pred)
    add_case("demo", group="demo", model_dir=rel(art), model_uri="runs:/%s/model" % run_id,
             tracking_uri="demo/mlruns", input_path="demo/diabetes.csv",
             outputs=[{"method": "predict", "golden": "demo/expected.csv", "columns": cols,
                       "type": "float64", "tolerance": LINEAR_TOL}],
             estimator=qualname(est), fmt="cloudpickle", protocol=4,
             feature_source="signature", features=list(X.columns),
             notes="The README demo. Column signature + feature_names_in_; input example files present.")
    return run_id


# --------------------------------------------------------------------------
# phase 1: shared diabetes input and linear models


def diabetes_input():
    X, _ = diabetes_frame()
    rng = np.random.RandomState(20240603)
    extra = pd.DataFrame(rng.uniform(-0.2, 0.2, size=(58, X.shape[1])), columns=X.columns)
    return pd.concat([X, extra], ignore_index=True)


def make_linear_models():
    X, y = diabetes_frame()
    Xin = diabetes_input()
    in_path = os.path.join(TESTDATA, "models", "diabetes_input.csv")
    write_frame(in_path, Xin)
    feats = list(X.columns)
    y2 = np.log(y)
    y3 = X["bmi"] * 100.0 + X["s5"] * 50.0
    Y2 = np.column_stack([y, y2])
    Y3 = np.column_stack([y, y2, y3])

    specs = [
        ("linreg", LinearRegression(), y, "LinearRegression, single target, intercept_ is a numpy float64 scalar"),
        ("ridge", Ridge(alpha=1.0), y, "Ridge alpha=1"),
        ("lasso", Lasso(alpha=0.01, random_state=0), y, "Lasso alpha=0.01 (some coef_ exactly 0)"),
        ("elasticnet", ElasticNet(alpha=0.001, l1_ratio=0.5, random_state=0), y, "ElasticNet"),
        ("sgd", SGDRegressor(random_state=0, max_iter=1000, tol=None), y,
         "SGDRegressor: intercept_ is a 1-element array"),
        ("linreg_multi", LinearRegression(), Y2, "multi-target LinearRegression: coef_ (2,10), intercept_ (2,)"),
        ("ridge_multi", Ridge(alpha=0.5), Y3, "multi-target Ridge: coef_ (3,10)"),
        ("ridge_nointercept", Ridge(alpha=1.0, fit_intercept=False), y,
         "Ridge fit_intercept=False: intercept_ is the Python float 0.0"),
    ]
    base = None
    for name, est, target, notes in specs:
        est.fit(X, target)
        if name == "linreg":
            base = est
        d = os.path.join(TESTDATA, "models", name)
        save_sklearn_model(d, est, utc_time="2024-06-03 10:%02d:00.000001" % len(M.cases))
        cols = write_regression_golden(os.path.join(d, "expected.csv"), est.predict(Xin))
        add_case("models/" + name, group="linear", model_dir=rel(d), input_path=rel(in_path),
                 outputs=[{"method": "predict", "golden": rel(os.path.join(d, "expected.csv")),
                           "columns": cols, "type": "float64", "tolerance": LINEAR_TOL}],
                 estimator=qualname(est), fmt="cloudpickle", protocol=4,
                 feature_source="feature_names_in_", features=feats, notes=notes)

    # pickle-protocol matrix: the very same fitted LinearRegression
    pred = base.predict(Xin)
    for fmt in ("pickle", "cloudpickle"):
        for proto in (2, 4, 5):
            name = "linreg_%s_p%d" % (fmt, proto)
            d = os.path.join(TESTDATA, "models", name)
            save_sklearn_model(d, base, fmt=fmt, protocol=proto,
                               utc_time="2024-06-03 11:00:%02d.000000" % proto)
            cols = write_regression_golden(os.path.join(d, "expected.csv"), pred)
            add_case("models/" + name, group="pickle_protocol", model_dir=rel(d),
                     input_path=rel(in_path),
                     outputs=[{"method": "predict", "golden": rel(os.path.join(d, "expected.csv")),
                               "columns": cols, "type": "float64", "tolerance": LINEAR_TOL}],
                     estimator=qualname(base), fmt=fmt, protocol=proto,
                     feature_source="feature_names_in_", features=feats,
                     notes="same estimator as models/linreg, %s protocol %d" % (fmt, proto))
    return base


# --------------------------------------------------------------------------
# phase 1: the tracking store testdata/mlruns


def make_store():
    X, y = diabetes_frame()
    Xin_path = "models/diabetes_input.csv"
    Xin = diabetes_input()
    feats = list(X.columns)
    store = os.path.join(TESTDATA, "mlruns")
    ids = {}

    write_experiment(store, "0", "Default", ALICE_STORE, 1717400000000)

    # ---- experiment A: MLflow 2.x runs
    exp_a = "147258369014725836"
    ea = write_experiment(store, exp_a, "diabetes-mlflow2", ALICE_STORE, 1717401000000)

    def golden(slug, est, X_used):
        # goldens live outside the store so the store holds only what MLflow writes
        path = os.path.join(TESTDATA, "golden", "mlruns", slug + ".csv")
        cols = write_regression_golden(path, est.predict(X_used))
        return [{"method": "predict", "golden": rel(path), "columns": cols, "type": "float64",
                 "tolerance": LINEAR_TOL}]

    # run 1: LinearRegression fit on numpy (positional), no signature
    r1 = ids["numpy_run"] = fixed_hex("run:numpy")
    est1 = LinearRegression().fit(X.to_numpy(), y.to_numpy())
    d1 = os.path.join(ea, r1, "artifacts", "model")
    _, h1 = save_sklearn_model(d1, est1, run_id=r1, artifact_path="model",
                               utc_time="2024-06-03 08:11:05.300201")
    write_run(ea, exp_a, r1, "linreg-numpy", ALICE_STORE, 1717402265000, 1717402266210,
              tags={"mlflow.log-model.history": history_tag([h1])},
              params={"fit_intercept": "True"},
              metrics={"r2": [(1717402266100, est1.score(X.to_numpy(), y), 0)]})
    add_case("mlruns/linreg-numpy", group="store", model_dir=rel(d1),
             model_uri="runs:/%s/model" % r1, tracking_uri="mlruns", input_path=Xin_path,
             outputs=golden("linreg-numpy", est1, Xin.to_numpy()), estimator=qualname(est1),
             fmt="cloudpickle", protocol=4, feature_source="position", features=feats,
             notes="fit on a numpy array: no feature_names_in_, no signature; columns by position")

    # run 2: two models, 'model' (DataFrame fit, no signature) and 'challenger'
    # (Lasso fit on numpy, tensor-spec signature)
    r2 = ids["two_models_run"] = fixed_hex("run:two-models")
    est2 = LinearRegression().fit(X, y)
    d2 = os.path.join(ea, r2, "artifacts", "model")
    _, h2 = save_sklearn_model(d2, est2, run_id=r2, artifact_path="model",
                               utc_time="2024-06-03 08:20:41.918274")
    est2b = Lasso(alpha=0.05, random_state=0).fit(X.to_numpy(), y.to_numpy())
    d2b = os.path.join(ea, r2, "artifacts", "challenger")
    _, h2b = save_sklearn_model(d2b, est2b, run_id=r2, artifact_path="challenger",
                                signature=tensor_signature(X.shape[1], out_tensor()),
                                utc_time="2024-06-03 08:20:44.020117")
    write_run(ea, exp_a, r2, "champion-vs-challenger", ALICE_STORE, 1717402840000, 1717402844900,
              tags={"mlflow.log-model.history": history_tag([h2, h2b])},
              params={"challenger_alpha": "0.05"})
    add_case("mlruns/two-models/model", group="store", model_dir=rel(d2),
             model_uri="runs:/%s/model" % r2, tracking_uri="mlruns", input_path=Xin_path,
             outputs=golden("two-models-model", est2, Xin), estimator=qualname(est2), fmt="cloudpickle",
             protocol=4, feature_source="feature_names_in_", features=feats,
             notes="fit on a DataFrame: feature_names_in_, no signature")
    add_case("mlruns/two-models/challenger", group="store", model_dir=rel(d2b),
             model_uri="runs:/%s/challenger" % r2, tracking_uri="mlruns", input_path=Xin_path,
             outputs=golden("two-models-challenger", est2b, Xin.to_numpy()), estimator=qualname(est2b),
             fmt="cloudpickle", protocol=4, feature_source="position", features=feats,
             notes="tensor-spec signature float64 [-1, 10]: unnamed, columns by position")

    # run 3: no model; a plain artifact only
    r3 = ids["no_model_run"] = fixed_hex("run:no-model")
    ra = write_run(ea, exp_a, r3, "eda-only", ALICE_STORE, 1717403000000, 1717403004000,
                   params={"stage": "eda"},
                   metrics={"rows": [(1717403001000, 442.0, 0)],
                            "loss": [(1717403001000, 0.5, 0), (1717403002000, 0.25, 1),
                                     (1717403003000, 0.125, 2)]})
    write_text(os.path.join(ra, "artifacts", "notes", "summary.txt"),
               "exploratory run, no model logged\n")

    # run 4: deleted run (lifecycle_stage deleted) that still has a model
    r4 = ids["deleted_run"] = fixed_hex("run:deleted")
    d4 = os.path.join(ea, r4, "artifacts", "model")
    _, h4 = save_sklearn_model(d4, est2, run_id=r4, artifact_path="model",
                               utc_time="2024-06-03 08:40:00.000000")
    write_run(ea, exp_a, r4, "oops-deleted", ALICE_STORE, 1717404000000, 1717404001000,
              lifecycle="deleted", deleted_time=1717404100000,
              tags={"mlflow.log-model.history": history_tag([h4])})

    # ---- experiment B: MLflow 3.x logged model, the run holds no model files
    exp_b = "283746501928374650"
    eb = write_experiment(store, exp_b, "diabetes-mlflow3", ALICE_STORE, 1717500000000)
    r5 = ids["mlflow3_run"] = fixed_hex("run:mlflow3")
    mid = ids["logged_model"] = model_id_for("ridge-signature")
    est5 = Ridge(alpha=0.5).fit(X, y)
    mdir = os.path.join(eb, "models", mid)
    art5 = os.path.join(mdir, "artifacts")
    loc5 = "%s/%s/models/%s/artifacts" % (ALICE_STORE, exp_b, mid)
    save_sklearn_model(art5, est5, mlflow_version=ML3, run_id=r5, artifact_path=loc5,
                       model_id=mid, signature=col_signature(feats, out_tensor()),
                       utc_time="2024-06-04 12:30:10.551020")
    write_yaml(os.path.join(mdir, "meta.yaml"),
               {"artifact_location": loc5, "creation_timestamp": 1717504210420,
                "experiment_id": exp_b, "last_updated_timestamp": 1717504212030,
                "model_id": mid, "model_type": "", "name": "model", "source_run_id": r5,
                "status": 2, "status_message": None})
    for k, v in {"mlflow.source.name": "train.py", "mlflow.source.type": "LOCAL",
                 "mlflow.user": "alice"}.items():
        write_text(os.path.join(mdir, "tags", k), v)
    write_text(os.path.join(mdir, "params", "alpha"), "0.5")
    rb = write_run(eb, exp_b, r5, "ridge-mlflow3", ALICE_STORE, 1717504208000, 1717504212100,
                   params={"alpha": "0.5"})
    write_yaml(os.path.join(rb, "outputs", mid, "meta.yaml"),
               {"destination_id": mid, "destination_type": "MODEL_OUTPUT", "source_id": mid,
                "source_type": "RUN_OUTPUT", "step": 0, "tags": {}})
    add_case("mlruns/mlflow3-logged-model", group="store", model_dir=rel(art5),
             model_uri="models:/%s" % mid, tracking_uri="mlruns", input_path=Xin_path,
             outputs=golden("mlflow3-logged-model", est5, Xin), estimator=qualname(est5), fmt="cloudpickle",
             protocol=4, feature_source="signature", features=feats,
             notes="MLflow 3 logged model; also reachable as runs:/%s/model" % r5)

    # ---- deleted experiment in .trash, with one run holding a model
    exp_c = "369258147036925814"
    ec = write_experiment(store, exp_c, "abandoned", ALICE_STORE, 1717300000000,
                          lifecycle="deleted", trash=True)
    r6 = ids["trashed_run"] = fixed_hex("run:trashed")
    d6 = os.path.join(ec, r6, "artifacts", "model")
    _, h6 = save_sklearn_model(d6, est1, run_id=r6, artifact_path="model",
                               utc_time="2024-06-02 07:00:00.000000")
    write_run(ec, exp_c, r6, "abandoned-run", ALICE_STORE, 1717311600000, 1717311601000,
              lifecycle="deleted", deleted_time=1717312000000,
              tags={"mlflow.log-model.history": history_tag([h6])})

    # ---- model registry (file store keeps it in mlruns/models/)
    reg = os.path.join(store, "models", "diabetes-ridge")
    write_yaml(os.path.join(reg, "meta.yaml"),
               {"aliases": {}, "creation_timestamp": 1717600000000, "description": "",
                "last_updated_timestamp": 1717600300000, "name": "diabetes-ridge"})
    src1 = "%s/%s/%s/artifacts/challenger" % (ALICE_STORE, exp_a, r2)
    write_yaml(os.path.join(reg, "version-1", "meta.yaml"),
               {"aliases": [], "creation_timestamp": 1717600100000, "current_stage": "Production",
                "description": "", "last_updated_timestamp": 1717600150000,
                "name": "diabetes-ridge", "run_id": r2, "run_link": "", "source": src1,
                "status": "READY", "status_message": None, "storage_location": src1,
                "user_id": None, "version": 1})
    write_yaml(os.path.join(reg, "version-2", "meta.yaml"),
               {"aliases": [], "creation_timestamp": 1717600200000, "current_stage": "None",
                "description": "", "last_updated_timestamp": 1717600200000,
                "model_id": mid, "name": "diabetes-ridge", "run_id": r5, "run_link": "",
                "source": "models:/%s" % mid, "status": "READY", "status_message": None,
                "storage_location": loc5, "user_id": None, "version": 2})
    write_text(os.path.join(reg, "aliases", "champion"), "2")

    # ---- resolution expectations
    def res(uri, expect_dir=None, error=None, notes=""):
        e = {"uri": uri, "tracking_uri": "mlruns"}
        if expect_dir:
            e["expect_dir"] = rel(expect_dir)
        if error:
            e["expect_error"] = error
        if notes:
            e["notes"] = notes
        M.resolve.append(e)

    res("runs:/%s/model" % r1, d1, notes="MLflow 2 run artifact; artifact_uri points to /home/alice")
    res("runs:/%s" % r1, d1, notes="no path: the run logged exactly one model (history tag / scan)")
    res("runs:/%s/model" % r2, d2)
    res("runs:/%s/challenger" % r2, d2b)
    res("runs:/%s" % r2, error="ambiguous",
        notes="two logged models: 'model' and 'challenger'; the error should name both")
    res("runs:/%s" % r3, error="no_model", notes="run logged no model")
    res("runs:/%s/notes" % r3, error="no_mlmodel", notes="artifact folder without MLmodel")
    res("runs:/%s/model" % r3, error="not_found", notes="no such artifact path and no logged model")
    res("runs:/%s/model" % r4, d4,
        notes="run is lifecycle_stage=deleted; MLflow still resolves it (a tool may warn)")
    res("runs:/%s/model" % r6, d6,
        notes="run in a deleted experiment under .trash/: expect_dir is where MLflow's file store "
              "finds it (it searches .trash too); mlbatch's policy is to refuse it with a 'deleted' error")
    res("runs:/%s/model" % r5, art5,
        notes="MLflow 3: no run artifact 'model', falls back to the logged model named 'model' "
              "with source_run_id = run")
    res("runs:/%s" % r5, art5, notes="no path: the run's only logged model")
    res("models:/%s" % mid, art5, notes="MLflow 3 logged model id")
    res("models:/diabetes-ridge/1", d2b)
    res("models:/diabetes-ridge/2", art5)
    res("models:/diabetes-ridge/latest", art5)
    res("models:/diabetes-ridge/Production", d2b)
    res("models:/diabetes-ridge@champion", art5)
    res("models:/diabetes-ridge/3", error="not_found")
    res("models:/no-such-model/1", error="not_found")
    res("runs:/%s/model" % fixed_hex("run:missing"), error="not_found")
    res("runs:/not-a-run-id/model", error="invalid_uri")
    ids["registered_model"] = "diabetes-ridge"
    return ids


# --------------------------------------------------------------------------
# phase 1: bad inputs


def make_bad(base_linreg):
    bad = os.path.join(TESTDATA, "bad")
    good_pickle = dump_pickle(base_linreg, "cloudpickle", 4)
    in_path = "models/diabetes_input.csv"

    def err(name, kind, path, notes, **extra):
        e = {"name": name, "kind": kind, "model_dir": None, "input": in_path}
        e.update(extra)
        if path:
            e["model_dir"] = rel(path)
        e["notes"] = notes
        M.errors.append(e)

    d = os.path.join(bad, "models", "no-mlmodel")
    save_sklearn_model(d, pickled=good_pickle, omit=("MLmodel",))
    err("no-mlmodel", "model_load", d, "model folder without an MLmodel file")

    # pyfunc with a custom python_model (mlflow.pyfunc.log_model(python_model=...)).
    # The pickle names a class from the user's own module: not loadable here.
    d = os.path.join(bad, "models", "pyfunc-python-model")
    mod = types.ModuleType("churn_pipeline")

    class ChurnModel:  # noqa: D401 - a stand-in user class
        pass

    ChurnModel.__module__ = "churn_pipeline"
    ChurnModel.__qualname__ = "ChurnModel"
    mod.ChurnModel = ChurnModel
    sys.modules["churn_pipeline"] = mod
    obj = ChurnModel()
    obj.threshold = 0.5
    write_bytes(os.path.join(d, "python_model.pkl"), pickle.dumps(obj, protocol=4))
    conda, python_env, reqs = env_files(ML2, "cloudpickle")
    write_yaml(os.path.join(d, "conda.yaml"), conda)
    write_text(os.path.join(d, "python_env.yaml"), python_env)
    write_text(os.path.join(d, "requirements.txt"), reqs)
    write_yaml(os.path.join(d, "MLmodel"), {
        "flavors": {"python_function": {
            "cloudpickle_version": cloudpickle.__version__, "code": None,
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.pyfunc.model", "python_model": "python_model.pkl",
            "python_version": PY_VERSION, "streamable": False}},
        "mlflow_version": ML2, "model_size_bytes": 512,
        "model_uuid": fixed_hex("uuid:pyfunc-python-model"),
        "utc_time_created": "2024-06-03 12:00:00.000000"})
    err("pyfunc-python-model", "model_load", d,
        "only a python_function flavor with loader_module mlflow.pyfunc.model (custom Python "
        "class): unsupported flavor, must not try to unpickle python_model.pkl")

    d = os.path.join(bad, "models", "pyfunc-custom-loader")
    write_bytes(os.path.join(d, "model.bin"), b"\x00opaque-model-bytes\x00")
    write_yaml(os.path.join(d, "MLmodel"), {
        "flavors": {"python_function": {
            "data": "model.bin", "env": "conda.yaml",
            "loader_module": "acme_models.loader", "python_version": PY_VERSION}},
        "mlflow_version": "1.30.0", "utc_time_created": "2023-01-01 00:00:00.000000"})
    write_yaml(os.path.join(d, "conda.yaml"), conda)
    err("pyfunc-custom-loader", "model_load", d,
        "python_function with a custom loader_module (acme_models.loader) and no known flavor; "
        "old-style env string")

    d = os.path.join(bad, "models", "gpr")
    X, y = diabetes_frame()
    gpr = GaussianProcessRegressor().fit(X.iloc[:60], y.iloc[:60])
    save_sklearn_model(d, gpr)
    err("gpr", "model_load", d,
        "valid sklearn flavor but the estimator class "
        "(sklearn.gaussian_process._gpr.GaussianProcessRegressor) is not supported; "
        "the error should name the class")

    d = os.path.join(bad, "models", "truncated-pickle")
    save_sklearn_model(d, pickled=good_pickle[: len(good_pickle) // 2])
    err("truncated-pickle", "model_load", d, "model.pkl cut in half (unexpected EOF)")

    d = os.path.join(bad, "models", "garbage-pickle")
    save_sklearn_model(d, pickled=np.random.RandomState(7).bytes(700))
    err("garbage-pickle", "model_load", d, "model.pkl is 700 seeded random bytes")

    # Hostile pickles: a loader that executes them would run code. Never unpickle these.
    d = os.path.join(bad, "models", "evil-os-system")
    save_sklearn_model(d, pickled=b"cos\nsystem\n(S'echo mlbatch-fixture-must-not-run'\ntR.")
    err("evil-os-system", "model_load", d,
        "protocol-0 pickle calling os.system: must be refused (global not allow-listed)")

    class _Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('mlbatch fixture: this must never run')",))

    d = os.path.join(bad, "models", "evil-builtins-exec")
    save_sklearn_model(d, pickled=pickle.dumps(_Evil(), protocol=4))
    err("evil-builtins-exec", "model_load", d,
        "protocol-4 pickle (STACK_GLOBAL builtins.exec + REDUCE): must be refused")

    # CSV inputs against models/linreg
    Xin = diabetes_input()
    rows = [[fmt_float(v) for v in r] for r in Xin.itertuples(index=False, name=None)]
    cols = list(Xin.columns)
    bad_row, bad_col = 137, "bmi"  # 1-based data row (header not counted)
    rows_nn = [list(r) for r in rows]
    rows_nn[bad_row - 1][cols.index(bad_col)] = "abc"
    p = os.path.join(bad, "csv", "nonnumeric.csv")
    write_csv(p, cols, rows_nn)
    M.errors.append({"name": "csv-nonnumeric", "kind": "input_data", "model_dir": "models/linreg",
                     "input": rel(p), "row": bad_row, "line": bad_row + 1, "column": bad_col,
                     "value": "abc",
                     "notes": "cell 'abc' at data row %d (1-based, header not counted; file line %d), "
                              "column %s; the error should name file, row and column"
                              % (bad_row, bad_row + 1, bad_col)})

    drop = "s3"
    p = os.path.join(bad, "csv", "missing-column.csv")
    keep = [i for i, c in enumerate(cols) if c != drop]
    write_csv(p, [cols[i] for i in keep], [[r[i] for i in keep] for r in rows])
    M.errors.append({"name": "csv-missing-column", "kind": "schema", "model_dir": "models/linreg",
                     "input": rel(p), "missing": [drop],
                     "notes": "model needs s3 (feature_names_in_); the error should name it"})
    M.errors.append({"name": "csv-missing-column-signature", "kind": "schema",
                     "model_dir": "mlruns/%s/models/%s/artifacts" % (
                         "283746501928374650", model_id_for("ridge-signature")),
                     "input": rel(p), "missing": [drop],
                     "notes": "same input against a model with a column signature"})

    p = os.path.join(bad, "csv", "header-only.csv")
    write_csv(p, cols, [])
    pe = os.path.join(bad, "csv", "header-only.expected.csv")
    write_csv(pe, ["prediction"], [])
    M.cases.append({"name": "csv-header-only", "group": "edge", "model_uri": "models/linreg",
                    "tracking_uri": None, "model_dir": "models/linreg",
                    "estimator": qualname(base_linreg), "flavor": "sklearn",
                    "serialization_format": "cloudpickle", "pickle_protocol": 4,
                    "feature_source": "feature_names_in_", "features": cols, "input": rel(p),
                    "outputs": [{"method": "predict", "golden": rel(pe), "columns": ["prediction"],
                                 "type": "float64", "tolerance": LINEAR_TOL}],
                    "notes": "header-only input: zero rows in, zero rows out (header only), no error"})


# --------------------------------------------------------------------------
# README


def write_readme(store_ids, demo_run, phase2=None):
    L = []
    a = L.append
    a("# mlbatch test fixtures")
    a("")
    a("Everything below `demo/`, `mlruns/`, `models/` and `bad/`, this README and")
    a("`gen/fixtures.json` is written by `gen/make_fixtures.py`. Do not edit by hand;")
    a("regenerate with Debian's Python stack (`/usr/bin/python3`, scikit-learn %s," % SKLEARN_VERSION)
    a("numpy %s, pandas %s, cloudpickle %s):" % (np.__version__, pd.__version__, cloudpickle.__version__))
    a("")
    a("    /usr/bin/python3 testdata/gen/make_fixtures.py")
    a("")
    a("The script is deterministic (fixed seeds, ids and timestamps, one thread): a rerun")
    a("gives identical bytes, so `git diff --exit-code testdata` after a rerun checks it.")
    a("There is no mlflow package here: the MLflow layouts are written by hand, the way")
    a("MLflow writes them (compare `../shared/mlflow-examples/`). Tests never need Python.")
    a("")
    a("## Machine-readable manifest: `gen/fixtures.json`")
    a("")
    a("All paths in it are relative to `testdata/`. Top-level keys:")
    a("")
    a("- `conventions`: number format, column names, tolerance rule.")
    a("- `cases`: one scoring case each: `model_uri` (+ `tracking_uri` for `runs:/`/`models:/`;")
    a("  a `model_uri` without a scheme is a folder path relative to `testdata/`),")
    a("  `model_dir` (the folder holding `MLmodel`, already resolved), `input` (CSV),")
    a("  `outputs` (list of `{method, golden, columns, type, tolerance}`; method is `predict`")
    a("  or `predict_proba`), `estimator` (Python class path), `serialization_format`,")
    a("  `pickle_protocol`, `feature_source` (`signature`, `feature_names_in_` or `position`),")
    a("  `features`, classifiers also `classes` and `label_type`; optional `near_tie_rows`.")
    a("- `resolve`: `{uri, tracking_uri, expect_dir | expect_error}` for URI resolution.")
    a("  `expect_error` is one of `ambiguous`, `no_model`, `no_mlmodel`, `not_found`, `invalid_uri`.")
    a("- `errors`: inputs that must fail cleanly: `{name, kind, model_dir, input, ...}` with")
    a("  `kind` one of `model_load`, `schema`, `input_data` (maps to the documented exit codes).")
    a("")
    a("Golden files are CSV with a header. Floats are Python `repr(float)` (shortest")
    a("round-trip): parse them, do not compare text. Tolerance: `|got - want| <= abs + rel*|want|`;")
    a("`exact: true` for labels. NaN input cells are empty.")
    a("")
    a("## demo/")
    a("")
    a("- `demo/diabetes.csv`: scikit-learn's bundled diabetes data (`load_diabetes`), 442 rows,")
    a("  columns age,sex,bmi,bp,s1..s6.")
    a("- `demo/mlruns/`: file store, experiment `0` (Default), run `%s`, model at" % demo_run)
    a("  artifact path `model`: LinearRegression fitted on a DataFrame, column signature,")
    a("  input example files. `artifact_uri` is `%s/0/<run>/artifacts` (another machine)." % ALICE_DEMO)
    a("- `demo/expected.csv`: column `prediction`.")
    a("")
    a("    mlbatch score --tracking-uri testdata/demo/mlruns \\")
    a("        --model runs:/%s/model \\" % demo_run)
    a("        --in testdata/demo/diabetes.csv --out preds.csv")
    a("")
    a("## mlruns/ (file tracking store)")
    a("")
    i = store_ids
    a("Artifact URIs in every meta.yaml/MLmodel point to `%s/...`, which does not exist" % ALICE_STORE)
    a("here: resolve them relative to the store you were given.")
    a("")
    a("| what | id | URI |")
    a("| --- | --- | --- |")
    a("| experiment `0` Default (empty) | `0` | |")
    a("| experiment diabetes-mlflow2 (MLflow %s) | `147258369014725836` | |" % ML2)
    a("| run linreg-numpy: LinearRegression fit on numpy, no signature (columns by position) | `%s` | `runs:/%s/model`, also `runs:/%s` |" % (i["numpy_run"], i["numpy_run"], i["numpy_run"]))
    a("| run champion-vs-challenger: `model` = LinearRegression fit on DataFrame (feature_names_in_, no signature); `challenger` = Lasso fit on numpy with tensor-spec signature | `%s` | `runs:/%s/model`, `runs:/%s/challenger`; `runs:/%s` is ambiguous |" % (i["two_models_run"], i["two_models_run"], i["two_models_run"], i["two_models_run"]))
    a("| run eda-only: no model, only `artifacts/notes/summary.txt`, params, metrics | `%s` | `runs:/%s` fails (no model) |" % (i["no_model_run"], i["no_model_run"]))
    a("| run oops-deleted: lifecycle_stage deleted, has a model | `%s` | `runs:/%s/model` |" % (i["deleted_run"], i["deleted_run"]))
    a("| experiment diabetes-mlflow3 (MLflow %s) | `283746501928374650` | |" % ML3)
    a("| run ridge-mlflow3: holds no model files; `outputs/<model_id>/meta.yaml` links it | `%s` | `runs:/%s/model` (falls back to the logged model) |" % (i["mlflow3_run"], i["mlflow3_run"]))
    a("| logged model `model`: Ridge with column signature, at `283746501928374650/models/%s/artifacts` | `%s` | `models:/%s` |" % (i["logged_model"], i["logged_model"], i["logged_model"]))
    a("| deleted experiment `abandoned` in `.trash/` with run abandoned-run | `369258147036925814` / `%s` | `runs:/%s/model` (MLflow finds it; mlbatch refuses: experiment deleted) |" % (i["trashed_run"], i["trashed_run"]))
    a("| registered model `diabetes-ridge`: v1 = the challenger (stage Production), v2 = the logged model, alias `champion` -> 2 | | `models:/diabetes-ridge/1`, `/2`, `/latest`, `/Production`, `@champion` |")
    a("")
    a("Goldens for the store's models are kept outside the store, in `golden/mlruns/`,")
    a("so the store holds only what MLflow writes; their input is `models/diabetes_input.csv`.")
    a("")
    a("What MLflow writes here, and a resolver has to cope with:")
    a("")
    a("- `mlruns/` holds experiment folders (numeric ids), `.trash/` (deleted experiments) and")
    a("  `models/` (the registry): not every subfolder is an experiment.")
    a("- Run `meta.yaml`: `artifact_uri` absolute on another machine, `experiment_id` quoted")
    a("  string, `status` int (3 = FINISHED), `lifecycle_stage` active/deleted, `deleted_time` only")
    a("  on deleted runs, legacy `run_uuid`/`source_*`/`tags: []` keys.")
    a("- MLflow 2 runs record models in tag file `tags/mlflow.log-model.history`: a JSON list,")
    a("  one entry per logged model, with `artifact_path`. Tag files have no trailing newline.")
    a("- MLflow 3 logged models live in `<exp>/models/m-<32hex>/` with `meta.yaml` (`name`,")
    a("  `source_run_id`, `artifact_location`, `status` 2 = READY) and the model under")
    a("  `artifacts/`. Their MLmodel has `artifact_path` set to the full artifact URI, `model_id`,")
    a("  `model_uuid` equal to the model id, `prompts: null`, and with a signature")
    a("  `is_signature_from_type_hint` / `type_hint_from_example`. MLflow 3 writes no history tag.")
    a("- MLflow creates empty `metrics/`, `params/`, `artifacts/` folders; git does not keep")
    a("  empty folders, so here some are missing: never require them.")
    a("- Signatures are JSON *strings* inside YAML and long ones wrap over several lines.")
    a("- Registry version `source` may be a `models:/m-...` URI (MLflow 3) or an absolute")
    a("  `file://` URI; `storage_location` is absolute on the other machine.")
    a("")
    a("## models/ (bare MLflow model folders, sklearn flavor)")
    a("")
    a("Each folder has `MLmodel`, `model.pkl`, `conda.yaml`, `python_env.yaml`,")
    a("`requirements.txt` and goldens. Unless noted: cloudpickle protocol 4 (what MLflow")
    a("writes in practice), fitted on a DataFrame so `feature_names_in_` names the columns.")
    a("")
    a("Linear models, input `models/diabetes_input.csv` (442 diabetes rows + 58 seeded")
    a("uniform rows), golden `expected.csv`:")
    a("")
    a("| folder | estimator | output columns |")
    a("| --- | --- | --- |")
    for c in M.cases:
        if c["group"] in ("linear", "pickle_protocol"):
            a("| `%s` | %s (%s p%d) | %s |" % (c["model_dir"], c["estimator"].rsplit(".", 1)[1],
                                            c["serialization_format"], c["pickle_protocol"],
                                            ", ".join(c["outputs"][0]["columns"])))
    a("")
    if phase2:
        a(phase2)
    a("## bad/ (must fail cleanly, never panic)")
    a("")
    a("| fixture | expected failure | what |")
    a("| --- | --- | --- |")
    for e in M.errors:
        what = e.get("model_dir") if e["kind"] == "model_load" else "%s` with `%s" % (e["input"], e["model_dir"])
        a("| `%s` | %s | %s |" % (what, e["kind"], e["notes"]))
    a("| `bad/csv/header-only.csv` | none | header only: zero rows in, `bad/csv/header-only.expected.csv` out |")
    a("")
    a("The `evil-*` pickles call `os.system` / `builtins.exec` when unpickled by Python.")
    a("Never load them with Python's pickle; the safe reader must refuse them.")
    a("")
    write_text(os.path.join(TESTDATA, "README.md"), "\n".join(L))


# --------------------------------------------------------------------------
# phase 2: classifiers and trees

TREE_TOL = {"rel": 1e-12, "abs": 0.0,
            "note": "single tree: a leaf value (and one division for proba); exact is reachable. "
                    "Compare float32(x) with the float64 threshold"}
FOREST_TOL = {"rel": 1e-12, "abs": 1e-15, "note": "mean over trees, summed in estimator order"}
BOOST_TOL = {"rel": 1e-9, "abs": 1e-12, "note": "sum over stages, then link function"}
LOGIT_TOL = {"rel": 1e-9, "abs": 1e-15, "note": "dot product, then sigmoid/softmax"}
DUMMY_TOL = {"rel": 0.0, "abs": 0.0, "exact": True, "note": "constants copied from the pickle"}


def probe_rows(X, tree, limit=25):
    """Rows that sit exactly on split thresholds. sklearn casts X to float32 and
    compares with the float64 threshold, so x == threshold can go right."""
    t = tree.tree_
    rows = []
    internal = [i for i in range(t.node_count) if t.children_left[i] != -1][:limit]
    for k, i in enumerate(internal):
        f, thr = int(t.feature[i]), float(t.threshold[i])
        for val in (thr, float(np.float32(thr))):
            r = X.iloc[(7 * k + 3) % len(X)].to_numpy(copy=True)
            r[f] = val
            rows.append(r)
    return pd.DataFrame(rows, columns=X.columns)


def with_nans(X, frac, seed):
    rng = np.random.RandomState(seed)
    Xn = X.copy()
    mask = rng.uniform(size=Xn.shape) < frac
    Xn = Xn.mask(mask)
    return Xn


def make_phase2():
    P = {}  # dataset -> dict(X, y, names, input path, frame)
    models_dir = os.path.join(TESTDATA, "models")

    def add_dataset(key, X, y, target_names, probe_est, nan_seed):
        probe_est.fit(X, y)
        Xin = pd.concat([X, probe_rows(X, probe_est)], ignore_index=True)
        p = os.path.join(models_dir, "%s_input.csv" % key)
        write_frame(p, Xin)
        # training data with NaNs for HistGradientBoosting, and a NaN input
        Xtr_nan = with_nans(X, 0.08, nan_seed)
        Xin_nan = with_nans(Xin, 0.1, nan_seed + 1)
        pn = os.path.join(models_dir, "%s_nan_input.csv" % key)
        write_frame(pn, Xin_nan)
        P[key] = dict(X=X, y=y, names=target_names, Xin=Xin, input=rel(p), Xtr_nan=Xtr_nan,
                      Xin_nan=Xin_nan, input_nan=rel(pn))

    for key in ("iris", "wine", "breast_cancer"):
        X, y, names = clf_frame(key)
        add_dataset(key, X, y, names, DecisionTreeClassifier(max_depth=4, random_state=0),
                    {"iris": 11, "wine": 21, "breast_cancer": 31}[key])
    Xd, yd = diabetes_frame()
    add_dataset("diabetes_tree", Xd, yd, None, DecisionTreeRegressor(max_depth=5, random_state=0), 41)

    # wine with an integer-coded categorical column for HistGradientBoosting
    Xw, yw = P["wine"]["X"], P["wine"]["y"]
    region = ((Xw["alcohol"] * 3).astype(int) % 6).astype(np.float64)
    Xc = Xw.copy()
    Xc["region"] = region
    Xc_in = pd.concat([Xc, Xc.iloc[:12]], ignore_index=True)
    rng = np.random.RandomState(55)
    odd = [np.nan, 7.0, 9.0, -1.0, 300.0, 2.0]
    for k in range(12):  # unseen, missing, negative and out-of-range categories
        Xc_in.loc[len(Xc) + k, "region"] = odd[k % len(odd)]
    Xc_in.loc[len(Xc):, "proline"] = rng.uniform(300, 1600, size=12)
    pc = os.path.join(models_dir, "wine_categorical_input.csv")
    write_frame(pc, Xc_in)
    P["wine_cat"] = dict(X=Xc, y=yw, names=P["wine"]["names"], Xin=Xc_in, input=rel(pc))

    def iris_labels(kind):
        y = P["iris"]["y"]
        names = np.array(["setosa", "versicolor", "virginica"], dtype=object)
        if kind == "string":
            return names[y]
        if kind == "float":
            return y.astype(np.float64) * 1.0
        return y

    bc_bool = (P["breast_cancer"]["y"] == 1).to_numpy()  # True = benign

    yd2 = np.column_stack([yd, np.log(yd)])
    yi = P["iris"]["y"].to_numpy()
    yi_multi = np.column_stack([yi, (P["iris"]["X"]["petal width (cm)"] > 1.0).astype(np.int64)])

    # name, dataset, estimator, target, kind, family, notes, extra options
    R, C = "regressor", "classifier"
    specs = [
        # logistic regression
        ("logreg_binary_bc", "breast_cancer", LogisticRegression(max_iter=10000), None, C, "logit",
         "binary: label = classes_[score > 0], proba = sigmoid", {"signature": True}),
        ("logreg_multinomial_iris", "iris",
         LogisticRegression(multi_class="multinomial", max_iter=1000), None, C, "logit",
         "multi_class='multinomial': softmax", {}),
        ("logreg_auto_wine", "wine", LogisticRegression(max_iter=20000), None, C, "logit",
         "multi_class='auto' with lbfgs resolves to multinomial", {}),
        ("logreg_ovr_iris", "iris", LogisticRegression(multi_class="ovr", max_iter=1000), None, C,
         "logit", "multi_class='ovr': per-class sigmoid, rows normalised", {}),
        ("logreg_liblinear_wine", "wine", LogisticRegression(solver="liblinear"), None, C, "logit",
         "solver='liblinear', multi_class='auto' resolves to one-vs-rest", {}),
        ("logreg_iris_string_labels", "iris", LogisticRegression(max_iter=1000),
         iris_labels("string"), C, "logit", "classes_ are strings (object array)", {}),
        ("logreg_bc_bool_labels", "breast_cancer", LogisticRegression(max_iter=10000), bc_bool, C,
         "logit", "classes_ are bool [False, True]", {}),
        # single trees
        ("dtree_reg_diabetes", "diabetes_tree", DecisionTreeRegressor(max_depth=6, random_state=0),
         None, R, "tree", "fit on numpy: columns by position", {"numpy": True}),
        ("dtree_clf_iris", "iris", DecisionTreeClassifier(random_state=0), None, C, "tree", "", {}),
        ("dtree_clf_iris_pickle_p2", "iris", DecisionTreeClassifier(random_state=0), None, C, "tree",
         "same tree as dtree_clf_iris, pickle protocol 2 (_reconstruct + _codecs.encode)",
         {"fmt": "pickle", "protocol": 2}),
        ("dtree_clf_iris_pickle_p5", "iris", DecisionTreeClassifier(random_state=0), None, C, "tree",
         "same tree as dtree_clf_iris, pickle protocol 5 (_frombuffer, structured dtype)",
         {"fmt": "pickle", "protocol": 5}),
        ("dtree_clf_wine", "wine", DecisionTreeClassifier(max_depth=5, random_state=0), None, C,
         "tree", "", {}),
        ("dtree_clf_iris_float_labels", "iris", DecisionTreeClassifier(random_state=0),
         iris_labels("float"), C, "tree", "classes_ are float64 0.0, 1.0, 2.0", {}),
        ("dtree_clf_bc_bool_labels", "breast_cancer",
         DecisionTreeClassifier(max_depth=5, random_state=0), bc_bool, C, "tree",
         "classes_ are bool", {}),
        ("extratree_reg_diabetes", "diabetes_tree", ExtraTreeRegressor(max_depth=8, random_state=0),
         None, R, "tree", "", {}),
        ("extratree_clf_wine", "wine", ExtraTreeClassifier(random_state=0), None, C, "tree", "", {}),
        # forests
        ("rf_reg_diabetes", "diabetes_tree",
         RandomForestRegressor(n_estimators=40, max_depth=6, random_state=0), None, R, "forest",
         "", {}),
        ("rf_clf_iris", "iris", RandomForestClassifier(n_estimators=30, random_state=0), None, C,
         "forest", "with a column signature", {"signature": True}),
        ("rf_clf_iris_string_labels", "iris",
         RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0),
         iris_labels("string"), C, "forest", "classes_ are strings", {}),
        ("rf_clf_bc", "breast_cancer",
         RandomForestClassifier(n_estimators=40, max_depth=6, random_state=0), None, C, "forest",
         "binary", {}),
        ("rf_clf_500_bc", "breast_cancer",
         RandomForestClassifier(n_estimators=500, max_depth=3, random_state=0), None, C, "forest",
         "500 shallow trees: load-time benchmark", {}),
        ("extratrees_reg_diabetes", "diabetes_tree",
         ExtraTreesRegressor(n_estimators=30, max_depth=6, random_state=0), None, R, "forest", "",
         {}),
        ("extratrees_clf_wine", "wine",
         ExtraTreesClassifier(n_estimators=30, max_depth=6, random_state=0), None, C, "forest", "",
         {}),
        # gradient boosting
        ("gbr_squared_error_diabetes", "diabetes_tree",
         GradientBoostingRegressor(n_estimators=60, random_state=0), None, R, "boost",
         "init_ DummyRegressor(mean)", {}),
        ("gbr_absolute_error_diabetes", "diabetes_tree",
         GradientBoostingRegressor(loss="absolute_error", n_estimators=60, random_state=0), None,
         R, "boost", "init_ DummyRegressor(median)", {}),
        ("gbr_huber_diabetes", "diabetes_tree",
         GradientBoostingRegressor(loss="huber", n_estimators=60, random_state=0), None, R,
         "boost", "init_ DummyRegressor(median)", {}),
        ("gbr_quantile_diabetes", "diabetes_tree",
         GradientBoostingRegressor(loss="quantile", alpha=0.8, n_estimators=60, random_state=0),
         None, R, "boost", "init_ DummyRegressor(quantile 0.8)", {}),
        ("gbr_init_zero_diabetes", "diabetes_tree",
         GradientBoostingRegressor(init="zero", n_estimators=60, random_state=0), None, R, "boost",
         "init='zero': init_ is the string 'zero', raw starts at 0", {}),
        ("gbr_init_constant_diabetes", "diabetes_tree",
         GradientBoostingRegressor(init=DummyRegressor(strategy="constant", constant=150.0),
                                   n_estimators=60, random_state=0), None, R, "boost",
         "init=DummyRegressor(constant=150)", {}),
        ("gbc_binary_bc", "breast_cancer", GradientBoostingClassifier(n_estimators=50, random_state=0),
         None, C, "boost", "log_loss binary: one tree per stage; raw init = log-odds of class_prior_ clipped to float32 eps; proba = sigmoid", {}),
        ("gbc_multiclass_iris", "iris", GradientBoostingClassifier(n_estimators=40, random_state=0),
         None, C, "boost", "log_loss multiclass: K trees per stage; raw init = log(clip(class_prior_, eps32, 1-eps32)); softmax", {}),
        ("gbc_exponential_bc", "breast_cancer",
         GradientBoostingClassifier(loss="exponential", n_estimators=50, random_state=0), None, C,
         "boost", "exponential loss: raw init = 0.5 * log-odds (clipped); proba = sigmoid(2 * raw)", {}),
        ("gbc_init_zero_wine", "wine",
         GradientBoostingClassifier(init="zero", n_estimators=40, random_state=0), None, C, "boost",
         "init='zero'", {}),
        ("gbc_init_zero_bc", "breast_cancer",
         GradientBoostingClassifier(init="zero", n_estimators=40, random_state=0), None, C, "boost",
         "init='zero', binary", {}),
        ("gbc_init_prior_iris", "iris",
         GradientBoostingClassifier(init=DummyClassifier(strategy="prior"), n_estimators=30,
                                    random_state=0), None, C, "boost",
         "init=DummyClassifier(prior) given explicitly", {}),
        ("gbc_init_uniform_wine", "wine",
         GradientBoostingClassifier(init=DummyClassifier(strategy="uniform"), n_estimators=30,
                                    random_state=0), None, C, "boost",
         "init=DummyClassifier(uniform): raw init = log(1/K) per class (init_.predict_proba, clipped, log)", {}),
        ("gbc_string_labels_iris", "iris",
         GradientBoostingClassifier(n_estimators=20, random_state=0), iris_labels("string"), C,
         "boost", "classes_ are strings", {}),
        # histogram gradient boosting (NaN inputs)
        ("hgbr_squared_error_diabetes_nan", "diabetes_tree",
         HistGradientBoostingRegressor(max_iter=60, random_state=0, early_stopping=False), None, R,
         "hist", "trained and scored with NaNs", {"nan": True}),
        ("hgbr_poisson_diabetes_nan", "diabetes_tree",
         HistGradientBoostingRegressor(loss="poisson", max_iter=60, random_state=0,
                                       early_stopping=False), None, R, "hist",
         "poisson: prediction = exp(raw)", {"nan": True}),
        ("hgbc_binary_bc_nan", "breast_cancer",
         HistGradientBoostingClassifier(max_iter=40, random_state=0, early_stopping=False), None, C,
         "hist", "binary, NaNs", {"nan": True}),
        ("hgbc_multiclass_wine_nan", "wine",
         HistGradientBoostingClassifier(max_iter=30, random_state=0, early_stopping=False), None, C,
         "hist", "multiclass, NaNs", {"nan": True}),
        ("hgbc_iris_string_labels_nan", "iris",
         HistGradientBoostingClassifier(max_iter=20, random_state=0, early_stopping=False),
         iris_labels("string"), C, "hist", "string labels, NaNs", {"nan": True}),
        ("hgbc_categorical_wine", "wine_cat",
         HistGradientBoostingClassifier(categorical_features=[13], max_iter=30, random_state=0,
                                        early_stopping=False), None, C, "hist",
         "column 'region' (index 13) is categorical; input has unseen (7, 9), negative (-1), "
         "out-of-range (300) and missing categories", {}),
        # dummies
        ("dummy_reg_mean", "diabetes_tree", DummyRegressor(strategy="mean"), None, R, "dummy", "", {}),
        ("dummy_reg_median", "diabetes_tree", DummyRegressor(strategy="median"), None, R, "dummy",
         "", {}),
        ("dummy_reg_quantile", "diabetes_tree", DummyRegressor(strategy="quantile", quantile=0.25),
         None, R, "dummy", "", {}),
        ("dummy_reg_constant", "diabetes_tree", DummyRegressor(strategy="constant", constant=150.5),
         None, R, "dummy", "constant_ is a (1, 1) array", {}),
        ("dummy_clf_prior_wine", "wine", DummyClassifier(strategy="prior"), None, C, "dummy",
         "predict = most frequent class, proba = class_prior_", {}),
        ("dummy_clf_most_frequent_bc", "breast_cancer", DummyClassifier(strategy="most_frequent"),
         None, C, "dummy", "proba is one-hot on the most frequent class", {}),
        ("dummy_clf_constant_iris", "iris", DummyClassifier(strategy="constant", constant=2), None,
         C, "dummy", "constant=2", {}),
        # multi-output
        ("dtree_reg_multi_diabetes", "diabetes_tree",
         DecisionTreeRegressor(max_depth=5, random_state=0), yd2, R, "tree",
         "two targets: y and log(y)", {}),
        ("rf_reg_multi_diabetes", "diabetes_tree",
         RandomForestRegressor(n_estimators=20, max_depth=5, random_state=0), yd2, R, "forest",
         "two targets: y and log(y)", {}),
        ("dtree_clf_multi_iris", "iris", DecisionTreeClassifier(max_depth=4, random_state=0),
         yi_multi, C, "tree", "two outputs: species (0..2) and petal width > 1 (0/1)", {}),
    ]
    tolerances = {"logit": LOGIT_TOL, "tree": TREE_TOL, "forest": FOREST_TOL,
                  "boost": BOOST_TOL, "hist": BOOST_TOL, "dummy": DUMMY_TOL}

    groups = {}
    for name, dsk, est, target, kind, family, notes, opt in specs:
        ds = P[dsk]
        y = ds["y"] if target is None else target
        Xfit = ds["Xtr_nan"] if opt.get("nan") else ds["X"]
        Xin = ds["Xin_nan"] if opt.get("nan") else ds["Xin"]
        in_path = ds["input_nan"] if opt.get("nan") else ds["input"]
        feats = list(Xfit.columns)
        numpy_fit = opt.get("numpy", False)
        if numpy_fit:
            est.fit(Xfit.to_numpy(), np.asarray(y))
            Xs = Xin.to_numpy()
        else:
            est.fit(Xfit, y)
            Xs = Xin
        d = os.path.join(models_dir, name)
        tol = tolerances[family]
        sig = None
        pred = np.asarray(est.predict(Xs))
        outputs = []
        extra = {}
        if kind == R:
            if opt.get("signature"):
                sig = col_signature(feats, out_tensor("float64"))
            cols = write_regression_golden(os.path.join(d, "expected.csv"), pred)
            outputs.append({"method": "predict", "golden": rel(os.path.join(d, "expected.csv")),
                            "columns": cols, "type": "float64", "tolerance": tol})
        else:
            classes = est.classes_
            multi = isinstance(classes, list)
            if opt.get("signature"):
                sig = col_signature(feats, out_tensor("int64"))
            if multi:
                cols = ["prediction_%d" % k for k in range(pred.shape[1])]
                ltypes = [label_type(c) for c in classes]
                rows = [[fmt_label(v) for v in r] for r in pred]
                pcols = ["proba_%d_%s" % (k, fmt_label(c)) for k, cl in enumerate(classes) for c in cl]
                proba = np.hstack(est.predict_proba(Xs))
                extra["classes"] = [[c.item() if hasattr(c, "item") else c for c in cl] for cl in classes]
                extra["label_type"] = ltypes
                ptype = ltypes[0] if len(set(ltypes)) == 1 else "mixed"
            else:
                cols = ["prediction"]
                rows = [[fmt_label(v)] for v in pred]
                pcols = ["proba_%s" % fmt_label(c) for c in classes]
                proba = est.predict_proba(Xs)
                extra["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
                extra["label_type"] = ptype = label_type(classes)
                srt = np.sort(proba, axis=1)
                ties = [int(i) for i in np.nonzero(srt[:, -1] - srt[:, -2] < 1e-9)[0]] \
                    if proba.shape[1] > 1 else []
                if ties:
                    extra["near_tie_rows"] = ties
            write_csv(os.path.join(d, "expected.csv"), cols, rows)
            write_csv(os.path.join(d, "expected_proba.csv"), pcols,
                      [[fmt_float(v) for v in r] for r in proba])
            outputs.append({"method": "predict", "golden": rel(os.path.join(d, "expected.csv")),
                            "columns": cols, "type": ptype, "tolerance": LABEL_TOL})
            outputs.append({"method": "predict_proba",
                            "golden": rel(os.path.join(d, "expected_proba.csv")),
                            "columns": pcols, "type": "float64", "tolerance": tol})
        fmt = opt.get("fmt", "cloudpickle")
        proto = opt.get("protocol", 4)
        save_sklearn_model(d, est, fmt=fmt, protocol=proto, signature=sig,
                           utc_time="2024-06-05 14:%02d:%02d.250000" % divmod(len(M.cases) % 3600, 60))
        fsrc = "signature" if sig else ("position" if numpy_fit else "feature_names_in_")
        add_case("models/" + name, group=family, model_dir=rel(d), input_path=in_path,
                 outputs=outputs, estimator=qualname(est), fmt=fmt, protocol=proto,
                 feature_source=fsrc, features=feats, notes=notes, **extra)
        groups.setdefault(family, []).append((name, qualname(est).rsplit(".", 1)[1], dsk,
                                              os.path.basename(in_path), notes))

    make_bad_trees(P)

    # NaN inputs against models that do not accept them (sklearn raises ValueError)
    for model, inp in (("models/dtree_clf_iris", P["iris"]["input_nan"]),
                       ("models/rf_reg_diabetes", P["diabetes_tree"]["input_nan"]),
                       ("models/logreg_binary_bc", P["breast_cancer"]["input_nan"])):
        M.errors.append({"name": "nan-into-" + model.split("/")[1], "kind": "input_data",
                         "model_dir": model, "input": inp,
                         "notes": "NaN (empty cell) in the input; scikit-learn 1.2 raises "
                                  "'Input contains NaN' for this estimator"})

    # README section
    L = []
    a = L.append
    a("Classifiers and trees (phase 2). Inputs per dataset, each the bundled scikit-learn")
    a("data plus up to 50 threshold-probe rows: copies of training rows with one feature set")
    a("exactly to a split threshold of a reference tree, and to that threshold rounded to")
    a("float32. scikit-learn compares float32(x) <= threshold (float64), so x == threshold")
    a("can go right. `*_nan_input.csv` is the same with ~10% empty (NaN) cells;")
    a("`wine_categorical_input.csv` adds an integer-coded categorical column `region`.")
    a("")
    a("Classifiers have `expected.csv` (`prediction`, labels as Python prints them) and")
    a("`expected_proba.csv` (`proba_<label>` in `classes_` order; multi-output:")
    a("`proba_<output>_<label>`). Regressors have `expected.csv` only.")
    a("`near_tie_rows` in the manifest lists rows whose top two probabilities are within")
    a("1e-9: the label there depends on exact summation order.")
    a("")
    titles = {"logit": "Logistic regression", "tree": "Single trees", "forest": "Forests",
              "boost": "Gradient boosting", "hist": "Histogram gradient boosting",
              "dummy": "Dummy estimators"}
    for fam in ("logit", "tree", "forest", "boost", "hist", "dummy"):
        a("%s:" % titles[fam])
        a("")
        a("| folder | estimator | input | notes |")
        a("| --- | --- | --- | --- |")
        for name, cls, dsk, inp, notes in groups[fam]:
            a("| `models/%s` | %s | `%s` | %s |" % (name, cls, inp, notes))
        a("")
    a("scikit-learn 1.2.1 pickles: `Tree` nodes have no `missing_go_to_left` (added in 1.3)")
    a("and `values` hold weighted class counts (fractions from 1.4): normalise per row.")
    a("Only HistGradientBoosting accepts NaN here; NaN into other models is an error case.")
    a("")
    return "\n".join(L)


def make_bad_trees(P):
    """Byte-patched DecisionTree pickles: the node array is patched in place."""
    X, y = P["iris"]["X"], P["iris"]["y"]
    est = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    data = dump_pickle(est, "cloudpickle", 4)
    nodes = est.tree_.__getstate__()["nodes"]
    raw = nodes.tobytes()
    off = data.find(raw)
    assert off > 0 and data.find(raw, off + 1) == -1
    rec = nodes.dtype.itemsize
    fld = {n: nodes.dtype.fields[n][1] for n in nodes.dtype.names}
    left = est.tree_.children_left
    internal = [i for i in range(len(left)) if left[i] != -1]
    deep = [i for i in internal if i != 0 and left[i] != -1][0]

    def patch(node, field, value):
        b = bytearray(data)
        pos = off + node * rec + fld[field]
        b[pos:pos + 8] = int(value).to_bytes(8, "little", signed=True)
        return bytes(b)

    cases = [
        ("tree-node-out-of-range", patch(0, "right_child", 1000),
         "root right_child = 1000, node_count = %d" % est.tree_.node_count),
        ("tree-cycle", patch(deep, "left_child", 0),
         "node %d left_child points back to the root (0): walking never reaches a leaf" % deep),
        ("tree-feature-out-of-range", patch(0, "feature", 99),
         "root split feature = 99 but n_features_in_ = 4"),
    ]
    for name, blob, notes in cases:
        d = os.path.join(TESTDATA, "bad", "models", name)
        save_sklearn_model(d, pickled=blob)
        M.errors.append({"name": name, "kind": "model_load", "model_dir": rel(d),
                         "input": P["iris"]["input"],
                         "notes": notes + "; the loader must reject it (children must be "
                                          "in range and greater than the parent index)"})


# --------------------------------------------------------------------------
# self-check: reload every written pickle, rescore every input CSV as written,
# and compare with the golden files as written (bit-exact after parsing).


def read_golden(path):
    with open(path) as f:
        lines = f.read().split("\n")
    header = lines[0].split(",")
    rows = [l.split(",") for l in lines[1:] if l != ""]
    return header, rows


def verify():
    n = 0
    for case in M.cases:
        with open(os.path.join(TESTDATA, case["model_dir"], "model.pkl"), "rb") as f:
            est = pickle.load(f)  # our own freshly written pickles only
        df = pd.read_csv(os.path.join(TESTDATA, case["input"]), keep_default_na=True,
                         float_precision="round_trip")
        X = df[case["features"]]
        X = X.to_numpy() if case["feature_source"] == "position" else X
        for out in case["outputs"]:
            header, rows = read_golden(os.path.join(TESTDATA, out["golden"]))
            assert header == out["columns"], (case["name"], header, out["columns"])
            if len(df) == 0:
                assert rows == [], case["name"]
                continue
            if out["method"] == "predict":
                got = np.asarray(est.predict(X))
            else:
                got = est.predict_proba(X)
                if isinstance(got, list):
                    got = np.hstack(got)
            if got.ndim == 1:
                got = got.reshape(-1, 1)
            assert got.shape == (len(rows), len(header)), (case["name"], got.shape)
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    v = got[r, c]
                    if out["type"] == "float64":
                        ok = float(cell) == float(v)
                    else:
                        ok = cell == fmt_label(v)
                    assert ok, (case["name"], out["method"], r, c, cell, v)
            n += 1
    return n


def main():
    for d in OWNED:
        shutil.rmtree(os.path.join(TESTDATA, d), ignore_errors=True)
    demo_run = make_demo()
    base = make_linear_models()
    store_ids = make_store()
    make_bad(base)
    phase2 = None
    if "make_phase2" in globals():
        phase2 = make_phase2()  # noqa: F821
    write_readme(store_ids, demo_run, phase2)
    write_text(os.path.join(HERE, "fixtures.json"), json.dumps(M.dump(), indent=2) + "\n")
    print("verified %d golden files against reloaded pickles" % verify())


if __name__ == "__main__":
    main()
