#!/usr/bin/python3
"""Generate the fixtures of `mlbatch inspect`'s model tree: a Pipeline whose
ColumnTransformer holds a nested Pipeline with a class mlbatch does not rebuild
(GaussianRandomProjection), as a cloudpickle and as a skops MLflow folder.

Run with Debian's Python stack (scikit-learn 1.2.1, numpy 1.24, pandas 1.5,
cloudpickle 2.2), which is /usr/bin/python3:

    /usr/bin/python3 testdata/inspect/gen.py

The models are fitted on testdata/pipelines/customers_input.csv (rows without
missing values). They exist to be refused: tests check that the tree names the
missing class at its place (prep > num > proj), that every other class is
marked supported, and that score and score --dry-run name the class, point to
mlbatch inspect and exit with 3. Deterministic: fixed seeds, so a rerun gives
identical bytes. The script owns testdata/inspect/ except itself.
"""

import os
import shutil
import sys
import zipfile

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.random_projection import GaussianRandomProjection

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTDATA, "gen"))
sys.path.insert(0, os.path.join(TESTDATA, "pipelines"))
import make_fixtures as mf  # noqa: E402  (MLflow folder helpers)
import skops_writer  # noqa: E402

UTC = "2024-06-10 08:00:00.000000"


def save_skops(path, est):
    """An MLflow sklearn folder with serialization_format skops, as
    testdata/pipelines/gen.py writes one."""
    data = skops_writer.dumps(est, compression=zipfile.ZIP_STORED)
    mf.save_sklearn_model(path, pickled=data, fmt="cloudpickle", protocol=4, utc_time=UTC)
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


def main():
    for entry in os.listdir(HERE):
        if entry not in ("gen.py", "__pycache__"):
            shutil.rmtree(os.path.join(HERE, entry))
    df = pd.read_csv(os.path.join(TESTDATA, "pipelines", "customers_input.csv"))
    df = df.dropna(subset=["age", "income", "score", "city"]).reset_index(drop=True)
    X = df[["age", "income", "score", "city"]]
    y = (df["score"] > df["score"].median()).astype(int)
    pipe = Pipeline([
        ("prep", ColumnTransformer([
            ("num", Pipeline([
                ("scale", StandardScaler()),
                ("proj", GaussianRandomProjection(n_components=2, random_state=0)),
            ]), ["age", "income", "score"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ])),
        ("clf", LogisticRegression(C=0.5, max_iter=500)),
    ])
    pipe.fit(X, y)
    mf.save_sklearn_model(os.path.join(HERE, "nested_unsupported"), pipe, fmt="cloudpickle",
                          protocol=4, utc_time=UTC)
    save_skops(os.path.join(HERE, "nested_unsupported_skops"), pipe)


if __name__ == "__main__":
    main()
