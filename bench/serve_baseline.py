#!/usr/bin/python3
"""The baseline for bench/serve.sh: a minimal Python scoring server doing per request
what `mlflow models serve` does for a scikit-learn model (mlflow is not packaged in
Debian, so its steps are written out here).

Per request, as mlflow/pyfunc/scoring_server does:
  1. check the Content-Type (application/json, charset utf-8);
  2. decode the body as UTF-8 and json.loads it;
  3. pick the one input field (dataframe_split here) and build a pandas DataFrame
     from it (dataframe_from_parsed_json);
  4. cast its columns to the signature's types (cast_df_types_according_to_schema),
     then enforce the schema: required columns present, columns put in signature
     order (PyFuncModel.predict's _enforce_schema);
  5. call the estimator's predict;
  6. write {"predictions": [...]} with json.dumps (predictions_to_json).

It serves with Flask under gunicorn, one sync worker, as `mlflow models serve`
runs by default (`gunicorn --timeout=60 -w 1 ...`). Debian packages only:

    apt-get install -y python3-flask gunicorn python3-sklearn python3-pandas

Run:  MODEL_DIR=path/to/model gunicorn -w 1 -b 127.0.0.1:5001 \
          --chdir bench serve_baseline:app
"""
import json
import os
import pickle

import flask
import numpy as np
import pandas as pd
import yaml

MODEL_DIR = os.environ.get("MODEL_DIR", "testdata/demo/mlruns/0/d050509c3eccff80e45131fc149d7535/artifacts/model")

with open(os.path.join(MODEL_DIR, "MLmodel")) as f:
    mlmodel = yaml.safe_load(f)
with open(os.path.join(MODEL_DIR, mlmodel["flavors"]["sklearn"]["pickled_model"]), "rb") as f:
    model = pickle.load(f)  # cloudpickle output loads with pickle

PANDAS_TYPES = {"double": np.float64, "float": np.float32, "long": np.int64, "integer": np.int32,
                "boolean": np.bool_, "string": object}
signature = json.loads(mlmodel["signature"]["inputs"]) if mlmodel.get("signature") else None
input_names = [c["name"] for c in signature] if signature else None
input_types = [PANDAS_TYPES[c["type"]] for c in signature] if signature else None
FORMATS = {"dataframe_split", "dataframe_records", "instances", "inputs"}

app = flask.Flask(__name__)


def error(message, status=400):
    body = json.dumps({"error_code": "BAD_REQUEST", "message": message})
    return flask.Response(response=body, status=status, mimetype="application/json")


@app.route("/ping", methods=["GET"])
@app.route("/health", methods=["GET"])
def ping():
    return flask.Response(response="\n", status=200, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations():
    parts = [p.strip() for p in (flask.request.content_type or "").split(";")]
    if parts[0] != "application/json":
        return flask.Response(response="unsupported content type", status=415, mimetype="text/plain")
    params = {k: v for k, _, v in (p.partition("=") for p in parts[1:])}
    if params.get("charset", "utf-8").lower() != "utf-8":
        return flask.Response(response="The scoring server only supports UTF-8", status=415, mimetype="text/plain")
    try:
        decoded = json.loads(flask.request.data.decode("utf-8"))
    except json.JSONDecodeError as ex:
        return error(f"Invalid input. Ensure that input is a valid JSON formatted string. Error: '{ex!r}'")
    keys = set(decoded) & FORMATS if isinstance(decoded, dict) else set()
    if keys != {"dataframe_split"}:
        return error("Invalid input. This baseline reads dataframe_split only.")
    split = decoded["dataframe_split"]
    try:
        df = pd.DataFrame(index=split.get("index"), columns=split.get("columns"), data=split["data"])
    except Exception as ex:
        return error(f"Invalid input. Provided dataframe_split field is not a valid dataframe: '{ex}'")
    if input_names is not None:
        for name, typ in zip(input_names, input_types):
            if name in df.columns:
                df[name] = df[name].astype(typ, copy=False)
        missing = [c for c in input_names if c not in df.columns]
        if missing:
            return error(f"Failed to enforce schema: Model is missing inputs {missing}.")
        df = df[input_names]
    try:
        raw = model.predict(df)
    except Exception as ex:
        return error(f"Encountered an unexpected error while evaluating the model: {ex}")
    body = json.dumps({"predictions": raw.tolist()})
    return flask.Response(response=body, status=200, mimetype="application/json")
