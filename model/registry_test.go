package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

const registryData = "../testdata/registry"

type registryCase struct {
	Store       string   `json:"store"`
	TrackingURI string   `json:"tracking_uri"`
	URI         string   `json:"uri"`
	ExpectDir   string   `json:"expect_dir"`
	ExpectError string   `json:"expect_error"`
	Contains    []string `json:"contains"`
}

func readRegistryCases(t *testing.T) []registryCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(registryData, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []registryCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) < 40 {
		t.Fatalf("only %d registry cases", len(m.Cases))
	}
	return m.Cases
}

// trackingFor turns a cases.json tracking URI (relative to testdata/registry)
// into one usable from the package folder.
func trackingFor(base, tracking string) string {
	if p, ok := strings.CutPrefix(tracking, "sqlite:///"); ok {
		return "sqlite:///" + filepath.ToSlash(filepath.Join(base, p))
	}
	return filepath.Join(base, tracking)
}

// checkResolveError checks the error contract: kind model, one line, names the
// URI and the given fragments.
func checkResolveError(t *testing.T, uri string, err error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: resolved, want an error", uri)
	}
	msg := err.Error()
	if k := mlerr.KindOf(err); k != mlerr.Model {
		t.Errorf("error kind %v, want model: %s", k, msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error spans several lines: %q", msg)
	}
	if !strings.HasPrefix(msg, uri+": ") {
		t.Errorf("error should start with the URI %s: %s", uri, msg)
	}
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Errorf("error should contain %q: %s", c, msg)
		}
	}
}

// TestRegistryStores resolves every URI form against the tracking-server layout
// copied to disk and the SQLite store, and every failure.
func TestRegistryStores(t *testing.T) {
	for _, c := range readRegistryCases(t) {
		t.Run(c.Store+"/"+c.URI, func(t *testing.T) {
			var debug []string
			dir, err := Resolve(c.URI, ResolveOptions{
				TrackingURI: trackingFor(registryData, c.TrackingURI),
				Debug:       func(m string) { debug = append(debug, m) },
			})
			if c.ExpectError != "" {
				checkResolveError(t, c.URI, err, c.Contains...)
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameDir(t, dir, filepath.Join(registryData, c.ExpectDir)) {
				t.Errorf("resolved to %s, want %s", dir, c.ExpectDir)
			}
			if c.Store == "sqlite" && !strings.HasPrefix(c.URI, "models:/m-") && !anyContains(debug, "re-rooted") {
				t.Errorf("no debug note about re-rooting the copied store: %q", debug)
			}
		})
	}
}

func anyContains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestRegistryFileStoreErrors covers the failures on the plain file store fixture
// (testdata/mlruns), each with its own message.
func TestRegistryFileStoreErrors(t *testing.T) {
	store := filepath.Join(testdata, "mlruns")
	for uri, want := range map[string][]string{
		"models:/no-such-model/1":                {`registered model "no-such-model" not found`},
		"models:/diabetes-ridge/9":               {`version 9 of registered model "diabetes-ridge" not found`},
		"models:/diabetes-ridge@ghost":           {`has no alias "ghost"`, "champion"},
		"models:/diabetes-ridge/Staging":         {`no version in stage "Staging"`},
		"models:/diabetes-ridge/Prod":            {`invalid model version stage "Prod"`},
		"models:/diabetes-ridge":                 {"logged model diabetes-ridge not found", "models:/diabetes-ridge/latest"},
		"models:/":                               {"malformed models:/ URI"},
		"models:/a/b/c":                          {"malformed models:/ URI"},
		"models:/a/":                             {"malformed models:/ URI"},
		"models:/@x":                             {"malformed models:/ URI"},
		"models:/..@x":                           {"malformed models:/ URI"},
		"models://prof@databricks/a/1":           {"Databricks", "not supported yet"},
		"runs://prof@databricks/abc/m":           {"Databricks", "not supported yet"},
		"dbfs:/databricks/mlflow/x":              {"Databricks", "not supported yet"},
		"runs:/c262469a87c6eddcf43f5fccd05d150a": {"deleted"},
	} {
		_, err := Resolve(uri, ResolveOptions{TrackingURI: store})
		checkResolveError(t, uri, err, want...)
	}
	for tracking, want := range map[string]string{
		"databricks":                           "Databricks workspaces are not supported yet",
		"databricks://profile":                 "Databricks workspaces are not supported yet",
		"postgresql://u:secret@h/db":           "postgresql stores are not supported yet",
		"sqlite://":                            "in-memory",
		"sqlite:mlflow.db":                     "want sqlite:///path",
		"sqlite:///":                           "in-memory",
		"sqlite:///" + store:                   "is a folder",
		"sqlite:///nope/mlflow.db":             "no such file",
		"ftp://host/x":                         `unknown scheme "ftp"`,
		filepath.Join(store, "0", "meta.yaml"): "is not a folder",
	} {
		_, err := Resolve("models:/diabetes-ridge/1", ResolveOptions{TrackingURI: tracking})
		checkResolveError(t, "models:/diabetes-ridge/1", err, want)
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error prints a password: %s", err)
		}
	}
}

// TestRegistryStageCase checks that stages match in any case and "latest" too,
// as MLflow's _parse_model_uri and get_canonical_stage treat them.
func TestRegistryStageCase(t *testing.T) {
	store := filepath.Join(testdata, "mlruns")
	want, err := Resolve("models:/diabetes-ridge/1", ResolveOptions{TrackingURI: store})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Production", "production", "PRODUCTION", "pRoDuCtIoN"} {
		got, err := Resolve("models:/diabetes-ridge/"+s, ResolveOptions{TrackingURI: store})
		if err != nil || got != want {
			t.Errorf("%s: got %s, %v; want %s", s, got, err, want)
		}
	}
	latest, _ := Resolve("models:/diabetes-ridge/2", ResolveOptions{TrackingURI: store})
	for _, s := range []string{"latest", "Latest", "LATEST", "002"} {
		got, err := Resolve("models:/diabetes-ridge/"+s, ResolveOptions{TrackingURI: store})
		if err != nil || got != latest {
			t.Errorf("%s: got %s, %v; want %s", s, got, err, latest)
		}
	}
}

func TestParseModelsURI(t *testing.T) {
	for uri, want := range map[string]modelsURI{
		"models:/AdsModel1/0":        {name: "AdsModel1", version: "0"},
		"models:/Ads Model 1/12345":  {name: "Ads Model 1", version: "12345"},
		"models:/12345/67890":        {name: "12345", version: "67890"},
		"models:/m/latest":           {name: "m"},
		"models:/m/Staging":          {name: "m", stage: "Staging"},
		"models:/m/none":             {name: "m", stage: "None"},
		"models:/m@Champion":         {name: "m", alias: "Champion"},
		"models:/a@b@c":              {name: "a@b", alias: "c"},
		"models:/m-0123456789abcdef": {modelID: "m-0123456789abcdef"},
		"models:///m/1":              {name: "m", version: "1"},
		"models:/catalog.schema.m/3": {name: "catalog.schema.m", version: "3"},
	} {
		got, err := parseModelsURI(uri)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", uri, got, err, want)
		}
	}
}

// TestRegistryChainLoopAndDepth builds a registry whose sources chain through
// runs:/ and models:/ URIs, a loop, and a chain too long to follow.
func TestRegistryChainLoopAndDepth(t *testing.T) {
	store := t.TempDir()
	copyTree(t, filepath.Join(registryData, "server", "mlruns"), filepath.Join(store, "mlruns"))
	copyTree(t, filepath.Join(registryData, "server", "mlartifacts"), filepath.Join(store, "arts"))
	models := filepath.Join(store, "mlruns", "models")
	writeVersion := func(name string, v int, source string) {
		t.Helper()
		dir := filepath.Join(models, name)
		if err := os.MkdirAll(filepath.Join(dir, "version-"+itoa(v)), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "meta.yaml"), []byte("name: "+name+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "version-"+itoa(v), "meta.yaml"),
			[]byte("name: "+name+"\nversion: "+itoa(v)+"\ncurrent_stage: None\nsource: '"+source+"'\n"), 0o644)
	}
	// chain-0 -> chain-1 -> ... -> chain-5 -> a runs:/ URI.
	for i := 0; i < 6; i++ {
		src := "models:/chain-" + itoa(i+1) + "/1"
		if i == 5 {
			src = "runs:/f133b19978fd36a9d2e2995ebb9dc9f5/challenger"
		}
		writeVersion("chain-"+itoa(i), 1, src)
	}
	opts := ResolveOptions{TrackingURI: filepath.Join(store, "mlruns"), ArtifactsRoot: filepath.Join(store, "arts")}
	dir, err := Resolve("models:/chain-0/latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sameDir(t, dir, filepath.Join(store, "arts", "415263748596071829", "f133b19978fd36a9d2e2995ebb9dc9f5", "artifacts", "challenger")) {
		t.Errorf("chain resolved to %s", dir)
	}
	// Too long: 10 links.
	for i := 0; i < 10; i++ {
		writeVersion("long-"+itoa(i), 1, "models:/long-"+itoa(i+1)+"/1")
	}
	_, err = Resolve("models:/long-0/1", opts)
	checkResolveError(t, "models:/long-0/1", err, "nested sources")
	// A three-step loop.
	writeVersion("x", 1, "models:/y/1")
	writeVersion("y", 1, "models:/z@a")
	writeVersion("z", 1, "models:/x/1")
	os.MkdirAll(filepath.Join(models, "z", "aliases"), 0o755)
	os.WriteFile(filepath.Join(models, "z", "aliases", "a"), []byte("1"), 0o644)
	_, err = Resolve("models:/x/1", opts)
	checkResolveError(t, "models:/x/1", err, "loop", "models:/x/1 -> models:/y/1 -> models:/z@a -> models:/x/1")
}

func itoa(i int) string { return strconv.Itoa(i) }

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestArtifactsRoot resolves a tracking-server layout against an explicit
// artifacts root, and reports a missing one with the setting to change.
func TestArtifactsRoot(t *testing.T) {
	base := t.TempDir()
	copyTree(t, filepath.Join(registryData, "server", "mlruns"), filepath.Join(base, "meta", "mlruns"))
	copyTree(t, filepath.Join(registryData, "server", "mlartifacts"), filepath.Join(base, "elsewhere", "artifacts"))
	tracking := filepath.Join(base, "meta", "mlruns")
	uri := "models:/diabetes-ridge@champion"
	_, err := Resolve(uri, ResolveOptions{TrackingURI: tracking})
	checkResolveError(t, uri, err, "--artifacts-root", "mlflow-artifacts:/526374859607182930/models/m-31305e1389e0732a9d828fa54fe115c2/artifacts")
	dir, err := Resolve(uri, ResolveOptions{TrackingURI: tracking, ArtifactsRoot: filepath.Join(base, "elsewhere", "artifacts")})
	if err != nil {
		t.Fatal(err)
	}
	if !sameDir(t, dir, filepath.Join(base, "elsewhere", "artifacts", "526374859607182930", "models", "m-31305e1389e0732a9d828fa54fe115c2", "artifacts")) {
		t.Errorf("got %s", dir)
	}
	// The default: a folder named mlflow-artifacts beside the store.
	os.Rename(filepath.Join(base, "elsewhere", "artifacts"), filepath.Join(base, "meta", "mlflow-artifacts"))
	if _, err := Resolve(uri, ResolveOptions{TrackingURI: tracking}); err != nil {
		t.Errorf("mlflow-artifacts beside the store: %v", err)
	}
}

// TestSharedExamplesRegistry resolves every URI listed in the case.json of the
// real stores in ../shared/mlflow-examples (written by MLflow 2.16, 3.2 and 3.8).
func TestSharedExamplesRegistry(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "mlflow-examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent (%v)", root, err)
	}
	cases := []struct{ example, tracking, want string }{
		{"iris-svc-registry-skl151", "store/mlruns", "store/mlruns/853099972095872099/8595f7931d3943f4a7ee038c1728c2c3/artifacts/model"},
		{"california-linreg-mlflow32-logged-model-mlartifacts", "store/mlruns", "store/mlartifacts/340664372522611120/models/m-fd08e077f0d14310a8aadd99256d7f8b/artifacts"},
		{"breastcancer-logreg-skl180-mlflow381-sqlite-logged-model", "sqlite:///store/mlflow.db", "store/mlruns/1/models/m-e46029bfdb9c4a06a76e5e811b3e2e9c/artifacts"},
	}
	for _, c := range cases {
		base := filepath.Join(root, c.example)
		data, err := os.ReadFile(filepath.Join(base, "case.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cj struct {
			ModelURIs []string `json:"model_uris"`
		}
		if err := json.Unmarshal(data, &cj); err != nil {
			t.Fatal(err)
		}
		if len(cj.ModelURIs) == 0 {
			t.Fatalf("%s: no model_uris", c.example)
		}
		for _, uri := range cj.ModelURIs {
			uri, _, _ = strings.Cut(uri, " ") // "models:/m-... (note)"
			t.Run(c.example+"/"+uri, func(t *testing.T) {
				var debug []string
				dir, err := Resolve(uri, ResolveOptions{
					TrackingURI: trackingFor(base, c.tracking),
					Debug:       func(m string) { debug = append(debug, m) },
				})
				if err != nil {
					t.Fatal(err)
				}
				if !sameDir(t, dir, filepath.Join(base, c.want)) {
					t.Errorf("got %s, want %s", dir, c.want)
				}
				t.Log(strings.Join(debug, "; "))
			})
		}
	}
}

// TestDefaultStore: without a tracking URI, ./mlruns is used when it holds a file
// store, else ./mlflow.db (MLflow 3.7's default, artifacts still in ./mlruns).
func TestDefaultStore(t *testing.T) {
	src, _ := filepath.Abs(filepath.Join(registryData, "sqlite"))
	dir := t.TempDir()
	copyTree(t, src, dir)
	t.Chdir(dir)
	got, err := Resolve("models:/diabetes-ridge@champion", ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameDir(t, got, filepath.Join(dir, "mlruns", "2", "models", "m-31305e1389e0732a9d828fa54fe115c2", "artifacts")) {
		t.Errorf("got %s", got)
	}
	// A file store in ./mlruns wins.
	os.WriteFile(filepath.Join(dir, "mlruns", "1", "meta.yaml"), []byte("name: x\nlifecycle_stage: active\n"), 0o644)
	_, err = Resolve("models:/diabetes-ridge@champion", ResolveOptions{})
	checkResolveError(t, "models:/diabetes-ridge@champion", err, "file store mlruns")
}
