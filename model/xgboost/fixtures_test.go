package xgboost

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// fixtureDir holds the models, inputs and goldens made by testdata/xgboost/gen.py.
var fixtureDir = filepath.Join("..", "..", "testdata", "xgboost")

type fixtureCase struct {
	Name          string `json:"name"`
	ModelDir      string `json:"model_dir"`
	ModelClass    string `json:"model_class"`
	ModelFormat   string `json:"model_format"`
	Booster       string `json:"booster"`
	Objective     string `json:"objective"`
	Input         string `json:"input"`
	FeatureSource string `json:"feature_source"`
	SameModel     string `json:"same_model"`
	Outputs       []struct {
		Method    string   `json:"method"`
		Golden    string   `json:"golden"`
		Columns   []string `json:"columns"`
		Type      string   `json:"type"`
		Tolerance struct {
			Exact bool    `json:"exact"`
			Rel   float64 `json:"rel"`
			Abs   float64 `json:"abs"`
		} `json:"tolerance"`
	} `json:"outputs"`
}

func loadCases(t testing.TB) []fixtureCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "cases.json"))
	if err != nil {
		t.Fatalf("fixtures: %v (regenerate with /usr/bin/python3 testdata/xgboost/gen.py)", err)
	}
	var doc struct {
		Cases []fixtureCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases in cases.json")
	}
	return doc.Cases
}

// readCSV reads a CSV with a header.
func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}

func parseCell(t testing.TB, s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("cell %q: %v", s, err)
	}
	return v, true
}

// features builds float64 Arrow columns for the model's inputs from a CSV:
// named inputs by header name, positional ones by position. Empty cells are nulls.
func features(t testing.TB, mem memory.Allocator, inputs []model.Column, header []string, rows [][]string) model.Features {
	t.Helper()
	index := map[string]int{}
	for i, h := range header {
		index[h] = i
	}
	cols := make([]arrow.Array, len(inputs))
	for j, in := range inputs {
		src := j
		if in.Name != "" {
			i, ok := index[in.Name]
			if !ok {
				t.Fatalf("input column %q is not in the CSV", in.Name)
			}
			src = i
		}
		b := array.NewFloat64Builder(mem)
		for _, r := range rows {
			if v, ok := parseCell(t, r[src]); ok {
				b.Append(v)
			} else {
				b.AppendNull()
			}
		}
		cols[j] = b.NewArray()
		b.Release()
	}
	return model.Features{Cols: cols, Rows: len(rows)}
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

// cellValue reads row i of an output column as float64 (labels included).
func cellValue(a arrow.Array, i int) float64 {
	switch c := a.(type) {
	case *array.Float64:
		return c.Value(i)
	case *array.Int64:
		return float64(c.Value(i))
	}
	panic(fmt.Sprintf("unexpected output type %s", a.DataType()))
}

type parity struct {
	values, exact int
	maxRel        float64
}

func (p *parity) add(got, want float64) {
	p.values++
	if got == want || (math.IsNaN(got) && math.IsNaN(want)) {
		p.exact++
		return
	}
	rel := math.Abs(got-want) / math.Max(math.Abs(want), 1e-30)
	p.maxRel = math.Max(p.maxRel, rel)
}

// predictCase loads a fixture with model.Load and predicts its input.
func predictCase(t *testing.T, c fixtureCase, mem memory.Allocator) (model.Model, []arrow.Array) {
	t.Helper()
	proba := false
	for _, o := range c.Outputs {
		proba = proba || o.Method == "predict_proba"
	}
	m, _, err := model.Load(filepath.Join(fixtureDir, c.ModelDir), model.LoadOptions{Proba: proba})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if got := m.Info().Flavor; got != "xgboost" {
		t.Fatalf("flavor %q", got)
	}
	header, rows := readCSV(t, filepath.Join(fixtureDir, c.Input))
	in := features(t, mem, m.Inputs(), header, rows)
	defer releaseAll(in.Cols)
	out, err := m.Predict(context.Background(), in, mem)
	if err != nil {
		t.Fatalf("predict: %v", err)
	}
	if len(out) != len(m.Outputs()) {
		releaseAll(out)
		t.Fatalf("%d outputs, Outputs() lists %d", len(out), len(m.Outputs()))
	}
	for i, a := range out {
		if a.Len() != in.Rows {
			releaseAll(out)
			t.Fatalf("output %d has %d rows, want %d", i, a.Len(), in.Rows)
		}
		if !arrow.TypeEqual(a.DataType(), m.Outputs()[i].Type) {
			releaseAll(out)
			t.Fatalf("output %s is %s, Outputs() says %s", m.Outputs()[i].Name, a.DataType(), m.Outputs()[i].Type)
		}
	}
	return m, out
}

func TestFixtures(t *testing.T) {
	cases := loadCases(t)
	var total parity
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			m, out := predictCase(t, c, mem)
			defer releaseAll(out)
			byName := map[string]arrow.Array{}
			for i, col := range m.Outputs() {
				byName[col.Name] = out[i]
			}
			var p parity
			for _, o := range c.Outputs {
				header, rows := readCSV(t, filepath.Join(fixtureDir, o.Golden))
				for j, name := range header {
					a, ok := byName[name]
					if !ok {
						t.Fatalf("no output column %q (have %v)", name, m.Outputs())
					}
					if o.Type == "int64" && a.DataType().ID() != arrow.INT64 {
						t.Fatalf("%s is %s, want int64 labels", name, a.DataType())
					}
					for i, r := range rows {
						want, ok := parseCell(t, r[j])
						if !ok {
							want = math.NaN()
						}
						got := cellValue(a, i)
						tol := o.Tolerance
						if tol.Exact {
							if got != want {
								t.Errorf("row %d %s: got %v, want %v (exact)", i+1, name, got, want)
							}
							continue
						}
						p.add(got, want)
						if math.IsNaN(want) != math.IsNaN(got) || math.Abs(got-want) > tol.Abs+tol.Rel*math.Abs(want) {
							t.Errorf("row %d %s: got %v, want %v", i+1, name, got, want)
						}
					}
				}
			}
			t.Logf("%s %s %s: %d/%d float values bit-identical, max rel diff %.3g",
				c.ModelFormat, c.Booster, c.Objective, p.exact, p.values, p.maxRel)
			total.values += p.values
			total.exact += p.exact
			total.maxRel = math.Max(total.maxRel, p.maxRel)
		})
	}
	t.Logf("all fixtures: %d/%d float values bit-identical to xgboost, max rel diff %.3g", total.exact, total.values, total.maxRel)
}

// TestFormatsAgree checks that one model saved as JSON, UBJSON and the old
// binary format predicts identically.
func TestFormatsAgree(t *testing.T) {
	groups := map[string][]fixtureCase{}
	for _, c := range loadCases(t) {
		if c.SameModel != "" {
			groups[c.SameModel] = append(groups[c.SameModel], c)
		}
	}
	if len(groups) == 0 {
		t.Fatal("no same_model groups in cases.json")
	}
	for name, cs := range groups {
		t.Run(name, func(t *testing.T) {
			if len(cs) < 2 {
				t.Fatalf("group has %d cases", len(cs))
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			_, ref := predictCase(t, cs[0], mem)
			defer releaseAll(ref)
			for _, c := range cs[1:] {
				_, out := predictCase(t, c, mem)
				if len(out) != len(ref) {
					releaseAll(out)
					t.Fatalf("%s: %d outputs, %s has %d", c.Name, len(out), cs[0].Name, len(ref))
				}
				for k := range out {
					for i := 0; i < out[k].Len(); i++ {
						if g, w := cellValue(out[k], i), cellValue(ref[k], i); math.Float64bits(g) != math.Float64bits(w) {
							t.Errorf("%s (%s) vs %s (%s): output %d row %d: %v != %v",
								c.Name, c.ModelFormat, cs[0].Name, cs[0].ModelFormat, k, i+1, g, w)
							break
						}
					}
				}
				releaseAll(out)
			}
		})
	}
}

// TestBatchSplitsAgree predicts the same rows in one batch and in small
// batches of odd sizes (block boundaries fall differently) and in parallel.
func TestBatchSplitsAgree(t *testing.T) {
	for _, c := range loadCases(t) {
		if c.Name != "xgbclassifier_multiclass_earlystop" && c.Name != "booster_reg_nan" && c.Name != "xgbregressor_dart" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			m, whole := predictCase(t, c, mem)
			defer releaseAll(whole)
			header, rows := readCSV(t, filepath.Join(fixtureDir, c.Input))
			const step = 37
			type result struct {
				start int
				out   []arrow.Array
				err   error
			}
			ch := make(chan result)
			n := 0
			for start := 0; start < len(rows); start += step {
				n++
				go func(start int) {
					end := min(start+step, len(rows))
					in := features(t, mem, m.Inputs(), header, rows[start:end])
					out, err := m.Predict(context.Background(), in, mem)
					// Release before reporting: the test checks for leaks once
					// every result is in.
					releaseAll(in.Cols)
					ch <- result{start, out, err}
				}(start)
			}
			for range n {
				r := <-ch
				if r.err != nil {
					t.Fatal(r.err)
				}
				for k, a := range r.out {
					for i := 0; i < a.Len(); i++ {
						if g, w := cellValue(a, i), cellValue(whole[k], r.start+i); math.Float64bits(g) != math.Float64bits(w) {
							t.Errorf("output %d row %d: batch %v, whole %v", k, r.start+i+1, g, w)
						}
					}
				}
				releaseAll(r.out)
			}
		})
	}
}
