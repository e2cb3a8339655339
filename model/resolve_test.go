package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

type manifest struct {
	Resolve []struct {
		URI         string `json:"uri"`
		TrackingURI string `json:"tracking_uri"`
		ExpectDir   string `json:"expect_dir"`
		ExpectError string `json:"expect_error"`
	} `json:"resolve"`
}

const testdata = "../testdata"

func readManifest(t *testing.T) manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "gen", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sameDir(t *testing.T, got, want string) bool {
	t.Helper()
	a, err1 := filepath.Abs(got)
	b, err2 := filepath.Abs(want)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return a == b
}

// TestResolveFixtures resolves every runs:/ and models:/ URI of the committed file
// store and checks the folder (or the error) the fixture generator recorded.
func TestResolveFixtures(t *testing.T) {
	for _, c := range readManifest(t).Resolve {
		t.Run(c.URI, func(t *testing.T) {
			var debug []string
			opts := ResolveOptions{
				TrackingURI: filepath.Join(testdata, c.TrackingURI),
				Debug:       func(m string) { debug = append(debug, m) },
			}
			dir, err := Resolve(c.URI, opts)
			wantErr := c.ExpectError
			if strings.Contains(c.ExpectDir, "/.trash/") {
				// mlbatch refuses runs of deleted experiments (MLflow finds them).
				wantErr = "deleted"
			}
			if wantErr != "" {
				if err == nil {
					t.Fatalf("resolved to %s, want a %s error", dir, wantErr)
				}
				if k := mlerr.KindOf(err); k != mlerr.Model {
					t.Errorf("error kind %v, want model", k)
				}
				msg := err.Error()
				switch wantErr {
				case "ambiguous":
					if !strings.Contains(msg, "/model") || !strings.Contains(msg, "/challenger") {
						t.Errorf("ambiguity error should list both models: %s", msg)
					}
				case "no_model":
					if !strings.Contains(msg, "logged no model") {
						t.Errorf("error: %s", msg)
					}
				case "deleted":
					if !strings.Contains(msg, "deleted") {
						t.Errorf("error: %s", msg)
					}
				case "not_found":
					if !strings.Contains(msg, "not found") && !strings.Contains(msg, "no model") {
						t.Errorf("error: %s", msg)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("error spans several lines: %q", msg)
				}
				t.Log(msg)
				if !strings.Contains(msg, c.URI) {
					t.Errorf("error should name the URI: %s", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameDir(t, dir, filepath.Join(testdata, c.ExpectDir)) {
				t.Errorf("resolved to %s, want %s", dir, c.ExpectDir)
			}
			if _, err := ReadMLmodel(dir); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestResolveLocal(t *testing.T) {
	dir := filepath.Join(testdata, "models", "linreg")
	abs, _ := filepath.Abs(dir)
	for _, uri := range []string{dir, "file://" + abs, "file:" + abs, filepath.Join(dir, "MLmodel")} {
		got, err := Resolve(uri, ResolveOptions{})
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		if !sameDir(t, got, dir) {
			t.Errorf("%s: got %s", uri, got)
		}
	}
	for uri, want := range map[string]string{
		"hdfs://namenode/model":         `unknown model URI scheme "hdfs"`,
		"hdfs:/x":                       `unknown model URI scheme "hdfs"`,
		filepath.Join(testdata, "nope"): "no such model folder",
		filepath.Join(testdata, "bad/models/no-mlmodel"): "no MLmodel file",
		"runs:/":                "malformed runs:/ URI",
		"runs:/../../etc/model": "malformed runs:/ URI",
		"runs:/abc/../../x":     "may not contain ..",
	} {
		_, err := Resolve(uri, ResolveOptions{TrackingURI: filepath.Join(testdata, "mlruns")})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", uri, err, want)
		}
	}
}

func TestTrackingStoreMissing(t *testing.T) {
	_, err := Resolve("runs:/0123abcd/model", ResolveOptions{TrackingURI: filepath.Join(t.TempDir(), "mlruns")})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
}

// TestResolveSharedExamples resolves the runs:/ URIs of the real MLflow folders in
// ../shared/mlflow-examples (stores written by MLflow itself on other machines).
func TestResolveSharedExamples(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "mlflow-examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent (%v)", root, err)
	}
	cases := []struct{ example, store, uri, want string }{
		{"california-linreg-mlflow32-logged-model-mlartifacts", "store/mlruns",
			"runs:/206e329dcacd492992e6707ba65ddccd/model",
			"store/mlartifacts/340664372522611120/models/m-fd08e077f0d14310a8aadd99256d7f8b/artifacts"},
		{"california-linreg-mlflow32-logged-model-mlartifacts", "store/mlruns",
			"runs:/206e329dcacd492992e6707ba65ddccd",
			"store/mlartifacts/340664372522611120/models/m-fd08e077f0d14310a8aadd99256d7f8b/artifacts"},
		{"iris-lightgbm-booster-lgb311-unnamed-signature", "store/mlruns",
			"runs:/004f1f8774524241ba81ced2c84ce45e/model",
			"store/mlruns/0/004f1f8774524241ba81ced2c84ce45e/artifacts/model"},
		{"iris-svc-registry-skl151", "store/mlruns",
			"runs:/8595f7931d3943f4a7ee038c1728c2c3/model",
			"store/mlruns/853099972095872099/8595f7931d3943f4a7ee038c1728c2c3/artifacts/model"},
		{"iris-svc-registry-skl151", "file:store/mlruns",
			"runs:/8595f7931d3943f4a7ee038c1728c2c3",
			"store/mlruns/853099972095872099/8595f7931d3943f4a7ee038c1728c2c3/artifacts/model"},
	}
	for _, c := range cases {
		t.Run(c.example+"/"+c.uri, func(t *testing.T) {
			base := filepath.Join(root, c.example)
			tracking := filepath.Join(base, c.store)
			if strings.HasPrefix(c.store, "file:") {
				abs, _ := filepath.Abs(filepath.Join(base, strings.TrimPrefix(c.store, "file:")))
				tracking = "file://" + abs
			}
			dir, err := Resolve(c.uri, ResolveOptions{TrackingURI: tracking})
			if err != nil {
				t.Fatal(err)
			}
			if !sameDir(t, dir, filepath.Join(base, c.want)) {
				t.Errorf("got %s, want %s", dir, c.want)
			}
		})
	}
}
