#!/usr/bin/python3
"""Python peers for make bench (Debian's python3 with pandas, scikit-learn, xgboost).

    peers.py pandas-lr MODEL.pkl IN.csv OUT.csv      read_csv + predict + to_csv
    peers.py predict-sklearn MODEL.pkl IN.f64 THREADS   prints SECONDS= of predict only
    peers.py predict-xgb MODEL.ubj IN.f64 THREADS       prints SECONDS= of inplace_predict only

Threads: sklearn forests use n_jobs, HistGradientBoosting uses OpenMP
(OMP_NUM_THREADS, set by the driver), xgboost uses nthread.
"""
import pickle
import sys
import time

import numpy as np

NF = 13
cmd = sys.argv[1]

if cmd == "pandas-lr":
    import pandas as pd
    with open(sys.argv[2], "rb") as f:
        m = pickle.load(f)
    df = pd.read_csv(sys.argv[3])
    df["prediction"] = m.predict(df)
    df.to_csv(sys.argv[4], index=False)
elif cmd == "predict-sklearn":
    import pandas as pd
    with open(sys.argv[2], "rb") as f:
        m = pickle.load(f)
    if hasattr(m, "n_jobs"):
        m.n_jobs = int(sys.argv[4])
    X = np.fromfile(sys.argv[3], dtype="<f8").reshape(-1, NF)
    # A DataFrame, as MLflow's pyfunc passes one (feature names are checked).
    df = pd.DataFrame(X, columns=["x%d" % (j + 1) for j in range(NF)])
    t0 = time.perf_counter()
    p = m.predict(df)
    el = time.perf_counter() - t0
    print("SECONDS=%.6f rows=%d" % (el, len(p)))
elif cmd == "predict-xgb":
    import xgboost as xgb
    b = xgb.Booster()
    b.load_model(sys.argv[2])
    b.set_param({"nthread": int(sys.argv[4])})
    X = np.fromfile(sys.argv[3], dtype="<f8").reshape(-1, NF)
    t0 = time.perf_counter()
    p = b.inplace_predict(X, validate_features=False)
    el = time.perf_counter() - t0
    print("SECONDS=%.6f rows=%d" % (el, len(p)))
else:
    sys.exit("unknown command " + cmd)
