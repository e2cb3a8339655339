package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/model/store/mlflowtest"
)

const registryData = testdata + "/registry"

type registryCases struct {
	Goldens struct {
		Challenger  string `json:"challenger"`
		LoggedModel string `json:"logged_model"`
		Input       string `json:"input"`
	} `json:"goldens"`
	Cases []struct {
		Store       string `json:"store"`
		TrackingURI string `json:"tracking_uri"`
		URI         string `json:"uri"`
		ExpectDir   string `json:"expect_dir"`
		ExpectError string `json:"expect_error"`
	} `json:"cases"`
}

// storeForms lists, for one store, the tracking URI and the URI forms of each of
// the two fixture models (the ridge "challenger" run artifact and the MLflow 3
// logged model).
type storeForms struct {
	name, tracking string
	forms          map[string][]string // golden -> URIs
}

func registryStores(t *testing.T) (stores []storeForms, golden map[string]string, input string) {
	t.Helper()
	var rc registryCases
	readJSON(t, filepath.Join(registryData, "cases.json"), &rc)
	golden = map[string]string{
		"challenger":   filepath.Join(registryData, rc.Goldens.Challenger),
		"logged_model": filepath.Join(registryData, rc.Goldens.LoggedModel),
	}
	input = filepath.Join(registryData, rc.Goldens.Input)
	byStore := map[string]*storeForms{}
	var order []string
	for _, c := range rc.Cases {
		if c.ExpectDir == "" {
			continue
		}
		sf := byStore[c.Store]
		if sf == nil {
			tracking := filepath.Join(registryData, c.TrackingURI)
			if p, ok := strings.CutPrefix(c.TrackingURI, "sqlite:///"); ok {
				tracking = "sqlite:///" + filepath.ToSlash(filepath.Join(registryData, p))
			}
			sf = &storeForms{name: c.Store, tracking: tracking, forms: map[string][]string{}}
			byStore[c.Store] = sf
			order = append(order, c.Store)
		}
		g := "logged_model"
		if strings.Contains(c.ExpectDir, "challenger") {
			g = "challenger"
		}
		sf.forms[g] = append(sf.forms[g], c.URI)
	}
	for _, s := range order {
		stores = append(stores, *byStore[s])
	}
	// The plain file store fixture, registry diabetes-ridge.
	stores = append(stores, storeForms{name: "file", tracking: filepath.Join(testdata, "mlruns"), forms: map[string][]string{
		"challenger": {"models:/diabetes-ridge/1", "models:/diabetes-ridge/Production", "models:/diabetes-ridge/production",
			"runs:/f133b19978fd36a9d2e2995ebb9dc9f5/challenger"},
		"logged_model": {"models:/diabetes-ridge/2", "models:/diabetes-ridge/latest", "models:/diabetes-ridge@champion",
			"models:/m-31305e1389e0732a9d828fa54fe115c2", "runs:/79f16c49d2daa1e5a8cc7415402381bc/model",
			"runs:/79f16c49d2daa1e5a8cc7415402381bc"},
	}})
	return stores, golden, input
}

// TestScoreRegistry scores every URI form of both fixture models on every store
// (file store, a tracking server's stores copied to disk, SQLite, and a tracking
// server over HTTP serving the first two) and compares with scikit-learn's
// predictions.
func TestScoreRegistry(t *testing.T) {
	stores, golden, input := registryStores(t)
	// The same stores behind a tracking server.
	var served []storeForms
	for _, sf := range stores {
		var srv *mlflowtest.Server
		switch sf.name {
		case "server":
			srv = mlflowtest.New(mlflowtest.Options{
				Store:     filepath.Join(registryData, "server", "mlruns"),
				Artifacts: filepath.Join(registryData, "server", "mlartifacts"),
			})
		case "file":
			srv = mlflowtest.New(mlflowtest.Options{
				Store: sf.tracking, Artifacts: sf.tracking,
				Rewrite: map[string]string{"file:///home/alice/project/mlruns/": "mlflow-artifacts:/"},
			})
		default:
			continue
		}
		t.Cleanup(srv.Close)
		served = append(served, storeForms{name: "http-" + sf.name, tracking: srv.URL, forms: sf.forms})
	}
	stores = append(stores, served...)
	if len(stores) != 5 {
		t.Fatalf("%d stores, want 5", len(stores))
	}
	cache := t.TempDir()
	for _, sf := range stores {
		for g, uris := range sf.forms {
			want := readTable(t, golden[g])
			for _, uri := range uris {
				t.Run(sf.name+"/"+uri, func(t *testing.T) {
					out := filepath.Join(t.TempDir(), "preds.csv")
					code, stderr := cli(t, "score", "--model", uri, "--tracking-uri", sf.tracking, "--cache-dir", cache,
						"--in", input, "--out", out, "--keep=", "-q")
					if code != 0 {
						t.Fatalf("exit %d: %s", code, stderr)
					}
					compareColumns(t, readTable(t, out), want, []string{"prediction"}, tolerance{Rel: 1e-9, Abs: 1e-12})
				})
			}
		}
	}
}

// TestScoreRegistryErrors checks the command line's one-line message and exit
// code for each registry failure.
func TestScoreRegistryErrors(t *testing.T) {
	input := filepath.Join(testdata, "models", "diabetes_input.csv")
	sqlite := "sqlite:///" + filepath.ToSlash(filepath.Join(registryData, "sqlite", "mlflow.db"))
	server := filepath.Join(registryData, "server", "mlruns")
	for _, c := range []struct{ name, tracking, uri, want string }{
		{"unknown name", sqlite, "models:/nope/1", `registered model "nope" not found`},
		{"unknown version", server, "models:/diabetes-ridge/12", `version 12 of registered model "diabetes-ridge" not found`},
		{"deleted version", sqlite, "models:/diabetes-ridge/3", "it was deleted"},
		{"missing alias", server, "models:/diabetes-ridge@prod", `registered model "diabetes-ridge" has no alias "prod"`},
		{"stage with no versions", sqlite, "models:/empty-model/Staging", `registered model "empty-model" has no version in stage "Staging"`},
		{"deleted run", server, "runs:/c262469a87c6eddcf43f5fccd05d150a/model", "which was deleted"},
		{"unknown run", sqlite, "runs:/0123456789abcdef0123456789abcdef/model", "run 0123456789abcdef0123456789abcdef not found"},
		{"databricks", "databricks", "models:/m/1", "not supported yet"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.csv")
			code, stderr := cli(t, "score", "--model", c.uri, "--tracking-uri", c.tracking, "--in", input, "--out", out)
			if code != 3 {
				t.Errorf("exit %d, want 3: %s", code, stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, c.uri+": ") || !strings.Contains(stderr, c.want) {
				t.Errorf("want one line naming %s and saying %q, got %q", c.uri, c.want, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output was written")
			}
		})
	}
}

// TestScoreArtifactsRootAndCache checks --artifacts-root, MLBATCH_ARTIFACTS_ROOT,
// and that a second run against a tracking server reuses --cache-dir.
func TestScoreArtifactsRootAndCache(t *testing.T) {
	input := filepath.Join(testdata, "models", "diabetes_input.csv")
	golden := readTable(t, filepath.Join(testdata, "golden", "mlruns", "mlflow3-logged-model.csv"))
	base := t.TempDir()
	copyDir(t, filepath.Join(registryData, "server", "mlruns"), filepath.Join(base, "meta", "mlruns"))
	copyDir(t, filepath.Join(registryData, "server", "mlartifacts"), filepath.Join(base, "files"))
	tracking := filepath.Join(base, "meta", "mlruns")
	score := func(extra ...string) (int, string) {
		out := filepath.Join(t.TempDir(), "p.csv")
		code, stderr := cli(t, append([]string{"score", "--model", "models:/diabetes-ridge@champion", "--tracking-uri", tracking,
			"--in", input, "--out", out, "--keep=", "-q"}, extra...)...)
		if code == 0 {
			compareColumns(t, readTable(t, out), golden, []string{"prediction"}, tolerance{Rel: 1e-9, Abs: 1e-12})
		}
		return code, stderr
	}
	if code, stderr := score(); code != 3 || !strings.Contains(stderr, "--artifacts-root") {
		t.Errorf("without an artifacts root: exit %d: %s", code, stderr)
	}
	if code, stderr := score("--artifacts-root", filepath.Join(base, "files")); code != 0 {
		t.Errorf("--artifacts-root: exit %d: %s", code, stderr)
	}
	t.Setenv("MLBATCH_ARTIFACTS_ROOT", filepath.Join(base, "files"))
	if code, stderr := score(); code != 0 {
		t.Errorf("MLBATCH_ARTIFACTS_ROOT: exit %d: %s", code, stderr)
	}

	srv := mlflowtest.New(mlflowtest.Options{Store: tracking, Artifacts: filepath.Join(base, "files"), Token: "t0ken"})
	defer srv.Close()
	tracking = srv.URL
	cache := filepath.Join(base, "cache")
	if code, stderr := score("--cache-dir", cache); code != 3 || !strings.Contains(stderr, "401") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("without a token: exit %d: %s", code, stderr)
	}
	t.Setenv("MLFLOW_TRACKING_TOKEN", "t0ken")
	if code, stderr := score("--cache-dir", cache, "-v"); code != 0 || !strings.Contains(stderr, "downloaded") {
		t.Errorf("first run: exit %d: %s", code, stderr)
	}
	files := srv.Count("/api/2.0/mlflow-artifacts/")
	t.Setenv("MLBATCH_CACHE_DIR", cache)
	if code, stderr := score("-v"); code != 0 || !strings.Contains(stderr, "using the cached copy") {
		t.Errorf("second run: exit %d: %s", code, stderr)
	}
	if n := srv.Count("/api/2.0/mlflow-artifacts/"); n != files {
		t.Errorf("the second run asked the artifact proxy %d more times", n-files)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestScoreSharedRegistry scores the real stores of ../shared/mlflow-examples
// through their registry and logged-model URIs.
func TestScoreSharedRegistry(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "mlflow-examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent (%v)", root, err)
	}
	for _, c := range []struct{ example, tracking, golden string }{
		{"iris-svc-registry-skl151", "store/mlruns", "expected_shim.csv"},
		{"california-linreg-mlflow32-logged-model-mlartifacts", "store/mlruns", "expected.csv"},
		{"breastcancer-logreg-skl180-mlflow381-sqlite-logged-model", "sqlite:///store/mlflow.db", "expected_shim.csv"},
	} {
		base := filepath.Join(root, c.example)
		var cj struct {
			ModelURIs []string `json:"model_uris"`
		}
		data, err := os.ReadFile(filepath.Join(base, "case.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &cj); err != nil {
			t.Fatal(err)
		}
		tracking := filepath.Join(base, c.tracking)
		if p, ok := strings.CutPrefix(c.tracking, "sqlite:///"); ok {
			tracking = "sqlite:///" + filepath.ToSlash(filepath.Join(base, p))
		}
		want := readTable(t, filepath.Join(base, c.golden))
		for _, uri := range cj.ModelURIs {
			uri, _, _ = strings.Cut(uri, " ")
			t.Run(c.example+"/"+uri, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "p.csv")
				code, stderr := cli(t, "score", "--model", uri, "--tracking-uri", tracking,
					"--in", filepath.Join(base, "input.csv"), "--out", out, "--keep=", "-q")
				if code != 0 && strings.Contains(stderr, "unsupported class") && !strings.Contains(stderr, "MLmodel") &&
					strings.Contains(stderr, filepath.Join("artifacts", "model")) {
					// Resolved (the loader names the resolved folder); mlbatch
					// cannot score this estimator yet.
					t.Skipf("resolved; the estimator is not supported yet: %s", strings.TrimSpace(stderr))
				}
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				tol := tolerance{Rel: 1e-9, Abs: 1e-9}
				if c.golden == "expected_shim.csv" {
					tol = tolerance{Exact: true}
				}
				compareColumns(t, readTable(t, out), want, []string{"prediction"}, tol)
			})
		}
	}
}
