package model

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// restStore talks to an MLflow tracking server through its REST API, and
// downloads model folders through its artifact proxy (mlflow-artifacts:/) into a
// local cache, one folder per artifact location.
type restStore struct {
	base     *url.URL // the tracking URI without user info
	client   *http.Client
	authz    string // the Authorization header value, "" for none
	authFrom string // which settings the credentials came from, for messages
	cache    string
	opts     ResolveOptions
	lists    map[string][]proxyFile
}

// retryPolicy bounds retries of requests that failed with 429, 5xx or a network
// error: attempts in all, exponential backoff from base, at most max apart.
var retryPolicy = struct {
	attempts  int
	base, max time.Duration
}{5, 500 * time.Millisecond, 8 * time.Second}

const (
	apiPrefix   = "/api/2.0/mlflow/"
	proxyPrefix = "/api/2.0/mlflow-artifacts/artifacts"
	// maxFiles bounds how many files one model download may hold.
	maxFiles = 10000
)

func openRESTStore(trackingURI string, opts ResolveOptions) (store, error) {
	u, err := url.Parse(strings.TrimRight(trackingURI, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("tracking URI %q: not a valid server URL", redactURL(trackingURI))
	}
	s := &restStore{opts: opts, lists: map[string][]proxyFile{}}
	user, pass := opts.getenv("MLFLOW_TRACKING_USERNAME"), opts.getenv("MLFLOW_TRACKING_PASSWORD")
	token := opts.getenv("MLFLOW_TRACKING_TOKEN")
	if u.User != nil && user == "" {
		user = u.User.Username()
		pass, _ = u.User.Password()
		s.authFrom = "the user info in the tracking URI"
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	s.base = u
	// MLflow's precedence: username and password, else a token.
	switch {
	case user != "" && pass != "":
		s.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		if s.authFrom == "" {
			s.authFrom = "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
		}
	case token != "":
		s.authz = "Bearer " + token
		s.authFrom = "MLFLOW_TRACKING_TOKEN"
	}
	s.client = opts.HTTPClient
	if s.client == nil {
		if s.client, err = defaultHTTPClient(opts); err != nil {
			return nil, err
		}
	}
	s.cache = opts.CacheDir
	if s.cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		s.cache = filepath.Join(dir, "mlbatch", "models")
	}
	return s, nil
}

// defaultHTTPClient honours MLflow's client settings: MLFLOW_TRACKING_INSECURE_TLS,
// MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_TRACKING_CLIENT_CERT_PATH and
// MLFLOW_HTTP_REQUEST_TIMEOUT (seconds to wait for a response, default 120).
func defaultHTTPClient(opts ResolveOptions) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if v := strings.ToLower(opts.getenv("MLFLOW_TRACKING_INSECURE_TLS")); v == "true" || v == "1" {
		tlsConf.InsecureSkipVerify = true
	}
	if p := opts.getenv("MLFLOW_TRACKING_SERVER_CERT_PATH"); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s: no PEM certificate in it", p)
		}
		tlsConf.RootCAs = pool
	}
	if p := opts.getenv("MLFLOW_TRACKING_CLIENT_CERT_PATH"); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_CLIENT_CERT_PATH: %w", err)
		}
		cert, err := tls.X509KeyPair(pem, pem)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_CLIENT_CERT_PATH %s: want one PEM file with the certificate and its key: %w", p, err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	tr.TLSClientConfig = tlsConf
	tr.ResponseHeaderTimeout = 120 * time.Second
	if v := opts.getenv("MLFLOW_HTTP_REQUEST_TIMEOUT"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
			tr.ResponseHeaderTimeout = time.Duration(secs) * time.Second
		}
	}
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: tr}, nil
}

func (s *restStore) describe() string { return "tracking server " + s.base.String() }
func (s *restStore) close()           { s.client.CloseIdleConnections() }

// redactURL drops user info (user:password@) from a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + raw[i+1:]
			}
		}
		return raw
	}
	if u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// ---- HTTP

// apiError is a response other than 200 from the server.
type apiError struct {
	status   int
	code     string // MLflow's error_code, e.g. RESOURCE_DOES_NOT_EXIST
	message  string // MLflow's message, on one line
	endpoint string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.endpoint, e.status, http.StatusText(e.status))
	if e.code != "" {
		msg += " " + e.code
	}
	if e.message != "" {
		msg += ": " + e.message
	}
	return msg
}

// tlsError is a server whose certificate is not trusted; retrying cannot help.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

func isTLSError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &rh)
}

// netError is a server that could not be reached at all.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// oneLine flattens and shortens text that came from the network.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

func (s *restStore) endpointURL(u *url.URL, p string, q url.Values) string {
	v := *u
	v.Path = strings.TrimRight(u.Path, "/") + p
	v.RawPath = ""
	if q != nil {
		v.RawQuery = q.Encode()
	}
	return v.String()
}

// send runs one request with retries on 429, 5xx and network errors. The
// response body is the caller's on success (status 200).
func (s *restStore) send(method, target string, body []byte, sameHost bool, timeout time.Duration) (*http.Response, error) {
	endpoint := target
	if u, err := url.Parse(target); err == nil {
		endpoint = u.Path
	}
	var last error
	for attempt := 0; attempt < retryPolicy.attempts; attempt++ {
		if attempt > 0 {
			time.Sleep(s.backoff(attempt, last))
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			cancel()
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("User-Agent", "mlbatch")
		if s.authz != "" && sameHost {
			req.Header.Set("Authorization", s.authz)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			cancel()
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL is named by the caller
			}
			if isTLSError(err) {
				return nil, &tlsError{err}
			}
			last = &netError{err}
			continue
		}
		if resp.StatusCode == http.StatusOK {
			resp.Body = cancelOnClose{resp.Body, cancel}
			return resp, nil
		}
		ae := &apiError{status: resp.StatusCode, endpoint: endpoint}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		var eb struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &eb) == nil {
			ae.code, ae.message = eb.Code, oneLine(eb.Message, 300)
		}
		last = ae
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				if secs, err := strconv.Atoi(ra); err == nil {
					last = &retryAfter{ae, time.Duration(secs) * time.Second}
				}
			}
			continue
		}
		return nil, ae
	}
	var ra *retryAfter
	if errors.As(last, &ra) {
		last = ra.apiError
	}
	return nil, &retriesError{last: last, attempts: retryPolicy.attempts}
}

// Time limits for one request, response included: API calls, and one file.
const (
	apiTimeout      = 2 * time.Minute
	downloadTimeout = 30 * time.Minute
)

// cancelOnClose releases a request's context once its body is read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

type retryAfter struct {
	*apiError
	wait time.Duration
}

type retriesError struct {
	last     error
	attempts int
}

func (e *retriesError) Error() string {
	return fmt.Sprintf("%v (after %d attempts)", e.last, e.attempts)
}
func (e *retriesError) Unwrap() error { return e.last }

func (s *restStore) backoff(attempt int, last error) time.Duration {
	d := retryPolicy.base << (attempt - 1)
	if d > retryPolicy.max || d <= 0 {
		d = retryPolicy.max
	}
	d = d/2 + rand.N(d/2+1) // jitter
	var ra *retryAfter
	if errors.As(last, &ra) && ra.wait > d {
		d = min(ra.wait, retryPolicy.max)
	}
	return d
}

// call sends a request to the MLflow REST API and decodes the JSON response.
func (s *restStore) call(method, endpoint string, q url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, err := s.send(method, s.endpointURL(s.base, apiPrefix+endpoint, q), body, true, apiTimeout)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s%s: invalid JSON response: %w", apiPrefix, endpoint, err)
	}
	return nil
}

// isMissing reports MLflow's RESOURCE_DOES_NOT_EXIST answer (a 404 without it
// is an endpoint the server does not have).
func isMissing(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.code == "RESOURCE_DOES_NOT_EXIST"
}

// fail turns a transport or HTTP error into a one-line message naming the server
// and what was asked, never the credentials.
func (s *restStore) fail(err error, what string) error {
	base := s.base.String()
	var te *tlsError
	if errors.As(err, &te) {
		return fmt.Errorf("tracking server %s: TLS: %v: set MLFLOW_TRACKING_SERVER_CERT_PATH to its CA certificate, or MLFLOW_TRACKING_INSECURE_TLS=true to skip the check", base, te.err)
	}
	var ne *netError
	if errors.As(err, &ne) {
		return fmt.Errorf("tracking server %s is unreachable: %v", base, err)
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		return fmt.Errorf("tracking server %s: %s: %w", base, what, err)
	}
	switch ae.status {
	case http.StatusUnauthorized:
		hint := "set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
		if s.authFrom != "" {
			hint = "check the credentials in " + s.authFrom
		}
		return fmt.Errorf("tracking server %s refused to authenticate the request for %s (HTTP 401 Unauthorized): %s", base, what, hint)
	case http.StatusForbidden:
		return fmt.Errorf("tracking server %s denied access to %s (HTTP 403 Forbidden): the user needs read permission on it", base, what)
	case http.StatusNotFound:
		if ae.code == "" || ae.code == "ENDPOINT_NOT_FOUND" {
			return fmt.Errorf("tracking server %s has no endpoint %s (HTTP 404) for %s: is it an MLflow tracking server (MLflow 3 or later for logged models), with --serve-artifacts for downloads?", base, ae.endpoint, what)
		}
	}
	return fmt.Errorf("tracking server %s: %s: %v", base, what, err)
}

// ---- JSON shapes of the MLflow REST API

// flexString decodes a JSON string or number (int64 fields are numbers in
// MLflow's JSON, versions are strings).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	*f = flexString(strings.TrimSpace(string(b)))
	return nil
}

type kvJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type runJSON struct {
	Info struct {
		RunID          string     `json:"run_id"`
		ExperimentID   flexString `json:"experiment_id"`
		ArtifactURI    string     `json:"artifact_uri"`
		LifecycleStage string     `json:"lifecycle_stage"`
	} `json:"info"`
	Data struct {
		Tags []kvJSON `json:"tags"`
	} `json:"data"`
}

type loggedModelJSON struct {
	Info struct {
		ModelID      string     `json:"model_id"`
		ExperimentID flexString `json:"experiment_id"`
		Name         string     `json:"name"`
		ArtifactURI  string     `json:"artifact_uri"`
		SourceRunID  string     `json:"source_run_id"`
	} `json:"info"`
}

type modelVersionJSON struct {
	Name         string     `json:"name"`
	Version      flexString `json:"version"`
	CurrentStage string     `json:"current_stage"`
	Source       string     `json:"source"`
	RunID        string     `json:"run_id"`
	ModelID      string     `json:"model_id"`
}

func (m *modelVersionJSON) info() *versionInfo {
	return &versionInfo{name: m.Name, version: string(m.Version), stage: m.CurrentStage,
		source: m.Source, runID: m.RunID, model: m.ModelID}
}

// ---- tracking and registry lookups

func (s *restStore) experimentDeleted(id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	var resp struct {
		Experiment struct {
			LifecycleStage string `json:"lifecycle_stage"`
		} `json:"experiment"`
	}
	err := s.call("GET", "experiments/get", url.Values{"experiment_id": {id}}, nil, &resp)
	if err != nil {
		if isMissing(err) {
			return false, nil
		}
		return false, s.fail(err, "experiment "+id)
	}
	return resp.Experiment.LifecycleStage == "deleted", nil
}

func (s *restStore) run(id string) (*runInfo, error) {
	var resp struct {
		Run runJSON `json:"run"`
	}
	if err := s.call("GET", "runs/get", url.Values{"run_id": {id}}, nil, &resp); err != nil {
		if isMissing(err) {
			return nil, notFoundf("run %s not found on %s", id, s.describe())
		}
		return nil, s.fail(err, "run "+id)
	}
	info := resp.Run.Info
	r := &runInfo{
		id:           id,
		experimentID: string(info.ExperimentID),
		art:          artLoc{uri: info.ArtifactURI},
		deleted:      info.LifecycleStage == "deleted",
	}
	for _, t := range resp.Run.Data.Tags {
		if t.Key == "mlflow.log-model.history" {
			r.history = t.Value
		}
	}
	var err error
	if r.experimentDeleted, err = s.experimentDeleted(r.experimentID); err != nil {
		return nil, err
	}
	return r, nil
}

func (s *restStore) lmInfo(m *loggedModelJSON) *loggedModelInfo {
	return &loggedModelInfo{
		id:           m.Info.ModelID,
		experimentID: string(m.Info.ExperimentID),
		name:         m.Info.Name,
		sourceRunID:  m.Info.SourceRunID,
		art:          artLoc{uri: m.Info.ArtifactURI},
	}
}

func (s *restStore) loggedModel(id string) (*loggedModelInfo, error) {
	if !idRe.MatchString(id) {
		return nil, notFoundf("logged model %s not found on %s", id, s.describe())
	}
	var resp struct {
		Model loggedModelJSON `json:"model"`
	}
	if err := s.call("GET", "logged-models/"+id, nil, nil, &resp); err != nil {
		if isMissing(err) {
			return nil, notFoundf("logged model %s not found on %s", id, s.describe())
		}
		return nil, s.fail(err, "logged model "+id)
	}
	lm := s.lmInfo(&resp.Model)
	var err error
	if lm.experimentDeleted, err = s.experimentDeleted(lm.experimentID); err != nil {
		return nil, err
	}
	return lm, nil
}

// runLoggedModels searches the run's experiment as MLflow's runs:/ resolution
// does: by name on the server, by source run here.
func (s *restStore) runLoggedModels(run *runInfo, name string) ([]*loggedModelInfo, error) {
	if strings.Contains(name, "'") {
		return nil, nil
	}
	req := map[string]any{"experiment_ids": []string{run.experimentID}, "max_results": 100}
	if name != "" {
		req["filter"] = "name = '" + name + "'"
	}
	var out []*loggedModelInfo
	for page := 0; page < 50; page++ {
		var resp struct {
			Models        []loggedModelJSON `json:"models"`
			NextPageToken string            `json:"next_page_token"`
		}
		if err := s.call("POST", "logged-models/search", nil, req, &resp); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.status == http.StatusNotFound {
				return nil, nil // a server older than MLflow 3 has no logged models
			}
			return nil, s.fail(err, "the logged models of run "+run.id)
		}
		for i := range resp.Models {
			if lm := s.lmInfo(&resp.Models[i]); lm.sourceRunID == run.id && (name == "" || lm.name == name) {
				out = append(out, lm)
			}
		}
		if resp.NextPageToken == "" {
			break
		}
		req["page_token"] = resp.NextPageToken
	}
	return out, nil
}

type registeredModelJSON struct {
	Name    string `json:"name"`
	Aliases []struct {
		Alias   string     `json:"alias"`
		Version flexString `json:"version"`
	} `json:"aliases"`
}

func (s *restStore) getRegisteredModel(name string) (*registeredModelJSON, error) {
	var resp struct {
		RegisteredModel registeredModelJSON `json:"registered_model"`
	}
	if err := s.call("GET", "registered-models/get", url.Values{"name": {name}}, nil, &resp); err != nil {
		if isMissing(err) {
			return nil, errNoRegisteredModel(name, s.describe())
		}
		return nil, s.fail(err, fmt.Sprintf("registered model %q", name))
	}
	return &resp.RegisteredModel, nil
}

func (s *restStore) registeredModel(name string) error {
	_, err := s.getRegisteredModel(name)
	return err
}

func (s *restStore) version(name, version string) (*versionInfo, error) {
	var resp struct {
		ModelVersion modelVersionJSON `json:"model_version"`
	}
	err := s.call("GET", "model-versions/get", url.Values{"name": {name}, "version": {version}}, nil, &resp)
	if err != nil {
		if isMissing(err) {
			if err := s.registeredModel(name); err != nil {
				return nil, err
			}
			return nil, errNoVersion(name, version, s.describe(), false)
		}
		return nil, s.fail(err, fmt.Sprintf("version %s of registered model %q", version, name))
	}
	return resp.ModelVersion.info(), nil
}

func (s *restStore) aliasVersion(name, alias string) (*versionInfo, error) {
	var resp struct {
		ModelVersion modelVersionJSON `json:"model_version"`
	}
	err := s.call("GET", "registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, nil, &resp)
	if err != nil {
		var ae *apiError
		// A missing alias is INVALID_PARAMETER_VALUE (400); a missing model 404.
		if isMissing(err) || errors.As(err, &ae) && ae.code == "INVALID_PARAMETER_VALUE" {
			rm, err := s.getRegisteredModel(name)
			if err != nil {
				return nil, err
			}
			var have []string
			for _, a := range rm.Aliases {
				have = append(have, a.Alias)
			}
			return nil, errNoAlias(name, alias, have)
		}
		return nil, s.fail(err, fmt.Sprintf("alias %q of registered model %q", alias, name))
	}
	return resp.ModelVersion.info(), nil
}

func (s *restStore) latestVersion(name, stage string) (*versionInfo, error) {
	req := map[string]any{"name": name}
	if stage != "" {
		req["stages"] = []string{stage}
	}
	var resp struct {
		ModelVersions []modelVersionJSON `json:"model_versions"`
	}
	if err := s.call("POST", "registered-models/get-latest-versions", nil, req, &resp); err != nil {
		if isMissing(err) {
			return nil, errNoRegisteredModel(name, s.describe())
		}
		return nil, s.fail(err, fmt.Sprintf("the latest versions of registered model %q", name))
	}
	var vs []*versionInfo
	for i := range resp.ModelVersions {
		vs = append(vs, resp.ModelVersions[i].info())
	}
	return pickLatest(name, stage, vs)
}

func (s *restStore) downloadURI(v *versionInfo) (string, error) {
	var resp struct {
		ArtifactURI string `json:"artifact_uri"`
	}
	err := s.call("GET", "model-versions/get-download-uri", url.Values{"name": {v.name}, "version": {v.version}}, nil, &resp)
	if err != nil {
		return "", s.fail(err, fmt.Sprintf("the download URI of version %s of registered model %q", v.version, v.name))
	}
	if resp.ArtifactURI == "" {
		return v.source, nil
	}
	return resp.ArtifactURI, nil
}

// ---- artifacts through the proxy

type proxyFile struct {
	Path     string     `json:"path"`
	IsDir    bool       `json:"is_dir"`
	FileSize flexString `json:"file_size"`
}

// remote is an artifact folder served by a tracking server's artifact proxy.
type remote struct {
	server *url.URL // scheme://host[/prefix] of the server
	path   string   // the folder under the artifacts destination, slash-separated
}

func (r remote) String() string { return "mlflow-artifacts:/" + r.path }

// remoteOf maps an artifact location to the proxy, as MLflow's client does for
// mlflow-artifacts:/path (this server) and mlflow-artifacts://host:port/path.
func (s *restStore) remoteOf(loc artLoc, sub string) (remote, bool, error) {
	u, err := url.Parse(loc.uri)
	if err != nil {
		return remote{}, false, fmt.Errorf("artifact location %q: %w", redactURL(loc.uri), err)
	}
	var r remote
	switch strings.ToLower(u.Scheme) {
	case "mlflow-artifacts":
		srv := *s.base
		if u.Host != "" {
			srv.Host = u.Host
		}
		r = remote{server: &srv, path: u.Path}
	case "http", "https":
		i := strings.Index(u.Path, proxyPrefix)
		if i < 0 {
			return remote{}, false, nil
		}
		srv := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path[:i]}
		r = remote{server: srv, path: u.Path[i+len(proxyPrefix):]}
	default:
		return remote{}, false, nil
	}
	var parts []string
	for _, seg := range strings.Split(r.path+"/"+sub, "/") {
		switch seg {
		case "", ".":
		case "..":
			return remote{}, false, fmt.Errorf("artifact location %s: path may not contain ..", loc.uri)
		default:
			parts = append(parts, seg)
		}
	}
	r.path = strings.Join(parts, "/")
	return r, true, nil
}

func (s *restStore) sameHost(srv *url.URL) bool {
	return srv.Scheme == s.base.Scheme && srv.Host == s.base.Host
}

// list lists one folder through the proxy.
func (s *restStore) list(r remote) ([]proxyFile, error) {
	key := r.String()
	if files, ok := s.lists[key]; ok {
		return files, nil
	}
	target := s.endpointURL(r.server, proxyPrefix, url.Values{"path": {r.path}})
	resp, err := s.send("GET", target, nil, s.sameHost(r.server), apiTimeout)
	if err != nil {
		if isMissing(err) {
			return nil, nil
		}
		return nil, s.fail(err, "listing "+r.String())
	}
	defer resp.Body.Close()
	var out struct {
		Files []proxyFile `json:"files"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("tracking server %s: listing %s: invalid JSON response: %w", s.base, r, err)
	}
	for _, f := range out.Files {
		name := path.Base(f.Path)
		if name != f.Path || !safeName(name) {
			return nil, fmt.Errorf("tracking server %s: listing %s: unsafe file name %q", s.base, r, oneLine(f.Path, 100))
		}
	}
	s.lists[key] = out.Files
	return out.Files, nil
}

func safeName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\\\x00")
}

func (s *restStore) localOnly(loc artLoc) (string, bool) {
	switch uriScheme(loc.uri) {
	case "file":
		p, err := fileURIPath(loc.uri)
		return p, err == nil
	case "":
		return loc.uri, true
	}
	return "", false
}

func (s *restStore) unsupported(loc artLoc) error {
	return fmt.Errorf("artifact location %s is not served through the tracking server's artifact proxy: mlbatch downloads models from mlflow-artifacts:/ locations (start the server with --serve-artifacts) and object stores (s3://, gs://, azblob://, wasbs://) or reads local paths",
		redactURL(loc.uri))
}

func (s *restStore) has(loc artLoc, sub string) (bool, error) {
	r, ok, err := s.remoteOf(loc, sub)
	if err != nil {
		return false, err
	}
	if !ok {
		if p, ok := s.localOnly(loc); ok {
			return exists(filepath.Join(p, filepath.FromSlash(sub), "MLmodel")), nil
		}
		if blobScheme(loc.uri) {
			return (&blobArtifacts{opts: s.opts}).has(loc, sub)
		}
		return false, s.unsupported(loc)
	}
	files, err := s.list(r)
	if err != nil {
		return false, err
	}
	for _, f := range files {
		if f.Path == "MLmodel" && !f.IsDir {
			return true, nil
		}
	}
	return false, nil
}

func (s *restStore) scan(loc artLoc, depth int) ([]string, error) {
	r, ok, err := s.remoteOf(loc, "")
	if err != nil {
		return nil, err
	}
	if !ok {
		if p, ok := s.localOnly(loc); ok {
			return newLocalArtifacts(p, false, s.opts).scan(artLoc{uri: p}, depth)
		}
		if blobScheme(loc.uri) {
			return (&blobArtifacts{opts: s.opts}).scan(loc, depth)
		}
		return nil, s.unsupported(loc)
	}
	var out []string
	var walk func(rel string, level int) error
	walk = func(rel string, level int) error {
		sub := r
		if rel != "" {
			sub.path += "/" + rel
		}
		files, err := s.list(sub)
		if err != nil {
			return err
		}
		for _, f := range files {
			if f.Path == "MLmodel" && !f.IsDir && rel != "" {
				out = append(out, rel)
			}
		}
		if level >= depth {
			return nil
		}
		for _, f := range files {
			if f.IsDir {
				if err := walk(path.Join(rel, f.Path), level+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *restStore) describeLoc(loc artLoc) string {
	return redactURL(loc.uri) + " on " + s.describe()
}

// fetch downloads the model folder at loc/sub into the cache, unless a complete
// copy is there already. The download goes to a temporary folder that is renamed
// into place only once every file arrived whole, so an interrupted download is
// never used.
func (s *restStore) fetch(loc artLoc, sub string) (string, error) {
	r, ok, err := s.remoteOf(loc, sub)
	if err != nil {
		return "", err
	}
	if !ok {
		if p, ok := s.localOnly(loc); ok {
			return localModelDirAt(filepath.Join(p, filepath.FromSlash(sub)), loc, sub)
		}
		if blobScheme(loc.uri) {
			return (&blobArtifacts{opts: s.opts}).fetch(loc, sub)
		}
		return "", s.unsupported(loc)
	}
	key := r.server.String() + proxyPrefix + "/" + r.path
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:16])
	final := filepath.Join(s.cache, name)
	if exists(filepath.Join(final, "MLmodel")) {
		s.opts.debugf("using the cached copy %s of %s", final, r)
		return final, nil
	}
	files, err := s.list(r)
	if err != nil {
		return "", err
	}
	if !hasMLmodel(files) {
		return "", notFoundf("no MLmodel file at %s", r)
	}
	if err := os.MkdirAll(s.cache, 0o755); err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	cleanStaleDownloads(s.cache)
	tmp, err := os.MkdirTemp(s.cache, ".tmp-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("model cache: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	count := 0
	if err := s.download(r, tmp, files, &count, 0); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if exists(filepath.Join(final, "MLmodel")) { // another process finished first
			return final, nil
		}
		return "", fmt.Errorf("model cache: %w", err)
	}
	done = true
	s.opts.debugf("downloaded %s (%d files) into %s", r, count, final)
	return final, nil
}

func hasMLmodel(files []proxyFile) bool {
	for _, f := range files {
		if f.Path == "MLmodel" && !f.IsDir {
			return true
		}
	}
	return false
}

func (s *restStore) download(r remote, dir string, files []proxyFile, count *int, depth int) error {
	if depth > 32 {
		return fmt.Errorf("tracking server %s: %s: folders nested too deep", s.base, r)
	}
	for _, f := range files {
		child := r
		child.path += "/" + f.Path
		dst := filepath.Join(dir, f.Path)
		if f.IsDir {
			if err := os.Mkdir(dst, 0o755); err != nil {
				return fmt.Errorf("model cache: %w", err)
			}
			sub, err := s.list(child)
			if err != nil {
				return err
			}
			if err := s.download(child, dst, sub, count, depth+1); err != nil {
				return err
			}
			continue
		}
		if *count++; *count > maxFiles {
			return fmt.Errorf("tracking server %s: %s holds more than %d files", s.base, r, maxFiles)
		}
		if err := s.downloadFile(child, dst, string(f.FileSize)); err != nil {
			return err
		}
	}
	return nil
}

// downloadFile fetches one file, retrying a transfer cut short.
func (s *restStore) downloadFile(r remote, dst, size string) error {
	want := int64(-1)
	if n, err := strconv.ParseInt(size, 10, 64); err == nil {
		want = n
	}
	segs := strings.Split(r.path, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	target := *r.server
	target.Path = strings.TrimRight(r.server.Path, "/") + proxyPrefix + "/" + r.path
	target.RawPath = strings.TrimRight(r.server.EscapedPath(), "/") + proxyPrefix + "/" + strings.Join(segs, "/")
	var last error
	for attempt := 0; attempt < 2; attempt++ {
		resp, err := s.send("GET", target.String(), nil, s.sameHost(r.server), downloadTimeout)
		if err != nil {
			return s.fail(err, "downloading "+r.String())
		}
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			resp.Body.Close()
			return fmt.Errorf("model cache: %w", err)
		}
		n, err := io.Copy(f, resp.Body)
		resp.Body.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		switch {
		case err != nil:
			last = fmt.Errorf("tracking server %s: downloading %s: %w", s.base, r, err)
		case want >= 0 && n != want:
			last = fmt.Errorf("tracking server %s: downloading %s: got %d bytes, the listing says %d", s.base, r, n, want)
		default:
			return nil
		}
	}
	return last
}

// cleanStaleDownloads removes temporary download folders left by runs that
// died more than a day ago.
func cleanStaleDownloads(cache string) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
			os.RemoveAll(filepath.Join(cache, e.Name()))
		}
	}
}

// localModelDirAt checks a local folder named by an artifact location.
func localModelDirAt(dir string, loc artLoc, sub string) (string, error) {
	if exists(filepath.Join(dir, "MLmodel")) {
		return dir, nil
	}
	what := loc.uri
	if sub != "" {
		what += " path " + sub
	}
	return "", notFoundf("no model found at %s (not on this machine)", what)
}
