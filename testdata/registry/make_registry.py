#!/usr/bin/python3
"""Generate the model-registry fixtures under testdata/registry/.

    /usr/bin/python3 testdata/registry/make_registry.py

Two copies of one small project, stored the two other ways MLflow stores
models (the plain file store is testdata/mlruns, written by
testdata/gen/make_fixtures.py):

  server/   the layout of `mlflow server --backend-store-uri ./mlruns
            --artifacts-destination ./mlartifacts` copied to disk: metadata in
            mlruns/ (a file store whose locations are mlflow-artifacts:/...),
            files in mlartifacts/.
  sqlite/   an MLflow 3.8 SQLite store (mlflow.db, built with the standard
            sqlite3 module and the tables and columns MLflow's migrations
            create) whose artifacts were logged on a Windows laptop and in a
            Codespace: file:///C:/Users/Bob%20Smith/... and /workspaces/...
            locations, re-rooted onto sqlite/mlruns/.

Both hold the same registered models (see README.md). The model folders are
copied byte for byte from testdata/mlruns, so their golden predictions are the
ones in testdata/golden/mlruns/. Only the standard library and PyYAML (for the
meta.yaml files, dumped the way MLflow dumps them) are needed.

Deterministic: fixed ids and timestamps; a rerun rewrites identical files
(the SQLite file too, with the same SQLite library). cases.json lists the URIs
the Go tests resolve against each store.
"""

import json
import os
import shutil
import sqlite3

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
SRC = os.path.join(TESTDATA, "mlruns")

# Ids shared with testdata/mlruns: the same runs, logged to other stores.
RUN_A = "f133b19978fd36a9d2e2995ebb9dc9f5"  # MLflow 2 run: model in its artifacts
RUN_B = "79f16c49d2daa1e5a8cc7415402381bc"  # MLflow 3 run: logged model LM
LM = "m-31305e1389e0732a9d828fa54fe115c2"  # logged model "model" from RUN_B
RUN_C = "c262469a87c6eddcf43f5fccd05d150a"  # run of an experiment that was deleted
CHALLENGER_SRC = os.path.join(SRC, "147258369014725836", RUN_A, "artifacts", "challenger")
LM_SRC = os.path.join(SRC, "283746501928374650", "models", LM, "artifacts")
TRASHED_SRC = os.path.join(SRC, ".trash", "369258147036925814", RUN_C, "artifacts", "model")

T0 = 1717600000000  # registry timestamps (ms)


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_yaml(path, data):
    # MLflow's file store: yaml.safe_dump, block style, keys sorted.
    write_text(path, yaml.safe_dump(data, default_flow_style=False, allow_unicode=True))


def copy_model(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))


def history(run_id, artifact_path):
    return json.dumps([{
        "run_id": run_id, "artifact_path": artifact_path,
        "utc_time_created": "2024-06-03 08:20:44.020117",
        "model_uuid": "1486783c79e83a8593c761f44e3bb5ba",
        "flavors": {"python_function": {"model_path": "model.pkl", "predict_fn": "predict",
                                        "loader_module": "mlflow.sklearn", "python_version": "3.11.2",
                                        "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}},
                    "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "1.2.1",
                                "serialization_format": "cloudpickle", "code": None}}}])


# ---------------------------------------------------------------- server layout

S_EXP_A = "415263748596071829"  # diabetes-mlflow2
S_EXP_B = "526374859607182930"  # diabetes-mlflow3
S_EXP_C = "637485960718293041"  # abandoned (deleted: its metadata is in .trash)


def server_layout(root):
    store = os.path.join(root, "mlruns")
    arts = os.path.join(root, "mlartifacts")

    def experiment(base, exp_id, name, stage="active"):
        write_yaml(os.path.join(base, exp_id, "meta.yaml"), {
            "artifact_location": "mlflow-artifacts:/" + exp_id, "creation_time": T0 - 300000,
            "experiment_id": exp_id, "last_update_time": T0 - 300000,
            "lifecycle_stage": stage, "name": name})

    def run(base, exp_id, run_id, name, start):
        d = os.path.join(base, exp_id, run_id)
        write_yaml(os.path.join(d, "meta.yaml"), {
            "artifact_uri": "mlflow-artifacts:/%s/%s/artifacts" % (exp_id, run_id),
            "end_time": start + 4000, "entry_point_name": "", "experiment_id": exp_id,
            "lifecycle_stage": "active", "run_id": run_id, "run_name": name, "run_uuid": run_id,
            "source_name": "", "source_type": 4, "source_version": "", "start_time": start,
            "status": 3, "tags": [], "user_id": "carol"})
        write_text(os.path.join(d, "tags", "mlflow.runName"), name)
        write_text(os.path.join(d, "tags", "mlflow.user"), "carol")
        return d

    experiment(store, "0", "Default")
    experiment(store, S_EXP_A, "diabetes-mlflow2")
    experiment(store, S_EXP_B, "diabetes-mlflow3")
    experiment(os.path.join(store, ".trash"), S_EXP_C, "abandoned", stage="deleted")

    d = run(store, S_EXP_A, RUN_A, "ridge-challenger", T0 - 200000)
    write_text(os.path.join(d, "tags", "mlflow.log-model.history"), history(RUN_A, "challenger"))
    copy_model(CHALLENGER_SRC, os.path.join(arts, S_EXP_A, RUN_A, "artifacts", "challenger"))

    d = run(store, S_EXP_B, RUN_B, "ridge-mlflow3", T0 - 150000)
    write_yaml(os.path.join(d, "outputs", LM, "meta.yaml"), {
        "destination_id": LM, "destination_type": "MODEL_OUTPUT", "source_id": LM,
        "source_type": "RUN_OUTPUT", "step": 0, "tags": {}})
    lm_dir = os.path.join(store, S_EXP_B, "models", LM)
    write_yaml(os.path.join(lm_dir, "meta.yaml"), {
        "artifact_location": "mlflow-artifacts:/%s/models/%s/artifacts" % (S_EXP_B, LM),
        "creation_timestamp": T0 - 149000, "experiment_id": S_EXP_B,
        "last_updated_timestamp": T0 - 147000, "model_id": LM, "model_type": "",
        "name": "model", "source_run_id": RUN_B, "status": 2, "status_message": None})
    write_text(os.path.join(lm_dir, "tags", "mlflow.user"), "carol")
    copy_model(LM_SRC, os.path.join(arts, S_EXP_B, "models", LM, "artifacts"))

    run(os.path.join(store, ".trash"), S_EXP_C, RUN_C, "abandoned-run", T0 - 250000)
    # Deleting an experiment moves its metadata to .trash; the server's artifacts stay.
    copy_model(TRASHED_SRC, os.path.join(arts, S_EXP_C, RUN_C, "artifacts", "model"))

    loc_a = "mlflow-artifacts:/%s/%s/artifacts/challenger" % (S_EXP_A, RUN_A)
    loc_b = "mlflow-artifacts:/%s/models/%s/artifacts" % (S_EXP_B, LM)
    registry(os.path.join(store, "models"), [
        # name, version, stage, source, storage_location, run_id, model_id
        ("diabetes-ridge", 1, "Production", loc_a, loc_a, RUN_A, None),
        ("diabetes-ridge", 2, "Staging", "models:/" + LM, loc_b, RUN_B, LM),
        ("diabetes-ridge", 3, "Deleted_Internal", loc_a, loc_a, RUN_A, None),
        ("diabetes-ridge", 4, "Archived", "runs:/%s/challenger" % RUN_A, "", RUN_A, None),
        ("loop", 1, "None", "models:/loop/2", "", None, None),
        ("loop", 2, "None", "models:/loop/1", "", None, None),
        ("trashed", 1, "Production",
         "mlflow-artifacts:/%s/%s/artifacts/model" % (S_EXP_C, RUN_C),
         "mlflow-artifacts:/%s/%s/artifacts/model" % (S_EXP_C, RUN_C), RUN_C, None),
    ], ["empty-model"], {"diabetes-ridge": {"champion": 2, "challenger": 1}})


def registry(models, versions, empty, aliases):
    names = sorted({v[0] for v in versions} | set(empty))
    for name in names:
        write_yaml(os.path.join(models, name, "meta.yaml"), {
            "aliases": {}, "creation_timestamp": T0, "description": "",
            "last_updated_timestamp": T0 + 9000, "name": name})
    for name, version, stage, source, storage, run_id, model_id in versions:
        meta = {"aliases": [], "creation_timestamp": T0 + 1000 * version, "current_stage": stage,
                "description": "", "last_updated_timestamp": T0 + 1000 * version + 500,
                "name": name, "run_id": run_id, "run_link": "", "source": source,
                "status": "READY", "status_message": None, "storage_location": storage,
                "user_id": None, "version": version}
        if model_id:
            meta["model_id"] = model_id
        write_yaml(os.path.join(models, name, "version-%d" % version, "meta.yaml"), meta)
    for name, al in aliases.items():
        for alias, version in al.items():
            write_text(os.path.join(models, name, "aliases", alias), str(version))


# ---------------------------------------------------------------- SQLite store

# The tables MLflow 3.8's migrations create for runs, logged models and the
# registry (alembic head 1bd49d398cd23), column for column. Tables for traces,
# evaluation datasets, scorers, webhooks, gateway secrets and jobs are left out.
SCHEMA = """
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE experiments (
	experiment_id INTEGER NOT NULL,
	name VARCHAR(256) NOT NULL,
	artifact_location VARCHAR(256),
	lifecycle_stage VARCHAR(32), creation_time BIGINT, last_update_time BIGINT,
	CONSTRAINT experiment_pk PRIMARY KEY (experiment_id),
	CONSTRAINT experiments_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')),
	UNIQUE (name)
);
CREATE TABLE experiment_tags (
	"key" VARCHAR(250) NOT NULL,
	value VARCHAR(5000),
	experiment_id INTEGER NOT NULL,
	CONSTRAINT experiment_tag_pk PRIMARY KEY ("key", experiment_id),
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
CREATE TABLE "runs" (
	run_uuid VARCHAR(32) NOT NULL,
	name VARCHAR(250),
	source_type VARCHAR(20),
	source_name VARCHAR(500),
	entry_point_name VARCHAR(50),
	user_id VARCHAR(256),
	status VARCHAR(9),
	start_time BIGINT,
	end_time BIGINT,
	source_version VARCHAR(50),
	lifecycle_stage VARCHAR(20),
	artifact_uri VARCHAR(200),
	experiment_id INTEGER, deleted_time BIGINT,
	CONSTRAINT run_pk PRIMARY KEY (run_uuid),
	CONSTRAINT runs_lifecycle_stage CHECK (lifecycle_stage IN ('active', 'deleted')),
	CONSTRAINT source_type CHECK (source_type IN ('NOTEBOOK', 'JOB', 'LOCAL', 'UNKNOWN', 'PROJECT')),
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
	CHECK (status IN ('SCHEDULED', 'FAILED', 'FINISHED', 'RUNNING', 'KILLED'))
);
CREATE TABLE "tags" (
	"key" VARCHAR(250) NOT NULL,
	value VARCHAR(8000),
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT tag_pk PRIMARY KEY ("key", run_uuid),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_tags_run_uuid ON tags (run_uuid);
CREATE TABLE "params" (
	"key" VARCHAR(250) NOT NULL,
	value VARCHAR(8000) NOT NULL,
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT param_pk PRIMARY KEY ("key", run_uuid),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid)
);
CREATE INDEX index_params_run_uuid ON params (run_uuid);
CREATE TABLE "metrics" (
	"key" VARCHAR(250) NOT NULL,
	value FLOAT NOT NULL,
	timestamp BIGINT NOT NULL,
	run_uuid VARCHAR(32) NOT NULL,
	step BIGINT DEFAULT '0' NOT NULL,
	is_nan BOOLEAN DEFAULT '0' NOT NULL,
	CONSTRAINT metric_pk PRIMARY KEY ("key", timestamp, step, run_uuid, value, is_nan),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid),
	CHECK (is_nan IN (0, 1))
);
CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid);
CREATE TABLE "latest_metrics" (
	"key" VARCHAR(250) NOT NULL,
	value FLOAT NOT NULL,
	timestamp BIGINT,
	step BIGINT NOT NULL,
	is_nan BOOLEAN NOT NULL,
	run_uuid VARCHAR(32) NOT NULL,
	CONSTRAINT latest_metric_pk PRIMARY KEY ("key", run_uuid),
	FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid),
	CHECK (is_nan IN (0, 1))
);
CREATE INDEX index_latest_metrics_run_uuid ON latest_metrics (run_uuid);
CREATE TABLE logged_models (
	model_id VARCHAR(36) NOT NULL,
	experiment_id INTEGER NOT NULL,
	name VARCHAR(500) NOT NULL,
	artifact_location VARCHAR(1000) NOT NULL,
	creation_timestamp_ms BIGINT NOT NULL,
	last_updated_timestamp_ms BIGINT NOT NULL,
	status INTEGER NOT NULL,
	lifecycle_stage VARCHAR(32),
	model_type VARCHAR(500),
	source_run_id VARCHAR(32),
	status_message VARCHAR(1000),
	CONSTRAINT logged_models_pk PRIMARY KEY (model_id),
	CONSTRAINT logged_models_lifecycle_stage_check CHECK (lifecycle_stage IN ('active', 'deleted')),
	CONSTRAINT fk_logged_models_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE
);
CREATE TABLE logged_model_tags (
	model_id VARCHAR(36) NOT NULL,
	experiment_id INTEGER NOT NULL,
	tag_key VARCHAR(255) NOT NULL,
	tag_value TEXT NOT NULL,
	CONSTRAINT logged_model_tags_pk PRIMARY KEY (model_id, tag_key),
	CONSTRAINT fk_logged_model_tags_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
	CONSTRAINT fk_logged_model_tags_model_id FOREIGN KEY(model_id) REFERENCES logged_models (model_id) ON DELETE CASCADE
);
CREATE TABLE logged_model_params (
	model_id VARCHAR(36) NOT NULL,
	experiment_id INTEGER NOT NULL,
	param_key VARCHAR(255) NOT NULL,
	param_value TEXT NOT NULL,
	CONSTRAINT logged_model_params_pk PRIMARY KEY (model_id, param_key),
	CONSTRAINT fk_logged_model_params_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
	CONSTRAINT fk_logged_model_params_model_id FOREIGN KEY(model_id) REFERENCES logged_models (model_id) ON DELETE CASCADE
);
CREATE TABLE logged_model_metrics (
	model_id VARCHAR(36) NOT NULL,
	metric_name VARCHAR(500) NOT NULL,
	metric_timestamp_ms BIGINT NOT NULL,
	metric_step BIGINT NOT NULL,
	metric_value FLOAT,
	experiment_id INTEGER NOT NULL,
	run_id VARCHAR(32) NOT NULL,
	dataset_uuid VARCHAR(36),
	dataset_name VARCHAR(500),
	dataset_digest VARCHAR(36),
	CONSTRAINT logged_model_metrics_pk PRIMARY KEY (model_id, metric_name, metric_timestamp_ms, metric_step, run_id),
	CONSTRAINT fk_logged_model_metrics_experiment_id FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id),
	CONSTRAINT fk_logged_model_metrics_model_id FOREIGN KEY(model_id) REFERENCES logged_models (model_id) ON DELETE CASCADE,
	CONSTRAINT fk_logged_model_metrics_run_id FOREIGN KEY(run_id) REFERENCES runs (run_uuid) ON DELETE CASCADE
);
CREATE INDEX index_logged_model_metrics_model_id ON logged_model_metrics (model_id);
CREATE TABLE registered_models (
	name VARCHAR(256) NOT NULL,
	creation_time BIGINT,
	last_updated_time BIGINT,
	description VARCHAR(5000),
	CONSTRAINT registered_model_pk PRIMARY KEY (name),
	UNIQUE (name)
);
CREATE TABLE registered_model_tags (
	"key" VARCHAR(250) NOT NULL,
	value VARCHAR(5000),
	name VARCHAR(256) NOT NULL,
	CONSTRAINT registered_model_tag_pk PRIMARY KEY ("key", name),
	FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE cascade
);
CREATE TABLE "model_versions" (
	name VARCHAR(256) NOT NULL,
	version INTEGER NOT NULL,
	creation_time BIGINT,
	last_updated_time BIGINT,
	description VARCHAR(5000),
	user_id VARCHAR(256),
	current_stage VARCHAR(20),
	source VARCHAR(500),
	run_id VARCHAR(32),
	status VARCHAR(20),
	status_message VARCHAR(500),
	run_link VARCHAR(500), storage_location VARCHAR(500),
	CONSTRAINT model_version_pk PRIMARY KEY (name, version),
	FOREIGN KEY(name) REFERENCES registered_models (name) ON UPDATE CASCADE
);
CREATE TABLE "model_version_tags" (
	"key" VARCHAR(250) NOT NULL,
	value TEXT,
	name VARCHAR(256) NOT NULL,
	version INTEGER NOT NULL,
	CONSTRAINT model_version_tag_pk PRIMARY KEY ("key", name, version),
	FOREIGN KEY(name, version) REFERENCES model_versions (name, version) ON UPDATE CASCADE
);
CREATE TABLE registered_model_aliases (
	alias VARCHAR(256) NOT NULL,
	version INTEGER NOT NULL,
	name VARCHAR(256) NOT NULL,
	CONSTRAINT registered_model_alias_pk PRIMARY KEY (name, alias),
	CONSTRAINT registered_model_alias_name_fkey FOREIGN KEY(name) REFERENCES registered_models (name) ON DELETE cascade ON UPDATE cascade
);
"""

WIN = "file:///C:/Users/Bob%20Smith/My%20Projects/diabetes/mlruns"  # Windows laptop
CODESPACE = "/workspaces/diabetes/mlruns"  # GitHub Codespace: a plain path


def sqlite_store(root):
    db_path = os.path.join(root, "mlflow.db")
    arts = os.path.join(root, "mlruns")
    os.makedirs(root, exist_ok=True)
    con = sqlite3.connect(db_path)
    con.executescript(SCHEMA)
    q = con.execute
    q("INSERT INTO alembic_version VALUES ('1bd49d398cd23')")
    exps = [(0, "Default", WIN + "/0", "active"),
            (1, "diabetes-mlflow2", WIN + "/1", "active"),
            (2, "diabetes-mlflow3", CODESPACE + "/2", "active"),
            (3, "abandoned", WIN + "/3", "deleted")]
    for i, (eid, name, loc, stage) in enumerate(exps):
        q("INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)"
          " VALUES (?, ?, ?, ?, ?, ?)", (eid, name, loc, stage, T0 - 400000 + i, T0 - 400000 + i))

    def run(run_id, exp, name, start):
        loc = dict((e[0], e[2]) for e in exps)[exp]
        q("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
          " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)"
          " VALUES (?, ?, 'UNKNOWN', '', '', 'bob', 'FINISHED', ?, ?, '', 'active', ?, ?, NULL)",
          (run_id, name, start, start + 4000, "%s/%s/artifacts" % (loc, run_id), exp))
        for k, v in [("mlflow.user", "bob"), ("mlflow.source.type", "LOCAL"), ("mlflow.runName", name)]:
            q('INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)', (k, v, run_id))

    # MLflow 2 style: the model is a run artifact at "ridge challenger" (a space).
    run(RUN_A, 1, "ridge-challenger", T0 - 200000)
    q('INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)',
      ("mlflow.log-model.history", history(RUN_A, "ridge challenger"), RUN_A))
    copy_model(CHALLENGER_SRC, os.path.join(arts, "1", RUN_A, "artifacts", "ridge challenger"))

    # MLflow 3: a logged model.
    run(RUN_B, 2, "ridge-mlflow3", T0 - 150000)
    q("INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms,"
      " last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id, status_message)"
      " VALUES (?, 2, 'model', ?, ?, ?, 2, 'active', NULL, ?, NULL)",
      (LM, "%s/2/models/%s/artifacts" % (CODESPACE, LM), T0 - 149000, T0 - 147000, RUN_B))
    for k, v in [("mlflow.user", "bob"), ("mlflow.source.type", "LOCAL")]:
        q("INSERT INTO logged_model_tags VALUES (?, 2, ?, ?)", (LM, k, v))
    q("INSERT INTO logged_model_params VALUES (?, 2, 'alpha', '0.5')", (LM,))
    copy_model(LM_SRC, os.path.join(arts, "2", "models", LM, "artifacts"))

    # A run of the deleted experiment 3 (SQL stores keep its artifacts in place).
    run(RUN_C, 3, "abandoned-run", T0 - 250000)
    copy_model(TRASHED_SRC, os.path.join(arts, "3", RUN_C, "artifacts", "model"))

    win_a = "%s/1/%s/artifacts/ridge%%20challenger" % (WIN, RUN_A)
    lm_loc = "%s/2/models/%s/artifacts" % (CODESPACE, LM)
    versions = [
        # name, version, stage, source, storage_location, run_id
        ("diabetes-ridge", 1, "Production", win_a, win_a, RUN_A),
        ("diabetes-ridge", 2, "Staging", "models:/" + LM, lm_loc, RUN_B),
        ("diabetes-ridge", 3, "Deleted_Internal", win_a, win_a, RUN_A),
        # A source given as a runs:/ URI is stored as is (storage_location too).
        ("diabetes-ridge", 4, "Archived", "runs:/%s/ridge challenger" % RUN_A,
         "runs:/%s/ridge challenger" % RUN_A, RUN_A),
        ("loop", 1, "None", "models:/loop/2", "models:/loop/2", None),
        ("loop", 2, "None", "models:/loop/1", "models:/loop/1", None),
        ("trashed", 1, "Production", "runs:/%s/model" % RUN_C, "runs:/%s/model" % RUN_C, RUN_C),
    ]
    for name in ["diabetes-ridge", "empty-model", "loop", "trashed"]:
        q("INSERT INTO registered_models VALUES (?, ?, ?, '')", (name, T0, T0 + 9000))
    for name, version, stage, source, storage, run_id in versions:
        q("INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id,"
          " current_stage, source, run_id, status, status_message, run_link, storage_location)"
          " VALUES (?, ?, ?, ?, '', NULL, ?, ?, ?, 'READY', NULL, '', ?)",
          (name, version, T0 + 1000 * version, T0 + 1000 * version + 500, stage, source, run_id, storage))
    for alias, version in [("champion", 2), ("challenger", 1)]:
        q("INSERT INTO registered_model_aliases (alias, version, name) VALUES (?, ?, 'diabetes-ridge')", (alias, version))
    con.commit()
    con.execute("VACUUM")
    con.close()


# ---------------------------------------------------------------- cases

def cases():
    chal_s = "server/mlartifacts/%s/%s/artifacts/challenger" % (S_EXP_A, RUN_A)
    lm_s = "server/mlartifacts/%s/models/%s/artifacts" % (S_EXP_B, LM)
    chal_q = "sqlite/mlruns/1/%s/artifacts/ridge challenger" % RUN_A
    lm_q = "sqlite/mlruns/2/models/%s/artifacts" % LM
    out = []

    def add(store, tracking, uri, expect_dir=None, error=None, contains=()):
        c = {"store": store, "tracking_uri": tracking, "uri": uri}
        if expect_dir:
            c["expect_dir"] = expect_dir
        else:
            c["expect_error"] = error
            c["contains"] = list(contains)
        out.append(c)

    for store, tracking, chal, lm, chal_path in [
            ("server", "server/mlruns", chal_s, lm_s, "challenger"),
            ("sqlite", "sqlite:///sqlite/mlflow.db", chal_q, lm_q, "ridge challenger")]:
        for uri in ["models:/diabetes-ridge/1", "models:/diabetes-ridge/Production",
                    "models:/diabetes-ridge/production", "models:/diabetes-ridge/PRODUCTION",
                    "models:/diabetes-ridge@challenger", "models:/diabetes-ridge/4",
                    "models:/diabetes-ridge/archived", "models:/diabetes-ridge/latest",
                    "models:/diabetes-ridge/LATEST",
                    "runs:/%s/%s" % (RUN_A, chal_path), "runs:/" + RUN_A]:
            add(store, tracking, uri, chal)
        for uri in ["models:/diabetes-ridge/2", "models:/diabetes-ridge/Staging",
                    "models:/diabetes-ridge@champion", "models:/" + LM,
                    "runs:/%s/model" % RUN_B, "runs:/" + RUN_B]:
            add(store, tracking, uri, lm)
        add(store, tracking, "models:/no-such-model/1", error="unknown_name", contains=['"no-such-model"', "not found"])
        add(store, tracking, "models:/diabetes-ridge/7", error="unknown_version", contains=["version 7", '"diabetes-ridge"', "not found"])
        add(store, tracking, "models:/diabetes-ridge/3", error="deleted_version", contains=["version 3", "deleted"])
        add(store, tracking, "models:/diabetes-ridge@ghost", error="missing_alias", contains=['alias "ghost"', "champion"])
        add(store, tracking, "models:/empty-model/Production", error="empty_stage", contains=['"empty-model"', 'stage "Production"'])
        add(store, tracking, "models:/empty-model/latest", error="no_versions", contains=['"empty-model"', "no versions"])
        add(store, tracking, "models:/diabetes-ridge/Prod", error="invalid_stage", contains=['"Prod"', "Production"])
        add(store, tracking, "models:/loop/1", error="loop", contains=["loop", "models:/loop/2"])
        add(store, tracking, "models:/trashed/1", error="deleted_experiment", contains=[RUN_C, "deleted"])
        add(store, tracking, "runs:/%s/model" % RUN_C, error="deleted_experiment", contains=[RUN_C, "deleted"])
        add(store, tracking, "runs:/00000000000000000000000000000000/model", error="unknown_run",
            contains=["run 00000000000000000000000000000000 not found"])
        add(store, tracking, "models:/m-00000000000000000000000000000000", error="unknown_model_id",
            contains=["logged model m-00000000000000000000000000000000 not found"])
    return out


def main():
    for d in ("server", "sqlite"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    server_layout(os.path.join(HERE, "server"))
    sqlite_store(os.path.join(HERE, "sqlite"))
    with open(os.path.join(HERE, "cases.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump({"note": "paths relative to testdata/registry; tracking_uri likewise "
                           "(sqlite:///<relative path>)",
                   "goldens": {"challenger": "../golden/mlruns/two-models-challenger.csv",
                               "logged_model": "../golden/mlruns/mlflow3-logged-model.csv",
                               "input": "../models/diabetes_input.csv"},
                   "cases": cases()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
