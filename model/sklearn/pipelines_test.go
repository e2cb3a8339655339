package sklearn

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/readers"
)

// pipelineManifest is testdata/pipelines/cases.json (written by gen.py).
type pipelineManifest struct {
	Cases []struct {
		goldenCase
		FinalEstimator string   `json:"final_estimator"`
		Format         string   `json:"serialization_format"`
		FeatureSource  string   `json:"feature_source"`
		Features       []string `json:"features"`
		NamesOut       []string `json:"names_out"`
	} `json:"cases"`
	Errors []struct {
		Name     string `json:"name"`
		ModelDir string `json:"model_dir"`
		Input    string `json:"input"`
		Row      int64  `json:"row"`
		Column   string `json:"column"`
		Value    string `json:"value"`
		Python   string `json:"python_error"`
	} `json:"errors"`
	Refusals []struct {
		Name     string   `json:"name"`
		ModelDir string   `json:"model_dir"`
		Want     []string `json:"want"`
	} `json:"refusals"`
}

func readPipelineManifest(t testing.TB) pipelineManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "pipelines", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pipelineManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// readInputs reads a CSV as the command line does (signature columns typed by the
// signature, the rest inferred) and returns one array per model input.
func readInputs(t testing.TB, m model.Model, path string, mem memory.Allocator) ([]arrow.Array, int) {
	t.Helper()
	types := map[string]arrow.DataType{}
	for _, c := range m.Inputs() {
		if c.Signature && c.Name != "" {
			types[c.Name] = c.Type
		}
	}
	r, err := readers.Open(path, readers.Options{Types: types, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: more than one batch", path)
	}
	schema := rec.Schema()
	out := make([]arrow.Array, len(m.Inputs()))
	for i, c := range m.Inputs() {
		j := i
		if c.Name != "" {
			idx := schema.FieldIndices(c.Name)
			if len(idx) == 0 {
				if c.Required {
					t.Fatalf("%s has no column %q", path, c.Name)
				}
				continue
			}
			j = idx[0]
		}
		out[i] = rec.Column(j)
		out[i].Retain()
	}
	return out, int(rec.NumRows())
}

func release(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

// TestPipelineGolden scores every pipeline fixture (cloudpickle and skops) over
// its inputs and compares with scikit-learn: labels exactly, numbers within the
// manifest's tolerance (1e-9 relative). It logs the largest relative difference.
func TestPipelineGolden(t *testing.T) {
	man := readPipelineManifest(t)
	if len(man.Cases) < 40 {
		t.Fatalf("only %d pipeline cases", len(man.Cases))
	}
	worst := 0.0
	for _, c := range man.Cases {
		t.Run(c.Name, func(t *testing.T) {
			w := checkPipelineCase(t, c.goldenCase)
			worst = math.Max(worst, w)
		})
	}
	t.Logf("largest relative difference over all pipeline goldens: %.3g", worst)
}

func checkPipelineCase(t *testing.T, c goldenCase) float64 {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m, _, err := model.Load(filepath.Join(testdata, c.ModelDir), model.LoadOptions{Proba: true})
	if err != nil {
		t.Fatal(err)
	}
	feats, rows := readInputs(t, m, filepath.Join(testdata, c.Input), mem)
	defer release(feats)
	outs, err := m.Predict(context.Background(), model.Features{Cols: feats, Rows: rows}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer release(outs)
	got := map[string]arrow.Array{}
	for i, col := range m.Outputs() {
		got[col.Name] = outs[i]
	}
	worst := 0.0
	for _, o := range c.Outputs {
		_, want := readCSV(t, filepath.Join(testdata, o.Golden))
		for _, name := range o.Columns {
			a, ok := got[name]
			if !ok {
				t.Fatalf("no output %q (have %v)", name, m.Outputs())
			}
			w := want[name]
			if a.Len() != len(w) {
				t.Fatalf("%s: %d rows, want %d", name, a.Len(), len(w))
			}
			bad := 0
			for i, ws := range w {
				gs := cellString(a, i)
				if gs == ws || strings.EqualFold(gs, ws) {
					continue
				}
				gv, err1 := strconv.ParseFloat(gs, 64)
				wv, err2 := strconv.ParseFloat(ws, 64)
				ok := err1 == nil && err2 == nil && (gv == wv ||
					(!o.Tol.Exact && math.Abs(gv-wv) <= o.Tol.Abs+o.Tol.Rel*math.Abs(wv)))
				if err1 == nil && err2 == nil && wv != 0 {
					worst = math.Max(worst, math.Abs(gv-wv)/math.Abs(wv))
				}
				if !ok {
					if bad < 3 {
						t.Errorf("%s row %d: got %s, want %s", name, i+1, gs, ws)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d of %d rows differ", name, bad, len(w))
			}
		}
	}
	return worst
}

// TestPipelineNamesOut checks the feature names the steps before the final
// estimator give (verbose_feature_names_out, one-hot and polynomial names,
// indicators) against scikit-learn's get_feature_names_out.
func TestPipelineNamesOut(t *testing.T) {
	n := 0
	for _, c := range readPipelineManifest(t).Cases {
		if c.NamesOut == nil || c.Format != "cloudpickle" || !strings.HasSuffix(c.Name, ":input") {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testdata, c.ModelDir, "model.pkl"))
			if err != nil {
				t.Fatal(err)
			}
			est, err := Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			p := est.(*pipeline)
			var in []string
			if c.FeatureSource != "position" {
				in = c.Features
			}
			got := p.namesOut(in)
			if !slices.Equal(got, c.NamesOut) {
				t.Errorf("names out:\n got %q\nwant %q", got, c.NamesOut)
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d cases with names", n)
	}
}

// TestPipelineErrors: inputs scikit-learn refuses fail as a row error naming the
// row, the column and the value.
func TestPipelineErrors(t *testing.T) {
	for _, e := range readPipelineManifest(t).Errors {
		t.Run(e.Name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			m, _, err := model.Load(filepath.Join(testdata, e.ModelDir), model.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			feats, rows := readInputs(t, m, filepath.Join(testdata, e.Input), mem)
			defer release(feats)
			outs, err := m.Predict(context.Background(), model.Features{Cols: feats, Rows: rows}, mem)
			release(outs)
			var re *mlerr.RowError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a row error (Python: %s)", err, e.Python)
			}
			if re.Row != e.Row || re.Column != e.Column || !strings.EqualFold(re.Value, e.Value) {
				t.Errorf("row error at row %d column %q value %q, want row %d column %q value %q (%v)",
					re.Row, re.Column, re.Value, e.Row, e.Column, e.Value, err)
			}
			if mlerr.KindOf(err) != mlerr.Data {
				t.Errorf("kind %v, want data", mlerr.KindOf(err))
			}
			t.Logf("mlbatch: %v\nPython:  %s", err, strings.SplitN(e.Python, "\n", 2)[0])
		})
	}
}

// TestPipelineRefusals: models holding Python code (a FunctionTransformer's func,
// a callable column selector) or with nothing that predicts fail to load, and
// the message says why.
func TestPipelineRefusals(t *testing.T) {
	refusals := readPipelineManifest(t).Refusals
	if len(refusals) < 5 {
		t.Fatalf("only %d refusals", len(refusals))
	}
	for _, r := range refusals {
		t.Run(r.Name, func(t *testing.T) {
			_, _, err := model.Load(filepath.Join(testdata, r.ModelDir), model.LoadOptions{})
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			if mlerr.KindOf(err) != mlerr.Model {
				t.Errorf("kind %v, want model", mlerr.KindOf(err))
			}
			for _, w := range r.Want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q should contain %q", err, w)
				}
			}
		})
	}
}
