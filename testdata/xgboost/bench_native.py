#!/usr/bin/python3
"""Time xgboost's own prediction on the benchmark model, one thread.

    /usr/bin/python3 testdata/xgboost/bench_native.py

Same model file and the same kind of rows (65536 x 13 standard normals, float64)
as BenchmarkPredict100Trees in model/xgboost; prints rows/s for inplace_predict
(what the scikit-learn API uses) and Booster.predict(DMatrix) (what MLflow's
pyfunc does for a Booster, DMatrix construction included).
"""
import os
import time

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
b = xgb.Booster()
b.load_model(os.path.join(HERE, "models", "bench_reg_100x6", "model.ubj"))
b.set_param({"nthread": 1})
rows = 65536
X = np.random.RandomState(1).randn(rows, 13)


def best(fn, reps=7):
    """Best wall-clock and best process-CPU time of reps calls (CPU time stays
    meaningful on a loaded machine)."""
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


# BenchmarkPredict100TreesNaN: 5% of the cells missing.
Xn = X.copy()
Xn[np.random.RandomState(2).rand(*X.shape) < 0.05] = np.nan

fn = b.feature_names
print("xgboost %s, nthread=1, %d rows x 13 features, 100 trees depth 6" % (xgb.__version__, rows))
for name, data in (("", X), (" (5% NaN)", Xn)):
    inplace = best(lambda: b.inplace_predict(data, validate_features=False))
    dmatrix = best(lambda: b.predict(xgb.DMatrix(data, nthread=1, feature_names=fn)))
    print("inplace_predict%s:          %.0f rows/s, %.0f rows/cpu-s" % (name, rows / inplace[0], rows / inplace[1]))
    print("Booster.predict(DMatrix)%s: %.0f rows/s, %.0f rows/cpu-s" % (name, rows / dmatrix[0], rows / dmatrix[1]))
