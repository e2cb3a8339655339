package model

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// sqliteStore reads MLflow's SQL store schema (the tables MLflow's migrations
// create) from an SQLite database opened read-only:
//
//	experiments(experiment_id, name, artifact_location, lifecycle_stage)
//	runs(run_uuid, experiment_id, artifact_uri, lifecycle_stage)    tags(key, value, run_uuid)
//	logged_models(model_id, experiment_id, name, artifact_location, lifecycle_stage, source_run_id)
//	registered_models(name)     registered_model_aliases(name, alias, version)
//	model_versions(name, version, current_stage, source, storage_location, run_id)
type sqliteStore struct {
	path   string
	db     *sql.DB
	arts   *localArtifacts
	tables map[string]bool
	mvCols map[string]bool
}

func openSQLiteStore(path string, opts ResolveOptions) (*sqliteStore, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("SQLite store %s: %w", path, errors.Unwrap(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("SQLite store %s is a folder, not a database file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// A file: URI so that the database is opened read-only and never created.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)"}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // file:///C:/...
	}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("SQLite store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &sqliteStore{path: path, db: db, tables: map[string]bool{}, mvCols: map[string]bool{}}
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("SQLite store %s: not a readable SQLite database: %w", path, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err == nil {
			s.tables[name] = true
		}
	}
	rows.Close()
	if !s.tables["runs"] || !s.tables["experiments"] {
		db.Close()
		return nil, fmt.Errorf("SQLite store %s has no MLflow runs table: is it an MLflow tracking database?", path)
	}
	if s.tables["model_versions"] {
		if rows, err := db.Query(`SELECT name FROM pragma_table_info('model_versions')`); err == nil {
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err == nil {
					s.mvCols[name] = true
				}
			}
			rows.Close()
		}
	}
	s.arts = newLocalArtifacts(filepath.Dir(path), false, opts)
	return s, nil
}

func (s *sqliteStore) describe() string { return "SQLite store " + s.path }
func (s *sqliteStore) close()           { s.db.Close() }

func (s *sqliteStore) queryErr(err error) error {
	return fmt.Errorf("SQLite store %s: %w", s.path, err)
}

func (s *sqliteStore) run(id string) (*runInfo, error) {
	var (
		expID                   sql.NullInt64
		artURI, stage, expStage sql.NullString
	)
	err := s.db.QueryRow(`SELECT r.experiment_id, r.artifact_uri, r.lifecycle_stage, e.lifecycle_stage
		FROM runs r LEFT JOIN experiments e ON e.experiment_id = r.experiment_id
		WHERE r.run_uuid = ?`, id).Scan(&expID, &artURI, &stage, &expStage)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("run %s not found in %s", id, s.describe())
	}
	if err != nil {
		return nil, s.queryErr(err)
	}
	r := &runInfo{
		id:                id,
		experimentID:      strconv.FormatInt(expID.Int64, 10),
		art:               artLoc{uri: artURI.String},
		deleted:           stage.String == "deleted",
		experimentDeleted: expStage.String == "deleted",
	}
	var hist sql.NullString
	err = s.db.QueryRow(`SELECT value FROM tags WHERE run_uuid = ? AND "key" = 'mlflow.log-model.history'`, id).Scan(&hist)
	if err == nil {
		r.history = hist.String
	}
	return r, nil
}

const loggedModelCols = `lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.source_run_id, e.lifecycle_stage`

func scanLoggedModel(sc interface{ Scan(...any) error }) (*loggedModelInfo, error) {
	var (
		id, name, loc, src, expStage sql.NullString
		expID                        sql.NullInt64
	)
	if err := sc.Scan(&id, &expID, &name, &loc, &src, &expStage); err != nil {
		return nil, err
	}
	return &loggedModelInfo{
		id:                id.String,
		experimentID:      strconv.FormatInt(expID.Int64, 10),
		name:              name.String,
		sourceRunID:       src.String,
		art:               artLoc{uri: loc.String},
		experimentDeleted: expStage.String == "deleted",
	}, nil
}

func (s *sqliteStore) loggedModel(id string) (*loggedModelInfo, error) {
	if !s.tables["logged_models"] {
		return nil, notFoundf("logged model %s not found in %s (its schema predates MLflow 3's logged models)", id, s.describe())
	}
	row := s.db.QueryRow(`SELECT `+loggedModelCols+`
		FROM logged_models lm LEFT JOIN experiments e ON e.experiment_id = lm.experiment_id
		WHERE lm.model_id = ? AND COALESCE(lm.lifecycle_stage, 'active') != 'deleted'`, id)
	lm, err := scanLoggedModel(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundf("logged model %s not found in %s", id, s.describe())
	}
	if err != nil {
		return nil, s.queryErr(err)
	}
	return lm, nil
}

func (s *sqliteStore) runLoggedModels(run *runInfo, name string) ([]*loggedModelInfo, error) {
	if !s.tables["logged_models"] {
		return nil, nil
	}
	q := `SELECT ` + loggedModelCols + `
		FROM logged_models lm LEFT JOIN experiments e ON e.experiment_id = lm.experiment_id
		WHERE lm.experiment_id = ? AND lm.source_run_id = ? AND COALESCE(lm.lifecycle_stage, 'active') != 'deleted'`
	args := []any{run.experimentID, run.id}
	if name != "" {
		q += ` AND lm.name = ?`
		args = append(args, name)
	}
	rows, err := s.db.Query(q+` ORDER BY lm.creation_timestamp_ms`, args...)
	if err != nil {
		return nil, s.queryErr(err)
	}
	defer rows.Close()
	var out []*loggedModelInfo
	for rows.Next() {
		lm, err := scanLoggedModel(rows)
		if err != nil {
			return nil, s.queryErr(err)
		}
		out = append(out, lm)
	}
	return out, rows.Err()
}

func (s *sqliteStore) registeredModel(name string) error {
	if !s.tables["registered_models"] {
		return errNoRegisteredModel(name, s.describe())
	}
	var one int
	err := s.db.QueryRow(`SELECT 1 FROM registered_models WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRegisteredModel(name, s.describe())
	}
	if err != nil {
		return s.queryErr(err)
	}
	return nil
}

func (s *sqliteStore) versionCols() string {
	cols := `version, current_stage, source, run_id`
	if s.mvCols["storage_location"] {
		cols += `, storage_location`
	} else {
		cols += `, NULL`
	}
	if s.mvCols["model_id"] {
		cols += `, model_id`
	} else {
		cols += `, NULL`
	}
	return cols
}

func scanVersion(name string, sc interface{ Scan(...any) error }) (*versionInfo, error) {
	var (
		version                                sql.NullInt64
		stage, source, runID, storage, modelID sql.NullString
	)
	if err := sc.Scan(&version, &stage, &source, &runID, &storage, &modelID); err != nil {
		return nil, err
	}
	return &versionInfo{
		name:            name,
		version:         strconv.FormatInt(version.Int64, 10),
		stage:           stage.String,
		source:          source.String,
		storageLocation: storage.String,
		runID:           runID.String,
		model:           modelID.String,
	}, nil
}

func (s *sqliteStore) version(name, version string) (*versionInfo, error) {
	if err := s.registeredModel(name); err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(version, 10, 64)
	if err != nil {
		return nil, errNoVersion(name, version, s.describe(), false)
	}
	v, err := scanVersion(name, s.db.QueryRow(`SELECT `+s.versionCols()+` FROM model_versions WHERE name = ? AND version = ?`, name, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoVersion(name, version, s.describe(), false)
	}
	if err != nil {
		return nil, s.queryErr(err)
	}
	if v.stage == stageDeleted {
		return nil, errNoVersion(name, version, s.describe(), true)
	}
	return v, nil
}

func (s *sqliteStore) aliasVersion(name, alias string) (*versionInfo, error) {
	if err := s.registeredModel(name); err != nil {
		return nil, err
	}
	if !s.tables["registered_model_aliases"] {
		return nil, errNoAlias(name, alias, nil)
	}
	var version int64
	err := s.db.QueryRow(`SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?`, name, alias).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		var have []string
		if rows, err := s.db.Query(`SELECT alias FROM registered_model_aliases WHERE name = ?`, name); err == nil {
			for rows.Next() {
				var a string
				if rows.Scan(&a) == nil {
					have = append(have, a)
				}
			}
			rows.Close()
		}
		return nil, errNoAlias(name, alias, have)
	}
	if err != nil {
		return nil, s.queryErr(err)
	}
	v, err := s.version(name, strconv.FormatInt(version, 10))
	if err != nil {
		return nil, fmt.Errorf("alias %q of registered model %q points to a missing version: %w", alias, name, err)
	}
	return v, nil
}

func (s *sqliteStore) latestVersion(name, stage string) (*versionInfo, error) {
	if err := s.registeredModel(name); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(`SELECT `+s.versionCols()+` FROM model_versions WHERE name = ?`, name)
	if err != nil {
		return nil, s.queryErr(err)
	}
	defer rows.Close()
	var vs []*versionInfo
	for rows.Next() {
		v, err := scanVersion(name, rows)
		if err != nil {
			return nil, s.queryErr(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.queryErr(err)
	}
	return pickLatest(name, stage, vs)
}

func (s *sqliteStore) downloadURI(v *versionInfo) (string, error) {
	if v.storageLocation != "" {
		return v.storageLocation, nil
	}
	return v.source, nil
}

func (s *sqliteStore) has(loc artLoc, sub string) (bool, error) { return s.arts.has(loc, sub) }
func (s *sqliteStore) fetch(loc artLoc, sub string) (string, error) {
	return s.arts.fetch(loc, sub)
}
func (s *sqliteStore) scan(loc artLoc, depth int) ([]string, error) { return s.arts.scan(loc, depth) }
func (s *sqliteStore) describeLoc(loc artLoc) string                { return s.arts.describeLoc(loc) }
