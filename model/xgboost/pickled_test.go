package xgboost

import (
	"encoding/binary"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/mlbatch/mlbatch/model/pickle"
	"github.com/mlbatch/mlbatch/model/sklearn"
)

const boostersDir = "../../testdata/longtail/boosters"

// snapshotOf digs the Booster's handle out of a fixture's model.pkl: the
// pickle is decoded with every class allowed (a test reading its own fixture).
func snapshotOf(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(boostersDir, name, "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := pickle.Unmarshal(data, pickle.Options{Allow: func(string, string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	obj := v.(*pickle.Object)
	if obj.Class() == "sklearn.pipeline.Pipeline" {
		steps, err := obj.Items("steps")
		if err != nil {
			t.Fatal(err)
		}
		obj = steps[len(steps)-1].(pickle.Tuple)[1].(*pickle.Object)
	}
	bo, err := obj.Object("_Booster")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := bo.Attr("handle")
	return h.([]byte)
}

var snapshotFixtures = []string{"xgb_regressor_pipeline", "xgb_snapshot_json", "xgb_snapshot_config_offset", "xgb_snapshot_binary"}

// TestSnapshotLayouts: the four layouts of the same kind of model decode to
// boosters of the format their writer used.
func TestSnapshotLayouts(t *testing.T) {
	for _, name := range snapshotFixtures {
		b, err := decodeSnapshot(snapshotOf(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.numFeature != 10 || b.numTrees() == 0 {
			t.Errorf("%s: %d features, %d trees", name, b.numFeature, b.numTrees())
		}
	}
}

// TestSnapshotTruncated: every prefix of every layout is an error, never a
// panic (the unguarded decoder is called, so a panic fails the test).
func TestSnapshotTruncated(t *testing.T) {
	for _, name := range snapshotFixtures {
		data := snapshotOf(t, name)
		end := len(data) // where the model part ends: the configuration after it is not read
		if name == "xgb_snapshot_config_offset" {
			end = len(snapshotHeader) + 8 + int(binary.LittleEndian.Uint64(data[len(snapshotHeader):]))
		}
		step := max(1, len(data)/300)
		for n := 0; n < len(data); n += step {
			if _, err := decodeSnapshotUnguarded(data[:n]); err == nil && n < end {
				t.Errorf("%s: a prefix of %d of %d bytes decodes", name, n, len(data))
			}
		}
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	for _, name := range snapshotFixtures {
		f.Add(snapshotOf(f, name))
	}
	f.Add([]byte("CONFIG-offset:\x08\x00\x00\x00\x00\x00\x00\x00binf"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := decodeSnapshotUnguarded(data); err == nil {
			exercise(b)
		}
	})
}

// TestPickledInterfaces: the wrappers load through model/sklearn's registry
// (this package registers them), and the methods meta-estimators call
// (Regress, PredictProba, PredictIndex) give xgboost's predict and
// predict_proba.
func TestPickledInterfaces(t *testing.T) {
	reg := decodeFixture(t, "xgb_regressor_bare")
	r, ok := reg.(sklearn.Regressor)
	if !ok {
		t.Fatalf("%T is not a sklearn.Regressor", reg)
	}
	if _, ok := reg.(sklearn.Classifier); ok {
		t.Errorf("%T is a regressor and a classifier", reg)
	}
	X, rows := readDense(t, filepath.Join(boostersDir, "diabetes_input.csv"), r.FeatureNames())
	got, err := r.Regress(X)
	if err != nil {
		t.Fatal(err)
	}
	want := readFloats(t, filepath.Join(boostersDir, "xgb_regressor_bare", "expected.csv"))
	if n, _ := r.Targets(); n != 1 || len(got) != rows || len(want) != rows {
		t.Fatalf("%d targets, %d values, %d rows, %d golden", n, len(got), rows, len(want))
	}
	for i := range want {
		if got[i] != want[i][0] {
			t.Errorf("row %d: Regress gives %v, xgboost %v", i+1, got[i], want[i][0])
		}
	}

	clf := decodeFixture(t, "xgb_classifier_bare")
	c, ok := clf.(sklearn.Classifier)
	if !ok {
		t.Fatalf("%T is not a sklearn.Classifier", clf)
	}
	X, rows = readDense(t, filepath.Join(boostersDir, "wine_input.csv"), c.FeatureNames())
	proba, err := c.PredictProba(X)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := c.PredictIndex(X)
	if err != nil {
		t.Fatal(err)
	}
	k := c.Classes().Len()
	wantP := readFloats(t, filepath.Join(boostersDir, "xgb_classifier_bare", "expected_proba.csv"))
	wantL := readFloats(t, filepath.Join(boostersDir, "xgb_classifier_bare", "expected.csv"))
	if k != 3 || len(proba) != rows*k || len(idx) != rows || len(wantP) != rows {
		t.Fatalf("%d classes, %d probabilities, %d labels for %d rows", k, len(proba), len(idx), rows)
	}
	for i := range rows {
		for j := range k {
			if proba[i*k+j] != wantP[i][j] {
				t.Errorf("row %d class %d: PredictProba gives %v, xgboost %v", i+1, j, proba[i*k+j], wantP[i][j])
			}
		}
		if float64(c.Classes().Ints[idx[i]]) != wantL[i][0] {
			t.Errorf("row %d: PredictIndex gives class %d, xgboost %v", i+1, idx[i], wantL[i][0])
		}
	}
}

func decodeFixture(t *testing.T, name string) sklearn.Estimator {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(boostersDir, name, "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	est, err := sklearn.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return est
}

// readFloats reads a CSV of numbers (header skipped), row by row.
func readFloats(t *testing.T, path string) [][]float64 {
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
	var out [][]float64
	for _, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for j, s := range rec {
			if row[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		out = append(out, row)
	}
	return out
}

// readDense reads the named columns of a numeric CSV into a Dense.
func readDense(t *testing.T, path string, names []string) (*sklearn.Dense, int) {
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
	rows := len(recs) - 1
	X := &sklearn.Dense{Rows: rows, Names: names}
	for _, name := range names {
		j := slices.Index(recs[0], name)
		if j < 0 {
			t.Fatalf("%s has no column %q", path, name)
		}
		col := make([]float64, rows)
		for i := range rows {
			if col[i], err = strconv.ParseFloat(recs[i+1][j], 64); err != nil {
				t.Fatal(err)
			}
		}
		X.Cols = append(X.Cols, col)
	}
	return X, rows
}
