package model

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// ResolveOptions say where to look for models named by store URIs.
type ResolveOptions struct {
	// TrackingURI is MLFLOW_TRACKING_URI: a folder path or file: URI of a file
	// store, sqlite:///path/to/mlflow.db, or http(s)://host:port of a tracking
	// server. Empty means ./mlruns when it holds a file store, else ./mlflow.db
	// when it exists (MLflow 3.7's default), else ./mlruns.
	TrackingURI string
	// ArtifactsRoot is where mlflow-artifacts:/ locations live when a tracking
	// server's stores were copied to disk (the server's --artifacts-destination).
	// Empty means an "mlartifacts" folder beside the store, else "mlflow-artifacts".
	ArtifactsRoot string
	// CacheDir holds models downloaded from a tracking server, one folder per
	// artifact location. Empty means the user cache folder (mlbatch/models).
	CacheDir string
	// HTTPClient talks to tracking servers. Nil means a client built from the
	// MLFLOW_TRACKING_* settings (TLS verification, timeouts).
	HTTPClient *http.Client
	// Getenv reads MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME, ... Nil means
	// os.Getenv.
	Getenv func(string) string
	// Debug receives notes on how the URI was resolved (re-rooted paths, cache
	// hits, deleted runs). May be nil.
	Debug func(msg string)
	// Context bounds object-store requests and downloads (s3://, gs://,
	// azblob://). Nil means context.Background().
	Context context.Context
}

func (o ResolveOptions) debugf(format string, args ...any) {
	if o.Debug != nil {
		o.Debug(fmt.Sprintf(format, args...))
	}
}

func (o ResolveOptions) getenv(key string) string {
	if o.Getenv != nil {
		return o.Getenv(key)
	}
	return os.Getenv(key)
}

var schemeRe = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*):`)

// maxChain bounds how many URIs one resolution may go through (a version whose
// source is a models:/ URI whose version's source is a runs:/ URI, ...).
const maxChain = 8

// Resolve turns a model URI into a local folder that holds an MLmodel file.
//
// Supported: a local folder, file:// URIs, object-store folders (s3://, gs://,
// azblob://, downloaded into opts.CacheDir), runs:/<run_id>[/<artifact_path>],
// models:/<name>/<version>, models:/<name>/latest, models:/<name>/<stage>,
// models:/<name>@<alias>, models:/<model_id>, and mlflow-artifacts:/ locations,
// against a file store, an SQLite store or a tracking server (opts.TrackingURI).
// Models on a tracking server are downloaded into opts.CacheDir first.
// All errors are of kind mlerr.Model and name the URI.
func Resolve(uri string, opts ResolveOptions) (string, error) {
	if debug := opts.Debug; debug != nil {
		seen := map[string]bool{}
		opts.Debug = func(msg string) {
			if !seen[msg] {
				seen[msg] = true
				debug(msg)
			}
		}
	}
	r := &resolver{opts: opts}
	defer r.close()
	dir, err := r.resolve(uri)
	if err != nil {
		return "", mlerr.Wrap(mlerr.Model, fmt.Errorf("%s: %w", uri, err))
	}
	return dir, nil
}

// resolver resolves one URI and the URIs its registry entries point to, against
// one store opened on first use.
type resolver struct {
	opts   ResolveOptions
	st     store
	stErr  error
	opened bool
	chain  []string // URIs being resolved, outermost first
}

func (r *resolver) close() {
	if r.st != nil {
		r.st.close()
	}
}

func (r *resolver) store() (store, error) {
	if !r.opened {
		r.opened = true
		r.st, r.stErr = openStore(r.opts)
	}
	return r.st, r.stErr
}

// loopError reports registry entries whose sources lead back to themselves.
type loopError struct{ chain []string }

func (e *loopError) Error() string {
	return "the version sources form a loop: " + strings.Join(e.chain, " -> ")
}

func (r *resolver) resolve(uri string) (string, error) {
	if uri == "" {
		return "", errors.New("empty model URI")
	}
	for _, u := range r.chain {
		if u == uri {
			return "", &loopError{chain: append(append([]string(nil), r.chain...), uri)}
		}
	}
	if len(r.chain) >= maxChain {
		return "", fmt.Errorf("more than %d nested sources: %s", maxChain, strings.Join(r.chain, " -> "))
	}
	r.chain = append(r.chain, uri)
	defer func() { r.chain = r.chain[:len(r.chain)-1] }()

	switch scheme := uriScheme(uri); scheme {
	case "":
		return localModelDir(uri)
	case "file":
		p, err := fileURIPath(uri)
		if err != nil {
			return "", err
		}
		return localModelDir(p)
	case "runs":
		return r.resolveRuns(uri)
	case "models":
		return r.resolveModels(uri)
	case "s3", "gs", "azblob", "wasbs", "wasb":
		a := &blobArtifacts{opts: r.opts}
		return a.fetch(artLoc{uri: uri}, "")
	case "mlflow-artifacts":
		st, err := r.store()
		if err != nil {
			return "", err
		}
		return st.fetch(artLoc{uri: uri}, "")
	case "dbfs", "databricks", "databricks-uc", "uc":
		return "", fmt.Errorf("Databricks %s: URIs are not supported yet: download the model (databricks fs cp, or mlflow artifacts download) and pass its folder", scheme)
	default:
		return "", fmt.Errorf("unknown model URI scheme %q: use a model folder, file://, s3://, gs://, azblob://, runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias> or models:/<model_id>", scheme)
	}
}

// uriScheme returns the lower-cased scheme of a URI, or "" for a plain path
// (including a Windows drive path such as C:\models\m).
func uriScheme(uri string) string {
	m := schemeRe.FindStringSubmatch(uri)
	if m == nil || len(m[1]) == 1 && (runtime.GOOS == "windows" || len(uri) > 2 && (uri[2] == '\\' || uri[2] == '/')) {
		return ""
	}
	return strings.ToLower(m[1])
}

// fileURIPath decodes file:///abs/path, file:/abs/path and file:relative.
func fileURIPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("invalid file URI: %w", err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file URI with a remote host %q", u.Host)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque // file:relative/path
		if q, err := url.PathUnescape(p); err == nil {
			p = q
		}
	}
	if p == "" {
		return "", errors.New("file URI without a path")
	}
	if runtime.GOOS == "windows" && len(p) > 2 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // file:///C:/x
	}
	return filepath.FromSlash(p), nil
}

func localModelDir(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errors.New("no such model folder")
		}
		return "", err
	}
	if !st.IsDir() {
		if filepath.Base(path) == "MLmodel" {
			return filepath.Dir(path), nil
		}
		return "", errors.New("not a folder: a model URI names the folder that holds MLmodel")
	}
	if !exists(filepath.Join(path, "MLmodel")) {
		return "", errors.New("not an MLflow model folder: no MLmodel file")
	}
	return path, nil
}

// TrackingStore returns the local file store folder named by a tracking URI.
func TrackingStore(trackingURI string) (string, error) {
	kind, loc, err := parseTrackingURI(trackingURI)
	if err != nil {
		return "", err
	}
	if kind != "file" {
		return "", fmt.Errorf("tracking URI %q is not a file store", trackingURI)
	}
	return loc, nil
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ---- runs:/

func (r *resolver) resolveRuns(uri string) (string, error) {
	rest := uri[len("runs:"):]
	if strings.HasPrefix(rest, "//") {
		host, _, _ := strings.Cut(rest[2:], "/")
		if host != "" {
			return "", fmt.Errorf("runs:// URIs with a Databricks profile (%s) are not supported yet; use runs:/<run_id>/<path> with MLFLOW_TRACKING_URI", host)
		}
	}
	rest = strings.TrimLeft(rest, "/")
	runID, artPath, _ := strings.Cut(rest, "/")
	artPath = strings.Trim(artPath, "/")
	if runID == "" || !idRe.MatchString(runID) {
		return "", errors.New("malformed runs:/ URI: want runs:/<run_id>/<artifact_path>")
	}
	if artPath != "" {
		for _, seg := range strings.Split(artPath, "/") {
			if seg == ".." {
				return "", errors.New("artifact path may not contain ..")
			}
		}
	}
	st, err := r.store()
	if err != nil {
		return "", err
	}
	run, err := st.run(runID)
	if err != nil {
		return "", err
	}
	if err := run.usable(); err != nil {
		return "", err
	}
	if run.deleted {
		r.opts.debugf("run %s is marked deleted; MLflow still resolves its models, and so does mlbatch", runID)
	}
	if artPath == "" {
		return r.soleModel(st, run)
	}
	// MLflow 1.x/2.x: the model is among the run's artifacts.
	ok, err := st.has(run.art, artPath)
	if err != nil {
		return "", err
	}
	if ok {
		return st.fetch(run.art, artPath)
	}
	// MLflow 3: a logged model named by the first path segment, from this run.
	name, sub, _ := strings.Cut(artPath, "/")
	lms, err := st.runLoggedModels(run, name)
	if err != nil {
		return "", err
	}
	var found []*loggedModelInfo
	for _, lm := range lms {
		ok, err := st.has(lm.art, sub)
		if err != nil {
			return "", err
		}
		if ok {
			found = append(found, lm)
		}
	}
	switch len(found) {
	case 1:
		return st.fetch(found[0].art, sub)
	case 0:
		return "", fmt.Errorf("run %s has no model at %q (looked in %s and in the run's logged models)",
			runID, artPath, st.describeLoc(run.art))
	default:
		var ids []string
		for _, lm := range found {
			ids = append(ids, "models:/"+lm.id)
		}
		return "", fmt.Errorf("run %s has %d logged models named %q: %s; name one by id",
			runID, len(found), name, strings.Join(ids, ", "))
	}
}

// soleModel finds the one model a run logged, for runs:/<run_id> without a path.
func (r *resolver) soleModel(st store, run *runInfo) (string, error) {
	type cand struct {
		label string
		loc   artLoc
		sub   string
	}
	var cands []cand
	seen := map[string]bool{}
	add := func(key, label string, loc artLoc, sub string) {
		if !seen[key] {
			seen[key] = true
			cands = append(cands, cand{label, loc, sub})
		}
	}
	// 1. The run's mlflow.log-model.history tag.
	for _, p := range run.historyPaths() {
		ok, err := st.has(run.art, p)
		if err != nil {
			return "", err
		}
		if ok {
			add("run/"+p, p, run.art, p)
		}
	}
	// 2. MLmodel files among the run's artifacts.
	paths, err := st.scan(run.art, 4)
	if err != nil {
		return "", err
	}
	for _, p := range paths {
		add("run/"+p, p, run.art, p)
	}
	// 3. MLflow 3 logged models from this run.
	lms, err := st.runLoggedModels(run, "")
	if err != nil {
		return "", err
	}
	for _, lm := range lms {
		ok, err := st.has(lm.art, "")
		if err != nil {
			return "", err
		}
		if ok {
			add("lm/"+lm.id, lm.name+" (logged model "+lm.id+")", lm.art, "")
		}
	}
	switch len(cands) {
	case 1:
		return st.fetch(cands[0].loc, cands[0].sub)
	case 0:
		return "", fmt.Errorf("run %s logged no model", run.id)
	}
	var labels []string
	for _, c := range cands {
		labels = append(labels, c.label)
	}
	sort.Strings(labels)
	return "", fmt.Errorf("run %s logged %d models, name one: %s", run.id, len(cands),
		"runs:/"+run.id+"/"+strings.Join(labels, ", runs:/"+run.id+"/"))
}

// ---- models:/

func (r *resolver) resolveModels(uri string) (string, error) {
	p, err := parseModelsURI(uri)
	if err != nil {
		return "", err
	}
	st, err := r.store()
	if err != nil {
		return "", err
	}
	if p.modelID != "" {
		lm, err := st.loggedModel(p.modelID)
		if err != nil {
			if isNotFound(err) && st.registeredModel(p.modelID) == nil {
				return "", fmt.Errorf("%w; %q is a registered model: name a version, e.g. models:/%s/latest or models:/%s@<alias>",
					err, p.modelID, p.modelID, p.modelID)
			}
			return "", err
		}
		if err := r.checkLoggedModel(st, lm); err != nil {
			return "", err
		}
		return st.fetch(lm.art, "")
	}
	var v *versionInfo
	switch {
	case p.version != "":
		v, err = st.version(p.name, p.version)
	case p.alias != "":
		v, err = st.aliasVersion(p.name, p.alias)
	default:
		v, err = st.latestVersion(p.name, p.stage)
	}
	if err != nil {
		return "", err
	}
	if p.version == "" {
		r.opts.debugf("%s is version %s of registered model %q", uri, v.version, v.name)
	}
	if err := r.checkVersionOrigin(st, v); err != nil {
		return "", err
	}
	loc, err := st.downloadURI(v)
	if err != nil {
		return "", err
	}
	dir, err := r.resolveLocation(st, loc)
	if err != nil && isNotFound(err) && v.source != "" && v.source != loc {
		r.opts.debugf("version %s of %q: storage location %s not found (%v); trying its source %s", v.version, v.name, loc, err, v.source)
		if d, err2 := r.resolveLocation(st, v.source); err2 == nil {
			return d, nil
		}
	}
	if err != nil {
		var le *loopError
		if errors.As(err, &le) {
			return "", le
		}
		return "", fmt.Errorf("version %s of registered model %q: %w", v.version, v.name, err)
	}
	return dir, nil
}

// resolveLocation finds the model folder at a version's download location, which
// may itself be a runs:/ or models:/ URI.
func (r *resolver) resolveLocation(st store, loc string) (string, error) {
	if loc == "" {
		return "", notFoundf("no source or storage location recorded")
	}
	switch uriScheme(loc) {
	case "runs", "models":
		dir, err := r.resolve(loc)
		if err != nil {
			var le *loopError
			if errors.As(err, &le) {
				return "", err
			}
			return "", fmt.Errorf("source %s: %w", loc, err)
		}
		return dir, nil
	}
	return st.fetch(artLoc{uri: loc}, "")
}

// checkVersionOrigin refuses versions whose run or logged model belongs to a
// deleted experiment (mlbatch's policy: deleted experiments are not found).
func (r *resolver) checkVersionOrigin(st store, v *versionInfo) error {
	if v.runID != "" && idRe.MatchString(v.runID) {
		run, err := st.run(v.runID)
		switch {
		case err == nil:
			if err := run.usable(); err != nil {
				return fmt.Errorf("version %s of registered model %q: %w", v.version, v.name, err)
			}
		case !isNotFound(err):
			return err
		}
	}
	if id := v.modelID(); id != "" {
		lm, err := st.loggedModel(id)
		switch {
		case err == nil:
			if err := r.checkLoggedModel(st, lm); err != nil {
				return fmt.Errorf("version %s of registered model %q: %w", v.version, v.name, err)
			}
		case errors.Is(err, errDeletedExperiment):
			return fmt.Errorf("version %s of registered model %q: %w", v.version, v.name, err)
		case !isNotFound(err):
			return err
		}
	}
	return nil
}

func (r *resolver) checkLoggedModel(st store, lm *loggedModelInfo) error {
	if lm.experimentDeleted {
		return fmt.Errorf("logged model %s belongs to experiment %s, which was deleted: %w; restore the experiment to score it",
			lm.id, lm.experimentID, errDeletedExperiment)
	}
	return nil
}

// modelsURI is a parsed models:/ URI: exactly one of modelID, version, alias,
// stage is set, or none (latest).
type modelsURI struct {
	name, version, stage, alias, modelID string
}

// parseModelsURI splits a models:/ URI the way MLflow's _parse_model_uri does.
func parseModelsURI(uri string) (modelsURI, error) {
	bad := func() (modelsURI, error) {
		return modelsURI{}, errors.New("malformed models:/ URI: want models:/<name>/<version>, models:/<name>/latest, models:/<name>/<stage>, models:/<name>@<alias> or models:/<model_id>")
	}
	rest := uri[len("models:"):]
	if strings.HasPrefix(rest, "//") {
		host, _, _ := strings.Cut(rest[2:], "/")
		if host != "" {
			return modelsURI{}, fmt.Errorf("models:// URIs with a Databricks profile (%s) are not supported yet", host)
		}
	}
	rest, _, _ = strings.Cut(rest, "?")
	if !strings.HasPrefix(rest, "/") || len(rest) <= 1 {
		return bad()
	}
	parts := strings.Split(strings.TrimLeft(rest, "/"), "/")
	if len(parts) > 2 || strings.TrimSpace(parts[0]) == "" {
		return bad()
	}
	var p modelsURI
	if len(parts) == 2 {
		p.name = parts[0]
		suffix := parts[1]
		switch {
		case strings.TrimSpace(suffix) == "":
			return bad()
		case isDigits(suffix):
			v := strings.TrimLeft(suffix, "0")
			if v == "" {
				v = "0"
			}
			p.version = v
		case strings.EqualFold(suffix, "latest"):
		default:
			stage, err := canonicalStage(suffix)
			if err != nil {
				return modelsURI{}, err
			}
			p.stage = stage
		}
	} else if i := strings.LastIndex(parts[0], "@"); i >= 0 {
		p.name, p.alias = parts[0][:i], parts[0][i+1:]
		if strings.TrimSpace(p.alias) == "" || strings.TrimSpace(p.name) == "" {
			return bad()
		}
	} else {
		p.modelID = parts[0]
	}
	for _, s := range []string{p.name, p.alias, p.modelID} {
		if s == "." || s == ".." || strings.ContainsAny(s, `\`+"\x00") {
			return bad()
		}
	}
	return p, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// allStages are MLflow's model version stages, canonically spelled.
var allStages = []string{"None", "Staging", "Production", "Archived"}

// stageDeleted marks a deleted model version in MLflow's stores.
const stageDeleted = "Deleted_Internal"

// canonicalStage spells a stage as MLflow stores it; stages match in any case.
func canonicalStage(s string) (string, error) {
	for _, st := range allStages {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", fmt.Errorf("invalid model version stage %q: use a version number, latest, @<alias>, or a stage: %s (any case)",
		s, strings.Join(allStages, ", "))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
