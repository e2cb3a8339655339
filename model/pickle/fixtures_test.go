package pickle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fixture is one testdata/NAME.json written by testdata/gen.py.
type fixture struct {
	Allow       []string       `json:"allow"`
	Value       map[string]any `json:"value"`
	Unsupported []string       `json:"unsupported"`
}

func allowPrefixes(prefixes []string) func(module, name string) bool {
	return func(module, name string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(module+".", p) {
				return true
			}
		}
		return false
	}
}

func loadFixture(t testing.TB, name string) (fixture, []byte) {
	t.Helper()
	var fx fixture
	js, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &fx); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", name+".pkl"))
	if err != nil {
		t.Fatal(err)
	}
	return fx, data
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.pkl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".pkl"))
	}
	return names
}

// TestFixtures decodes every real pickle and compares it with what Python
// says it holds.
func TestFixtures(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			fx, data := loadFixture(t, name)
			v, err := Unmarshal(data, Options{Allow: allowPrefixes(fx.Allow)})
			if fx.Unsupported != nil {
				var ue *UnsupportedError
				if !errors.As(err, &ue) {
					t.Fatalf("got %v, %v; want UnsupportedError", v, err)
				}
				if ue.Module != fx.Unsupported[0] || ue.Name != fx.Unsupported[1] {
					t.Fatalf("unsupported %s.%s, want %s", ue.Module, ue.Name, strings.Join(fx.Unsupported, "."))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := newChecker(t)
			c.check("value", fx.Value, v)
		})
	}
}

type checker struct {
	t    *testing.T
	ids  map[float64]any
	ptrs map[any]float64
	errs int
}

func newChecker(t *testing.T) *checker {
	return &checker{t: t, ids: map[float64]any{}, ptrs: map[any]float64{}}
}

func (c *checker) fail(path, format string, args ...any) {
	c.t.Helper()
	c.errs++
	if c.errs <= 20 {
		c.t.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
}

// ident records that expected object id is got, and checks that identity is
// shared exactly where Python shared it.
func (c *checker) ident(path string, e map[string]any, got any) {
	id, ok := e["id"].(float64)
	if !ok {
		return
	}
	if prev, ok := c.ptrs[got]; ok {
		c.fail(path, "value already seen as id %v, Python has a new object %v", prev, id)
		return
	}
	c.ids[id] = got
	c.ptrs[got] = id
}

func parsePyFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return f
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

func intString(v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case *big.Int:
		return x.String(), true
	}
	return "", false
}

func items(e map[string]any, key string) []any {
	v, _ := e[key].([]any)
	return v
}

func (c *checker) check(path string, e map[string]any, got any) {
	c.t.Helper()
	t, _ := e["t"].(string)
	switch t {
	case "none":
		if got != nil {
			c.fail(path, "got %s, want None", typeName(got))
		}
	case "bool":
		if b, ok := got.(bool); !ok || b != e["v"].(bool) {
			c.fail(path, "got %#v, want %v", got, e["v"])
		}
	case "int":
		s, ok := intString(got)
		if !ok || s != e["v"].(string) {
			c.fail(path, "got %#v, want int %v", got, e["v"])
		}
		if b, ok := got.(*big.Int); ok && b.IsInt64() {
			c.fail(path, "big.Int %v fits int64", b)
		}
	case "float":
		f, ok := got.(float64)
		if !ok || !sameFloat(f, parsePyFloat(e["v"].(string))) {
			c.fail(path, "got %#v, want float %v", got, e["v"])
		}
	case "complex":
		z, ok := got.(complex128)
		if !ok || !sameFloat(real(z), parsePyFloat(e["re"].(string))) || !sameFloat(imag(z), parsePyFloat(e["im"].(string))) {
			c.fail(path, "got %#v, want complex %v %v", got, e["re"], e["im"])
		}
	case "str":
		if s, ok := got.(string); !ok || s != e["v"].(string) {
			c.fail(path, "got %#v, want str %q", got, e["v"])
		}
	case "bytes":
		if b, ok := got.([]byte); !ok || hex.EncodeToString(b) != e["hex"].(string) {
			c.fail(path, "got %#v, want bytes %v", got, e["hex"])
		}
	case "tuple":
		tu, ok := got.(Tuple)
		if !ok {
			c.fail(path, "got %s, want tuple", typeName(got))
			return
		}
		c.seq(path, items(e, "items"), tu)
	case "slice":
		s, ok := got.(*Slice)
		if !ok {
			c.fail(path, "got %s, want slice", typeName(got))
			return
		}
		c.seq(path, items(e, "items"), []any{s.Start, s.Stop, s.Step})
	case "global":
		g, ok := got.(*Global)
		if !ok || g.Module != e["module"] || g.Name != e["name"] {
			c.fail(path, "got %s, want class %v.%v", typeName(got), e["module"], e["name"])
		}
	case "dtype":
		d, ok := got.(*DType)
		if !ok || d.String() != e["str"] {
			c.fail(path, "got %s, want dtype %v", typeName(got), e["str"])
			return
		}
		c.names(path, d, e["names"])
	case "ref":
		want := c.ids[e["id"].(float64)]
		if want == nil || want != got {
			c.fail(path, "got %s, want the object with id %v", typeName(got), e["id"])
		}
	case "list":
		l, ok := got.(*List)
		if !ok {
			c.fail(path, "got %s, want list", typeName(got))
			return
		}
		c.ident(path, e, l)
		c.seq(path, items(e, "items"), l.Items)
	case "set", "frozenset":
		s, ok := got.(*Set)
		if !ok || s.Frozen != (t == "frozenset") {
			c.fail(path, "got %s, want %s", typeName(got), t)
			return
		}
		c.ident(path, e, s)
		c.seq(path, items(e, "items"), s.Items)
	case "dict":
		d, ok := got.(*Dict)
		if !ok {
			c.fail(path, "got %s, want dict", typeName(got))
			return
		}
		c.ident(path, e, d)
		c.dict(path, items(e, "items"), d.Keys(), d.Values())
	case "object":
		o, ok := got.(*Object)
		if !ok {
			c.fail(path, "got %s, want object %v.%v", typeName(got), e["module"], e["name"])
			return
		}
		c.ident(path, e, o)
		if o.Module != e["module"] || o.Name != e["name"] {
			c.fail(path, "got object %s, want %v.%v", o.Class(), e["module"], e["name"])
		}
		c.check(path+".args", e["args"].(map[string]any), o.Args)
		st := e["state"].(map[string]any)
		if st["t"] == "dict" && st["id"] == nil {
			keys := make([]any, len(o.Keys))
			vals := make([]any, len(o.Keys))
			for i, k := range o.Keys {
				keys[i], vals[i] = k, o.Dict[k]
			}
			c.dict(path, items(st, "items"), keys, vals)
		} else {
			c.check(path+".state", st, o.State)
		}
		if li := items(e, "listitems"); li != nil || o.ListItems != nil {
			c.seq(path+".listitems", li, o.ListItems)
		}
		if di := items(e, "dictitems"); di != nil || o.DictItems != nil {
			var keys, vals []any
			if o.DictItems != nil {
				keys, vals = o.DictItems.Keys(), o.DictItems.Values()
			}
			c.dict(path+".dictitems", di, keys, vals)
		}
	case "ndarray":
		a, ok := got.(*NDArray)
		if !ok {
			c.fail(path, "got %s, want ndarray", typeName(got))
			return
		}
		c.ident(path, e, a)
		c.array(path, e, a)
	default:
		c.fail(path, "unknown description %v", e)
	}
}

func (c *checker) seq(path string, want []any, got []any) {
	c.t.Helper()
	if len(want) != len(got) {
		c.fail(path, "got %d items, want %d", len(got), len(want))
		return
	}
	for i := range want {
		c.check(fmt.Sprintf("%s[%d]", path, i), want[i].(map[string]any), got[i])
	}
}

func (c *checker) dict(path string, want []any, keys, vals []any) {
	c.t.Helper()
	if len(want) != len(keys) {
		c.fail(path, "got %d entries, want %d", len(keys), len(want))
		return
	}
	for i, kv := range want {
		pair := kv.([]any)
		c.check(fmt.Sprintf("%s.key[%d]", path, i), pair[0].(map[string]any), keys[i])
		p := fmt.Sprintf("%s[%v]", path, keys[i])
		if s, ok := keys[i].(string); ok {
			p = path + "." + s
		}
		c.check(p, pair[1].(map[string]any), vals[i])
	}
}

func (c *checker) names(path string, d *DType, want any) {
	var wn []string
	if w, ok := want.([]any); ok {
		for _, n := range w {
			wn = append(wn, n.(string))
		}
	}
	if strings.Join(wn, ",") != strings.Join(d.Names, ",") {
		c.fail(path, "field names %v, want %v", d.Names, wn)
	}
}

func (c *checker) array(path string, e map[string]any, a *NDArray) {
	c.t.Helper()
	if a.DType.String() != e["dtype"] {
		c.fail(path, "dtype %s, want %v", a.DType, e["dtype"])
		return
	}
	var shape []any
	for _, d := range a.Shape {
		shape = append(shape, float64(d))
	}
	if fmt.Sprint(shape) != fmt.Sprint(items(e, "shape")) {
		c.fail(path, "shape %v, want %v", a.Shape, e["shape"])
		return
	}
	if a.Fortran != e["fortran"].(bool) {
		c.fail(path, "fortran %v, want %v", a.Fortran, e["fortran"])
	}
	if a.Len() != len(a.Objects) && a.DType.Kind == 'O' {
		c.fail(path, "Len %d with %d objects", a.Len(), len(a.Objects))
	}
	if fields, ok := e["fields"].(map[string]any); ok {
		if len(fields) != len(a.DType.Names) {
			c.fail(path, "fields %v, want %v", a.DType.Names, fields)
		}
		for name, fe := range fields {
			fe := fe.(map[string]any)
			p := path + "." + name
			if sub, ok := fe["subarray"].(map[string]any); ok {
				f := a.DType.Fields[name]
				if f.DType == nil || f.DType.Sub == nil || f.DType.String() != fe["dtype"] || float64(f.Offset) != fe["offset"] ||
					f.DType.Sub.Base.String() != sub["base"] || fmt.Sprint(f.DType.Sub.Shape) != strings.ReplaceAll(fmt.Sprint(sub["shape"]), ".0", "") {
					c.fail(p, "subarray field %+v, want %v", f, fe)
				}
				if _, err := a.Field(name); err == nil || !strings.Contains(err.Error(), "only bool, int, uint and float fields") {
					c.fail(p, "Field of a subarray: %v", err)
				}
				continue
			}
			fv, err := a.Field(name)
			if err != nil {
				c.fail(p, "%v", err)
				continue
			}
			if fv.DType().String() != fe["dtype"] || float64(a.DType.Fields[name].Offset) != fe["offset"] {
				c.fail(p, "field %s at %d, want %v at %v", fv.DType(), a.DType.Fields[name].Offset, fe["dtype"], fe["offset"])
			}
			c.fieldValues(p, fe, fv)
		}
		return
	}
	if a.DType.Kind == 'O' {
		c.seq(path, items(e, "items"), a.Objects)
		vals, err := a.Values()
		if err != nil || len(vals) != len(a.Objects) {
			c.fail(path, "Values: %v", err)
		}
		return
	}
	c.values(path, e, a)
}

func digest(as string, f []float64, n []int64) string {
	h := sha256.New()
	var b [8]byte
	if as == "<f8" {
		for _, v := range f {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	} else {
		for _, v := range n {
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// values compares the elements of a plain array in every form the
// description gives.
func (c *checker) values(path string, e map[string]any, a *NDArray) {
	c.t.Helper()
	if d, ok := e["digest"].(string); ok {
		var f []float64
		var n []int64
		var err error
		if e["as"] == "<f8" {
			f, err = a.Float64s()
		} else {
			n, err = a.Int64s()
		}
		if err != nil || digest(e["as"].(string), f, n) != d {
			c.fail(path, "digest mismatch (err %v)", err)
		}
		return
	}
	vals, err := a.Values()
	if err != nil {
		c.fail(path, "Values: %v", err)
		return
	}
	switch {
	case e["values"] != nil:
		want := items(e, "values")
		if len(want) != len(vals) {
			c.fail(path, "%d values, want %d", len(vals), len(want))
			return
		}
		var fl []float64
		if a.DType.Kind == 'f' {
			if fl, err = a.Float64s(); err != nil {
				c.fail(path, "Float64s: %v", err)
				return
			}
		}
		for i, w := range want {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch a.DType.Kind {
			case 'f':
				wf := parsePyFloat(w.(string))
				if !sameFloat(fl[i], wf) || !sameFloat(vals[i].(float64), wf) {
					c.fail(p, "got %v, want %v", fl[i], w)
				}
			case 'i', 'u':
				if s, _ := intString(vals[i]); s != w.(string) {
					c.fail(p, "got %v, want %v", vals[i], w)
				}
			case 'b':
				if vals[i] != w.(bool) {
					c.fail(p, "got %v, want %v", vals[i], w)
				}
			}
		}
		if strings.IndexByte("biu", a.DType.Kind) >= 0 {
			// Float64s and Int64s agree with the values.
			fl, err1 := a.Float64s()
			in, err2 := a.Int64s()
			if err1 != nil {
				c.fail(path, "Float64s: %v", err1)
				return
			}
			bigU8 := false
			for i, w := range want {
				var wf float64
				var ws string
				if b, ok := w.(bool); ok {
					ws = map[bool]string{false: "0", true: "1"}[b]
				} else {
					ws = w.(string)
				}
				bf, _ := new(big.Float).SetString(ws)
				wf, _ = bf.Float64()
				if fl[i] != wf {
					c.fail(path, "Float64s[%d] = %v, want %v", i, fl[i], ws)
				}
				if u, err := strconv.ParseUint(ws, 10, 64); err == nil && u > math.MaxInt64 {
					bigU8 = true
				} else if err2 == nil && strconv.FormatInt(in[i], 10) != ws {
					c.fail(path, "Int64s[%d] = %v, want %v", i, in[i], ws)
				}
			}
			if (err2 != nil) != bigU8 {
				c.fail(path, "Int64s error %v", err2)
			}
		}
	case e["strings"] != nil:
		got, err := a.Strings()
		if err != nil || fmt.Sprint(got) != fmt.Sprint(items(e, "strings")) {
			c.fail(path, "Strings %q (%v), want %q", got, err, e["strings"])
		}
	case e["hex"] != nil:
		var got []any
		for _, v := range vals {
			got = append(got, hex.EncodeToString(v.([]byte)))
		}
		if fmt.Sprint(got) != fmt.Sprint(items(e, "hex")) {
			c.fail(path, "bytes %v, want %v", got, e["hex"])
		}
	case e["complex"] != nil:
		for i, w := range items(e, "complex") {
			p := w.([]any)
			z := vals[i].(complex128)
			if !sameFloat(real(z), parsePyFloat(p[0].(string))) || !sameFloat(imag(z), parsePyFloat(p[1].(string))) {
				c.fail(path, "[%d] got %v, want %v", i, z, p)
			}
		}
	default:
		c.fail(path, "no values in description")
	}
}

func (c *checker) fieldValues(path string, e map[string]any, f *FieldView) {
	c.t.Helper()
	kind := f.DType().Kind
	if d, ok := e["digest"].(string); ok {
		if digest(e["as"].(string), f.Float64s(), f.Int64s()) != d {
			c.fail(path, "digest mismatch")
		}
		return
	}
	want := items(e, "values")
	if len(want) != f.Len() {
		c.fail(path, "%d records, want %d", f.Len(), len(want))
		return
	}
	for i, w := range want {
		switch kind {
		case 'f':
			if !sameFloat(f.Float64(i), parsePyFloat(w.(string))) {
				c.fail(path, "[%d] got %v, want %v", i, f.Float64(i), w)
			}
		case 'b':
			if (f.Int64(i) != 0) != w.(bool) {
				c.fail(path, "[%d] got %v, want %v", i, f.Int64(i), w)
			}
		default:
			if strconv.FormatInt(f.Int64(i), 10) != w.(string) {
				c.fail(path, "[%d] got %v, want %v", i, f.Int64(i), w)
			}
		}
	}
}
