// Package mlflowtest runs an in-process MLflow tracking server for tests: the
// REST endpoints mlbatch uses, answered from an MLflow file store on disk with
// MLflow's JSON shapes (snake_case fields, int64 as numbers, enums by name, empty
// fields left out), and the artifact proxy (mlflow-artifacts) serving a folder.
//
// It listens on the loopback interface only (httptest). It is test code: it
// trusts the store it serves.
package mlflowtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Options describe the store a Server serves.
type Options struct {
	// Store is an MLflow file store folder (mlruns).
	Store string
	// Artifacts is the artifact proxy's destination: mlflow-artifacts:/<p> is
	// Artifacts/<p>.
	Artifacts string
	// Rewrite maps recorded locations to what a server started with
	// --serve-artifacts would have recorded: a location starting with a key is
	// given that prefix replaced by its value (e.g. file:///home/alice/mlruns/ ->
	// mlflow-artifacts:/).
	Rewrite map[string]string
	// Token, or User and Password, make the server require that bearer token or
	// those basic credentials (401 otherwise).
	Token, User, Password string
}

// Request is one request the server received.
type Request struct {
	Method, Path, Query string
	Authorization       string
}

// Server is a running fake tracking server.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	requests []Request
	faults   []Fault
}

// Fault makes the server misbehave for requests whose path contains Path:
// answer Status (with Retry-After when RetryAfter is set) Times times, or, with
// Truncate, send half of a file's bytes and cut the connection.
type Fault struct {
	Path       string
	Status     int
	RetryAfter string
	Truncate   bool
	Times      int
}

// New starts a server on the loopback interface. Close it when done.
func New(opts Options) *Server {
	s := &Server{opts: opts}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTLS starts a server with a self-signed certificate.
func NewTLS(opts Options) *Server {
	s := &Server{opts: opts}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count counts the requests whose path contains sub.
func (s *Server) Count(sub string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.Contains(r.Path, sub) {
			n++
		}
	}
	return n
}

type mlflowError struct {
	status int
	code   string
	msg    string
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) fault(p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.Times > 0 && strings.Contains(p, f.Path) {
			f.Times--
			cp := *f
			return &cp
		}
	}
	return nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")})
	s.mu.Unlock()

	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="mlflow"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error_code": "UNAUTHENTICATED", "message": "You are not authenticated. Please see the documentation for details."})
		return
	}
	if f := s.fault(r.URL.Path); f != nil && !f.Truncate {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		body := map[string]string{"error_code": "INTERNAL_ERROR", "message": "injected failure"}
		switch f.Status {
		case http.StatusForbidden:
			body = map[string]string{"error_code": "PERMISSION_DENIED", "message": "Permission denied"}
		case http.StatusTooManyRequests:
			body = map[string]string{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Too many requests"}
		}
		writeJSON(w, f.Status, body)
		return
	} else if f != nil {
		s.truncated(w, r)
		return
	}

	var (
		out any
		err *mlflowError
	)
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case p == "/api/2.0/mlflow/runs/get" && r.Method == "GET":
		out, err = s.getRun(q.Get("run_id"))
	case p == "/api/2.0/mlflow/experiments/get" && r.Method == "GET":
		out, err = s.getExperiment(q.Get("experiment_id"))
	case strings.HasPrefix(p, "/api/2.0/mlflow/logged-models/") && r.Method == "GET" && !strings.Contains(p[len("/api/2.0/mlflow/logged-models/"):], "/"):
		out, err = s.getLoggedModel(p[len("/api/2.0/mlflow/logged-models/"):])
	case p == "/api/2.0/mlflow/logged-models/search" && r.Method == "POST":
		var req searchRequest
		if e := json.NewDecoder(r.Body).Decode(&req); e != nil {
			err = badParam("Invalid JSON in request body: %v", e)
			break
		}
		out, err = s.searchLoggedModels(req)
	case p == "/api/2.0/mlflow/registered-models/get" && r.Method == "GET":
		out, err = s.getRegisteredModel(q.Get("name"))
	case p == "/api/2.0/mlflow/model-versions/get" && r.Method == "GET":
		out, err = s.getModelVersion(q.Get("name"), q.Get("version"))
	case p == "/api/2.0/mlflow/registered-models/alias" && r.Method == "GET":
		out, err = s.getByAlias(q.Get("name"), q.Get("alias"))
	case p == "/api/2.0/mlflow/registered-models/get-latest-versions":
		var req struct {
			Name   string   `json:"name"`
			Stages []string `json:"stages"`
		}
		if r.Method == "POST" {
			if e := json.NewDecoder(r.Body).Decode(&req); e != nil {
				err = badParam("Invalid JSON in request body: %v", e)
				break
			}
		} else {
			req.Name, req.Stages = q.Get("name"), q["stages"]
		}
		out, err = s.getLatestVersions(req.Name, req.Stages)
	case p == "/api/2.0/mlflow/model-versions/get-download-uri" && r.Method == "GET":
		out, err = s.getDownloadURI(q.Get("name"), q.Get("version"))
	case p == "/api/2.0/mlflow-artifacts/artifacts" && r.Method == "GET":
		out, err = s.listArtifacts(q.Get("path"))
	case strings.HasPrefix(p, "/api/2.0/mlflow-artifacts/artifacts/") && r.Method == "GET":
		s.download(w, p[len("/api/2.0/mlflow-artifacts/artifacts/"):])
		return
	default:
		// Flask's own page for an unknown route.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n")
		return
	}
	if err != nil {
		writeJSON(w, err.status, map[string]string{"error_code": err.code, "message": err.msg})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) authorized(r *http.Request) bool {
	switch {
	case s.opts.Token != "":
		return r.Header.Get("Authorization") == "Bearer "+s.opts.Token
	case s.opts.User != "":
		u, p, ok := r.BasicAuth()
		return ok && u == s.opts.User && p == s.opts.Password
	}
	return true
}

func notFound(format string, args ...any) *mlflowError {
	return &mlflowError{http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf(format, args...)}
}

func badParam(format string, args ...any) *mlflowError {
	return &mlflowError{http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf(format, args...)}
}

// ---- the file store

func readYAML(p string) (map[string]any, bool) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if yaml.Unmarshal(data, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func num(m map[string]any, k string) any {
	switch v := m[k].(type) {
	case int, int64, float64:
		return v
	}
	return nil
}

func (s *Server) rewrite(loc string) string {
	keys := make([]string, 0, len(s.opts.Rewrite))
	for k := range s.opts.Rewrite {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		if strings.HasPrefix(loc, k) {
			return s.opts.Rewrite[k] + loc[len(k):]
		}
	}
	return loc
}

// experimentDirs lists experiment folders, live ones first, then .trash (MLflow's
// file store finds runs of deleted experiments too).
func (s *Server) experimentDirs() []string {
	var out []string
	for _, root := range []string{s.opts.Store, filepath.Join(s.opts.Store, ".trash")} {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if e.IsDir() && e.Name() != "models" && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(root, e.Name()))
			}
		}
	}
	return out
}

func readTags(dir string) []map[string]any {
	var tags []map[string]any
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		data, _ := os.ReadFile(p)
		tags = append(tags, map[string]any{"key": filepath.ToSlash(rel), "value": string(data)})
		return nil
	})
	return tags
}

var runStatus = map[string]string{"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}

func (s *Server) getRun(id string) (any, *mlflowError) {
	if id == "" {
		return nil, badParam("Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.")
	}
	for _, exp := range s.experimentDirs() {
		dir := filepath.Join(exp, id)
		meta, ok := readYAML(filepath.Join(dir, "meta.yaml"))
		if !ok {
			continue
		}
		info := map[string]any{
			"run_id": id, "run_uuid": id, "run_name": str(meta, "run_name"),
			"experiment_id": str(meta, "experiment_id"), "user_id": str(meta, "user_id"),
			"status":          runStatus[str(meta, "status")],
			"start_time":      num(meta, "start_time"),
			"artifact_uri":    s.rewrite(str(meta, "artifact_uri")),
			"lifecycle_stage": str(meta, "lifecycle_stage"),
		}
		if e := num(meta, "end_time"); e != nil {
			info["end_time"] = e
		}
		data := map[string]any{}
		if tags := readTags(filepath.Join(dir, "tags")); len(tags) > 0 {
			data["tags"] = tags
		}
		if params := readTags(filepath.Join(dir, "params")); len(params) > 0 {
			data["params"] = params
		}
		var metrics []map[string]any
		for _, m := range readTags(filepath.Join(dir, "metrics")) {
			lines := strings.Split(strings.TrimSpace(m["value"].(string)), "\n")
			f := strings.Fields(lines[len(lines)-1])
			if len(f) >= 2 {
				ts, _ := strconv.ParseInt(f[0], 10, 64)
				v, _ := strconv.ParseFloat(f[1], 64)
				step := int64(0)
				if len(f) > 2 {
					step, _ = strconv.ParseInt(f[2], 10, 64)
				}
				metrics = append(metrics, map[string]any{"key": m["key"], "value": v, "timestamp": ts, "step": step})
			}
		}
		if len(metrics) > 0 {
			data["metrics"] = metrics
		}
		run := map[string]any{"info": info, "data": data, "inputs": map[string]any{}, "outputs": map[string]any{}}
		if entries, _ := os.ReadDir(filepath.Join(dir, "outputs")); len(entries) > 0 {
			var outs []map[string]any
			for _, e := range entries {
				if m, ok := readYAML(filepath.Join(dir, "outputs", e.Name(), "meta.yaml")); ok {
					outs = append(outs, map[string]any{"model_id": str(m, "destination_id"), "step": num(m, "step")})
				}
			}
			run["outputs"] = map[string]any{"model_outputs": outs}
		}
		return map[string]any{"run": run}, nil
	}
	return nil, notFound("Run '%s' not found", id)
}

func (s *Server) getExperiment(id string) (any, *mlflowError) {
	for _, exp := range s.experimentDirs() {
		if filepath.Base(exp) != id {
			continue
		}
		meta, ok := readYAML(filepath.Join(exp, "meta.yaml"))
		if !ok {
			continue
		}
		e := map[string]any{
			"experiment_id": id, "name": str(meta, "name"),
			"artifact_location": s.rewrite(str(meta, "artifact_location")),
			"lifecycle_stage":   str(meta, "lifecycle_stage"),
			"last_update_time":  num(meta, "last_update_time"),
			"creation_time":     num(meta, "creation_time"),
		}
		return map[string]any{"experiment": e}, nil
	}
	return nil, notFound("Could not find experiment with ID %s", id)
}

var loggedModelStatus = map[string]string{"0": "LOGGED_MODEL_STATUS_UNSPECIFIED", "1": "LOGGED_MODEL_PENDING", "2": "LOGGED_MODEL_READY", "3": "LOGGED_MODEL_UPLOAD_FAILED"}

func (s *Server) loggedModelJSON(dir string) (map[string]any, bool) {
	meta, ok := readYAML(filepath.Join(dir, "meta.yaml"))
	if !ok || str(meta, "lifecycle_stage") == "deleted" {
		return nil, false
	}
	info := map[string]any{
		"model_id": str(meta, "model_id"), "experiment_id": str(meta, "experiment_id"),
		"name": str(meta, "name"), "artifact_uri": s.rewrite(str(meta, "artifact_location")),
		"creation_timestamp_ms":     num(meta, "creation_timestamp"),
		"last_updated_timestamp_ms": num(meta, "last_updated_timestamp"),
		"model_type":                str(meta, "model_type"),
		"source_run_id":             str(meta, "source_run_id"),
		"status":                    loggedModelStatus[str(meta, "status")],
	}
	if tags := readTags(filepath.Join(dir, "tags")); len(tags) > 0 {
		info["tags"] = tags
	}
	data := map[string]any{}
	if params := readTags(filepath.Join(dir, "params")); len(params) > 0 {
		data["params"] = params
	}
	return map[string]any{"info": info, "data": data}, true
}

func (s *Server) getLoggedModel(id string) (any, *mlflowError) {
	for _, exp := range s.experimentDirs() {
		if m, ok := s.loggedModelJSON(filepath.Join(exp, "models", id)); ok {
			return map[string]any{"model": m}, nil
		}
	}
	return nil, notFound("Logged model with ID '%s' not found.", id)
}

type searchRequest struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter"`
	MaxResults    int      `json:"max_results"`
	PageToken     string   `json:"page_token"`
}

// parseFilter understands `attr = 'value'` clauses joined by AND, for the
// attributes name, model_id and source_run_id.
func parseFilter(f string) (map[string]string, *mlflowError) {
	out := map[string]string{}
	if strings.TrimSpace(f) == "" {
		return out, nil
	}
	for _, clause := range strings.Split(f, " AND ") {
		k, v, ok := strings.Cut(clause, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
			return nil, badParam("Invalid filter string: %s", f)
		}
		switch k {
		case "name", "model_id", "source_run_id":
			out[k] = v[1 : len(v)-1]
		default:
			return nil, badParam("Invalid attribute key '%s' specified.", k)
		}
	}
	return out, nil
}

func (s *Server) searchLoggedModels(req searchRequest) (any, *mlflowError) {
	filter, err := parseFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	var all []map[string]any
	for _, id := range req.ExperimentIDs {
		root := filepath.Join(s.opts.Store, id, "models")
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			m, ok := s.loggedModelJSON(filepath.Join(root, e.Name()))
			if !ok {
				continue
			}
			info := m["info"].(map[string]any)
			match := true
			for k, v := range filter {
				match = match && info[k] == v
			}
			if match {
				all = append(all, m)
			}
		}
	}
	offset, _ := strconv.Atoi(req.PageToken)
	max := req.MaxResults
	if max <= 0 {
		max = 100
	}
	resp := map[string]any{}
	if offset < len(all) {
		end := min(offset+max, len(all))
		resp["models"] = all[offset:end]
		if end < len(all) {
			resp["next_page_token"] = strconv.Itoa(end)
		}
	}
	return resp, nil
}

// ---- the registry

func (s *Server) modelDir(name string) (string, *mlflowError) {
	if name == "" {
		return "", badParam("Missing value for required parameter 'name'.")
	}
	dir := filepath.Join(s.opts.Store, "models", name)
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", badParam("Invalid name: '%s'. Registered model name cannot contain path separator", name)
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.yaml")); err != nil {
		return "", notFound("Registered Model with name=%s not found", name)
	}
	return dir, nil
}

func (s *Server) aliases(dir string) map[string]string {
	out := map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(dir, "aliases"))
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, "aliases", e.Name()))
		out[e.Name()] = strings.TrimSpace(string(data))
	}
	return out
}

// versionJSON is a ModelVersion as the REST API returns it (no storage_location:
// that one is only given by get-download-uri).
func (s *Server) versionJSON(dir string, meta map[string]any) map[string]any {
	v := map[string]any{
		"name": str(meta, "name"), "version": str(meta, "version"),
		"creation_timestamp":     num(meta, "creation_timestamp"),
		"last_updated_timestamp": num(meta, "last_updated_timestamp"),
		"current_stage":          str(meta, "current_stage"),
		"description":            str(meta, "description"),
		"source":                 s.rewrite(str(meta, "source")),
		"run_id":                 str(meta, "run_id"),
		"status":                 str(meta, "status"),
		"run_link":               str(meta, "run_link"),
	}
	if u := str(meta, "user_id"); u != "" {
		v["user_id"] = u
	}
	if m := str(meta, "status_message"); m != "" {
		v["status_message"] = m
	}
	if id := str(meta, "model_id"); id != "" {
		v["model_id"] = id
	}
	var al []string
	for a, ver := range s.aliases(filepath.Dir(dir)) {
		if ver == str(meta, "version") {
			al = append(al, a)
		}
	}
	if len(al) > 0 {
		sort.Strings(al)
		v["aliases"] = al
	}
	return v
}

func (s *Server) readVersion(name, version string) (string, map[string]any, *mlflowError) {
	dir, err := s.modelDir(name)
	if err != nil {
		return "", nil, err
	}
	vdir := filepath.Join(dir, "version-"+version)
	meta, ok := readYAML(filepath.Join(vdir, "meta.yaml"))
	if !ok || str(meta, "current_stage") == "Deleted_Internal" {
		return "", nil, notFound("Model Version (name=%s, version=%s) not found", name, version)
	}
	return vdir, meta, nil
}

func (s *Server) getModelVersion(name, version string) (any, *mlflowError) {
	vdir, meta, err := s.readVersion(name, version)
	if err != nil {
		return nil, err
	}
	return map[string]any{"model_version": s.versionJSON(vdir, meta)}, nil
}

func (s *Server) getByAlias(name, alias string) (any, *mlflowError) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	version, ok := s.aliases(dir)[alias]
	if !ok {
		return nil, badParam("Registered model alias %s not found.", alias)
	}
	return s.getModelVersion(name, version)
}

var stages = []string{"None", "Staging", "Production", "Archived"}

func (s *Server) versions(dir string) map[string]map[string]any {
	out := map[string]map[string]any{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "version-") {
			if meta, ok := readYAML(filepath.Join(dir, e.Name(), "meta.yaml")); ok {
				out[filepath.Join(dir, e.Name())] = meta
			}
		}
	}
	return out
}

func (s *Server) getLatestVersions(name string, want []string) (any, *mlflowError) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	if len(want) == 0 {
		want = stages
	}
	canon := map[string]bool{}
	for _, w := range want {
		found := false
		for _, st := range stages {
			if strings.EqualFold(w, st) {
				canon[st], found = true, true
			}
		}
		if !found {
			return nil, badParam("Invalid Model Version stage: %s. Value must be one of None, Staging, Production, Archived.", w)
		}
	}
	latest := map[string]string{}
	best := map[string]int{}
	for vdir, meta := range s.versions(dir) {
		st := str(meta, "current_stage")
		n, _ := strconv.Atoi(str(meta, "version"))
		if canon[st] && n > best[st] {
			best[st], latest[st] = n, vdir
		}
	}
	var out []map[string]any
	for _, st := range stages {
		if vdir, ok := latest[st]; ok {
			meta, _ := readYAML(filepath.Join(vdir, "meta.yaml"))
			out = append(out, s.versionJSON(vdir, meta))
		}
	}
	resp := map[string]any{}
	if len(out) > 0 {
		resp["model_versions"] = out
	}
	return resp, nil
}

func (s *Server) getRegisteredModel(name string) (any, *mlflowError) {
	dir, err := s.modelDir(name)
	if err != nil {
		return nil, err
	}
	meta, _ := readYAML(filepath.Join(dir, "meta.yaml"))
	rm := map[string]any{
		"name": name, "creation_timestamp": num(meta, "creation_timestamp"),
		"last_updated_timestamp": num(meta, "last_updated_timestamp"),
		"description":            str(meta, "description"),
	}
	if lv, _ := s.getLatestVersions(name, nil); lv != nil {
		if vs, ok := lv.(map[string]any)["model_versions"]; ok {
			rm["latest_versions"] = vs
		}
	}
	var al []map[string]any
	for a, v := range s.aliases(dir) {
		al = append(al, map[string]any{"alias": a, "version": v})
	}
	if len(al) > 0 {
		sort.Slice(al, func(i, j int) bool { return al[i]["alias"].(string) < al[j]["alias"].(string) })
		rm["aliases"] = al
	}
	return map[string]any{"registered_model": rm}, nil
}

func (s *Server) getDownloadURI(name, version string) (any, *mlflowError) {
	_, meta, err := s.readVersion(name, version)
	if err != nil {
		return nil, err
	}
	uri := str(meta, "storage_location")
	if uri == "" {
		uri = str(meta, "source")
	}
	return map[string]any{"artifact_uri": s.rewrite(uri)}, nil
}

// ---- the artifact proxy

func (s *Server) local(p string) (string, *mlflowError) {
	clean := path.Clean("/" + p)
	if strings.Contains(p, "..") || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return "", badParam("Invalid path")
	}
	return filepath.Join(s.opts.Artifacts, filepath.FromSlash(clean)), nil
}

func (s *Server) listArtifacts(p string) (any, *mlflowError) {
	dir, err := s.local(p)
	if err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir(dir)
	var files []map[string]any
	for _, e := range entries {
		f := map[string]any{"path": e.Name(), "is_dir": e.IsDir()}
		if !e.IsDir() {
			if info, err := e.Info(); err == nil {
				f["file_size"] = info.Size()
			}
		}
		files = append(files, f)
	}
	resp := map[string]any{}
	if len(files) > 0 {
		resp["files"] = files
	}
	return resp, nil
}

func (s *Server) download(w http.ResponseWriter, p string) {
	f, err := s.local(p)
	if err != nil {
		writeJSON(w, err.status, map[string]string{"error_code": err.code, "message": err.msg})
		return
	}
	data, e := os.ReadFile(f)
	if e != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "File not found"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// truncated sends half a file and cuts the connection.
func (s *Server) truncated(w http.ResponseWriter, r *http.Request) {
	f, err := s.local(strings.TrimPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/"))
	if err != nil {
		return
	}
	data, _ := os.ReadFile(f)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data[:len(data)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
}
