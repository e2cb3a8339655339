package xgboost

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/model"
)

var seedDir = filepath.Join(fixtureDir, "seeds")

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(seedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFormatDetection(t *testing.T) {
	for _, tc := range []struct {
		data string
		want string
	}{
		{`{"learner":{}}`, "json"},
		{" \n{ \"a\": 1}", "json"},
		{"{}", "json"},
		{"{L\x00\x00\x00\x00\x00\x00\x00\x01a", "ubjson"},
		{"{i\x01aZ}", "ubjson"},
		{"binf\x00\x00\x00?", "binary"},
		{"\x00\x00\x00?\x0a", "binary"},
		{"", "binary"},
	} {
		if got := Format([]byte(tc.data)); got != tc.want {
			t.Errorf("Format(%q) = %s, want %s", tc.data, got, tc.want)
		}
	}
	for _, name := range []string{"tiny.json", "tiny.ubj", "tiny.bin"} {
		want := map[string]string{".json": "json", ".ubj": "ubjson", ".bin": "binary"}[filepath.Ext(name)]
		if got := Format(readSeed(t, name)); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

// TestSeedsAgree decodes each tiny seed model in every format and checks
// that the formats give the same booster predictions.
func TestSeedsAgree(t *testing.T) {
	for _, name := range []string{"tiny", "multi", "dart", "linear", "categorical"} {
		var ref []float32
		for _, ext := range []string{"json", "ubj", "bin"} {
			data, err := os.ReadFile(filepath.Join(seedDir, name+"."+ext))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := decode(data)
			if err != nil {
				t.Fatalf("%s.%s: %v", name, ext, err)
			}
			got := probe(b)
			if ref == nil {
				ref = got
				continue
			}
			for i := range ref {
				if math.Float32bits(ref[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%s.%s: value %d is %v, json gives %v", name, ext, i, got[i], ref[i])
				}
			}
		}
	}
}

// probe predicts a few fixed rows (zeros, NaN, mixed) on a decoded booster.
func probe(b *booster) []float32 {
	m := &xgbModel{b: b, treeEnd: b.numTrees(), missing: float32(math.NaN())}
	rows := 5
	cols := make([][]float64, b.numFeature)
	for j := range cols {
		cols[j] = []float64{0, math.NaN(), float64(j) - 1.5, 3.25, -1e30}
	}
	mg := m.margins(context.Background(), cols, rows)
	v, _ := b.predictValues(mg, rows)
	return v
}

// mutate applies a text edit that must change the model.
func mutate(t *testing.T, data []byte, old, new string) []byte {
	t.Helper()
	s := string(data)
	if !strings.Contains(s, old) {
		t.Fatalf("edit %q not found", old)
	}
	return []byte(strings.Replace(s, old, new, 1))
}

func TestHostileJSON(t *testing.T) {
	tiny := readSeed(t, "tiny.json")
	// tiny.json: 2 trees of depth 2 on 2 features; tree 0's first arrays start
	// with the root's entries.
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"child out of range", mutate(t, tiny, `"left_children":[1,`, `"left_children":[1000,`), "out of range"},
		{"negative child", mutate(t, tiny, `"right_children":[2,`, `"right_children":[-7,`), "out of range"},
		{"cycle to the root", mutate(t, tiny, `"left_children":[1,3,`, `"left_children":[1,0,`), "reached twice"},
		{"child is its sibling", mutate(t, tiny, `"right_children":[2,`, `"right_children":[1,`), "reached twice"},
		{"split feature out of range", mutate(t, tiny, `"split_indices":[`, `"split_indices":[99,`), ""},
		{"short split_conditions", mutate(t, tiny, `"split_conditions":[`, `"split_conditions":[1E0,`), "inconsistent"},
		{"tree_info out of range", mutate(t, tiny, `"tree_info":[0,`, `"tree_info":[5,`), "tree_info"},
		{"num_trees mismatch", mutate(t, tiny, `"num_trees":"2"`, `"num_trees":"3"`), "num_trees"},
		{"unknown objective", mutate(t, tiny, `"name":"binary:logistic"`, `"name":"binary:magic"`), "not supported"},
		{"base_score out of range for logistic", mutate(t, tiny, `"base_score":"5E-1"`, `"base_score":"2E0"`), "(0, 1)"},
		{"base_score array too long", mutate(t, tiny, `"base_score":"5E-1"`, `"base_score":"[5E-1,5E-1]"`), "base_score"},
		{"bad base_score", mutate(t, tiny, `"base_score":"5E-1"`, `"base_score":"[oops]"`), "base_score"},
		{"huge num_feature", mutate(t, tiny, `"num_feature":"2","num_target"`, `"num_feature":"4000000000","num_target"`), "num_feature"},
		{"unknown booster", mutate(t, tiny, `"name":"gbtree"`, `"name":"gbmagic"`), "not supported"},
		{"truncated", tiny[:len(tiny)/2], "offset"},
		{"trailing garbage", append(append([]byte{}, tiny...), "xyz"...), "after the end"},
		{"deep nesting", []byte(`{"a":` + strings.Repeat("[", 100000)), "nesting"},
		{"not an object", []byte(`{"learner": 3}`), "expected an object"},
		{"bad escape", []byte(`{"a\q": 1}`), "escape"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.data)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}

	// Categorical sets.
	cat := readSeed(t, "categorical.json")
	for _, tc := range []struct{ name, old, new string }{
		{"category segment out of range", `"categories_segments":[0`, `"categories_segments":[90`},
		{"negative category", `"categories":[`, `"categories":[-3,`},
		{"category node out of range", `"categories_nodes":[`, `"categories_nodes":[77,`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decode(mutate(t, cat, tc.old, tc.new)); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
	// DART and gblinear consistency.
	dart := readSeed(t, "dart.json")
	if _, err := decode(mutate(t, dart, `"weight_drop":[`, `"weight_drop":[1E0,`)); err == nil || !strings.Contains(err.Error(), "weight_drop") {
		t.Errorf("dart with an extra weight: %v", err)
	}
	lin := readSeed(t, "linear.json")
	if _, err := decode(mutate(t, lin, `"weights":[`, `"weights":[1E0,`)); err == nil || !strings.Contains(err.Error(), "weights") {
		t.Errorf("gblinear with an extra weight: %v", err)
	}
}

func TestHostileUBJSON(t *testing.T) {
	tiny := readSeed(t, "tiny.ubj")
	big := make([]byte, 8)
	binary.BigEndian.PutUint64(big, 1<<62)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"typed array count beyond the input", append([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[$d#L"), big...)},
		{"generic array count beyond the input", append([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[#L"), big...)},
		{"string length beyond the input", append([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x01aSL"), big...)},
		{"negative length", []byte("{L\xff\xff\xff\xff\xff\xff\xff\xffa")},
		{"object count beyond the input", append([]byte("{#L"), big...)},
		{"typed array of nulls", []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[$Z#L\x7f\xff\xff\xff\xff\xff\xff\xff")},
		{"unknown marker", []byte("{L\x00\x00\x00\x00\x00\x00\x00\x01aQ}")},
		{"deep nesting", append([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a"), []byte(strings.Repeat("[", 100000))...)},
		{"truncated", tiny[:len(tiny)*2/3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if Format(tc.data) != "ubjson" {
				t.Fatalf("not detected as UBJSON")
			}
			if _, err := decode(tc.data); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
}

func TestHostileBinary(t *testing.T) {
	tiny := readSeed(t, "tiny.bin")
	le := binary.LittleEndian
	// Offsets in tiny.bin: "binf", 136 bytes of parameters, then the objective
	// (u64 length + "binary:logistic"), the booster ("gbtree"), 160 bytes of
	// gbtree parameters, then tree 0's 148 bytes of parameters and its nodes.
	objOff := 4 + 136
	boosterOff := objOff + 8 + len("binary:logistic")
	gbOff := boosterOff + 8 + len("gbtree")
	treeOff := gbOff + 160
	nodeOff := treeOff + 148
	if string(tiny[objOff+8:boosterOff]) != "binary:logistic" || string(tiny[boosterOff+8:gbOff]) != "gbtree" {
		t.Fatalf("unexpected layout of tiny.bin")
	}
	edit := func(off int, v uint32) []byte {
		d := append([]byte{}, tiny...)
		le.PutUint32(d[off:], v)
		return d
	}
	edit64 := func(off int, v uint64) []byte {
		d := append([]byte{}, tiny...)
		le.PutUint64(d[off:], v)
		return d
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"huge tree count", edit(gbOff, 0x7fffffff), "cannot fit"},
		{"negative tree count", edit(gbOff, 0xffffffff), "negative"},
		{"huge node count", edit(treeOff+4, 0x7fffffff), "cannot fit"},
		{"zero nodes", edit(treeOff+4, 0), "num_nodes"},
		{"huge objective length", edit64(objOff, 1<<62), "string"},
		{"left child out of range", edit(nodeOff+4, 1000), "out of range"},
		{"cycle", edit(nodeOff+20+4, 0), "reached twice"},
		{"split feature out of range", edit(nodeOff+12, 77), "split feature"},
		{"prediction buffer", edit64(gbOff+16, 5), "prediction buffer"},
		{"truncated in a tree", tiny[:nodeOff+30], "fit"},
		{"truncated header", tiny[:40], "end of file"},
		{"base64", []byte("bs64AAAA"), "base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.data)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestTruncations cuts every seed at many points: each prefix must fail
// cleanly or decode, never panic.
func TestTruncations(t *testing.T) {
	entries, err := os.ReadDir(seedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data := readSeed(t, e.Name())
		for cut := 0; cut < len(data); cut += 1 + len(data)/97 {
			b, err := decode(data[:cut])
			if err == nil {
				probe(b)
			}
		}
	}
}

// folderWith copies a fixture folder into a temporary directory, applying edit
// to its MLmodel text.
func folderWith(t *testing.T, fixture string, edit func(string) string) string {
	t.Helper()
	src := filepath.Join(fixtureDir, "models", fixture)
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "MLmodel" {
			data = []byte(edit(string(data)))
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		edit          func(string) string
		want          string
	}{
		{"signature names differ from the booster's", "booster_multi_softprob",
			func(s string) string { return strings.Replace(s, "sepal length (cm)", "sepal_length", 1) }, "feature validation"},
		{"signature has the wrong width", "booster_multi_softprob",
			func(s string) string {
				return strings.Replace(s, `{"type": "double", "name": "sepal length (cm)", "required": true}, `, "", 1)
			}, "3 input columns"},
		{"data outside the folder", "booster_reg_gamma",
			func(s string) string { return strings.ReplaceAll(s, "data: model.json", "data: ../model.json") }, "inside the model folder"},
		{"missing data file", "booster_reg_gamma",
			func(s string) string { return strings.ReplaceAll(s, "data: model.json", "data: nothere.json") }, "nothere.json"},
		{"unknown model_class", "booster_reg_gamma",
			func(s string) string {
				return strings.Replace(s, "model_class: xgboost.core.Booster", "model_class: xgboost.dask.DaskXGBRegressor", 1)
			}, "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := folderWith(t, tc.fixture, tc.edit)
			_, _, err := model.Load(dir, model.LoadOptions{})
			if err == nil {
				t.Fatal("loaded without error")
			}
			if mlerr.KindOf(err) != mlerr.Model {
				t.Errorf("kind %v, want model", mlerr.KindOf(err))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestNoModelClass: MLflow < 1.22 wrote no model_class; the model is a Booster.
func TestNoModelClass(t *testing.T) {
	dir := folderWith(t, "booster_reg_gamma", func(s string) string {
		return strings.Replace(s, "    model_class: xgboost.core.Booster\n", "", 1)
	})
	m, _, err := model.Load(dir, model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Info().Estimator != "xgboost.core.Booster" {
		t.Fatalf("estimator %q", m.Info().Estimator)
	}
}

func TestProbaOnRegressorWarns(t *testing.T) {
	var warned []string
	for _, fixture := range []string{"xgbregressor_diabetes", "booster_binary_logistic"} {
		m, _, err := model.Load(filepath.Join(fixtureDir, "models", fixture), model.LoadOptions{
			Proba: true,
			Warn:  func(msg string) { warned = append(warned, msg) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.Outputs()); n != 1 || m.Outputs()[0].Name != "prediction" {
			t.Errorf("%s: outputs %v", fixture, m.Outputs())
		}
	}
	if len(warned) != 2 || !strings.Contains(warned[0], "XGBRegressor") || !strings.Contains(warned[1], "Booster") {
		t.Fatalf("warnings %q", warned)
	}
}

func float64Col(mem memory.Allocator, vals ...float64) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}

// TestInfinity: a Booster predicts through a DMatrix, which refuses infinities;
// the scikit-learn API's inplace_predict takes them as values.
func TestInfinity(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	for _, tc := range []struct {
		fixture string
		bad     float64
		refuse  bool
	}{
		{"booster_reg_squarederror_json", math.Inf(-1), true},
		{"booster_reg_squarederror_json", 1e39, true}, // finite in float64, +Inf in float32
		{"xgbregressor_diabetes", math.Inf(-1), false},
		{"booster_gblinear_json", math.Inf(1), true},
	} {
		m, _, err := model.Load(filepath.Join(fixtureDir, "models", tc.fixture), model.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cols := make([]arrow.Array, len(m.Inputs()))
		for j := range cols {
			v := 0.01
			if j == 3 {
				v = tc.bad
			}
			cols[j] = float64Col(mem, 0.02, v)
		}
		out, err := m.Predict(ctx, model.Features{Cols: cols, Rows: 2}, mem)
		releaseAll(cols)
		if !tc.refuse {
			if err != nil {
				t.Fatalf("%s: %v", tc.fixture, err)
			}
			if v := out[0].(*array.Float64).Value(1); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: prediction %v", tc.fixture, v)
			}
			releaseAll(out)
			continue
		}
		re, ok := mlerr.AsRowError(err)
		if !ok {
			releaseAll(out)
			t.Fatalf("%s: error %v, want a RowError", tc.fixture, err)
		}
		if re.Row != 2 || re.Column != m.Inputs()[3].Name || mlerr.KindOf(err) != mlerr.Data {
			t.Errorf("%s: %+v", tc.fixture, re)
		}
	}
}

func TestBadColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m, _, err := model.Load(filepath.Join(fixtureDir, "models", "booster_multi_softprob"), model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "b"}, nil)
	str := sb.NewArray()
	sb.Release()
	defer str.Release()
	num := float64Col(mem, 1, 2)
	defer num.Release()

	_, err = m.Predict(ctx, model.Features{Cols: []arrow.Array{num, str, num, num}, Rows: 2}, mem)
	if re, ok := mlerr.AsRowError(err); !ok || re.Column != "sepal width (cm)" || mlerr.KindOf(err) != mlerr.Schema {
		t.Errorf("string column: %v", err)
	}
	_, err = m.Predict(ctx, model.Features{Cols: []arrow.Array{num, nil, num, num}, Rows: 2}, mem)
	if mlerr.KindOf(err) != mlerr.Schema {
		t.Errorf("absent column: %v", err)
	}
	_, err = m.Predict(ctx, model.Features{Cols: []arrow.Array{num, num}, Rows: 2}, mem)
	if err == nil {
		t.Errorf("two columns for four features: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Predict(cctx, model.Features{Cols: []arrow.Array{num, num, num, num}, Rows: 2}, mem); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestNumericInputTypes: int and float32 columns and booleans are read as
// pandas would hand them to xgboost.
func TestNumericInputTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m, _, err := model.Load(filepath.Join(fixtureDir, "models", "booster_multi_softprob"), model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{5, 6}, nil)
	ints := ib.NewArray()
	ib.Release()
	fb := array.NewFloat32Builder(mem)
	fb.AppendValues([]float32{3.5, 2.25}, nil)
	f32 := fb.NewArray()
	fb.Release()
	f64 := float64Col(mem, 1.5, 0.25)
	in := []arrow.Array{ints, f32, f64, f64}
	defer releaseAll(in)
	got, err := m.Predict(context.Background(), model.Features{Cols: in, Rows: 2}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(got)
	want := []arrow.Array{float64Col(mem, 5, 6), float64Col(mem, 3.5, 2.25), f64, f64}
	defer releaseAll(want[:2])
	ref, err := m.Predict(context.Background(), model.Features{Cols: want, Rows: 2}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(ref)
	for k := range got {
		if !array.Equal(got[k], ref[k]) {
			t.Errorf("output %d: %v != %v", k, got[k], ref[k])
		}
	}
}
