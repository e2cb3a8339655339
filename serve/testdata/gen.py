#!/usr/bin/python3
"""Writes serve/testdata/seed13: the seed article's model shape, as MLflow writes it.

The seed serves a LinearRegression over the 13 Boston-housing features and scores it
with `curl -d '{"data":[[0.09178,0.0,4.05,...]]}'`: columns by position, no
signature. scikit-learn 1.2 no longer ships the Boston data, so this fits a
LinearRegression on numpy (so by position, no feature_names_in_) over seeded
synthetic rows with the same 13 columns and value ranges, and records the golden
predictions of scikit-learn for the seed's row and the synthetic rows.

Run with Debian's Python stack (python3-sklearn, python3-cloudpickle):

    /usr/bin/python3 serve/testdata/gen.py

It is deterministic: a rerun gives identical bytes.
"""
import os

import cloudpickle
import numpy as np
import sklearn
from sklearn.linear_model import LinearRegression

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seed13")

COLUMNS = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX",
           "PTRATIO", "B", "LSTAT"]
# (low, high) per column, roughly the Boston data's ranges.
RANGES = [(0.006, 89.0), (0.0, 100.0), (0.46, 27.7), (0.0, 1.0), (0.385, 0.871),
          (3.56, 8.78), (2.9, 100.0), (1.13, 12.1), (1.0, 24.0), (187.0, 711.0),
          (12.6, 22.0), (0.32, 396.9), (1.73, 37.97)]
SEED_ROW = [0.09178, 0.0, 4.05, 0.0, 0.51, 6.416, 84.1, 2.6463, 5.0, 296.0, 16.6, 395.5, 9.04]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    rng = np.random.RandomState(20240603)
    n = 506
    X = np.column_stack([rng.uniform(lo, hi, n) for lo, hi in RANGES])
    X[:, 3] = (X[:, 3] > 0.93).astype(float)          # CHAS is 0/1
    X[:, 8] = np.round(X[:, 8])                        # RAD is an index
    coef = np.array([-0.108, 0.046, 0.021, 2.69, -17.8, 3.81, 0.0007, -1.48, 0.306,
                     -0.0123, -0.953, 0.0093, -0.525])
    y = 36.46 + X @ coef + rng.normal(0, 4.7, n)
    est = LinearRegression().fit(X, y)

    os.makedirs(OUT, exist_ok=True)
    pkl = cloudpickle.dumps(est, protocol=4)
    write(os.path.join(OUT, "model.pkl"), pkl)
    write(os.path.join(OUT, "MLmodel"), f"""flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: {sklearn.__version__}
mlflow_version: 2.16.2
model_size_bytes: {len(pkl)}
model_uuid: 5eed13b05f0a4e1c9d2b7a6f3c8e1d20
utc_time_created: '2024-06-03 12:00:00.000001'
""")
    write(os.path.join(OUT, "requirements.txt"),
          "mlflow==2.16.2\ncloudpickle==2.2.0\nnumpy==1.24.2\nscikit-learn==1.2.1\n")
    write(os.path.join(OUT, "python_env.yaml"), """python: 3.11.2
build_dependencies:
- pip==23.0.1
- setuptools==66.1.1
- wheel==0.38.4
dependencies:
- -r requirements.txt
""")
    write(os.path.join(OUT, "conda.yaml"), """channels:
- conda-forge
dependencies:
- python=3.11.2
- pip<=23.0.1
- pip:
  - mlflow==2.16.2
  - cloudpickle==2.2.0
  - numpy==1.24.2
  - scikit-learn==1.2.1
name: mlflow-env
""")

    # Scoring input: the seed's row first, then 49 synthetic rows.
    rows = np.vstack([np.array([SEED_ROW]), X[:49]])
    lines = [",".join(COLUMNS)] + [",".join(repr(float(v)) for v in r) for r in rows]
    write(os.path.join(OUT, "input.csv"), "\n".join(lines) + "\n")
    pred = est.predict(rows)
    write(os.path.join(OUT, "expected.csv"),
          "prediction\n" + "".join(repr(float(p)) + "\n" for p in pred))


if __name__ == "__main__":
    main()
