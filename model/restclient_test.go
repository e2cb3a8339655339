package model

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlbatch/mlbatch/model/store/mlflowtest"
)

func init() {
	// Keep retries fast in tests.
	retryPolicy.base = time.Millisecond
	retryPolicy.max = 4 * time.Millisecond
}

// sameFiles checks that two model folders hold the same files, byte for byte.
func sameFiles(t *testing.T, got, want string) {
	t.Helper()
	n := 0
	err := filepath.Walk(want, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		b, _ := os.ReadFile(p)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", filepath.Join(got, rel), p)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("compared %d files: %v", n, err)
	}
	var extra int
	filepath.Walk(got, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			extra++
		}
		return nil
	})
	if extra != n {
		t.Errorf("%s holds %d files, want %d", got, extra, n)
	}
}

func serverLayout(t *testing.T) *mlflowtest.Server {
	srv := mlflowtest.New(mlflowtest.Options{
		Store:     filepath.Join(registryData, "server", "mlruns"),
		Artifacts: filepath.Join(registryData, "server", "mlartifacts"),
	})
	t.Cleanup(srv.Close)
	return srv
}

// TestRESTRegistry resolves every URI form and failure of the server layout
// through the REST API and the artifact proxy: each form of one model lands in
// the same cache folder, with the files the server holds.
func TestRESTRegistry(t *testing.T) {
	srv := serverLayout(t)
	cache := t.TempDir()
	dirs := map[string]string{} // expected folder -> cache folder
	for _, c := range readRegistryCases(t) {
		if c.Store != "server" {
			continue
		}
		t.Run(c.URI, func(t *testing.T) {
			dir, err := Resolve(c.URI, ResolveOptions{TrackingURI: srv.URL, CacheDir: cache})
			if c.ExpectError != "" {
				contains := c.Contains
				if c.ExpectError == "deleted_version" {
					// The server answers "not found" for deleted versions.
					contains = []string{"version 3", "not found"}
				}
				checkResolveError(t, c.URI, err, contains...)
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !within(cache, dir) {
				t.Errorf("resolved to %s, outside the cache %s", dir, cache)
			}
			if prev, ok := dirs[c.ExpectDir]; ok && prev != dir {
				t.Errorf("resolved to %s, other forms of the same model to %s", dir, prev)
			}
			dirs[c.ExpectDir] = dir
			sameFiles(t, dir, filepath.Join(registryData, c.ExpectDir))
		})
	}
	if len(dirs) != 2 {
		t.Errorf("%d distinct models, want 2", len(dirs))
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/api/2.0/mlflow/") && !strings.HasPrefix(r.Path, "/api/2.0/mlflow/") {
			t.Errorf("unexpected endpoint %s", r.Path)
		}
	}
}

// TestRESTFileStoreFixture serves testdata/mlruns (the plain file store fixture)
// as a server with --serve-artifacts would, and resolves every URI of
// fixtures.json to a cached copy of the folder the file store resolves to.
func TestRESTFileStoreFixture(t *testing.T) {
	store := filepath.Join(testdata, "mlruns")
	srv := mlflowtest.New(mlflowtest.Options{
		Store: store, Artifacts: store,
		Rewrite: map[string]string{"file:///home/alice/project/mlruns/": "mlflow-artifacts:/"},
	})
	defer srv.Close()
	cache := t.TempDir()
	for _, c := range readManifest(t).Resolve {
		t.Run(c.URI, func(t *testing.T) {
			dir, err := Resolve(c.URI, ResolveOptions{TrackingURI: srv.URL, CacheDir: cache})
			if c.ExpectError != "" || strings.Contains(c.ExpectDir, "/.trash/") {
				checkResolveError(t, c.URI, err)
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sameFiles(t, dir, filepath.Join(testdata, c.ExpectDir))
		})
	}
}

// TestRESTCache checks that a second resolution reuses the download, and that an
// interrupted download leaves nothing that a later run would use.
func TestRESTCache(t *testing.T) {
	srv := serverLayout(t)
	cache := t.TempDir()
	uri := "models:/diabetes-ridge@champion"

	srv.Inject(mlflowtest.Fault{Path: "/mlflow-artifacts/artifacts/526374859607182930/models/m-31305e1389e0732a9d828fa54fe115c2/artifacts/model.pkl", Truncate: true, Times: 2})
	_, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: cache})
	checkResolveError(t, uri, err, "downloading", "model.pkl")
	t.Log(err)
	entries, _ := os.ReadDir(cache)
	if len(entries) != 0 {
		t.Fatalf("an interrupted download left %v in the cache", entries)
	}

	var debug []string
	opts := ResolveOptions{TrackingURI: srv.URL, CacheDir: cache, Debug: func(m string) { debug = append(debug, m) }}
	dir, err := Resolve(uri, opts)
	if err != nil {
		t.Fatal(err)
	}
	downloads := srv.Count("/mlflow-artifacts/artifacts/")
	dir2, err := Resolve(uri, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dir2 != dir {
		t.Errorf("second run resolved to %s, first to %s", dir2, dir)
	}
	if n := srv.Count("/mlflow-artifacts/artifacts/"); n != downloads {
		t.Errorf("second run made %d artifact requests", n-downloads)
	}
	if !anyContains(debug, "using the cached copy") {
		t.Errorf("no debug note about the cache: %q", debug)
	}
	// A leftover temporary folder from a dead run is never taken for a model.
	os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(cache, ".tmp-"+filepath.Base(dir)+"-123"), 0o755)
	if dir3, err := Resolve(uri, opts); err != nil || dir3 != dir {
		t.Errorf("after removing the cached copy: %s, %v", dir3, err)
	}
}

// TestRESTAuth checks bearer and basic credentials, and the 401/403 messages.
func TestRESTAuth(t *testing.T) {
	base := mlflowtest.Options{
		Store:     filepath.Join(registryData, "server", "mlruns"),
		Artifacts: filepath.Join(registryData, "server", "mlartifacts"),
	}
	uri := "models:/diabetes-ridge/1"
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}

	o := base
	o.Token = "s3cr3t-token"
	srv := mlflowtest.New(o)
	defer srv.Close()
	if _, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir(), Getenv: env("MLFLOW_TRACKING_TOKEN", "s3cr3t-token")}); err != nil {
		t.Errorf("bearer token: %v", err)
	}
	for _, r := range srv.Requests() {
		if r.Authorization != "Bearer s3cr3t-token" {
			t.Errorf("%s sent Authorization %q", r.Path, r.Authorization)
		}
	}
	_, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir(), Getenv: env("MLFLOW_TRACKING_TOKEN", "wrong-secret")})
	checkResolveError(t, uri, err, "401", srv.URL, "MLFLOW_TRACKING_TOKEN")
	t.Log(err)
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("the error prints the token: %s", err)
	}
	_, err = Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir(), Getenv: env()})
	checkResolveError(t, uri, err, "401", "set MLFLOW_TRACKING_TOKEN")

	o = base
	o.User, o.Password = "bob", "hunter2"
	srv2 := mlflowtest.New(o)
	defer srv2.Close()
	if _, err := Resolve(uri, ResolveOptions{TrackingURI: srv2.URL, CacheDir: t.TempDir(),
		Getenv: env("MLFLOW_TRACKING_USERNAME", "bob", "MLFLOW_TRACKING_PASSWORD", "hunter2", "MLFLOW_TRACKING_TOKEN", "ignored")}); err != nil {
		t.Errorf("basic auth: %v", err)
	}
	withUser := strings.Replace(srv2.URL, "http://", "http://bob:hunter2@", 1)
	if _, err := Resolve(uri, ResolveOptions{TrackingURI: withUser, CacheDir: t.TempDir(), Getenv: env()}); err != nil {
		t.Errorf("credentials in the tracking URI: %v", err)
	}
	badUser := strings.Replace(srv2.URL, "http://", "http://bob:letmein@", 1)
	_, err = Resolve(uri, ResolveOptions{TrackingURI: badUser, CacheDir: t.TempDir(), Getenv: env()})
	checkResolveError(t, uri, err, "401")
	if strings.Contains(err.Error(), "letmein") {
		t.Errorf("the error prints the password: %s", err)
	}

	srv3 := serverLayout(t)
	srv3.Inject(mlflowtest.Fault{Path: "/registered-models/alias", Status: http.StatusForbidden, Times: 1})
	_, err = Resolve("models:/diabetes-ridge@champion", ResolveOptions{TrackingURI: srv3.URL, CacheDir: t.TempDir()})
	checkResolveError(t, "models:/diabetes-ridge@champion", err, "403", "denied", `alias "champion"`)
	t.Log(err)
}

func TestRESTInsecureTLS(t *testing.T) {
	srv := mlflowtest.NewTLS(mlflowtest.Options{
		Store:     filepath.Join(registryData, "server", "mlruns"),
		Artifacts: filepath.Join(registryData, "server", "mlartifacts"),
	})
	defer srv.Close()
	uri := "models:/diabetes-ridge/2"
	_, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir(), Getenv: func(string) string { return "" }})
	checkResolveError(t, uri, err, "certificate", "MLFLOW_TRACKING_INSECURE_TLS")
	if strings.Contains(err.Error(), "attempts") {
		t.Errorf("an untrusted certificate was retried: %s", err)
	}
	t.Log(err)
	insecure := func(k string) string {
		if k == "MLFLOW_TRACKING_INSECURE_TLS" {
			return "true"
		}
		return ""
	}
	if _, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir(), Getenv: insecure}); err != nil {
		t.Errorf("MLFLOW_TRACKING_INSECURE_TLS=true: %v", err)
	}
}

// TestRESTRetries checks bounded retries with backoff on 429 and 5xx.
func TestRESTRetries(t *testing.T) {
	srv := serverLayout(t)
	uri := "models:/diabetes-ridge/Production"
	srv.Inject(mlflowtest.Fault{Path: "/get-latest-versions", Status: http.StatusServiceUnavailable, Times: 2})
	srv.Inject(mlflowtest.Fault{Path: "/model-versions/get-download-uri", Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 1})
	if _, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir()}); err != nil {
		t.Fatalf("after transient failures: %v", err)
	}
	if n := srv.Count("/get-latest-versions"); n != 3 {
		t.Errorf("get-latest-versions asked %d times, want 3", n)
	}
	srv.Inject(mlflowtest.Fault{Path: "/get-latest-versions", Status: http.StatusInternalServerError, Times: 100})
	before := srv.Count("/get-latest-versions")
	_, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: t.TempDir()})
	checkResolveError(t, uri, err, "HTTP 500", "after 5 attempts")
	t.Log(err)
	if n := srv.Count("/get-latest-versions") - before; n != retryPolicy.attempts {
		t.Errorf("%d attempts, want %d", n, retryPolicy.attempts)
	}
}

func TestRESTUnreachableAndNotMLflow(t *testing.T) {
	srv := serverLayout(t)
	url := srv.URL
	srv.Close()
	for _, uri := range []string{"models:/diabetes-ridge/1", "runs:/f133b19978fd36a9d2e2995ebb9dc9f5/challenger", "models:/m-31305e1389e0732a9d828fa54fe115c2"} {
		_, err := Resolve(uri, ResolveOptions{TrackingURI: url, CacheDir: t.TempDir()})
		checkResolveError(t, uri, err, "tracking server "+url+" is unreachable")
		t.Log(err)
	}
	other := mlflowtest.New(mlflowtest.Options{Store: t.TempDir(), Artifacts: t.TempDir()})
	defer other.Close()
	_, err := Resolve("models:/diabetes-ridge/1", ResolveOptions{TrackingURI: other.URL + "/not-mlflow", CacheDir: t.TempDir()})
	checkResolveError(t, "models:/diabetes-ridge/1", err, "has no endpoint", "/not-mlflow/api/2.0/mlflow/model-versions/get")
	t.Log(err)
}

// TestRESTSharedExamples serves the real stores MLflow wrote (a 3.2 server layout,
// a 2.16 file store registry) and resolves their URIs through the REST API.
func TestRESTSharedExamples(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "mlflow-examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent (%v)", root, err)
	}
	cal := filepath.Join(root, "california-linreg-mlflow32-logged-model-mlartifacts", "store")
	iris := filepath.Join(root, "iris-svc-registry-skl151", "store")
	cases := []struct {
		opts mlflowtest.Options
		uris []string
		want string
	}{
		{mlflowtest.Options{Store: filepath.Join(cal, "mlruns"), Artifacts: filepath.Join(cal, "mlartifacts")},
			[]string{"models:/m-fd08e077f0d14310a8aadd99256d7f8b", "runs:/206e329dcacd492992e6707ba65ddccd/model", "runs:/206e329dcacd492992e6707ba65ddccd"},
			filepath.Join(cal, "mlartifacts", "340664372522611120", "models", "m-fd08e077f0d14310a8aadd99256d7f8b", "artifacts")},
		{mlflowtest.Options{Store: filepath.Join(iris, "mlruns"), Artifacts: filepath.Join(iris, "mlruns"),
			Rewrite: map[string]string{"file:///Users/muskaanjain/Downloads/Data_ML_Ops/MLOps_CA2_Iris/mlruns/": "mlflow-artifacts:/"}},
			[]string{"runs:/8595f7931d3943f4a7ee038c1728c2c3/model", "models:/SVMClassifier/1", "models:/SVMClassifier/latest"},
			filepath.Join(iris, "mlruns", "853099972095872099", "8595f7931d3943f4a7ee038c1728c2c3", "artifacts", "model")},
	}
	for _, c := range cases {
		srv := mlflowtest.New(c.opts)
		cache := t.TempDir()
		for _, uri := range c.uris {
			dir, err := Resolve(uri, ResolveOptions{TrackingURI: srv.URL, CacheDir: cache})
			if err != nil {
				t.Errorf("%s: %v", uri, err)
				continue
			}
			sameFiles(t, dir, c.want)
		}
		srv.Close()
	}
}
