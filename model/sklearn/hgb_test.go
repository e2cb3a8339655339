package sklearn

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

const hgbTestdata = "../../testdata"

// hgbCases are the HistGradientBoosting fixtures (scikit-learn 1.2.1).
var hgbCases = []struct {
	dir, input string
	classifier bool
}{
	{"models/hgbr_squared_error_diabetes_nan", "models/diabetes_tree_nan_input.csv", false},
	{"models/hgbr_poisson_diabetes_nan", "models/diabetes_tree_nan_input.csv", false},
	{"models/hgbc_binary_bc_nan", "models/breast_cancer_nan_input.csv", true},
	{"models/hgbc_multiclass_wine_nan", "models/wine_nan_input.csv", true},
	{"models/hgbc_iris_string_labels_nan", "models/iris_nan_input.csv", true},
	{"models/hgbc_categorical_wine", "models/wine_categorical_input.csv", true},
}

// hgbReadCSV reads a CSV file as text columns.
func hgbReadCSV(t testing.TB, path string) (header []string, cols map[string][]string) {
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
	for j, name := range recs[0] {
		for _, r := range recs[1:] {
			cols[name] = append(cols[name], r[j])
		}
	}
	return recs[0], cols
}

// hgbInputs builds the model's inputs from a CSV as float64 arrays, empty cells
// null, repeated times times.
func hgbInputs(t testing.TB, m model.Model, path string, times int, mem memory.Allocator) ([]arrow.Array, int) {
	t.Helper()
	header, cols := hgbReadCSV(t, path)
	rows := len(cols[header[0]])
	var out []arrow.Array
	for _, c := range m.Inputs() {
		vals, ok := cols[c.Name]
		if !ok {
			t.Fatalf("%s has no column %q", path, c.Name)
		}
		b := array.NewFloat64Builder(mem)
		for range times {
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
		}
		out = append(out, b.NewArray())
		b.Release()
	}
	return out, rows * times
}

func hgbRelease(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// TestHGBGolden compares predict and predict_proba with scikit-learn's: labels
// exactly, numbers within 1e-9 relative.
func TestHGBGolden(t *testing.T) {
	for _, c := range hgbCases {
		t.Run(c.dir, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			m, _, err := model.Load(filepath.Join(hgbTestdata, c.dir), model.LoadOptions{Proba: true})
			if err != nil {
				t.Fatal(err)
			}
			in, rows := hgbInputs(t, m, filepath.Join(hgbTestdata, c.input), 1, mem)
			defer hgbRelease(in)
			outs, err := m.Predict(context.Background(), model.Features{Cols: in, Rows: rows}, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer hgbRelease(outs)
			got := map[string]arrow.Array{}
			for i, col := range m.Outputs() {
				got[col.Name] = outs[i]
			}
			goldens := []string{"expected.csv"}
			if c.classifier {
				goldens = append(goldens, "expected_proba.csv")
			}
			for _, g := range goldens {
				header, want := hgbReadCSV(t, filepath.Join(hgbTestdata, c.dir, g))
				for _, name := range header {
					a := got[name]
					if a == nil {
						t.Fatalf("no output %q; outputs are %v", name, m.Outputs())
					}
					if a.Len() != rows || len(want[name]) != rows {
						t.Fatalf("%s: %d rows, golden %d, input %d", name, a.Len(), len(want[name]), rows)
					}
					exact, maxRel := 0, 0.0
					for i, ws := range want[name] {
						switch x := a.(type) {
						case *array.Float64:
							w, err := strconv.ParseFloat(ws, 64)
							if err != nil {
								t.Fatal(err)
							}
							g := x.Value(i)
							if g == w {
								exact++
								continue
							}
							rel := math.Abs(g-w) / math.Abs(w)
							maxRel = max(maxRel, rel)
							if !(rel <= 1e-9) {
								t.Errorf("%s row %d: got %v, want %v", name, i+1, g, w)
							}
						case *array.Int64:
							if s := strconv.FormatInt(x.Value(i), 10); s != ws {
								t.Errorf("%s row %d: got %s, want %s", name, i+1, s, ws)
							}
						case *array.String:
							if s := x.Value(i); s != ws {
								t.Errorf("%s row %d: got %q, want %q", name, i+1, s, ws)
							}
						default:
							t.Fatalf("%s is a %s array", name, a.DataType())
						}
					}
					if _, ok := a.(*array.Float64); ok {
						t.Logf("%s: %d/%d bit-identical, max relative difference %.3g", name, exact, rows, maxRel)
					}
				}
			}
		})
	}
}

// TestHGBConcurrent checks that one loaded model predicts the same from several
// goroutines at once.
func TestHGBConcurrent(t *testing.T) {
	c := hgbCases[5]
	m, _, err := model.Load(filepath.Join(hgbTestdata, c.dir), model.LoadOptions{Proba: true})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	in, rows := hgbInputs(t, m, filepath.Join(hgbTestdata, c.input), 3, mem)
	defer hgbRelease(in)
	ref, err := m.Predict(context.Background(), model.Features{Cols: in, Rows: rows}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer hgbRelease(ref)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				outs, err := m.Predict(context.Background(), model.Features{Cols: in, Rows: rows}, mem)
				if err != nil {
					t.Error(err)
					return
				}
				for j := range outs {
					if !array.Equal(outs[j], ref[j]) {
						t.Errorf("output %d differs between goroutines", j)
					}
				}
				hgbRelease(outs)
			}
		}()
	}
	wg.Wait()
}

// hgbDecode decodes a fixture's pickle to the estimator object, with writable
// array data.
func hgbDecode(t *testing.T, dir string) *pickle.Object { return objectOf(t, dir) }

// hgbNodes returns the nodes array of _predictors[it][k], with its data copied so
// that the test can corrupt it.
func hgbNodes(t *testing.T, obj *pickle.Object, it, k int) *pickle.NDArray {
	t.Helper()
	iters, err := obj.Items("_predictors")
	if err != nil {
		t.Fatal(err)
	}
	p := iters[it].(*pickle.List).Items[k].(*pickle.Object)
	arr, err := p.Array("nodes")
	if err != nil {
		t.Fatal(err)
	}
	arr.Data = append([]byte(nil), arr.Data...)
	return arr
}

// hgbSetField overwrites one integer field of record i.
func hgbSetField(t *testing.T, arr *pickle.NDArray, i int, name string, v uint64) {
	t.Helper()
	f, ok := arr.DType.Fields[name]
	if !ok {
		t.Fatalf("no field %s", name)
	}
	p := i*arr.DType.ItemSize + f.Offset
	switch f.DType.ItemSize {
	case 1:
		arr.Data[p] = byte(v)
	case 4:
		binary.LittleEndian.PutUint32(arr.Data[p:], uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(arr.Data[p:], v)
	default:
		t.Fatalf("field %s has %d bytes", name, f.DType.ItemSize)
	}
}

// hgbFirstSplit returns the index of the first split node whose children are
// both splits or leaves, for corrupting.
func hgbFirstSplit(t *testing.T, arr *pickle.NDArray) int {
	t.Helper()
	leaf, _ := arr.Field("is_leaf")
	for i := range leaf.Len() {
		if leaf.Int64(i) == 0 && i > 0 {
			return i
		}
	}
	t.Fatal("no split below the root")
	return 0
}

// TestHGBCorruptNodes checks that hostile node records fail to load with an error
// rather than a panic or an endless walk.
func TestHGBCorruptNodes(t *testing.T) {
	cases := []struct {
		name, dir string
		edit      func(t *testing.T, arr *pickle.NDArray)
		want      string
	}{
		{"child out of range", "models/hgbr_squared_error_diabetes_nan", func(t *testing.T, arr *pickle.NDArray) {
			hgbSetField(t, arr, 0, "left", uint64(arr.Shape[0]))
		}, "below"},
		{"child far out of range", "models/hgbr_squared_error_diabetes_nan", func(t *testing.T, arr *pickle.NDArray) {
			hgbSetField(t, arr, 0, "right", math.MaxUint32)
		}, "below"},
		{"self cycle", "models/hgbc_binary_bc_nan", func(t *testing.T, arr *pickle.NDArray) {
			hgbSetField(t, arr, 0, "left", 0)
		}, "cycle"},
		{"back edge", "models/hgbc_multiclass_wine_nan", func(t *testing.T, arr *pickle.NDArray) {
			i := hgbFirstSplit(t, arr)
			hgbSetField(t, arr, i, "right", uint64(i-1))
		}, "cycle"},
		{"feature out of range", "models/hgbr_poisson_diabetes_nan", func(t *testing.T, arr *pickle.NDArray) {
			hgbSetField(t, arr, 0, "feature_idx", 10)
		}, "feature 10"},
		{"categorical split on a numeric feature", "models/hgbr_poisson_diabetes_nan", func(t *testing.T, arr *pickle.NDArray) {
			hgbSetField(t, arr, 0, "is_categorical", 1)
		}, "categorical"},
		{"bitset out of range", "models/hgbc_categorical_wine", func(t *testing.T, arr *pickle.NDArray) {
			hgbSetField(t, arr, 0, "feature_idx", 13)
			hgbSetField(t, arr, 0, "is_categorical", 1)
			hgbSetField(t, arr, 0, "bitset_idx", 1<<31)
		}, "bitset"},
		{"unknown field", "models/hgbc_iris_string_labels_nan", func(t *testing.T, arr *pickle.NDArray) {
			dt := *arr.DType
			dt.Names = append([]string(nil), dt.Names...)
			dt.Fields = map[string]pickle.Field{}
			for k, v := range arr.DType.Fields {
				dt.Fields[k] = v
			}
			dt.Names[len(dt.Names)-1] = "bitset_index"
			dt.Fields["bitset_index"] = dt.Fields["bitset_idx"]
			delete(dt.Fields, "bitset_idx")
			arr.DType = &dt
		}, "unknown field"},
		{"missing field", "models/hgbc_iris_string_labels_nan", func(t *testing.T, arr *pickle.NDArray) {
			dt := *arr.DType
			dt.Names = nil
			dt.Fields = map[string]pickle.Field{}
			for _, k := range arr.DType.Names {
				if k != "missing_go_to_left" {
					dt.Names = append(dt.Names, k)
					dt.Fields[k] = arr.DType.Fields[k]
				}
			}
			arr.DType = &dt
		}, "missing_go_to_left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := hgbDecode(t, c.dir)
			if _, err := build(obj); err != nil {
				t.Fatalf("the intact model fails: %v", err)
			}
			obj = hgbDecode(t, c.dir)
			c.edit(t, hgbNodes(t, obj, 0, 0))
			_, err := build(obj)
			if err == nil {
				t.Fatal("a corrupted tree loaded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// TestHGBRefused checks the clear errors for layouts mlbatch does not read.
func TestHGBRefused(t *testing.T) {
	edits := []struct {
		name string
		edit func(obj *pickle.Object)
		want string
	}{
		{"_preprocessor that is not a ColumnTransformer", func(obj *pickle.Object) {
			obj.Dict["_preprocessor"] = &pickle.Object{Module: "sklearn.preprocessing._encoders", Name: "OrdinalEncoder"}
		}, "want the ColumnTransformer"},
		{"unfitted categorical _preprocessor (>= 1.4)", func(obj *pickle.Object) {
			obj.Dict["_preprocessor"] = &pickle.Object{Module: "sklearn.compose._column_transformer", Name: "ColumnTransformer"}
		}, "_preprocessor: not fitted"},
		{"binary loss of scikit-learn < 1.1 on a multiclass model", func(obj *pickle.Object) {
			obj.Dict["_loss"] = &pickle.Object{Module: "sklearn.ensemble._hist_gradient_boosting.loss", Name: "BinaryCrossEntropy"}
		}, "does not fit"},
		{"unknown loss of scikit-learn < 1.1", func(obj *pickle.Object) {
			obj.Dict["_loss"] = &pickle.Object{Module: "sklearn.ensemble._hist_gradient_boosting.loss", Name: "Huber"}
		}, "_loss Huber (scikit-learn < 1.1) is not supported"},
		{"unknown loss", func(obj *pickle.Object) { obj.Dict["loss"] = "huber" }, "huber"},
		{"regression loss on a classifier", func(obj *pickle.Object) { obj.Dict["loss"] = "poisson" }, "regression loss"},
		{"loss and _loss disagree", func(obj *pickle.Object) {
			obj.Name = "HistGradientBoostingRegressor"
			obj.Dict["loss"] = "poisson"
			obj.Dict["n_trees_per_iteration_"] = int64(1)
		}, "does not match the fitted _loss (HalfMultinomialLoss with MultinomialLogit)"},
		{"wrong tree count", func(obj *pickle.Object) { obj.Dict["n_trees_per_iteration_"] = int64(2) }, "trees"},
		{"baseline size", func(obj *pickle.Object) { obj.Dict["_baseline_prediction"] = 0.5 }, "_baseline_prediction"},
		{"known category out of range", func(obj *pickle.Object) {
			bm := obj.Dict["_bin_mapper"].(*pickle.Object)
			th := bm.Dict["bin_thresholds_"].(*pickle.List)
			arr := *th.Items[13].(*pickle.NDArray)
			arr.Data = append([]byte(nil), arr.Data...)
			binary.LittleEndian.PutUint64(arr.Data, math.Float64bits(256))
			th.Items[13] = &arr
		}, "known category 256"},
	}
	for _, c := range edits {
		t.Run(c.name, func(t *testing.T) {
			obj := hgbDecode(t, "models/hgbc_categorical_wine")
			c.edit(obj)
			_, err := build(obj)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// hgbF8 and friends are little-endian numpy dtypes for hand-built arrays.
var (
	hgbF8 = &pickle.DType{Kind: 'f', ItemSize: 8, Order: binary.LittleEndian}
	hgbI8 = &pickle.DType{Kind: 'i', ItemSize: 8, Order: binary.LittleEndian}
	hgbU4 = &pickle.DType{Kind: 'u', ItemSize: 4, Order: binary.LittleEndian}
	hgbU1 = &pickle.DType{Kind: 'u', ItemSize: 1, Order: binary.LittleEndian}
)

func hgbObject(module, name string, attrs map[string]any) *pickle.Object {
	o := &pickle.Object{Module: module, Name: name, Dict: attrs}
	for k := range attrs {
		o.Keys = append(o.Keys, k)
	}
	return o
}

// TestHGBCategoryCast runs one hand-built categorical split, with feature_idx as
// intp as later releases store it, against what scikit-learn 1.2.1 on x86-64
// returns for the same tree (TreePredictor.predict with known categories {0, 1, 2}
// and category 0 going left, missing going right).
func TestHGBCategoryCast(t *testing.T) {
	type rec struct {
		value       float64
		featureIdx  int64
		threshold   float64
		missingLeft uint8
		left, right uint32
		isLeaf      uint8
		isCat       uint8
		bitsetIdx   uint32
	}
	recs := []rec{
		{featureIdx: 0, left: 1, right: 2, isCat: 1},
		{value: 1, isLeaf: 1},
		{value: 2, isLeaf: 1},
	}
	// A packed record: value f8, feature_idx i8, num_threshold f8,
	// missing_go_to_left u1, left u4, right u4, is_leaf u1, is_categorical u1,
	// bitset_idx u4.
	fields := []struct {
		name string
		dt   *pickle.DType
	}{
		{"value", hgbF8}, {"feature_idx", hgbI8}, {"num_threshold", hgbF8},
		{"missing_go_to_left", hgbU1}, {"left", hgbU4}, {"right", hgbU4},
		{"is_leaf", hgbU1}, {"is_categorical", hgbU1}, {"bitset_idx", hgbU4},
	}
	dt := &pickle.DType{Kind: 'V', Order: binary.LittleEndian, Fields: map[string]pickle.Field{}}
	for _, f := range fields {
		dt.Names = append(dt.Names, f.name)
		dt.Fields[f.name] = pickle.Field{DType: f.dt, Offset: dt.ItemSize}
		dt.ItemSize += f.dt.ItemSize
	}
	var data []byte
	le := binary.LittleEndian
	for _, r := range recs {
		data = le.AppendUint64(data, math.Float64bits(r.value))
		data = le.AppendUint64(data, uint64(r.featureIdx))
		data = le.AppendUint64(data, math.Float64bits(r.threshold))
		data = append(data, r.missingLeft)
		data = le.AppendUint32(data, r.left)
		data = le.AppendUint32(data, r.right)
		data = append(data, r.isLeaf, r.isCat)
		data = le.AppendUint32(data, r.bitsetIdx)
	}
	nodes := &pickle.NDArray{DType: dt, Shape: []int{len(recs)}, Data: data}
	bitsets := &pickle.NDArray{DType: hgbU4, Shape: []int{1, 8}, Data: make([]byte, 32)}
	bitsets.Data[0] = 1 // category 0 goes left
	pred := hgbObject("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor", map[string]any{
		"nodes": nodes, "binned_left_cat_bitsets": bitsets, "raw_left_cat_bitsets": bitsets,
	})
	cats := &pickle.NDArray{DType: hgbF8, Shape: []int{3}}
	for _, c := range []float64{0, 1, 2} {
		cats.Data = le.AppendUint64(cats.Data, math.Float64bits(c))
	}
	bm := hgbObject("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper", map[string]any{
		"is_categorical_": &pickle.NDArray{DType: hgbU1, Shape: []int{1}, Data: []byte{1}},
		"bin_thresholds_": &pickle.List{Items: []any{cats}},
	})
	obj := hgbObject("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingRegressor", map[string]any{
		"loss":                   "squared_error",
		"n_features_in_":         int64(1),
		"n_trees_per_iteration_": int64(1),
		"_baseline_prediction":   &pickle.NDArray{DType: hgbF8, Shape: []int{1, 1}, Data: make([]byte, 8)},
		"_predictors":            &pickle.List{Items: []any{&pickle.List{Items: []any{pred}}}},
		"_bin_mapper":            bm,
	})
	est, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ x, want float64 }{
		{0, 1}, {1, 2}, {5, 2}, {math.NaN(), 2}, {math.Copysign(0, -1), 1}, {-0.5, 2},
		{-1e-300, 2}, {0.99, 1}, {256, 1}, {255.9, 2}, {1<<31 - 256, 1}, {1 << 31, 1},
		{1<<31 + 1, 1}, {1 << 32, 1}, {math.Inf(1), 1}, {math.Inf(-1), 2}, {1e300, 1},
		{257.5, 2}, {512, 1},
	} {
		got, err := est.(*hgbRegressor).regress(&Dense{Cols: [][]float64{{c.x}}, Rows: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != c.want {
			t.Errorf("category %v: leaf %v, want %v", c.x, got[0], c.want)
		}
	}
}

// TestHGBCategoricalInputs checks on the fitted categorical fixture that values
// scikit-learn casts to the same category predict the same.
func TestHGBCategoricalInputs(t *testing.T) {
	obj := hgbDecode(t, "models/hgbc_categorical_wine")
	est, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	c := est.(*hgbClassifier)
	mem := memory.NewGoAllocator()
	m, _, err := model.Load(filepath.Join(hgbTestdata, "models/hgbc_categorical_wine"), model.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := hgbInputs(t, m, filepath.Join(hgbTestdata, "models/wine_categorical_input.csv"), 1, mem)
	defer hgbRelease(in)
	X, err := toDense(in, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	proba := func(region float64) []float64 {
		cols := append([][]float64(nil), X.Cols...)
		cols[13] = []float64{region}
		p, err := c.predictProba(&Dense{Cols: cols, Rows: 1})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p0, p1 := proba(0), proba(1); p0[0] == p1[0] {
		t.Fatal("categories 0 and 1 predict the same for this row: the test checks nothing")
	}
	for _, eq := range [][2]float64{
		{1.9999, 1}, {257.5, 1}, {256*1000 + 4, 4}, {1<<31 - 251, 5},
		{1<<31 + 1, 0}, {math.Inf(1), 0}, {math.Copysign(0, -1), 0},
		{-1, math.NaN()}, {math.Inf(-1), math.NaN()}, {7, math.NaN()}, {300, math.NaN()},
	} {
		a, b := proba(eq[0]), proba(eq[1])
		for k := range a {
			if a[k] != b[k] {
				t.Errorf("region %v predicts %v, region %v %v", eq[0], a, eq[1], b)
				break
			}
		}
	}
}

// BenchmarkHGBPredict scores the breast-cancer classifier (40 trees, 30 features)
// on its fixture input repeated to 9456 rows, with one goroutine.
func BenchmarkHGBPredict(b *testing.B) {
	c := hgbCases[2]
	m, _, err := model.Load(filepath.Join(hgbTestdata, c.dir), model.LoadOptions{Proba: true})
	if err != nil {
		b.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	in, rows := hgbInputs(b, m, filepath.Join(hgbTestdata, c.input), 16, mem)
	defer hgbRelease(in)
	for b.Loop() {
		outs, err := m.Predict(context.Background(), model.Features{Cols: in, Rows: rows}, mem)
		if err != nil {
			b.Fatal(err)
		}
		hgbRelease(outs)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestHGBLossObject loads a model whose loss parameter is a loss object (allowed
// from scikit-learn 1.3): the link then comes from the fitted _loss.
func TestHGBLossObject(t *testing.T) {
	obj := hgbDecode(t, "models/hgbr_poisson_diabetes_nan")
	obj.Dict["loss"] = obj.Dict["_loss"]
	est, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	if l := est.(*hgbRegressor).link; l != hgbExp {
		t.Errorf("link %s, want exp", l)
	}
}

// TestHGBMutations flips bytes of real pickles: whatever still decodes must load
// with an error or predict without panicking.
func TestHGBMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dir := range []string{"models/hgbc_categorical_wine", "models/hgbr_poisson_diabetes_nan"} {
		orig, err := os.ReadFile(filepath.Join(hgbTestdata, dir, "model.pkl"))
		if err != nil {
			t.Fatal(err)
		}
		loaded := 0
		for range 300 {
			data := append([]byte(nil), orig...)
			for range 1 + rng.IntN(4) {
				data[rng.IntN(len(data))] = byte(rng.Uint32())
			}
			est, err := Decode(data)
			if err != nil {
				continue
			}
			loaded++
			F := est.NumFeatures()
			X := &Dense{Rows: 3, Cols: make([][]float64, F)}
			for j := range X.Cols {
				X.Cols[j] = []float64{math.NaN(), float64(j), -1e300}
			}
			mem := memory.NewGoAllocator()
			outs, err := est.Predict(X, model.LoadOptions{Proba: true}, mem)
			if err == nil {
				hgbRelease(outs)
			}
		}
		t.Logf("%s: %d of 300 mutated pickles still loaded", dir, loaded)
	}
}

// TestHGBSharedTrees checks that predictors repeated by reference are flattened
// once: a small pickle cannot make the loader allocate without bound.
func TestHGBSharedTrees(t *testing.T) {
	obj := hgbDecode(t, "models/hgbc_multiclass_wine_nan")
	iters, err := obj.Items("_predictors")
	if err != nil {
		t.Fatal(err)
	}
	one := len(iters[0].(*pickle.List).Items)
	rep := &pickle.List{}
	for range 10000 {
		rep.Items = append(rep.Items, iters[0])
	}
	obj.Dict["_predictors"] = rep
	est, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	e := est.(*hgbClassifier).hgbEnsemble
	if len(e.roots) != 10000*one {
		t.Errorf("%d trees, want %d", len(e.roots), 10000*one)
	}
	nodes := 0
	for _, p := range iters[0].(*pickle.List).Items {
		arr, _ := p.(*pickle.Object).Array("nodes")
		nodes += arr.Len()
	}
	if len(e.nodes) != nodes {
		t.Errorf("%d flattened nodes, want %d", len(e.nodes), nodes)
	}
}

// TestHGBNoFeatures predicts with a model of zero features, whose trees are
// single leaves: the baseline plus the leaves.
func TestHGBNoFeatures(t *testing.T) {
	leaf := &pickle.DType{Kind: 'V', ItemSize: 0, Order: binary.LittleEndian, Fields: map[string]pickle.Field{}}
	for _, f := range []struct {
		name string
		dt   *pickle.DType
	}{
		{"value", hgbF8}, {"feature_idx", hgbU4}, {"num_threshold", hgbF8},
		{"missing_go_to_left", hgbU1}, {"left", hgbU4}, {"right", hgbU4},
		{"is_leaf", hgbU1}, {"is_categorical", hgbU1}, {"bitset_idx", hgbU4},
	} {
		leaf.Names = append(leaf.Names, f.name)
		leaf.Fields[f.name] = pickle.Field{DType: f.dt, Offset: leaf.ItemSize}
		leaf.ItemSize += f.dt.ItemSize
	}
	data := make([]byte, leaf.ItemSize)
	binary.LittleEndian.PutUint64(data, math.Float64bits(0.25))
	data[leaf.Fields["is_leaf"].Offset] = 1
	pred := hgbObject("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor", map[string]any{
		"nodes": &pickle.NDArray{DType: leaf, Shape: []int{1}, Data: data},
	})
	obj := hgbObject("sklearn.ensemble._hist_gradient_boosting.gradient_boosting", "HistGradientBoostingRegressor", map[string]any{
		"loss":                   "poisson",
		"n_features_in_":         int64(0),
		"n_trees_per_iteration_": int64(1),
		"_baseline_prediction":   0.5,
		"_predictors":            &pickle.List{Items: []any{&pickle.List{Items: []any{pred}}, &pickle.List{Items: []any{pred}}}},
		"_bin_mapper": hgbObject("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper", map[string]any{
			"is_categorical_": &pickle.NDArray{DType: hgbU1, Shape: []int{0}},
		}),
	})
	est, err := build(obj)
	if err != nil {
		t.Fatal(err)
	}
	got, err := est.(*hgbRegressor).regress(&Dense{Rows: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got {
		if v != math.Exp(0.5+0.25+0.25) {
			t.Fatalf("got %v, want exp(1)", got)
		}
	}
}

// TestHGBNaNFreeBlocks: a block without NaN walks without the NaN test, one with
// a NaN walks with it. Scoring the NaN fixture whole (every 128-row block has a
// NaN somewhere) and one row at a time (most rows have none) must agree to the
// bit (the goldens check both paths against scikit-learn too).
func TestHGBNaNFreeBlocks(t *testing.T) {
	e, X := hgbNaNFixture(t)
	clean := 0
	whole, err := e.raw(X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range X.Rows {
		row := &Dense{Rows: 1}
		hasNaN := false
		for _, c := range X.Cols {
			row.Cols = append(row.Cols, c[i:i+1])
			hasNaN = hasNaN || math.IsNaN(c[i])
		}
		if !hasNaN {
			clean++
		}
		one, err := e.raw(row)
		if err != nil {
			t.Fatal(err)
		}
		for k := range e.K {
			if math.Float64bits(one[k]) != math.Float64bits(whole[i*e.K+k]) {
				t.Fatalf("row %d: %v alone, %v in its block", i+1, one[k], whole[i*e.K+k])
			}
		}
	}
	if clean == 0 || clean == X.Rows {
		t.Fatalf("%d of %d rows without NaN: the test needs both kinds", clean, X.Rows)
	}
}

// hgbNaNFixture is the breast-cancer classifier fitted with missing values and
// its input, empty cells as NaN.
func hgbNaNFixture(t testing.TB) (*hgbEnsemble, *Dense) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "models", "hgbc_binary_bc_nan", "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	est, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := est.(*hgbClassifier)
	if !ok {
		t.Fatalf("hgbc_binary_bc_nan decodes to %T", est)
	}
	path := filepath.Join(testdata, "models", "breast_cancer_nan_input.csv")
	names, _ := readCSV(t, path)
	X := readNumbers(t, path, names)
	return c.hgbEnsemble, X
}
