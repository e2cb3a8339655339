package lightgbm

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// fixtures is testdata/lightgbm, written by gen.py.
const fixtures = "../../testdata/lightgbm"

type goldenCase struct {
	Name          string   `json:"name"`
	ModelDir      string   `json:"model_dir"`
	Input         string   `json:"input"`
	Golden        string   `json:"golden"`
	Columns       []string `json:"columns"`
	Version       string   `json:"version"`
	NumClass      int      `json:"num_class"`
	Trees         int      `json:"trees"`
	FeatureSource string   `json:"feature_source"`
	Features      []string `json:"features"`
	ModelClass    *string  `json:"model_class"`
	Labels        string   `json:"labels"`
	Tolerance     struct {
		Rel float64 `json:"rel"`
	} `json:"tolerance"`
}

func loadCases(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) == 0 {
		t.Fatal("cases.json lists no cases")
	}
	return m.Cases
}

// bindInputs picks the model's inputs out of the CSV columns: by position when
// the model's inputs are unnamed, else by name.
func bindInputs(t *testing.T, m model.Model, header []string, cols []arrow.Array) []arrow.Array {
	t.Helper()
	inputs := m.Inputs()
	if model.Positional(inputs) {
		if len(header) != len(inputs) {
			t.Fatalf("positional model takes %d columns, input has %d", len(inputs), len(header))
		}
		return cols
	}
	out := make([]arrow.Array, len(inputs))
	for i, c := range inputs {
		j := slices.Index(header, c.Name)
		if j < 0 {
			t.Fatalf("input has no column %q", c.Name)
		}
		out[i] = cols[j]
	}
	return out
}

// TestGolden scores every gen.py fixture and compares with the reference
// evaluator's predictions: floats within the case's relative tolerance, labels
// exactly. Each case runs whole and in uneven batches.
func TestGolden(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)

			var warns []string
			m, _, err := model.Load(filepath.Join(fixtures, c.ModelDir), model.LoadOptions{
				Proba: c.Labels != "",
				Warn:  func(s string) { warns = append(warns, s) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) > 0 {
				t.Errorf("unexpected warnings: %q", warns)
			}
			if got, want := model.Positional(m.Inputs()), c.FeatureSource == "position"; got != want {
				t.Errorf("positional inputs = %v, want %v (feature source %s)", got, want, c.FeatureSource)
			}
			if !model.Positional(m.Inputs()) {
				for i, col := range m.Inputs() {
					if col.Name != c.Features[i] {
						t.Errorf("input %d is %q, want %q", i, col.Name, c.Features[i])
					}
				}
			}
			var outNames []string
			for _, o := range m.Outputs() {
				outNames = append(outNames, o.Name)
			}
			if !slices.Equal(outNames, c.Columns) {
				t.Fatalf("outputs %q, want %q", outNames, c.Columns)
			}

			header, rows := readCSV(t, filepath.Join(fixtures, c.Input))
			all := floatColumns(t, mem, header, rows)
			defer releaseAll(all)
			_, want := readCSV(t, filepath.Join(fixtures, c.Golden))
			if len(want) != len(rows) {
				t.Fatalf("golden has %d rows, input %d", len(want), len(rows))
			}

			// Whole input, then uneven slices (batches of 1, 7 and 100 rows).
			for _, batch := range []int{len(rows), 1, 7, 100} {
				if batch > 1 && batch >= len(rows) && batch != len(rows) {
					continue
				}
				bad := 0
				for lo := 0; lo < len(rows); lo += batch {
					hi := min(lo+batch, len(rows))
					sliced := make([]arrow.Array, len(all))
					for j, a := range all {
						sliced[j] = array.NewSlice(a, int64(lo), int64(hi))
					}
					outs, err := m.Predict(context.Background(), model.Features{Cols: bindInputs(t, m, header, sliced), Rows: hi - lo}, mem)
					releaseAll(sliced)
					if err != nil {
						t.Fatal(err)
					}
					bad += compareOutputs(t, c, outs, want[lo:hi], lo)
					releaseAll(outs)
					if bad > 10 {
						t.Fatalf("batch %d: too many mismatches", batch)
					}
				}
			}
		})
	}
}

// compareOutputs checks one batch of outputs against golden rows starting at row
// offset; it returns the number of mismatches.
func compareOutputs(t *testing.T, c goldenCase, outs []arrow.Array, want [][]string, offset int) int {
	t.Helper()
	bad := 0
	rel := c.Tolerance.Rel
	for j, name := range c.Columns {
		for i := range want {
			cell := want[i][j]
			switch col := outs[j].(type) {
			case *array.Float64:
				w := parseCell(t, cell)
				g := col.Value(i)
				if g == w || (math.IsNaN(g) && math.IsNaN(w)) || math.Abs(g-w) <= rel*math.Abs(w) {
					continue
				}
				bad++
				t.Errorf("row %d %s: got %.17g, want %.17g (rel diff %.3g)", offset+i+1, name, g, w, math.Abs(g-w)/math.Abs(w))
			default:
				if got := col.ValueStr(i); got != cell {
					bad++
					t.Errorf("row %d %s: got label %q, want %q", offset+i+1, name, got, cell)
				}
			}
		}
	}
	return bad
}

// TestGoldenMaxError reports the largest relative difference over all cases, so
// the parity claim is a measured number.
func TestGoldenMaxError(t *testing.T) {
	worst, worstCase, n := 0.0, "", 0
	for _, c := range loadCases(t) {
		if c.Labels != "" {
			continue
		}
		mem := memory.NewGoAllocator()
		m, _, err := model.Load(filepath.Join(fixtures, c.ModelDir), model.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		header, rows := readCSV(t, filepath.Join(fixtures, c.Input))
		cols := floatColumns(t, mem, header, rows)
		outs, err := m.Predict(context.Background(), model.Features{Cols: bindInputs(t, m, header, cols), Rows: len(rows)}, mem)
		if err != nil {
			t.Fatal(err)
		}
		_, want := readCSV(t, filepath.Join(fixtures, c.Golden))
		for j := range c.Columns {
			col := outs[j].(*array.Float64)
			for i := range want {
				w, g := parseCell(t, want[i][j]), col.Value(i)
				n++
				if g == w || w == 0 {
					continue
				}
				if d := math.Abs(g-w) / math.Abs(w); d > worst {
					worst, worstCase = d, c.Name
				}
			}
		}
	}
	t.Logf("%d predictions; max relative difference %.3g (%s)", n, worst, worstCase)
}
