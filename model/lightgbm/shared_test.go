package lightgbm

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

const sharedExamples = "../../../shared/mlflow-examples"

// TestSharedIrisBooster scores the real MLflow 1.x LightGBM Booster (multiclass,
// unnamed column signature) and compares with expected_alt.csv, the output of an
// independent reader of the text format.
func TestSharedIrisBooster(t *testing.T) {
	dir := filepath.Join(sharedExamples, "iris-lightgbm-booster-lgb311-unnamed-signature")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared MLflow examples not found at %s: %v", dir, err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	m, _, err := model.Load(filepath.Join(dir, "model"), model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Info(); got.Flavor != "lightgbm" || got.Estimator != ClassBooster {
		t.Errorf("Info = %+v", got)
	}
	if !model.Positional(m.Inputs()) || len(m.Inputs()) != 4 {
		t.Fatalf("inputs = %+v, want 4 positional", m.Inputs())
	}
	header, rows := readCSV(t, filepath.Join(dir, "input.csv"))
	cols := floatColumns(t, mem, header, rows)
	defer releaseAll(cols)
	outs, err := m.Predict(context.Background(), model.Features{Cols: cols, Rows: len(rows)}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(outs)

	wantHeader, want := readCSV(t, filepath.Join(dir, "expected_alt.csv"))
	worst := 0.0
	if len(outs) != len(wantHeader) {
		t.Fatalf("%d outputs, want %d", len(outs), len(wantHeader))
	}
	for c, name := range wantHeader {
		if got := m.Outputs()[c].Name; got != name {
			t.Errorf("output %d is %q, want %q", c, got, name)
		}
		col := outs[c].(*array.Float64)
		bad := 0
		for i := range want {
			w := parseCell(t, want[i][c])
			g := col.Value(i)
			if !closeTo(g, w) {
				if bad++; bad <= 5 {
					t.Errorf("row %d %s: got %.17g, want %.17g", i+1, name, g, w)
				}
			}
			if w != 0 {
				worst = max(worst, math.Abs(g-w)/math.Abs(w))
			}
		}
	}
	t.Logf("%d rows x %d classes; max relative difference %.3g", len(want), len(wantHeader), worst)
}
