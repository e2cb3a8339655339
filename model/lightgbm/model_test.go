package lightgbm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

// modelDir writes an MLflow folder holding mlmodel and files.
func modelDir(t *testing.T, mlmodel string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const boosterMLmodel = `flavors:
  lightgbm:
    data: model.lgb
    lgb_version: 4.5.0
    model_class: lightgbm.basic.Booster
  python_function:
    data: model.lgb
    loader_module: mlflow.lightgbm
`

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		name, mlmodel string
		files         map[string]string
		want          string
	}{
		{"missing file", boosterMLmodel, nil, "model.lgb"},
		{"escaping path", strings.ReplaceAll(boosterMLmodel, "data: model.lgb", "data: ../x.lgb"), nil, "inside the model folder"},
		{"absolute path", strings.ReplaceAll(boosterMLmodel, "data: model.lgb", "data: /etc/passwd"), nil, "inside the model folder"},
		{"no data", "flavors:\n  lightgbm:\n    lgb_version: 4.5.0\n", nil, "names no data file"},
		{"unknown class", strings.Replace(boosterMLmodel, "lightgbm.basic.Booster", "lightgbm.dask.DaskLGBMClassifier", 1),
			map[string]string{"model.lgb": small}, "model_class \"lightgbm.dask.DaskLGBMClassifier\" is not supported"},
		{"pickle as booster", boosterMLmodel, map[string]string{"model.lgb": "\x80\x04\x95\x00"}, "the file is a pickle"},
		{"bad text", boosterMLmodel, map[string]string{"model.lgb": "hello"}, "not a LightGBM text model"},
		{"signature width", boosterMLmodel + "signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"a\"}]'\n",
			map[string]string{"model.lgb": small}, "signature has 1 input columns but the model was trained on 2 features"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := modelDir(t, c.mlmodel, c.files)
			_, _, err := model.Load(dir, model.LoadOptions{})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to mention %q", err, c.want)
			}
			if k := mlerr.KindOf(err); k != mlerr.Model {
				t.Errorf("error kind %v, want model", k)
			}
		})
	}
}

func TestFeatureSources(t *testing.T) {
	auto := strings.Replace(small, "feature_names=num cat", "feature_names=Column_0 Column_1", 1)
	for _, c := range []struct {
		name, mlmodel, text string
		want                []string // nil: positional
	}{
		{"feature_names", boosterMLmodel, small, []string{"num", "cat"}},
		{"generated names are positional", boosterMLmodel, auto, nil},
		{"named signature wins", boosterMLmodel + "signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"x\"}, {\"type\": \"long\", \"name\": \"y\"}]'\n", small, []string{"x", "y"}},
		{"unnamed signature", boosterMLmodel + "signature:\n  inputs: '[{\"type\": \"double\"}, {\"type\": \"double\"}]'\n", small, nil},
		{"tensor signature", boosterMLmodel + "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1, 2]}}]'\n", small, nil},
		{"python_function only", "flavors:\n  python_function:\n    data: model.lgb\n    loader_module: mlflow.lightgbm\n", small, []string{"num", "cat"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _, err := model.Load(modelDir(t, c.mlmodel, map[string]string{"model.lgb": c.text}), model.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			in := m.Inputs()
			if len(in) != 2 {
				t.Fatalf("%d inputs", len(in))
			}
			if c.want == nil {
				if !model.Positional(in) {
					t.Errorf("inputs %+v, want positional", in)
				}
				return
			}
			for i, n := range c.want {
				if in[i].Name != n {
					t.Errorf("input %d is %q, want %q", i, in[i].Name, n)
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	var warns []string
	opts := model.LoadOptions{Proba: true, Warn: func(s string) { warns = append(warns, s) }}
	text := strings.Replace(small, "pandas_categorical:null", `pandas_categorical:[["a", "b"]]`, 1)
	m, _, err := model.Load(modelDir(t, boosterMLmodel, map[string]string{"model.lgb": text}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Outputs()) != 1 || m.Outputs()[0].Name != "prediction" {
		t.Errorf("outputs %+v", m.Outputs())
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "--proba has no effect on a LightGBM Booster: its predict already returns the probability of the positive class") ||
		!strings.Contains(warns[1], "category codes") {
		t.Errorf("warnings %q", warns)
	}
}

func TestPredictInputErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m, _, err := model.Load(modelDir(t, boosterMLmodel, map[string]string{"model.lgb": small}), model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{1, 2}, nil)
	num := fb.NewArray()
	fb.Release()
	defer num.Release()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "b"}, nil)
	str := sb.NewArray()
	sb.Release()
	defer str.Release()

	_, err = m.Predict(context.Background(), model.Features{Cols: []arrow.Array{num, nil}, Rows: 2}, mem)
	var re *mlerr.RowError
	if !errors.As(err, &re) || re.Column != "cat" || mlerr.KindOf(err) != mlerr.Schema {
		t.Errorf("absent column: %v", err)
	}
	_, err = m.Predict(context.Background(), model.Features{Cols: []arrow.Array{num, str}, Rows: 2}, mem)
	if !errors.As(err, &re) || re.Column != "cat" || !strings.Contains(err.Error(), "not numeric") {
		t.Errorf("string column: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Predict(ctx, model.Features{Cols: []arrow.Array{num, num}, Rows: 2}, mem); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestConcurrentPredict scores the same model from many goroutines (run with
// -race): results must not depend on sharing.
func TestConcurrentPredict(t *testing.T) {
	c := loadCases(t)[0]
	m, _, err := model.Load(filepath.Join(fixtures, c.ModelDir), model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	header, rows := readCSV(t, filepath.Join(fixtures, c.Input))
	cols := bindInputs(t, m, header, floatColumns(t, mem, header, rows))
	want, err := m.Predict(context.Background(), model.Features{Cols: cols, Rows: len(rows)}, mem)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := m.Predict(context.Background(), model.Features{Cols: cols, Rows: len(rows)}, mem)
			if err != nil {
				t.Error(err)
				return
			}
			for j := range got {
				if !array.Equal(got[j], want[j]) {
					t.Errorf("output %d differs between goroutines", j)
				}
			}
		}()
	}
	wg.Wait()
}
