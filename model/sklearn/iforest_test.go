package sklearn

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

const boostersTestdata = "../../testdata/longtail/boosters"

func iforestObj(t *testing.T, name string) *pickle.Object {
	return objectOf(t, filepath.Join("longtail", "boosters", name))
}

// readNumbers reads named float columns (empty cells NaN) from a CSV file.
func readNumbers(t testing.TB, path string, names []string) *Dense {
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
	d := &Dense{Rows: len(recs) - 1, Names: names}
	for _, name := range names {
		j := slices.Index(recs[0], name)
		if j < 0 {
			t.Fatalf("%s: no column %q", path, name)
		}
		col := make([]float64, d.Rows)
		for i := range col {
			col[i] = math.NaN()
			if s := recs[i+1][j]; s != "" {
				if col[i], err = strconv.ParseFloat(s, 64); err != nil {
					t.Fatal(err)
				}
			}
		}
		d.Cols = append(d.Cols, col)
	}
	return d
}

// TestIsolationForestScores compares score_samples and decision_function with
// scikit-learn 1.2.1's, for every bare IsolationForest fixture (the 1.2
// pickle, the same forest in the 1.4+ and 0.23 layouts, tiny leaves,
// feature subsets).
func TestIsolationForestScores(t *testing.T) {
	features := []string{"f1", "f2", "f3", "f4"}
	for _, name := range []string{"iforest_auto", "iforest_layout_1_4", "iforest_layout_0_23", "iforest_tiny_samples"} {
		t.Run(name, func(t *testing.T) {
			est, err := build(iforestObj(t, name))
			if err != nil {
				t.Fatal(err)
			}
			f := est.(*isolationForest)
			X := readNumbers(t, filepath.Join(boostersTestdata, "iforest_input.csv"), features)
			for _, c := range []struct {
				method string
				fn     func(*Dense) ([]float64, error)
			}{{"score_samples", f.scoreSamples}, {"decision_function", f.decisionScores}} {
				got, err := c.fn(X)
				if err != nil {
					t.Fatal(err)
				}
				want := readNumbers(t, filepath.Join(boostersTestdata, name, "expected_"+c.method+".csv"), []string{c.method}).Cols[0]
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, want %d", c.method, len(got), len(want))
				}
				worst := 0.0
				for i := range want {
					worst = max(worst, math.Abs(got[i]-want[i])/math.Abs(want[i]))
				}
				if worst > 1e-9 {
					t.Errorf("%s: max relative difference %g", c.method, worst)
				}
				t.Logf("%s: max relative difference %g over %d rows", c.method, worst, len(want))
			}
		})
	}
}

// TestIsolationForestRefusals: malformed attributes are errors naming them;
// NaN input is a row error, as check_array raises in scikit-learn 1.2.
func TestIsolationForestRefusals(t *testing.T) {
	edits := []struct {
		name string
		edit func(obj *pickle.Object)
		want string
	}{
		{"no estimators_", func(obj *pickle.Object) { delete(obj.Dict, "estimators_") }, "not fitted"},
		{"no max_samples_", func(obj *pickle.Object) { delete(obj.Dict, "max_samples_") }, "max_samples_"},
		{"offset_ NaN", func(obj *pickle.Object) { obj.Dict["offset_"] = math.NaN() }, "offset_"},
		{"_max_features too large", func(obj *pickle.Object) { obj.Dict["_max_features"] = int64(9) }, "_max_features"},
		{"features list short", func(obj *pickle.Object) {
			obj.Dict["estimators_features_"] = &pickle.List{Items: []any{}}
		}, "estimators_features_"},
		{"feature index out of range", func(obj *pickle.Object) {
			l := obj.Dict["estimators_features_"].(*pickle.List)
			arr := *l.Items[0].(*pickle.NDArray)
			arr.Data = append([]byte(nil), arr.Data...)
			arr.Data[0] = 7
			l.Items[0] = &arr
		}, "names feature 7"},
	}
	for _, c := range edits {
		t.Run(c.name, func(t *testing.T) {
			obj := iforestObj(t, "iforest_tiny_samples")
			c.edit(obj)
			_, err := build(obj)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %v, want one mentioning %q", err, c.want)
			}
		})
	}

	est, err := build(iforestObj(t, "iforest_auto"))
	if err != nil {
		t.Fatal(err)
	}
	X := &Dense{Cols: [][]float64{{1, 2}, {1, 2}, {1, math.NaN()}, {1, 2}}, Rows: 2, Names: []string{"f1", "f2", "f3", "f4"}}
	_, err = est.Predict(X, model.LoadOptions{}, memory.DefaultAllocator)
	var re *mlerr.RowError
	if !errors.As(err, &re) || re.Row != 2 || re.Column != "f3" {
		t.Errorf("NaN input: %v", err)
	}
}
