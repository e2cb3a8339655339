#!/usr/bin/python3
"""Fit the benchmark models on a sample of the generated data and save them as
MLflow model folders (the layout mlflow.sklearn / mlflow.xgboost save_model write;
there is no mlflow package on Debian).

    /usr/bin/python3 bench/models.py bench/out

Reads OUT/1m/data.f64 (float64, 13 columns x1..x13, row-major), writes
OUT/models/{lr,rf,hgb,xgb} and OUT/models/lr.json (the coefficients, for DuckDB).
"""
import json
import os
import sys

import cloudpickle
import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb
import yaml
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression

OUT = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
NF = 13
NAMES = ["x%d" % (j + 1) for j in range(NF)]
PY = "%d.%d.%d" % sys.version_info[:3]

X = np.fromfile(os.path.join(OUT, "1m", "data.f64"), dtype="<f8").reshape(-1, NF)
rng = np.random.RandomState(0)
idx = rng.choice(len(X), 20000, replace=False)
Xs = pd.DataFrame(X[idx], columns=NAMES)
x = Xs.values
y = (1.5 * x[:, 0] - 2.0 * x[:, 1] + np.sin(3 * x[:, 2]) + x[:, 3] * x[:, 4]
     + np.where(x[:, 5] > 0.3, 2.0, -1.0) + 0.5 * x[:, 6:].sum(axis=1)
     + rng.normal(scale=0.3, size=len(x)))

SIG = {"inputs": json.dumps([{"type": "double", "name": n, "required": True} for n in NAMES]),
       "outputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]),
       "params": None}


def env(path, pins):
    conda = {"channels": ["conda-forge"], "name": "mlflow-env",
             "dependencies": ["python=" + PY, "pip<=23.0.1", {"pip": pins}]}
    with open(os.path.join(path, "conda.yaml"), "w") as f:
        yaml.safe_dump(conda, f, default_flow_style=False)
    with open(os.path.join(path, "python_env.yaml"), "w") as f:
        f.write("python: %s\nbuild_dependencies:\n- pip==23.0.1\n- setuptools==66.1.1\n- wheel==0.38.4\n"
                "dependencies:\n- -r requirements.txt\n" % PY)
    with open(os.path.join(path, "requirements.txt"), "w") as f:
        f.write("\n".join(pins))


def mlmodel(path, flavors, size):
    m = {"flavors": flavors, "mlflow_version": "2.16.2", "model_size_bytes": size,
         "model_uuid": "b0" * 16, "signature": SIG, "utc_time_created": "2024-06-05 14:00:00.000000"}
    with open(os.path.join(path, "MLmodel"), "w") as f:
        yaml.safe_dump(m, f, default_flow_style=False)


def save_sklearn(name, est):
    path = os.path.join(OUT, "models", name)
    os.makedirs(path, exist_ok=True)
    data = cloudpickle.dumps(est, protocol=4)
    with open(os.path.join(path, "model.pkl"), "wb") as f:
        f.write(data)
    env(path, ["mlflow==2.16.2", "cloudpickle==" + cloudpickle.__version__, "numpy==" + np.__version__,
               "scikit-learn==" + sklearn.__version__])
    mlmodel(path, {
        "python_function": {"model_path": "model.pkl", "predict_fn": "predict", "loader_module": "mlflow.sklearn",
                            "python_version": PY, "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}},
        "sklearn": {"pickled_model": "model.pkl", "sklearn_version": sklearn.__version__,
                    "serialization_format": "cloudpickle", "code": None}}, len(data))


lr = LinearRegression().fit(Xs, y)
save_sklearn("lr", lr)
with open(os.path.join(OUT, "models", "lr.json"), "w") as f:
    json.dump({"names": NAMES, "intercept": float(lr.intercept_), "coef": [float(c) for c in lr.coef_]}, f)

save_sklearn("rf", RandomForestRegressor(n_estimators=100, max_depth=10, random_state=0, n_jobs=2).fit(Xs, y))
save_sklearn("hgb", HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0).fit(Xs, y))

d = xgb.DMatrix(x, label=y, feature_names=NAMES)
bst = xgb.train({"max_depth": 6, "eta": 0.3, "nthread": 2, "objective": "reg:squarederror"}, d, num_boost_round=100)
path = os.path.join(OUT, "models", "xgb")
os.makedirs(path, exist_ok=True)
bst.save_model(os.path.join(path, "model.ubj"))
env(path, ["mlflow==2.16.2", "xgboost==" + xgb.__version__])
mlmodel(path, {
    "python_function": {"data": "model.ubj", "loader_module": "mlflow.xgboost", "python_version": PY,
                        "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}},
    "xgboost": {"code": None, "data": "model.ubj", "model_class": "xgboost.core.Booster",
                "model_format": "ubj", "xgb_version": xgb.__version__}},
    os.path.getsize(os.path.join(path, "model.ubj")))
print("models written to", os.path.join(OUT, "models"))
