package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// cliOut runs mlbatch and returns the exit code, stdout and stderr.
func cliOut(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(testPool())
	var stdout, stderr bytes.Buffer
	code := runEnv(context.Background(), args, env{stdout: &stdout, stderr: &stderr, mem: mem})
	mem.AssertSize(t, 0)
	return code, stdout.String(), stderr.String()
}

func TestInspectModel(t *testing.T) {
	code, out, stderr := cliOut(t, "inspect", "--json", "--tracking-uri", demoTracking, demoURI)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r modelReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var names []string
	for _, c := range r.Inputs {
		names = append(names, c.Name+":"+c.Type)
	}
	if got, want := strings.Join(names, ","), "age:float64,sex:float64,bmi:float64,bp:float64,s1:float64,s2:float64,s3:float64,s4:float64,s5:float64,s6:float64"; got != want {
		t.Errorf("inputs %s, want %s", got, want)
	}
	if !r.Scorable || r.Reason != "" || r.Flavor != "sklearn" || r.Estimator != "sklearn.linear_model._base.LinearRegression" ||
		r.RunID != "d050509c3eccff80e45131fc149d7535" || r.MLflowVersion == "" || r.InputsFrom != "signature" ||
		len(r.Outputs) != 1 || r.Outputs[0].Name != "prediction" || !strings.HasSuffix(r.Location, filepath.Join("artifacts", "model")) {
		t.Errorf("report: %+v", r)
	}

	// The text form says the same.
	code, out, _ = cliOut(t, "inspect", "--tracking-uri", demoTracking, demoURI)
	for _, want := range []string{"scorable    yes", "inputs (10, by name from the signature", "  1   age  float64", "prediction  float64", "run id      d050509c3eccff80e45131fc149d7535"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d, text lacks %q:\n%s", code, want, out)
		}
	}
}

// TestInspectUnscorable: a model mlbatch cannot load is still described, with the
// exact class missing, and the exit code is the model error's.
func TestInspectUnscorable(t *testing.T) {
	code, out, stderr := cliOut(t, "inspect", "--json", filepath.Join(testdata, "bad", "models", "gpr"))
	if code != 3 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r modelReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Scorable || !strings.Contains(r.Reason, "unsupported class sklearn.gaussian_process._gpr.GaussianProcessRegressor") || !strings.Contains(stderr, "sklearn.gaussian_process._gpr.GaussianProcessRegressor") {
		t.Errorf("report %+v, stderr %s", r, stderr)
	}
	code, _, stderr = cliOut(t, "inspect", filepath.Join(testdata, "bad", "models", "pyfunc-custom-loader"))
	if code != 3 || !strings.Contains(stderr, "acme_models.loader") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if code, _, _ := cliOut(t, "inspect"); code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
}

// TestProvenance writes a Parquet output and reads its provenance back.
func TestProvenance(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	out := filepath.Join(dir, "preds.parquet")
	if code, stderr := cli(t, "score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", demoInput, "--out", out, "-q"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, stdout, stderr := cliOut(t, "inspect", "--json", "--output", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var info outputInfo
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	want := map[string]string{
		provModelURI:  demoURI,
		provRunID:     "d050509c3eccff80e45131fc149d7535",
		provModelUUID: "a844bfd4959945da71bf3fb0bcb7b037",
		provFlavor:    "sklearn",
		provEstimator: "sklearn.linear_model._base.LinearRegression",
		provVersion:   versionString(),
		provCreated:   "2023-11-14T22:13:20Z",
	}
	for k, v := range want {
		if info.Provenance[k] != v {
			t.Errorf("%s = %q, want %q", k, info.Provenance[k], v)
		}
	}
	if len(info.Inputs) != 1 || info.Inputs[0] != demoInput || info.Rows != 442 || len(info.Columns) != 11 {
		t.Errorf("info: %+v", info)
	}
	code, stdout, _ = cliOut(t, "inspect", "--output", out)
	if code != 0 || !strings.Contains(stdout, "mlbatch.model_uri       "+demoURI) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}

	// A CSV output has nowhere to carry provenance.
	csvOut := filepath.Join(dir, "preds.csv")
	if code, stderr := cli(t, "score", "--tracking-uri", demoTracking, "--model", demoURI, "--in", demoInput, "--out", csvOut, "-q"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := cliOut(t, "inspect", "--output", csvOut); code != 6 {
		t.Errorf("inspect --output of a CSV: exit %d: %s", code, stderr)
	}
}

// TestInspectTree: inspect shows a Pipeline's whole tree; for a model with a
// class mlbatch lacks three levels down it names the class and where it sits,
// and score, score --dry-run and inspect all exit 3 naming it.
func TestInspectTree(t *testing.T) {
	code, out, stderr := cliOut(t, "inspect", filepath.Join(testdata, "pipelines", "customers_ct_forest"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"model tree (cloudpickle, ",
		"  Pipeline\n  ├── prep: ColumnTransformer(remainder='passthrough', ",
		"  │   ├── cat: Pipeline <- ['city', 'plan', 'channel']\n  │   │   ├── impute: SimpleImputer(strategy='most_frequent', add_indicator=False)\n",
		"  │   └── remainder: passthrough <- [8]\n",
		"      └── estimators_: 25 x DecisionTreeClassifier(max_depth=6, ",
		"classes (8, all supported):",
		"  supported  sklearn.tree._tree.Tree ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}

	const grp = "sklearn.random_projection.GaussianRandomProjection"
	dir := filepath.Join(testdata, "inspect", "nested_unsupported")
	code, out, stderr = cliOut(t, "inspect", "--json", dir)
	if code != 3 || !strings.Contains(stderr, "unsupported class "+grp) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r modelReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Scorable || r.Tree == nil || len(r.Tree.Unsupported) != 1 || r.Tree.Unsupported[0] != grp || r.Tree.Root.Class != "sklearn.pipeline.Pipeline" {
		t.Errorf("report %+v", r)
	}
	_, out, _ = cliOut(t, "inspect", dir)
	for _, want := range []string{
		"missing     unsupported: " + grp + " (at Pipeline > prep > num > proj)",
		"  │   │   └── proj: GaussianRandomProjection(n_components=2)  NOT SUPPORTED: " + grp,
		"  MISSING    " + grp,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	for _, dry := range []bool{false, true} {
		args := []string{"score", "--model", dir, "--in", filepath.Join(testdata, "pipelines", "customers_input.csv"), "--out", filepath.Join(t.TempDir(), "p.csv")}
		if dry {
			args = append(args, "--dry-run")
		}
		code, stderr := cli(t, args...)
		if code != 3 || !strings.Contains(stderr, "unsupported class "+grp) || !strings.Contains(stderr, `run "mlbatch inspect `+dir+`"`) {
			t.Errorf("dry run %v: exit %d: %s", dry, code, stderr)
		}
	}
}
