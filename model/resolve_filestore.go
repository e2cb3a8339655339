package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileStore is MLflow's file store (a folder of meta.yaml files):
//
//	<store>/<exp>/meta.yaml                   experiment
//	<store>/<exp>/<run>/meta.yaml             run (+ tags/, artifacts/)
//	<store>/<exp>/models/<model_id>/          MLflow 3 logged model (meta.yaml, artifacts/)
//	<store>/models/<name>/meta.yaml           registered model
//	<store>/models/<name>/version-<N>/        model version (meta.yaml)
//	<store>/models/<name>/aliases/<alias>     alias; the file holds the version
//	<store>/.trash/<exp>/                     deleted experiments
type fileStore struct {
	dir  string
	arts *localArtifacts
	opts ResolveOptions
}

func openFileStore(dir string, opts ResolveOptions) (*fileStore, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("tracking store %s does not exist (set MLFLOW_TRACKING_URI or --tracking-uri to the mlruns folder, sqlite:///path/mlflow.db or http://host:port)", dir)
		}
		return nil, fmt.Errorf("tracking store %s: %w", dir, err)
	}
	if !st.IsDir() {
		if strings.HasSuffix(dir, ".db") {
			return nil, fmt.Errorf("tracking store %s is a file: for an SQLite store use sqlite:///%s", dir, filepath.ToSlash(dir))
		}
		return nil, fmt.Errorf("tracking store %s is not a folder", dir)
	}
	a := newLocalArtifacts(dir, true, opts)
	a.trash = filepath.Join(dir, ".trash")
	return &fileStore{dir: dir, arts: a, opts: opts}, nil
}

func (s *fileStore) describe() string { return "file store " + s.dir }
func (s *fileStore) close()           {}

type runMeta struct {
	ArtifactURI    string `yaml:"artifact_uri"`
	RunID          string `yaml:"run_id"`
	ExperimentID   string `yaml:"experiment_id"`
	LifecycleStage string `yaml:"lifecycle_stage"`
}

type experimentMeta struct {
	ArtifactLocation string `yaml:"artifact_location"`
	LifecycleStage   string `yaml:"lifecycle_stage"`
}

type loggedModelMeta struct {
	ArtifactLocation string `yaml:"artifact_location"`
	ModelID          string `yaml:"model_id"`
	Name             string `yaml:"name"`
	SourceRunID      string `yaml:"source_run_id"`
	ExperimentID     string `yaml:"experiment_id"`
	LifecycleStage   string `yaml:"lifecycle_stage"`
}

type versionMeta struct {
	Name            string `yaml:"name"`
	Version         any    `yaml:"version"`
	CurrentStage    string `yaml:"current_stage"`
	Source          string `yaml:"source"`
	StorageLocation string `yaml:"storage_location"`
	RunID           string `yaml:"run_id"`
	ModelID         string `yaml:"model_id"`
}

func readYAML(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// experimentDirs lists the store's experiment folders (not models/, not .trash).
func (s *fileStore) experimentDirs() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("tracking store %s: %w", s.dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "models" && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(s.dir, e.Name()))
		}
	}
	return out, nil
}

func (s *fileStore) run(id string) (*runInfo, error) {
	if !idRe.MatchString(id) {
		return nil, notFoundf("run %s not found in %s", id, s.describe())
	}
	exps, err := s.experimentDirs()
	if err != nil {
		return nil, err
	}
	for _, expDir := range exps {
		runDir := filepath.Join(expDir, id)
		var meta runMeta
		ok, err := readYAML(filepath.Join(runDir, "meta.yaml"), &meta)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var exp experimentMeta
		if _, err := readYAML(filepath.Join(expDir, "meta.yaml"), &exp); err != nil {
			return nil, err
		}
		r := &runInfo{
			id:                id,
			experimentID:      filepath.Base(expDir),
			art:               artLoc{uri: meta.ArtifactURI, def: filepath.Join(runDir, "artifacts")},
			deleted:           meta.LifecycleStage == "deleted",
			experimentDeleted: exp.LifecycleStage == "deleted",
		}
		if h, ok := readFileTrim(filepath.Join(runDir, "tags", "mlflow.log-model.history")); ok {
			r.history = h
		}
		return r, nil
	}
	// MLflow's file store still finds runs of deleted experiments; mlbatch refuses
	// them (runInfo.usable).
	trash := filepath.Join(s.dir, ".trash")
	if entries, err := os.ReadDir(trash); err == nil {
		for _, e := range entries {
			if exists(filepath.Join(trash, e.Name(), id, "meta.yaml")) {
				return &runInfo{id: id, experimentID: e.Name(), experimentDeleted: true, trashDir: trash}, nil
			}
		}
	}
	return nil, notFoundf("run %s not found in %s", id, s.describe())
}

func (s *fileStore) readLoggedModel(dir string) (*loggedModelInfo, bool, error) {
	var meta loggedModelMeta
	ok, err := readYAML(filepath.Join(dir, "meta.yaml"), &meta)
	if err != nil || !ok {
		return nil, ok, err
	}
	if meta.LifecycleStage == "deleted" {
		return nil, false, nil
	}
	id := meta.ModelID
	if id == "" {
		id = filepath.Base(dir)
	}
	expID := meta.ExperimentID
	if expID == "" {
		expID = filepath.Base(filepath.Dir(filepath.Dir(dir)))
	}
	return &loggedModelInfo{
		id:           id,
		experimentID: expID,
		name:         meta.Name,
		sourceRunID:  meta.SourceRunID,
		art:          artLoc{uri: meta.ArtifactLocation, def: filepath.Join(dir, "artifacts")},
	}, true, nil
}

func (s *fileStore) loggedModel(id string) (*loggedModelInfo, error) {
	if !idRe.MatchString(id) {
		return nil, notFoundf("logged model %s not found in %s", id, s.describe())
	}
	exps, err := s.experimentDirs()
	if err != nil {
		return nil, err
	}
	for _, expDir := range exps {
		lm, ok, err := s.readLoggedModel(filepath.Join(expDir, "models", id))
		if err != nil {
			return nil, err
		}
		if ok {
			var exp experimentMeta
			if _, err := readYAML(filepath.Join(expDir, "meta.yaml"), &exp); err != nil {
				return nil, err
			}
			lm.experimentDeleted = exp.LifecycleStage == "deleted"
			return lm, nil
		}
	}
	trash := filepath.Join(s.dir, ".trash")
	if entries, err := os.ReadDir(trash); err == nil {
		for _, e := range entries {
			if exists(filepath.Join(trash, e.Name(), "models", id, "meta.yaml")) {
				return nil, fmt.Errorf("logged model %s belongs to experiment %s, which was deleted (it is in %s): %w; restore the experiment to score it",
					id, e.Name(), trash, errDeletedExperiment)
			}
		}
	}
	return nil, notFoundf("logged model %s not found in %s", id, s.describe())
}

func (s *fileStore) runLoggedModels(run *runInfo, name string) ([]*loggedModelInfo, error) {
	root := filepath.Join(s.dir, run.experimentID, "models")
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil
	}
	var out []*loggedModelInfo
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		lm, ok, err := s.readLoggedModel(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		if ok && lm.sourceRunID == run.id && (name == "" || lm.name == name) {
			out = append(out, lm)
		}
	}
	return out, nil
}

func (s *fileStore) modelDir(name string) string {
	return filepath.Join(s.dir, "models", name)
}

func (s *fileStore) registeredModel(name string) error {
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." || name == "" {
		return errNoRegisteredModel(name, s.describe())
	}
	if !exists(filepath.Join(s.modelDir(name), "meta.yaml")) {
		return errNoRegisteredModel(name, s.describe())
	}
	return nil
}

func (s *fileStore) readVersion(dir string) (*versionInfo, bool, error) {
	var meta versionMeta
	ok, err := readYAML(filepath.Join(dir, "meta.yaml"), &meta)
	if err != nil || !ok {
		return nil, ok, err
	}
	v := fmt.Sprint(meta.Version)
	if meta.Version == nil {
		v = strings.TrimPrefix(filepath.Base(dir), "version-")
	}
	return &versionInfo{
		name:            meta.Name,
		version:         v,
		stage:           meta.CurrentStage,
		source:          meta.Source,
		storageLocation: meta.StorageLocation,
		runID:           meta.RunID,
		model:           meta.ModelID,
	}, true, nil
}

func (s *fileStore) version(name, version string) (*versionInfo, error) {
	if err := s.registeredModel(name); err != nil {
		return nil, err
	}
	v, ok, err := s.readVersion(filepath.Join(s.modelDir(name), "version-"+version))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoVersion(name, version, s.describe(), false)
	}
	if v.stage == stageDeleted {
		return nil, errNoVersion(name, version, s.describe(), true)
	}
	if v.name == "" {
		v.name = name
	}
	return v, nil
}

func (s *fileStore) aliasVersion(name, alias string) (*versionInfo, error) {
	if err := s.registeredModel(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(s.modelDir(name), "aliases")
	if !strings.ContainsAny(alias, `/\`) && alias != "." && alias != ".." {
		if v, ok := readFileTrim(filepath.Join(dir, alias)); ok {
			if _, err := strconv.ParseUint(v, 10, 63); err != nil {
				return nil, fmt.Errorf("alias %q of registered model %q holds %q, not a version number", alias, name, v)
			}
			mv, err := s.version(name, v)
			if err != nil {
				return nil, fmt.Errorf("alias %q of registered model %q points to a missing version: %w", alias, name, err)
			}
			return mv, nil
		}
	}
	var have []string
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if !e.IsDir() {
				have = append(have, e.Name())
			}
		}
	}
	return nil, errNoAlias(name, alias, have)
}

func (s *fileStore) latestVersion(name, stage string) (*versionInfo, error) {
	if err := s.registeredModel(name); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.modelDir(name))
	if err != nil {
		return nil, err
	}
	var vs []*versionInfo
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "version-") {
			continue
		}
		v, ok, err := s.readVersion(filepath.Join(s.modelDir(name), e.Name()))
		if err != nil {
			return nil, err
		}
		if ok {
			if v.name == "" {
				v.name = name
			}
			vs = append(vs, v)
		}
	}
	return pickLatest(name, stage, vs)
}

func (s *fileStore) downloadURI(v *versionInfo) (string, error) {
	if v.storageLocation != "" {
		return v.storageLocation, nil
	}
	return v.source, nil
}

func (s *fileStore) has(loc artLoc, sub string) (bool, error) { return s.arts.has(loc, sub) }
func (s *fileStore) fetch(loc artLoc, sub string) (string, error) {
	return s.arts.fetch(loc, sub)
}
func (s *fileStore) scan(loc artLoc, depth int) ([]string, error) { return s.arts.scan(loc, depth) }
func (s *fileStore) describeLoc(loc artLoc) string                { return s.arts.describeLoc(loc) }
