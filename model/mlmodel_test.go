package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseMLmodelSignatures(t *testing.T) {
	data := `artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, env: conda.yaml}
  sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle, sklearn_version: 0.23.1}
metadata: {anything: [1, 2]}
prompts: null
is_signature_from_type_hint: false
signature:
  inputs: '[{"name": "CRIM", "type": "double", "required": true}, {"name": "ZN", "type": "long", "optional": true}, {"name": "tag", "type": "string", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: null
`
	m, err := ParseMLmodel([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.FlavorString("sklearn", "pickled_model") != "model.pkl" || m.FlavorString("python_function", "env") != "conda.yaml" {
		t.Errorf("flavors: %+v", m.Flavors)
	}
	in := m.Signature.Inputs
	if in.IsTensor() || !in.HasNames() || len(in.Columns) != 3 {
		t.Fatalf("inputs: %+v", in)
	}
	want := []SchemaColumn{{"CRIM", "double", true}, {"ZN", "long", false}, {"tag", "string", false}}
	for i, c := range in.Columns {
		if c != want[i] {
			t.Errorf("column %d: %+v, want %+v", i, c, want[i])
		}
	}
	if out := m.Signature.Outputs; !out.IsTensor() || out.Tensors[0].DType != "float64" {
		t.Errorf("outputs: %+v", out)
	}
	cols, err := SignatureInputs(m)
	if err != nil {
		t.Fatal(err)
	}
	if !arrow.TypeEqual(cols[1].Type, arrow.PrimitiveTypes.Int64) || cols[1].Required {
		t.Errorf("ZN: %+v", cols[1])
	}
}

func TestSignatureInputsTensor(t *testing.T) {
	m, err := ParseMLmodel([]byte(`flavors: {sklearn: {pickled_model: model.pkl}}
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 10]}}]'
`))
	if err != nil {
		t.Fatal(err)
	}
	cols, err := SignatureInputs(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 10 || !Positional(cols) || !arrow.TypeEqual(cols[0].Type, arrow.PrimitiveTypes.Float64) {
		t.Errorf("got %+v", cols)
	}
	m, _ = ParseMLmodel([]byte(`flavors: {sklearn: {}}
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2, 3]}}]'
`))
	if _, err := SignatureInputs(m); err == nil || !strings.Contains(err.Error(), "2-D") {
		t.Errorf("3-D tensor: %v", err)
	}
}

func TestParseMLmodelErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not yaml":       "flavors: [",
		"no flavors":     "run_id: abc\n",
		"bad signature":  "flavors: {sklearn: {}}\nsignature: {inputs: '[{\"name\": 1'}\n",
		"mixed":          "flavors: {sklearn: {}}\nsignature: {inputs: '[{\"name\": \"a\", \"type\": \"double\"}, {\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1]}}]'}\n",
		"tensor no spec": "flavors: {sklearn: {}}\nsignature: {inputs: '[{\"type\": \"tensor\"}]'}\n",
	} {
		if _, err := ParseMLmodel([]byte(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReadSharedMLmodels parses every MLmodel file MLflow wrote in the shared
// examples, including the unnamed column signature of an MLflow 1.x LightGBM model.
func TestReadSharedMLmodels(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "mlflow-examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent", root)
	}
	n := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "MLmodel" {
			return err
		}
		n++
		m, err := ReadMLmodel(filepath.Dir(path))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		if strings.Contains(path, "lightgbm") {
			in := m.Signature.Inputs
			if in == nil || len(in.Columns) != 4 || in.HasNames() {
				t.Errorf("%s: want 4 unnamed columns, got %+v", path, in)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("found only %d MLmodel files", n)
	}
}
