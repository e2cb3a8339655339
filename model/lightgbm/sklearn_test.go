package lightgbm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// TestErrorFixtures loads gen.py's models that must fail and checks the reason.
func TestErrorFixtures(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Errors []struct {
			Name     string `json:"name"`
			ModelDir string `json:"model_dir"`
			Kind     string `json:"kind"`
			Want     string `json:"want"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Errors) == 0 {
		t.Fatal("cases.json lists no error cases")
	}
	for _, c := range m.Errors {
		t.Run(c.Name, func(t *testing.T) {
			_, _, err := model.Load(filepath.Join(fixtures, c.ModelDir), model.LoadOptions{})
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), c.Want) {
				t.Errorf("error %q, want it to mention %q", err, c.Want)
			}
			if c.Kind == "model_load" && mlerr.KindOf(err) != mlerr.Model {
				t.Errorf("kind %v, want model", mlerr.KindOf(err))
			}
		})
	}
}

// copyModel copies a fixture folder to a temp dir, replacing its MLmodel.
func copyModel(t *testing.T, dir, mlmodel string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "MLmodel" {
			data = []byte(mlmodel)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestSklearnLoading(t *testing.T) {
	clf := filepath.Join(fixtures, "sk_classifier_binary_v4", "model")

	// Without --proba a classifier returns only its label, typed like classes_.
	m, _, err := model.Load(clf, model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out := m.Outputs(); len(out) != 1 || out[0].Name != "prediction" || !arrow.TypeEqual(out[0].Type, arrow.BinaryTypes.String) {
		t.Errorf("outputs %+v", out)
	}
	if m.Info().Estimator != ClassClassifier {
		t.Errorf("estimator %q", m.Info().Estimator)
	}

	// No model_class (an old MLmodel): the pickle is recognised by its content.
	noClass := "flavors:\n  lightgbm:\n    data: model.pkl\n  python_function:\n    data: model.pkl\n    loader_module: mlflow.lightgbm\n"
	if m, _, err := model.Load(copyModel(t, clf, noClass), model.LoadOptions{}); err != nil {
		t.Errorf("no model_class: %v", err)
	} else if m.Info().Estimator != ClassClassifier {
		t.Errorf("no model_class: estimator %q", m.Info().Estimator)
	}

	// model_class and the pickle disagree.
	wrong := strings.Replace(noClass, "data: model.pkl\n  python", "data: model.pkl\n    model_class: lightgbm.sklearn.LGBMRegressor\n  python", 1)
	if _, _, err := model.Load(copyModel(t, clf, wrong), model.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "holds lightgbm.sklearn.LGBMClassifier") {
		t.Errorf("class mismatch: %v", err)
	}

	// A pickle where a Booster is declared.
	asBooster := strings.Replace(noClass, "data: model.pkl\n  python", "data: model.pkl\n    model_class: lightgbm.basic.Booster\n  python", 1)
	if _, _, err := model.Load(copyModel(t, clf, asBooster), model.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "the file is a pickle") {
		t.Errorf("pickle as Booster: %v", err)
	}

	// A regressor with --proba warns and returns its prediction.
	var warns []string
	reg := filepath.Join(fixtures, "sk_regressor_v4", "model")
	m, _, err = model.Load(reg, model.LoadOptions{Proba: true, Warn: func(s string) { warns = append(warns, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Outputs()) != 1 || len(warns) != 1 || !strings.Contains(warns[0], "LGBMRegressor") {
		t.Errorf("outputs %+v, warnings %q", m.Outputs(), warns)
	}
}

func TestDecodeSklearnErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a pickle", []byte("tree\nversion=v4\n"), "pickle"},
		{"a list", []byte("\x80\x04]\x94."), "not a LightGBM scikit-learn estimator"},
		{"os.system", []byte("\x80\x02cos\nsystem\n."), "unsupported class os.system"},
	} {
		if _, err := decodeSklearn(c.data); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
