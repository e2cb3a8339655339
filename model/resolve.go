package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// ResolveOptions say where to look for models named by store URIs.
type ResolveOptions struct {
	// TrackingURI is MLFLOW_TRACKING_URI: a folder path or file: URI of a file
	// store. Empty means ./mlruns, MLflow's historical default.
	TrackingURI string
	// Debug receives notes on how the URI was resolved (re-rooted paths). May be nil.
	Debug func(msg string)
}

func (o ResolveOptions) debugf(format string, args ...any) {
	if o.Debug != nil {
		o.Debug(fmt.Sprintf(format, args...))
	}
}

var schemeRe = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*):`)

// Resolve turns a model URI into a local folder that holds an MLmodel file.
// Supported: a local folder, file:// URIs, runs:/<run_id>[/<artifact_path>].
// All errors are of kind mlerr.Model.
func Resolve(uri string, opts ResolveOptions) (string, error) {
	dir, err := resolve(uri, opts)
	if err != nil {
		return "", mlerr.Wrap(mlerr.Model, err)
	}
	return dir, nil
}

func resolve(uri string, opts ResolveOptions) (string, error) {
	if uri == "" {
		return "", errors.New("empty model URI")
	}
	scheme := ""
	if m := schemeRe.FindStringSubmatch(uri); m != nil && !isWindowsDrive(uri) {
		scheme = strings.ToLower(m[1])
	}
	switch scheme {
	case "":
		return localModelDir(uri, uri)
	case "file":
		p, err := fileURIPath(uri)
		if err != nil {
			return "", err
		}
		return localModelDir(p, uri)
	case "runs":
		return resolveRunsURI(uri, opts)
	case "models":
		return "", fmt.Errorf("%s: models:/ registry URIs are not supported yet; use runs:/<run_id>/<path> or the model folder", uri)
	default:
		return "", fmt.Errorf("%s: unknown model URI scheme %q: use a model folder, file://, or runs:/<run_id>/<path>", uri, scheme)
	}
}

func isWindowsDrive(s string) bool {
	return runtime.GOOS == "windows" && len(s) >= 2 && s[1] == ':'
}

// fileURIPath decodes file:///abs/path, file:/abs/path and file:relative.
func fileURIPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%s: invalid file URI: %w", uri, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("%s: file URI with a remote host %q", uri, u.Host)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque // file:relative/path
	}
	if p == "" {
		return "", fmt.Errorf("%s: file URI without a path", uri)
	}
	return filepath.FromSlash(p), nil
}

func localModelDir(path, uri string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: no such model folder", uri)
		}
		return "", fmt.Errorf("%s: %w", uri, err)
	}
	if !st.IsDir() {
		if filepath.Base(path) == "MLmodel" {
			return filepath.Dir(path), nil
		}
		return "", fmt.Errorf("%s: not a folder: a model URI names the folder that holds MLmodel", uri)
	}
	if !exists(filepath.Join(path, "MLmodel")) {
		return "", fmt.Errorf("%s: not an MLflow model folder: no MLmodel file", uri)
	}
	return path, nil
}

// TrackingStore returns the local file store folder named by a tracking URI.
func TrackingStore(trackingURI string) (string, error) {
	if trackingURI == "" {
		return "mlruns", nil
	}
	m := schemeRe.FindStringSubmatch(trackingURI)
	if m == nil || isWindowsDrive(trackingURI) {
		return trackingURI, nil
	}
	switch strings.ToLower(m[1]) {
	case "file":
		return fileURIPath(trackingURI)
	case "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks":
		return "", fmt.Errorf("tracking URI %q: only file stores (a folder or file: URI) are supported yet", trackingURI)
	}
	return "", fmt.Errorf("tracking URI %q: unknown scheme %q", trackingURI, m[1])
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// run is one run found in a file store.
type run struct {
	store   string // the store folder
	expDir  string // store/<experiment_id>
	dir     string // store/<experiment_id>/<run_id>
	id      string
	meta    runMeta
	artDirs []string // local candidates for the run's artifact root, best first
}

type runMeta struct {
	ArtifactURI    string `yaml:"artifact_uri"`
	RunID          string `yaml:"run_id"`
	ExperimentID   string `yaml:"experiment_id"`
	LifecycleStage string `yaml:"lifecycle_stage"`
}

type loggedModelMeta struct {
	ArtifactLocation string `yaml:"artifact_location"`
	ModelID          string `yaml:"model_id"`
	Name             string `yaml:"name"`
	SourceRunID      string `yaml:"source_run_id"`
	ExperimentID     string `yaml:"experiment_id"`
}

func resolveRunsURI(uri string, opts ResolveOptions) (string, error) {
	rest := strings.TrimPrefix(uri[len("runs:"):], "/")
	rest = strings.TrimLeft(rest, "/")
	runID, artPath, _ := strings.Cut(rest, "/")
	artPath = strings.Trim(artPath, "/")
	if runID == "" || !idRe.MatchString(runID) {
		return "", fmt.Errorf("%s: malformed runs:/ URI: want runs:/<run_id>/<artifact_path>", uri)
	}
	if artPath != "" {
		for _, seg := range strings.Split(artPath, "/") {
			if seg == ".." {
				return "", fmt.Errorf("%s: artifact path may not contain ..", uri)
			}
		}
	}
	store, err := TrackingStore(opts.TrackingURI)
	if err != nil {
		return "", fmt.Errorf("%s: %w", uri, err)
	}
	r, err := findRun(store, runID, opts)
	if err != nil {
		return "", fmt.Errorf("%s: %w", uri, err)
	}
	if artPath == "" {
		return r.soleModel(uri, opts)
	}
	// MLflow 1.x/2.x: the model is among the run's artifacts.
	for _, art := range r.artDirs {
		dir := filepath.Join(art, filepath.FromSlash(artPath))
		if exists(filepath.Join(dir, "MLmodel")) {
			return dir, nil
		}
	}
	// MLflow 3: a logged model named by the first path segment, from this run.
	name, sub, _ := strings.Cut(artPath, "/")
	lms, err := r.loggedModels(opts)
	if err != nil {
		return "", fmt.Errorf("%s: %w", uri, err)
	}
	var found []string
	for _, lm := range lms {
		if lm.meta.Name != name {
			continue
		}
		dir := filepath.Join(lm.artDir, filepath.FromSlash(sub))
		if exists(filepath.Join(dir, "MLmodel")) {
			found = append(found, dir)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("%s: run %s has no model at %q (looked in %s and in the run's logged models)",
			uri, runID, artPath, strings.Join(r.artDirs, ", "))
	default:
		return "", fmt.Errorf("%s: run %s has %d logged models named %q: %s; use models:/<model_id>",
			uri, runID, len(found), name, strings.Join(found, ", "))
	}
}

// findRun looks for store/<exp>/<runID>/meta.yaml in every live experiment.
func findRun(store, runID string, opts ResolveOptions) (*run, error) {
	entries, err := os.ReadDir(store)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tracking store %s does not exist (set MLFLOW_TRACKING_URI to the mlruns folder)", store)
		}
		return nil, fmt.Errorf("tracking store %s: %w", store, err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "models" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		expDir := filepath.Join(store, e.Name())
		runDir := filepath.Join(expDir, runID)
		metaPath := filepath.Join(runDir, "meta.yaml")
		data, err := os.ReadFile(metaPath)
		if err != nil {
			continue
		}
		var meta runMeta
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", metaPath, err)
		}
		r := &run{store: store, expDir: expDir, dir: runDir, id: runID, meta: meta}
		r.artDirs = artifactCandidates(store, meta.ArtifactURI, filepath.Join(runDir, "artifacts"), opts)
		return r, nil
	}
	// MLflow's file store still finds runs of deleted experiments; mlbatch refuses
	// them, so that a nightly job does not keep scoring a model someone deleted.
	if trash, err := os.ReadDir(filepath.Join(store, ".trash")); err == nil {
		for _, e := range trash {
			if exists(filepath.Join(store, ".trash", e.Name(), runID, "meta.yaml")) {
				return nil, fmt.Errorf("run %s belongs to experiment %s, which was deleted (it is in %s); restore the experiment to score its models",
					runID, e.Name(), filepath.Join(store, ".trash"))
			}
		}
	}
	return nil, fmt.Errorf("run %s not found in tracking store %s", runID, store)
}

// artifactCandidates lists local folders where an artifact location recorded in a
// store may be found: the recorded path itself when it exists here, the store's own
// default location, and the recorded path re-rooted onto the store by its longest
// suffix that exists (stores are often copied from other machines).
func artifactCandidates(store, location, def string, opts ResolveOptions) []string {
	var out []string
	add := func(p string) {
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	local, comps := locationPath(location)
	if local != "" && isDir(local) {
		add(local)
	}
	if isDir(def) {
		add(def)
	}
	if p := reroot(store, comps); p != "" {
		if p != local {
			opts.debugf("re-rooted %s onto %s", location, p)
		}
		add(p)
	}
	if len(out) == 0 {
		add(def)
	}
	return out
}

// locationPath decodes an artifact location into a local path (when it is one) and
// its path components, for re-rooting.
func locationPath(location string) (string, []string) {
	if location == "" {
		return "", nil
	}
	p := location
	local := ""
	if m := schemeRe.FindStringSubmatch(location); m != nil && len(m[1]) > 1 {
		u, err := url.Parse(location)
		if err != nil {
			return "", nil
		}
		p = u.Path
		if p == "" {
			p = u.Opaque
		}
		if strings.EqualFold(m[1], "file") {
			local = filepath.FromSlash(p)
		}
	} else {
		local = location
	}
	p = strings.ReplaceAll(p, `\`, "/")
	var comps []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." && c != ".." && !(len(c) == 2 && c[1] == ':') {
			comps = append(comps, c)
		}
	}
	return local, comps
}

// reroot finds the longest suffix of comps that exists under the store, its parent
// (for server layouts with mlartifacts/ beside mlruns/), or an artifacts root beside
// the store.
func reroot(store string, comps []string) string {
	parent := filepath.Dir(filepath.Clean(store))
	bases := []string{store, parent,
		filepath.Join(parent, "mlartifacts"), filepath.Join(parent, "mlflow-artifacts")}
	for i := 0; i < len(comps)-1; i++ { // a suffix of at least two components
		suffix := filepath.Join(comps[i:]...)
		for _, b := range bases {
			p := filepath.Join(b, suffix)
			if isDir(p) {
				return p
			}
		}
	}
	return ""
}

type loggedModel struct {
	meta   loggedModelMeta
	dir    string
	artDir string
}

// loggedModels lists the MLflow 3 logged models of the run's experiment whose
// source_run_id is the run.
func (r *run) loggedModels(opts ResolveOptions) ([]loggedModel, error) {
	root := filepath.Join(r.expDir, "models")
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil
	}
	var out []loggedModel
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "meta.yaml"))
		if err != nil {
			continue
		}
		var meta loggedModelMeta
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "meta.yaml"), err)
		}
		if meta.SourceRunID != r.id {
			continue
		}
		cands := artifactCandidates(r.store, meta.ArtifactLocation, filepath.Join(dir, "artifacts"), opts)
		art := cands[0]
		for _, c := range cands {
			if exists(filepath.Join(c, "MLmodel")) {
				art = c
				break
			}
		}
		out = append(out, loggedModel{meta: meta, dir: dir, artDir: art})
	}
	return out, nil
}

// soleModel finds the one model a run logged, for runs:/<run_id> without a path.
func (r *run) soleModel(uri string, opts ResolveOptions) (string, error) {
	type cand struct{ label, dir string }
	var cands []cand
	seen := map[string]bool{}
	add := func(label, dir string) {
		key := filepath.Clean(dir)
		if abs, err := filepath.Abs(dir); err == nil {
			key = abs
		}
		if seen[key] || !exists(filepath.Join(dir, "MLmodel")) {
			return
		}
		seen[key] = true
		cands = append(cands, cand{label, dir})
	}
	// 1. The run's mlflow.log-model.history tag.
	if data, err := os.ReadFile(filepath.Join(r.dir, "tags", "mlflow.log-model.history")); err == nil {
		var hist []struct {
			ArtifactPath string `json:"artifact_path"`
		}
		if json.Unmarshal(data, &hist) == nil {
			for _, h := range hist {
				p := strings.Trim(h.ArtifactPath, "/")
				if p == "" || strings.Contains(p, "..") {
					continue
				}
				for _, art := range r.artDirs {
					add(p, filepath.Join(art, filepath.FromSlash(p)))
				}
			}
		}
	}
	// 2. MLmodel files among the run's artifacts.
	for _, art := range r.artDirs {
		_ = filepath.WalkDir(art, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(art, path)
			if d.IsDir() && strings.Count(rel, string(filepath.Separator)) >= 4 {
				return filepath.SkipDir
			}
			if !d.IsDir() && d.Name() == "MLmodel" {
				add(filepath.ToSlash(filepath.Dir(rel)), filepath.Dir(path))
			}
			return nil
		})
	}
	// 3. MLflow 3 logged models from this run.
	lms, err := r.loggedModels(opts)
	if err != nil {
		return "", fmt.Errorf("%s: %w", uri, err)
	}
	for _, lm := range lms {
		add(lm.meta.Name+" (logged model "+lm.meta.ModelID+")", lm.artDir)
	}
	switch len(cands) {
	case 1:
		return cands[0].dir, nil
	case 0:
		return "", fmt.Errorf("%s: run %s logged no model", uri, r.id)
	}
	var labels []string
	for _, c := range cands {
		labels = append(labels, c.label)
	}
	sort.Strings(labels)
	return "", fmt.Errorf("%s: run %s logged %d models, name one: %s", uri, r.id, len(cands),
		"runs:/"+r.id+"/"+strings.Join(labels, ", runs:/"+r.id+"/"))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
