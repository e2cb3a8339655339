package sklearn

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

var updateSkopsSeeds = flag.Bool("update-skops-seeds", false, "rewrite testdata/fuzz/FuzzDecodeSkops from the hand-made archives")

// A small builder of skops archives, following skops' node layout (see skops.go).
type skopsBuilder struct {
	id    int
	files map[string][]byte
}

func newSkops() *skopsBuilder { return &skopsBuilder{id: 100, files: map[string][]byte{}} }

func (b *skopsBuilder) node(class, module, loader string, extra map[string]any) map[string]any {
	b.id++
	n := map[string]any{"__class__": class, "__module__": module, "__loader__": loader, "__id__": b.id}
	for k, v := range extra {
		n[k] = v
	}
	return n
}

func (b *skopsBuilder) json(v any) map[string]any {
	text, _ := json.Marshal(v)
	return b.node("str", "builtins", "JsonNode", map[string]any{"content": string(text), "is_json": true})
}

func (b *skopsBuilder) typ(module, class string) map[string]any {
	return b.node(class, module, "TypeNode", nil)
}

func (b *skopsBuilder) list(items ...any) map[string]any {
	return b.node("list", "builtins", "ListNode", map[string]any{"content": items})
}

// dict builds a DictNode with str keys.
func (b *skopsBuilder) dict(kv map[string]any) map[string]any {
	var kt []any
	for range kv {
		kt = append(kt, b.typ("builtins", "str"))
	}
	return b.node("dict", "builtins", "DictNode", map[string]any{"content": kv, "key_types": b.list(kt...)})
}

// floats adds a 1-D float64 .npy member and returns its NdArrayNode.
func (b *skopsBuilder) floats(vals ...float64) map[string]any {
	h := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", len(vals))
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	for _, v := range vals {
		binary.Write(&buf, binary.LittleEndian, math.Float64bits(v))
	}
	n := b.node("ndarray", "numpy", "NdArrayNode", map[string]any{"type": "numpy"})
	name := fmt.Sprintf("%d.npy", n["__id__"])
	n["file"] = name
	b.files[name] = buf.Bytes()
	return n
}

func (b *skopsBuilder) object(module, class string, attrs map[string]any) map[string]any {
	return b.node(class, module, "ObjectNode", map[string]any{"content": b.dict(attrs)})
}

func (b *skopsBuilder) archive(root map[string]any, protocol int) []byte {
	root["protocol"] = protocol
	root["_skops_version"] = "0.10.0"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	schema, _ := json.Marshal(root)
	// ZIP_STORED, as skops writes by default.
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "schema.json", Method: zip.Store})
	w.Write(schema)
	for name, data := range b.files {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

// linregSkops is a hand-made LinearRegression: 2*x0 - x1 + 0.5.
func linregSkops(b *skopsBuilder, extra map[string]any) map[string]any {
	attrs := map[string]any{
		"coef_":            b.floats(2, -1),
		"intercept_":       b.json(0.5),
		"n_features_in_":   b.json(2),
		"_sklearn_version": b.json("1.2.1"),
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return b.object("sklearn.linear_model._base", "LinearRegression", attrs)
}

func TestSkopsHandMade(t *testing.T) {
	b := newSkops()
	est, err := DecodeSkops(b.archive(linregSkops(b, nil), 2))
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out, err := est.Predict(&Dense{Cols: [][]float64{{1, 3}, {1, 2}}, Rows: 2}, model.LoadOptions{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out[0].Release()
	p := out[0].(*array.Float64).Float64Values()
	if p[0] != 1.5 || p[1] != 4.5 {
		t.Errorf("predictions %v, want [1.5 4.5]", p)
	}
	// Protocol 0 spells JsonNode "none" with is_json; it reads the same.
	b = newSkops()
	root := linregSkops(b, nil)
	root["content"].(map[string]any)["content"].(map[string]any)["intercept_"].(map[string]any)["__loader__"] = "none"
	if _, err := DecodeSkops(b.archive(root, 0)); err != nil {
		t.Errorf("protocol 0: %v", err)
	}
}

// hostileSkops lists archives the reader must refuse, and what the error says.
func hostileSkops() []struct {
	name string
	data []byte
	want string
} {
	type c = struct {
		name string
		data []byte
		want string
	}
	var out []c
	add := func(name, want string, build func(b *skopsBuilder) (map[string]any, int)) {
		b := newSkops()
		root, proto := build(b)
		out = append(out, c{name, b.archive(root, proto), want})
	}
	add("unknown class", "unsupported class os._wrap_close", func(b *skopsBuilder) (map[string]any, int) {
		return b.object("os", "_wrap_close", map[string]any{}), 2
	})
	add("function", "function builtins.eval", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"hook": b.node("eval", "builtins", "FunctionNode", nil)}), 2
	})
	add("function protocol 0", "function os.system", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"hook": b.node("function", "builtins", "FunctionNode",
			map[string]any{"content": map[string]any{"module_path": "os", "function": "system"}})}), 0
	})
	add("type", "type subprocess.Popen", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"dtype": b.typ("subprocess", "Popen")}), 2
	})
	add("method", "loader MethodNode is not supported", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"m": b.node("LinearRegression", "sklearn.linear_model._base", "MethodNode",
			map[string]any{"content": map[string]any{"func": "fit", "obj": b.json(1)}})}), 2
	})
	add("partial", "loader PartialNode is not supported", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"p": b.node("partial", "functools", "PartialNode", nil)}), 2
	})
	add("protocol", "protocol 9", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, nil), 9
	})
	add("missing npy", "has no", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"x": b.node("ndarray", "numpy", "NdArrayNode", map[string]any{"type": "numpy", "file": "nope.npy"})}), 2
	})
	add("object array shape", "items for dimension", func(b *skopsBuilder) (map[string]any, int) {
		shape := b.node("tuple", "builtins", "TupleNode", map[string]any{"content": []any{b.json(3)}})
		return linregSkops(b, map[string]any{"x": b.node("ndarray", "numpy", "NdArrayNode",
			map[string]any{"type": "json", "content": []any{b.json("a")}, "shape": shape})}), 2
	})
	add("deep", "nested too deeply", func(b *skopsBuilder) (map[string]any, int) {
		v := b.json(1)
		for range 600 {
			v = b.list(v)
		}
		return linregSkops(b, map[string]any{"deep": v}), 2
	})
	add("unknown cached", "has not been read", func(b *skopsBuilder) (map[string]any, int) {
		return linregSkops(b, map[string]any{"c": map[string]any{"__class__": "x", "__module__": "y", "__loader__": "CachedNode", "__id__": 99999}}), 2
	})
	add("dict key type", "dict keys of type builtins.bytes", func(b *skopsBuilder) (map[string]any, int) {
		d := b.node("dict", "builtins", "DictNode", map[string]any{"content": map[string]any{"k": b.json(1)},
			"key_types": b.list(b.typ("builtins", "bytes"))})
		return linregSkops(b, map[string]any{"d": d}), 2
	})
	out = append(out, c{"not a zip", []byte("PK\x03\x04 nonsense"), "not a zip"})
	var empty bytes.Buffer
	zw := zip.NewWriter(&empty)
	zw.Close()
	out = append(out, c{"no schema", empty.Bytes(), `no "schema.json"`})
	return out
}

// TestSkopsHostile: the skops reader fails closed, naming what it refused.
func TestSkopsHostile(t *testing.T) {
	for _, c := range hostileSkops() {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeSkops(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	// A list holding itself (by __id__) loads without looping.
	b := newSkops()
	l := b.list()
	l["content"] = []any{map[string]any{"__class__": "list", "__module__": "builtins", "__loader__": "CachedNode", "__id__": l["__id__"]}}
	if _, err := DecodeSkops(b.archive(linregSkops(b, map[string]any{"loop": l}), 2)); err != nil {
		t.Errorf("self-referencing list: %v", err)
	}
}

// skopsSeeds are the fuzz seeds: small fixture archives and the hand-made ones.
func skopsSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, dir := range []string{"booleans_onehot_tree_skops_deflate"} {
		data, err := os.ReadFile(filepath.Join(testdata, "pipelines", dir, "model.skops"))
		if err != nil {
			t.Fatal(err)
		}
		seeds[dir] = data
	}
	b := newSkops()
	seeds["linreg"] = b.archive(linregSkops(b, nil), 2)
	for _, c := range hostileSkops() {
		seeds[strings.ReplaceAll(c.name, " ", "-")] = c.data
	}
	return seeds
}

// TestWriteSkopsSeeds rewrites the committed corpus with -update-skops-seeds.
func TestWriteSkopsSeeds(t *testing.T) {
	if !*updateSkopsSeeds {
		t.Skip("run with -update-skops-seeds to rewrite the corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeSkops")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range skopsSeeds(t) {
		if len(data) > 32<<10 {
			continue // the large fixtures are added by f.Add instead
		}
		text := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecodeSkops feeds mutated skops archives to the reader and, when they
// load, scores two rows of NaN with them: an error or a model, never a panic
// or a hang. Seeds: testdata/fuzz/FuzzDecodeSkops plus the fixtures.
func FuzzDecodeSkops(f *testing.F) {
	for _, data := range skopsSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		est, err := DecodeSkops(data)
		if err != nil {
			return
		}
		_ = est.Outputs(modelOptsProba)
		te, ok := est.(tableEstimator)
		if !ok || est.NumFeatures() > 64 {
			return
		}
		n := max(est.NumFeatures(), 0)
		tb := &table{rows: 2}
		for range n {
			tb.cols = append(tb.cols, &column{num: []float64{math.NaN(), 1}})
		}
		mem := memory.NewGoAllocator()
		out, err := te.predictTable(tb, modelOptsProba, mem)
		if err == nil {
			for _, a := range out {
				a.Release()
			}
		}
	})
}

// FuzzPipelinePickle feeds mutated Pipeline pickles (every transformer kind)
// to the loader and scores two rows with what loads: an error or predictions,
// never a panic or a hang.
func FuzzPipelinePickle(f *testing.F) {
	for _, dir := range []string{"normalizer_l1_logreg", "poly_deg3_bias_min2_ridge", "booleans_onehot_dummy",
		"scalers_robust_maxabs_sgd", "kbins_ordinal_uniform_logreg", "customers_drop_array_linreg",
		"kbins_onehot_kmeans_logreg", "customers_missing_markers_lasso", "customers_ct_logreg",
		"customers_maxcat_sparse_logreg", "later_release_maxcat_sparse_logreg", "customers_indicators_tree"} {
		data, err := os.ReadFile(filepath.Join(testdata, "pipelines", dir, "model.pkl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		est, err := Decode(data)
		if err != nil {
			return
		}
		_ = est.Outputs(modelOptsProba)
		te, ok := est.(tableEstimator)
		if !ok || est.NumFeatures() > 64 {
			return
		}
		_ = te.inputKinds(kindNum)
		tb := &table{rows: 2}
		for j := range max(est.NumFeatures(), 0) {
			if j%2 == 0 {
				tb.cols = append(tb.cols, &column{num: []float64{math.NaN(), 1}})
			} else {
				tb.cols = append(tb.cols, &column{obj: []value{strValue("Paris"), nanValue}})
			}
		}
		out, err := te.predictTable(tb, modelOptsProba, memory.NewGoAllocator())
		if err == nil {
			for _, a := range out {
				a.Release()
			}
		}
	})
}
