package sklearn

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

const testdata = "../../testdata"

type goldenCase struct {
	Name      string `json:"name"`
	ModelDir  string `json:"model_dir"`
	Input     string `json:"input"`
	Estimator string `json:"estimator"`
	Outputs   []struct {
		Method  string   `json:"method"`
		Golden  string   `json:"golden"`
		Columns []string `json:"columns"`
		Type    any      `json:"type"`
		Tol     struct {
			Rel   float64 `json:"rel"`
			Abs   float64 `json:"abs"`
			Exact bool    `json:"exact"`
		} `json:"tolerance"`
	} `json:"outputs"`
}

func goldenCases(t testing.TB) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "gen", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// objectOf decodes testdata/dir/model.pkl into its inert pickled object tree,
// for tests that look at or damage attributes before building.
func objectOf(t testing.TB, dir string) *pickle.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, dir, "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := pickle.Unmarshal(data, pickle.Options{Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	return v.(*pickle.Object)
}

// readCSV reads a whole CSV file as text columns.
func readCSV(t testing.TB, path string) (names []string, cols map[string][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols = map[string][]string{}
	for j, n := range recs[0] {
		cols[n] = make([]string, 0, len(recs)-1)
		for _, r := range recs[1:] {
			cols[n] = append(cols[n], r[j])
		}
	}
	return recs[0], cols
}

// featureArrays builds the model's input arrays from a CSV: float64, empty cells
// null; by name, or by position for positional models.
func featureArrays(t testing.TB, m model.Model, path string, mem memory.Allocator) ([]arrow.Array, int) {
	t.Helper()
	names, cols := readCSV(t, path)
	inputs := m.Inputs()
	out := make([]arrow.Array, len(inputs))
	rows := len(cols[names[0]])
	for i, c := range inputs {
		name := c.Name
		if name == "" {
			name = names[i]
		}
		vals, ok := cols[name]
		if !ok {
			t.Fatalf("%s has no column %q", path, name)
		}
		b := array.NewFloat64Builder(mem)
		for _, s := range vals {
			if s == "" {
				b.AppendNull()
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			b.Append(v)
		}
		out[i] = b.NewArray()
		b.Release()
	}
	return out, rows
}

func cellString(a arrow.Array, i int) string {
	switch c := a.(type) {
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'g', -1, 64)
	case *array.Int64:
		return strconv.FormatInt(c.Value(i), 10)
	case *array.Boolean:
		if c.Value(i) {
			return "True"
		}
		return "False"
	case *array.String:
		return c.Value(i)
	}
	return a.ValueStr(i)
}

// TestGoldenPredictions loads every scikit-learn fixture and compares predict and
// predict_proba with what Debian's scikit-learn wrote.
func TestGoldenPredictions(t *testing.T) {
	n := 0
	for _, c := range goldenCases(t) {
		if !strings.HasPrefix(c.Estimator, "sklearn.") {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) { checkGolden(t, c) })
	}
	if n < 20 {
		t.Errorf("only %d scikit-learn fixtures", n)
	}
}

// TestSharedExamples scores the real MLflow folders in ../shared/mlflow-examples
// (pickled by newer scikit-learn and numpy releases than Debian's) and compares with
// the reference outputs recorded beside them.
func TestSharedExamples(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "mlflow-examples")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("skipping: %s is absent", root)
	}
	for _, c := range []struct {
		dir, predict, proba string
	}{
		{"heart-rf-multiclass5-skl142", "expected_shim.csv", "expected_proba_shim.csv"},
		{"breastcancer-logreg-skl180-mlflow381-sqlite-logged-model", "expected_shim.csv", "expected_proba_shim.csv"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dir := filepath.Join(root, c.dir)
			m, _, err := model.Load(filepath.Join(dir, "model"), model.LoadOptions{Proba: true})
			if err != nil {
				t.Fatal(err)
			}
			feats, rows := featureArrays(t, m, filepath.Join(dir, "input.csv"), mem)
			defer func() {
				for _, a := range feats {
					a.Release()
				}
			}()
			outs, err := m.Predict(context.Background(), model.Features{Cols: feats, Rows: rows}, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				for _, a := range outs {
					a.Release()
				}
			}()
			_, want := readCSV(t, filepath.Join(dir, c.predict))
			for i, w := range want["prediction"] {
				if g := cellString(outs[0], i); g != w {
					t.Errorf("row %d: label %s, want %s", i+1, g, w)
				}
			}
			names, wantP := readCSV(t, filepath.Join(dir, c.proba))
			for k, name := range names {
				for i, ws := range wantP[name] {
					w, _ := strconv.ParseFloat(ws, 64)
					g := outs[1+k].(*array.Float64).Value(i)
					if math.Abs(g-w) > 1e-9*math.Abs(w)+1e-15 {
						t.Errorf("row %d proba %s: %v, want %v", i+1, name, g, w)
					}
				}
			}
		})
	}
}

// checkGolden loads c's model, predicts over its input and compares every golden
// column: labels exactly, numbers within the manifest's tolerance.
func checkGolden(t *testing.T, c goldenCase) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m, _, err := model.Load(filepath.Join(testdata, c.ModelDir), model.LoadOptions{Proba: true})
	if err != nil {
		t.Fatal(err)
	}
	feats, rows := featureArrays(t, m, filepath.Join(testdata, c.Input), mem)
	defer func() {
		for _, a := range feats {
			a.Release()
		}
	}()
	outs, err := m.Predict(context.Background(), model.Features{Cols: feats, Rows: rows}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, a := range outs {
			a.Release()
		}
	}()
	got := map[string]arrow.Array{}
	for i, col := range m.Outputs() {
		got[col.Name] = outs[i]
	}
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
				if gs == ws {
					continue
				}
				gv, err1 := strconv.ParseFloat(gs, 64)
				wv, err2 := strconv.ParseFloat(ws, 64)
				ok := err1 == nil && err2 == nil && (gv == wv ||
					(!o.Tol.Exact && math.Abs(gv-wv) <= o.Tol.Abs+o.Tol.Rel*math.Abs(wv)))
				if !ok && strings.EqualFold(gs, ws) {
					ok = true // bool labels
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
}

// TestTreeLayouts scores the same fitted trees re-pickled in the node layouts of
// 32-bit builds and of scikit-learn 1.3 and 1.4 (testdata/layouts/gen.py) against
// the goldens of the models they came from.
func TestTreeLayouts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "layouts", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []struct {
			Name     string `json:"name"`
			ModelDir string `json:"model_dir"`
			Like     string `json:"like"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	byName := map[string]goldenCase{}
	for _, c := range goldenCases(t) {
		byName[c.Name] = c
	}
	for _, lc := range m.Cases {
		c, ok := byName[lc.Like]
		if !ok {
			t.Fatalf("%s: no fixture %s", lc.Name, lc.Like)
		}
		c.Name, c.ModelDir = lc.Name, lc.ModelDir
		t.Run(lc.Name, func(t *testing.T) { checkGolden(t, c) })
	}
}
