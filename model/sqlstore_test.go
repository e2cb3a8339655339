package model

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteReadOnly checks that resolving against an SQLite store changes
// nothing: same bytes, no journal or WAL files.
func TestSQLiteReadOnly(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join(registryData, "sqlite"), dir)
	db := filepath.Join(dir, "mlflow.db")
	before, _ := os.ReadFile(db)
	for _, uri := range []string{"models:/diabetes-ridge/latest", "models:/diabetes-ridge@champion", "runs:/79f16c49d2daa1e5a8cc7415402381bc", "models:/nope/1"} {
		Resolve(uri, ResolveOptions{TrackingURI: "sqlite:///" + filepath.ToSlash(db)})
	}
	after, _ := os.ReadFile(db)
	if !bytes.Equal(before, after) {
		t.Error("the database changed")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "mlflow.db" && e.Name() != "mlruns" {
			t.Errorf("resolution left %s beside the database", e.Name())
		}
	}
}

// TestSQLiteOlderSchema reads a database from before MLflow 3 (no logged_models,
// no storage_location, no aliases), as MLflow 1.x created it.
func TestSQLiteOlderSchema(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "artifacts", "1", "abc", "artifacts", "model")
	copyTree(t, filepath.Join(registryData, "sqlite", "mlruns", "1", "f133b19978fd36a9d2e2995ebb9dc9f5", "artifacts", "ridge challenger"), model)
	path := filepath.Join(dir, "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE experiments (experiment_id INTEGER NOT NULL, name VARCHAR(256) NOT NULL, artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), PRIMARY KEY (experiment_id))`,
		`CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), source_type VARCHAR(20), source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(20), start_time BIGINT, end_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER, PRIMARY KEY (run_uuid))`,
		`CREATE TABLE tags ("key" VARCHAR(250) NOT NULL, value VARCHAR(5000), run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY ("key", run_uuid))`,
		`CREATE TABLE registered_models (name VARCHAR(256) NOT NULL, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000), PRIMARY KEY (name))`,
		`CREATE TABLE model_versions (name VARCHAR(256) NOT NULL, version INTEGER NOT NULL, creation_time BIGINT, last_updated_time BIGINT, description VARCHAR(5000), user_id VARCHAR(256), current_stage VARCHAR(20), source VARCHAR(500), run_id VARCHAR(32), status VARCHAR(20), status_message VARCHAR(500), run_link VARCHAR(500), PRIMARY KEY (name, version))`,
		`INSERT INTO experiments VALUES (1, 'old', '/srv/mlflow/artifacts/1', 'active')`,
		`INSERT INTO runs VALUES ('abc', 'r', 'LOCAL', '', '', 'u', 'FINISHED', 1, 2, '', 'active', '/srv/mlflow/artifacts/1/abc/artifacts', 1)`,
		`INSERT INTO registered_models VALUES ('m', 1, 1, '')`,
		`INSERT INTO model_versions VALUES ('m', 1, 1, 1, '', 'u', 'Production', '/srv/mlflow/artifacts/1/abc/artifacts/model', 'abc', 'READY', NULL, '')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	tracking := "sqlite:///" + filepath.ToSlash(path)
	for _, uri := range []string{"models:/m/1", "models:/m/production", "models:/m/latest", "runs:/abc/model", "runs:/abc"} {
		got, err := Resolve(uri, ResolveOptions{TrackingURI: tracking, ArtifactsRoot: filepath.Join(dir, "artifacts")})
		if err != nil {
			t.Errorf("%s: %v", uri, err)
		} else if !sameDir(t, got, model) {
			t.Errorf("%s: got %s", uri, got)
		}
	}
	_, err = Resolve("models:/m-0123", ResolveOptions{TrackingURI: tracking})
	checkResolveError(t, "models:/m-0123", err, "predates MLflow 3")
	_, err = Resolve("models:/m@champion", ResolveOptions{TrackingURI: tracking})
	checkResolveError(t, "models:/m@champion", err, `no alias "champion"`)
	_, err = Resolve("models:/m/1", ResolveOptions{TrackingURI: "sqlite:///" + filepath.ToSlash(filepath.Join(dir, "artifacts", "1", "abc", "artifacts", "model", "MLmodel"))})
	checkResolveError(t, "models:/m/1", err, "not a readable SQLite database")
}
