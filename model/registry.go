package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// store is one MLflow tracking and registry backend: a file store, an SQLite
// store or a tracking server. Lookups that find nothing return an error for which
// isNotFound is true; its message names what was asked.
type store interface {
	// describe names the store in messages, e.g. "file store testdata/mlruns".
	describe() string
	run(id string) (*runInfo, error)
	loggedModel(id string) (*loggedModelInfo, error)
	// runLoggedModels lists the run's MLflow 3 logged models (source_run_id is the
	// run, same experiment), only those called name unless name is "".
	runLoggedModels(run *runInfo, name string) ([]*loggedModelInfo, error)
	// registeredModel returns nil when the registered model exists.
	registeredModel(name string) error
	version(name, version string) (*versionInfo, error)
	aliasVersion(name, alias string) (*versionInfo, error)
	// latestVersion is the highest live version, in the canonical stage if one
	// is given.
	latestVersion(name, stage string) (*versionInfo, error)
	// downloadURI is where the version's files are: its storage location, else
	// its source.
	downloadURI(v *versionInfo) (string, error)

	// has reports whether the artifact location holds an MLmodel file at sub.
	has(loc artLoc, sub string) (bool, error)
	// fetch returns a local folder holding the model at loc/sub (downloading it
	// when the store is remote).
	fetch(loc artLoc, sub string) (string, error)
	// scan lists the folders under loc (relative, slash-separated) that hold an
	// MLmodel file, at most depth levels down.
	scan(loc artLoc, depth int) ([]string, error)
	// describeLoc names where an artifact location was looked for.
	describeLoc(loc artLoc) string
	close()
}

// artLoc is an artifact location recorded in a store.
type artLoc struct {
	uri string // as recorded: file:///..., /abs/path, mlflow-artifacts:/..., runs:/...
	def string // the store's own folder for it (file stores), may be ""
}

type runInfo struct {
	id                string
	experimentID      string
	art               artLoc
	deleted           bool   // the run's lifecycle_stage is deleted
	experimentDeleted bool   // its experiment was deleted
	trashDir          string // where the deleted experiment is, when known
	history           string // the mlflow.log-model.history tag (JSON), may be ""
}

// usable refuses runs of deleted experiments: MLflow still finds them, but a
// scheduled job should not keep scoring a model someone deleted.
func (r *runInfo) usable() error {
	if !r.experimentDeleted {
		return nil
	}
	where := ""
	if r.trashDir != "" {
		where = " (it is in " + r.trashDir + ")"
	}
	return fmt.Errorf("run %s belongs to experiment %s, which was deleted%s: %w; restore the experiment to score its models",
		r.id, r.experimentID, where, errDeletedExperiment)
}

// historyPaths lists the artifact paths of the models the run logged, from its
// mlflow.log-model.history tag.
func (r *runInfo) historyPaths() []string {
	if r.history == "" {
		return nil
	}
	var hist []struct {
		ArtifactPath string `json:"artifact_path"`
	}
	if json.Unmarshal([]byte(r.history), &hist) != nil {
		return nil
	}
	var out []string
	for _, h := range hist {
		p := strings.Trim(h.ArtifactPath, "/")
		if p == "" || strings.Contains(p, "..") {
			continue
		}
		out = append(out, p)
	}
	return out
}

type loggedModelInfo struct {
	id                string
	experimentID      string
	name              string
	sourceRunID       string
	art               artLoc
	experimentDeleted bool
}

type versionInfo struct {
	name            string
	version         string
	stage           string
	source          string
	storageLocation string
	runID           string
	model           string // model_id, when the store records it
}

// modelID is the MLflow 3 logged model a version was registered from.
func (v *versionInfo) modelID() string {
	if v.model != "" {
		return v.model
	}
	if uriScheme(v.source) == "models" {
		if p, err := parseModelsURI(v.source); err == nil {
			return p.modelID
		}
	}
	return ""
}

// notFoundError is a lookup that found nothing; its message says what was asked.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

func notFoundf(format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...)}
}

func isNotFound(err error) bool {
	var nf *notFoundError
	return errors.As(err, &nf)
}

// errDeletedExperiment marks runs and models of deleted experiments.
var errDeletedExperiment = errors.New("mlbatch does not score models of deleted experiments")

func errNoRegisteredModel(name, where string) error {
	return notFoundf("registered model %q not found in %s", name, where)
}

func errNoVersion(name, version, where string, deleted bool) error {
	if deleted {
		return notFoundf("version %s of registered model %q not found in %s: it was deleted", version, name, where)
	}
	return notFoundf("version %s of registered model %q not found in %s", version, name, where)
}

func errNoAlias(name, alias string, have []string) error {
	if len(have) == 0 {
		return notFoundf("registered model %q has no alias %q (it has no aliases)", name, alias)
	}
	sort.Strings(have)
	return notFoundf("registered model %q has no alias %q (its aliases: %s)", name, alias, strings.Join(have, ", "))
}

func errNoLatest(name, stage string) error {
	if stage == "" {
		return notFoundf("registered model %q has no versions", name)
	}
	return notFoundf("registered model %q has no version in stage %q", name, stage)
}

// pickLatest returns the highest version of vs, in stage when one is given,
// skipping deleted versions (MLflow's get_latest_versions).
func pickLatest(name, stage string, vs []*versionInfo) (*versionInfo, error) {
	var best *versionInfo
	bestN := int64(-1)
	for _, v := range vs {
		if v.stage == stageDeleted {
			continue
		}
		if stage != "" && v.stage != stage {
			continue
		}
		if stage == "" && !isStage(v.stage) {
			continue
		}
		n, err := strconv.ParseInt(v.version, 10, 64)
		if err != nil {
			continue
		}
		if n > bestN {
			best, bestN = v, n
		}
	}
	if best == nil {
		return nil, errNoLatest(name, stage)
	}
	return best, nil
}

func isStage(s string) bool {
	for _, st := range allStages {
		if s == st {
			return true
		}
	}
	return false
}

// ---- opening a store

// parseTrackingURI classifies a tracking URI: kind is "file" (loc is the folder),
// "sqlite" (loc is the database file) or "http" (loc is the server's base URL).
func parseTrackingURI(trackingURI string) (kind, loc string, err error) {
	if trackingURI == "" {
		return "file", defaultStore(), nil
	}
	scheme := uriScheme(trackingURI)
	if trackingURI == "databricks" || trackingURI == "databricks-uc" {
		scheme = trackingURI
	}
	switch scheme {
	case "":
		return "file", trackingURI, nil
	case "file":
		p, err := fileURIPath(trackingURI)
		if err != nil {
			return "", "", fmt.Errorf("tracking URI %q: %w", trackingURI, err)
		}
		return "file", p, nil
	case "sqlite":
		p, err := sqlitePath(trackingURI)
		if err != nil {
			return "", "", err
		}
		return "sqlite", p, nil
	case "http", "https":
		u, err := url.Parse(trackingURI)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("tracking URI %q: not a valid server URL", redactURL(trackingURI))
		}
		return "http", trackingURI, nil
	case "databricks", "databricks-uc", "uc":
		return "", "", fmt.Errorf("tracking URI %q: Databricks workspaces are not supported yet; export the model (mlflow artifacts download) and pass its folder", redactURL(trackingURI))
	case "postgresql", "postgres", "mysql", "mssql":
		return "", "", fmt.Errorf("tracking URI %q: %s stores are not supported yet (file, sqlite:/// and http(s):// are)", redactURL(trackingURI), scheme)
	}
	return "", "", fmt.Errorf("tracking URI %q: unknown scheme %q: use a folder, file:, sqlite:/// or http(s)://", redactURL(trackingURI), scheme)
}

// defaultStore is MLflow's default store: ./mlruns up to 3.6, ./mlflow.db (SQLite,
// with artifacts still in ./mlruns) from 3.7. A ./mlruns holding experiment
// metadata wins; else an existing ./mlflow.db.
func defaultStore() string {
	if fileStoreHasMeta("mlruns") || !exists("mlflow.db") {
		return "mlruns"
	}
	return "sqlite:mlflow.db"
}

func fileStoreHasMeta(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*", "meta.yaml"))
	return len(m) > 0
}

// sqlitePath decodes SQLAlchemy's sqlite:///relative.db and sqlite:////abs.db.
func sqlitePath(uri string) (string, error) {
	rest := uri[len("sqlite:"):]
	if !strings.HasPrefix(rest, "//") {
		return "", fmt.Errorf("tracking URI %q: want sqlite:///path/to/mlflow.db", uri)
	}
	rest = rest[2:]
	host, p, _ := strings.Cut(rest, "/")
	if host != "" {
		return "", fmt.Errorf("tracking URI %q: want sqlite:///path/to/mlflow.db (three slashes, then the path)", uri)
	}
	p, _, _ = strings.Cut(p, "?")
	if p == "" || p == ":memory:" {
		return "", fmt.Errorf("tracking URI %q: an in-memory SQLite store holds no models", uri)
	}
	return filepath.FromSlash(p), nil
}

func openStore(opts ResolveOptions) (store, error) {
	kind, loc, err := parseTrackingURI(opts.TrackingURI)
	if err != nil {
		return nil, err
	}
	if kind == "file" && strings.HasPrefix(loc, "sqlite:") {
		kind, loc = "sqlite", strings.TrimPrefix(loc, "sqlite:")
	}
	var st store
	switch kind {
	case "sqlite":
		st, err = nilIfErr(openSQLiteStore(loc, opts))
	case "http":
		st, err = openRESTStore(loc, opts)
	default:
		st, err = nilIfErr(openFileStore(loc, opts))
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// nilIfErr keeps a typed nil pointer out of the store interface.
func nilIfErr[S store](s S, err error) (store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
