package sklearn

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/mlbatch/mlbatch/model/pickle"
)

// The skops format (MLflow's serialization_format "skops")
//
// A .skops file is a zip archive. Its schema.json describes the object tree: every
// node is a JSON object with "__class__", "__module__", "__loader__" (which node
// type reads it) and usually "__id__" (the Python id(), so that an object met
// twice is built once) plus loader-specific keys; the root node also carries
// "protocol" and "_skops_version". Numeric arrays live beside it as .npy files
// (np.save with allow_pickle=False), object arrays inline as JSON, and Python
// scalars as JSON text. This follows skops' own readers, in skops-dev/skops:
// skops/io/_persist.py (load), skops/io/_audit.py (get_tree, memo by __id__,
// CachedNode), skops/io/_general.py (DictNode with key_types, ListNode,
// TupleNode, SetNode, SliceNode, BytesNode, FunctionNode, TypeNode, ObjectNode,
// ConstructorFromReduceNode, JsonNode, ...), skops/io/_numpy.py (NdArrayNode with
// type "numpy" or "json", DTypeNode, RandomStateNode, RandomGeneratorNode),
// skops/io/_sklearn.py (ReduceNode: TreeNode, LossNode), and the older protocols
// in skops/io/old/.
//
// The nodes are mapped onto the values model/pickle produces (an estimator is a
// *pickle.Object whose Dict holds its attributes, a Tree an *pickle.Object with
// its reduce arguments in Args, arrays *pickle.NDArray, and so on), so the same
// builders load both formats. Like the pickle reader, only known types are
// accepted: an object of a class mlbatch does not rebuild, a function, a method
// or any loader not listed fails closed, naming the type. Nothing in the file is
// ever called.

const (
	maxSkopsDepth   = 256
	maxSkopsFiles   = 1 << 16
	maxSkopsSchema  = 256 << 20
	skopsMaxInflate = 1100 // deflate cannot expand more than ~1032:1
)

// DecodeSkops rebuilds an estimator from the bytes of a .skops file.
func DecodeSkops(data []byte) (Estimator, error) {
	v, err := readSkops(data)
	if err != nil {
		return nil, err
	}
	return build(v)
}

// readSkops decodes a .skops archive into pickle-style values.
func readSkops(data []byte) (any, error) { return readSkopsInspect(data, nil) }

// readSkopsInspect is readSkops; with a non-nil inspect it decodes for
// inspection only: every type outside the built-in ones is reported to inspect
// and kept as an inert value (a function as a *pickle.Global, an object of a
// node type mlbatch does not read as a bare *pickle.Object). Nothing runs
// either way.
func readSkopsInspect(data []byte, inspect func(module, name string)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("skops: internal error reading the archive: %v", r)
		}
	}()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("skops: not a zip archive: %w", err)
	}
	if len(zr.File) > maxSkopsFiles {
		return nil, fmt.Errorf("skops: %d files in the archive (at most %d)", len(zr.File), maxSkopsFiles)
	}
	r := &skopsReader{files: map[string]*zip.File{}, memo: map[string]any{}, inspect: inspect}
	r.budget = min(int64(maxPickle), int64(len(data))*skopsMaxInflate+(1<<20))
	for _, f := range zr.File {
		r.files[f.Name] = f
	}
	raw, err := r.read("schema.json", maxSkopsSchema)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	root, err := parseJSON(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("skops: schema.json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("skops: schema.json: data after the top-level object")
	}
	obj, ok := root.(*jsonObj)
	if !ok {
		return nil, errors.New("skops: schema.json does not hold an object")
	}
	proto, ok := obj.get("protocol")
	if !ok {
		return nil, errors.New("skops: schema.json has no protocol")
	}
	p, err := jsonInt(proto)
	if err != nil || p < 0 || p > 3 {
		return nil, fmt.Errorf("skops: protocol %v is not supported (0 to 3 are)", proto)
	}
	r.protocol = int(p)
	return r.node(obj, 0)
}

type skopsReader struct {
	files    map[string]*zip.File
	memo     map[string]any
	budget   int64
	protocol int
	inspect  func(module, name string) // see readSkopsInspect
}

// allow is the package's allow-list, or anything when inspecting.
func (r *skopsReader) allow(module, name string) bool {
	if r.inspect != nil {
		r.inspect(module, name)
		return true
	}
	return allow(module, name)
}

// read returns the contents of an archive member, within the size budget.
func (r *skopsReader) read(name string, limit int64) ([]byte, error) {
	f, ok := r.files[name]
	if !ok {
		return nil, fmt.Errorf("skops: the archive has no %q", name)
	}
	limit = min(limit, r.budget)
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("skops: %s is %d bytes, more than mlbatch reads", name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("skops: %s: %w", name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("skops: %s: %w", name, err)
	}
	if n > limit {
		return nil, fmt.Errorf("skops: %s inflates beyond %d bytes", name, limit)
	}
	r.budget -= n
	return buf.Bytes(), nil
}

// jsonObj is a JSON object with its keys in file order.
type jsonObj struct {
	keys []string
	vals []any
}

func (o *jsonObj) get(k string) (any, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

func (o *jsonObj) str(k string) (string, bool) {
	v, ok := o.get(k)
	s, isStr := v.(string)
	return s, ok && isStr
}

// parseJSON reads one JSON value: objects as *jsonObj, arrays as []any, numbers
// as json.Number.
func parseJSON(dec *json.Decoder, depth int) (any, error) {
	if depth > 2*maxSkopsDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jsonObj{}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				if seen[k] {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				seen[k] = true
				v, err := parseJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				o.keys, o.vals = append(o.keys, k), append(o.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			var a []any
			for dec.More() {
				v, err := parseJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if a == nil {
				a = []any{}
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}

// jsonNumber converts a JSON number as Python's json module does: int unless it
// has a fraction or exponent.
func jsonNumber(n json.Number) (any, error) {
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return f, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if len(s) > 4300 {
		return nil, errors.New("integer literal too long")
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("bad number %q", s)
	}
	return b, nil
}

func jsonInt(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	return n.Int64()
}

// pyJSON converts a parsed JSON value to a Python value (JsonNode content and
// raw slice bounds).
func pyJSON(v any, depth int) (any, error) {
	if depth > maxSkopsDepth {
		return nil, errors.New("nested too deeply")
	}
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		return jsonNumber(x)
	case []any:
		l := &pickle.List{Items: make([]any, len(x))}
		for i, it := range x {
			var err error
			if l.Items[i], err = pyJSON(it, depth+1); err != nil {
				return nil, err
			}
		}
		return l, nil
	case *jsonObj:
		d := pickle.NewDict()
		for i, k := range x.keys {
			val, err := pyJSON(x.vals[i], depth+1)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, val); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}

// jsonText decodes a JsonNode's content: JSON text as Python's json.dumps
// writes it, NaN and Infinity included.
func jsonText(s string) (any, error) {
	switch strings.TrimSpace(s) {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := parseJSON(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return pyJSON(v, 0)
}

// skopsTypes are the classes a TypeNode may name besides the allowed ones:
// builtin and numpy scalar types (dtype parameters, dict key types).
var skopsTypes = map[string]bool{
	"builtins.str": true, "builtins.int": true, "builtins.float": true, "builtins.bool": true,
	"builtins.complex": true, "builtins.bytes": true, "builtins.list": true, "builtins.tuple": true,
	"builtins.dict": true, "builtins.set": true, "builtins.object": true, "builtins.NoneType": true,
	"numpy.float64": true, "numpy.float32": true, "numpy.float16": true, "numpy.int64": true,
	"numpy.int32": true, "numpy.int16": true, "numpy.int8": true, "numpy.uint64": true,
	"numpy.uint32": true, "numpy.uint16": true, "numpy.uint8": true, "numpy.bool_": true,
	"numpy.object_": true, "numpy.str_": true, "numpy.intc": true, "numpy.longlong": true,
}

// numpyScalars are the numpy scalar classes an NdArrayNode may hold.
var numpyScalars = map[string]bool{
	"float64": true, "float32": true, "float16": true, "int64": true, "int32": true, "int16": true,
	"int8": true, "uint64": true, "uint32": true, "uint16": true, "uint8": true, "bool_": true,
	"str_": true, "intc": true, "longlong": true, "ulonglong": true, "double": true, "single": true,
}

// node builds the value of one schema node.
func (r *skopsReader) node(v any, depth int) (any, error) {
	if depth > maxSkopsDepth {
		return nil, errors.New("skops: objects nested too deeply")
	}
	st, ok := v.(*jsonObj)
	if !ok {
		return nil, fmt.Errorf("skops: a node is %s, want an object", jsonKind(v))
	}
	class, _ := st.str("__class__")
	module, _ := st.str("__module__")
	loader, _ := st.str("__loader__")
	full := module + "." + class
	id := ""
	if idv, ok := st.get("__id__"); ok {
		if n, isNum := idv.(json.Number); isNum {
			id = string(n)
		}
	}
	if id != "" && id != "0" {
		if got, ok := r.memo[id]; ok {
			return got, nil
		}
	}
	if isJSON, _ := st.get("is_json"); isJSON == true {
		loader = "JsonNode"
	}
	remember := func(x any) any {
		if id != "" && id != "0" {
			r.memo[id] = x
		}
		return x
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("skops: %s (%s): %s", full, loader, fmt.Sprintf(format, args...))
	}
	switch loader {
	case "JsonNode":
		s, ok := st.str("content")
		if !ok {
			return nil, fail("content is not JSON text")
		}
		x, err := jsonText(s)
		if err != nil {
			return nil, fail("%v", err)
		}
		return remember(x), nil

	case "DictNode", "DefaultDictNode":
		if loader == "DefaultDictNode" {
			if full != "collections.defaultdict" {
				return nil, fail("unexpected class")
			}
			c, ok := st.get("content")
			co, isObj := c.(*jsonObj)
			if !ok || !isObj {
				return nil, fail("no content")
			}
			main, _ := co.get("main")
			d, err := r.node(main, depth+1)
			if err != nil {
				return nil, err
			}
			if _, isDict := d.(*pickle.Dict); !isDict {
				return nil, fail("main is not a dict")
			}
			if df, ok := co.get("default_factory"); ok {
				if _, err := r.node(df, depth+1); err != nil {
					return nil, err
				}
			}
			return remember(d), nil
		}
		if full != "builtins.dict" && full != "collections.OrderedDict" {
			return nil, fail("only dict and OrderedDict are supported")
		}
		d := pickle.NewDict()
		remember(d)
		c, _ := st.get("content")
		content, ok := c.(*jsonObj)
		if !ok {
			return nil, fail("content is not an object")
		}
		var keyTypes []any
		if kt, ok := st.get("key_types"); ok {
			ktv, err := r.node(kt, depth+1)
			if err != nil {
				return nil, err
			}
			l, ok := ktv.(*pickle.List)
			if !ok || len(l.Items) != len(content.keys) {
				return nil, fail("key_types does not list one type per key")
			}
			keyTypes = l.Items
		}
		for i, k := range content.keys {
			var key any = k
			if keyTypes != nil {
				g, ok := keyTypes[i].(*pickle.Global)
				if !ok {
					return nil, fail("a key type is a %s", pickle.TypeName(keyTypes[i]))
				}
				var err error
				if key, err = skopsKey(k, g.String()); err != nil {
					return nil, fail("%v", err)
				}
			}
			val, err := r.node(content.vals[i], depth+1)
			if err != nil {
				return nil, err
			}
			if err := d.Set(key, val); err != nil {
				return nil, fail("%v", err)
			}
		}
		return d, nil

	case "ListNode", "SetNode", "TupleNode":
		want := map[string]string{"ListNode": "builtins.list", "SetNode": "builtins.set", "TupleNode": "builtins.tuple"}[loader]
		if full != want {
			return nil, fail("only %s is supported", want)
		}
		c, _ := st.get("content")
		items, ok := c.([]any)
		if !ok {
			return nil, fail("content is not a list")
		}
		var list *pickle.List
		var set *pickle.Set
		switch loader {
		case "ListNode":
			list = &pickle.List{Items: make([]any, 0, len(items))}
			remember(list)
		case "SetNode":
			set = &pickle.Set{}
			remember(set)
		}
		vals := make([]any, 0, len(items))
		for _, it := range items {
			x, err := r.node(it, depth+1)
			if err != nil {
				return nil, err
			}
			vals = append(vals, x)
		}
		switch loader {
		case "ListNode":
			list.Items = vals
			return list, nil
		case "SetNode":
			set.Items = vals
			return set, nil
		}
		return remember(pickle.Tuple(vals)), nil

	case "SliceNode":
		c, _ := st.get("content")
		co, ok := c.(*jsonObj)
		if !ok || full != "builtins.slice" {
			return nil, fail("not a slice")
		}
		s := &pickle.Slice{}
		for _, b := range []struct {
			key string
			dst *any
		}{{"start", &s.Start}, {"stop", &s.Stop}, {"step", &s.Step}} {
			raw, _ := co.get(b.key)
			x, err := pyJSON(raw, 0)
			if err != nil {
				return nil, fail("%v", err)
			}
			switch x.(type) {
			case nil, int64, string:
			default:
				return nil, fail("slice %s is a %s", b.key, pickle.TypeName(x))
			}
			*b.dst = x
		}
		return remember(s), nil

	case "BytesNode", "BytearrayNode":
		file, ok := st.str("file")
		if !ok {
			return nil, fail("no file")
		}
		b, err := r.read(file, r.budget)
		if err != nil {
			return nil, err
		}
		return remember(b), nil

	case "NdArrayNode":
		typ, _ := st.str("type")
		var arr *pickle.NDArray
		switch typ {
		case "numpy":
			file, ok := st.str("file")
			if !ok {
				return nil, fail("no file")
			}
			b, err := r.read(file, r.budget)
			if err != nil {
				return nil, err
			}
			if arr, err = pickle.ParseNPY(b); err != nil {
				return nil, fail("%s: %v", file, err)
			}
		case "json":
			c, _ := st.get("content")
			items, ok := c.([]any)
			if !ok {
				return nil, fail("content is not a list")
			}
			sv, ok := st.get("shape")
			if !ok {
				return nil, fail("no shape")
			}
			shv, err := r.node(sv, depth+1)
			if err != nil {
				return nil, err
			}
			shape, err := intsOf(shv, "shape")
			if err != nil {
				return nil, fail("%v", err)
			}
			vals := make([]any, 0, len(items))
			for _, it := range items {
				x, err := r.node(it, depth+1)
				if err != nil {
					return nil, err
				}
				vals = append(vals, x)
			}
			flat, err := flattenNested(vals, shape)
			if err != nil {
				return nil, fail("%v", err)
			}
			if arr, err = pickle.NewObjectArray(flat, shape); err != nil {
				return nil, fail("%v", err)
			}
		default:
			return nil, fail("array type %q is not supported", typ)
		}
		if full == "numpy.ndarray" {
			return remember(arr), nil
		}
		if module != "numpy" || !numpyScalars[class] || typ != "numpy" || len(arr.Shape) != 0 {
			return nil, fail("unsupported array class")
		}
		vals, err := arr.Values()
		if err != nil || len(vals) != 1 {
			return nil, fail("not a numpy scalar")
		}
		return remember(vals[0]), nil

	case "DTypeNode":
		c, ok := st.get("content")
		if !ok {
			return nil, fail("no content")
		}
		x, err := r.node(c, depth+1)
		if err != nil {
			return nil, err
		}
		a, ok := x.(*pickle.NDArray)
		if !ok {
			return nil, fail("content is not an array")
		}
		return remember(a.DType), nil

	case "TypeNode":
		if !skopsTypes[full] && !r.allow(module, class) {
			return nil, fail("type %s is not one mlbatch knows", full)
		}
		return remember(&pickle.Global{Module: module, Name: class}), nil

	case "FunctionNode":
		name := full
		fmod, fname := module, class
		if c, ok := st.get("content"); ok { // protocol 0
			if co, ok := c.(*jsonObj); ok {
				fmod, _ = co.str("module_path")
				fname, _ = co.str("function")
				name = fmod + "." + fname
			}
		}
		if r.inspect != nil {
			r.inspect(fmod, fname)
			return remember(&pickle.Global{Module: fmod, Name: fname}), nil
		}
		return nil, fmt.Errorf("skops: function %s: the model holds a Python function (for example FunctionTransformer's func or a callable column selector); mlbatch rebuilds only known scikit-learn classes and cannot run arbitrary Python code", name)

	case "ObjectNode", "ConstructorFromReduceNode", "TreeNode", "LossNode":
		if !r.allow(module, class) {
			return nil, fmt.Errorf("skops: %w", &pickle.UnsupportedError{Module: module, Name: class})
		}
		obj := &pickle.Object{Module: module, Name: class}
		remember(obj)
		switch loader {
		case "ConstructorFromReduceNode":
			c, ok := st.get("content")
			if !ok {
				return nil, fail("no content")
			}
			args, err := r.node(c, depth+1)
			if err != nil {
				return nil, err
			}
			t, ok := args.(pickle.Tuple)
			if !ok {
				return nil, fail("constructor arguments are a %s", pickle.TypeName(args))
			}
			obj.Args = t
			return obj, nil
		case "TreeNode", "LossNode":
			red, _ := st.get("__reduce__")
			ro, ok := red.(*jsonObj)
			if !ok {
				return nil, fail("no __reduce__")
			}
			av, _ := ro.get("args")
			args, err := r.node(av, depth+1)
			if err != nil {
				return nil, err
			}
			t, ok := args.(pickle.Tuple)
			if !ok {
				return nil, fail("reduce arguments are a %s", pickle.TypeName(args))
			}
			obj.Args = t
		}
		c, ok := st.get("content")
		if !ok || c == nil {
			return obj, nil
		}
		state, err := r.node(c, depth+1)
		if err != nil {
			return nil, err
		}
		obj.State = state
		if d, ok := state.(*pickle.Dict); ok {
			obj.Dict = make(map[string]any, d.Len())
			for i, k := range d.Keys() {
				name, ok := k.(string)
				if !ok {
					return nil, fail("an attribute name is a %s", pickle.TypeName(k))
				}
				if _, dup := obj.Dict[name]; !dup {
					obj.Keys = append(obj.Keys, name)
				}
				obj.Dict[name] = d.Values()[i]
			}
		}
		return obj, nil

	case "RandomStateNode", "RandomGeneratorNode":
		// Random states are never used to predict: an inert object, and the
		// state itself is not read.
		if !strings.HasPrefix(module, "numpy.random") {
			return nil, fail("unexpected class")
		}
		return remember(&pickle.Object{Module: module, Name: class}), nil

	case "CachedNode":
		return nil, fail("refers to object %s, which has not been read", id)
	}
	if loader == "" {
		return nil, fmt.Errorf("skops: %s: a node without __loader__", full)
	}
	if r.inspect != nil {
		r.inspect(module, class)
		return remember(&pickle.Object{Module: module, Name: class}), nil
	}
	return nil, fmt.Errorf("skops: %s: loader %s is not supported (mlbatch reads only the node types of plain scikit-learn models)", full, loader)
}

// skopsKey converts a dict key written as a JSON string back to its type.
func skopsKey(k, typ string) (any, error) {
	switch typ {
	case "builtins.str":
		return k, nil
	case "builtins.int":
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dict key %q is not an int", k)
		}
		return n, nil
	case "builtins.float":
		f, ok := pyFloat(k)
		if !ok {
			return nil, fmt.Errorf("dict key %q is not a float", k)
		}
		return f, nil
	}
	return nil, fmt.Errorf("dict keys of type %s are not supported", typ)
}

// flattenNested flattens the nested lists of an object array's tolist() into C
// order, checking them against shape.
func flattenNested(items []any, shape []int) ([]any, error) {
	if len(shape) == 0 {
		if len(items) != 1 {
			return nil, fmt.Errorf("a 0-d array with %d items", len(items))
		}
		return items, nil
	}
	if len(items) != shape[0] {
		return nil, fmt.Errorf("%d items for dimension %d", len(items), shape[0])
	}
	if len(shape) == 1 {
		return items, nil
	}
	var out []any
	for _, it := range items {
		l, ok := it.(*pickle.List)
		if !ok {
			return nil, fmt.Errorf("a row of a %d-d object array is a %s", len(shape), pickle.TypeName(it))
		}
		sub, err := flattenNested(l.Items, shape[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	}
	return "an object"
}
