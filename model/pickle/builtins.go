package pickle

import (
	"errors"
	"fmt"
	"strings"
)

// builtinFunc implements a built-in global when the pickle calls it.
type builtinFunc func(m *machine, args Tuple) (any, error)

// builtins maps "module.name" (after canonicalModule) to its implementation.
// A nil entry is a class that may appear as a value (a type reference) but
// is not called.
var builtins map[string]builtinFunc

func init() {
	builtins = map[string]builtinFunc{
		"builtins.set":       func(m *machine, a Tuple) (any, error) { return makeSet(m, a, false) },
		"builtins.frozenset": func(m *machine, a Tuple) (any, error) { return makeSet(m, a, true) },
		"builtins.list":      makeList,
		"builtins.tuple":     makeTuple,
		"builtins.dict":      makeDict,
		"builtins.bytes":     makeBytes,
		"builtins.bytearray": makeBytes,
		"builtins.slice":     makeSlice,
		"builtins.complex":   makeComplex,
		"builtins.object":    makeObject,
		"builtins.int":       nil,
		"builtins.float":     nil,
		"builtins.str":       nil,
		"builtins.bool":      nil,

		"collections.OrderedDict": makeDict,
		"_codecs.encode":          codecsEncode,

		"cloudpickle.cloudpickle._builtin_type": cloudpickleBuiltinType,

		"copyreg._reconstructor": reconstructor,
		"copyreg.__newobj__":     newobj,
		"copyreg.__newobj_ex__":  newobjEx,

		"numpy.dtype":                        makeDType,
		"numpy.ndarray":                      nil,
		"numpy.core.multiarray._reconstruct": reconstructArray,
		"numpy.core.multiarray.scalar":       makeScalar,
		"numpy.core.numeric._frombuffer":     fromBuffer,
	}
	for _, n := range []string{
		"bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
		"uint64", "float16", "float32", "float64", "complex64", "complex128", "object_",
		"str_", "bytes_", "void", "intc", "uintc", "intp", "uintp", "longlong", "ulonglong",
		"int_", "uint", "float_", "longdouble", "generic", "number", "integer", "floating",
	} {
		builtins["numpy."+n] = nil
	}
}

// canonicalModule maps the Python 2 spellings that protocol 0-2 pickles use
// to Python 3 ones.
func canonicalModule(module string) string {
	switch module {
	case "__builtin__":
		return "builtins"
	case "copy_reg":
		return "copyreg"
	}
	return module
}

// builtinKey maps numpy's module spellings (numpy 2's numpy._core, the
// private _multiarray_umath) to the numpy 1 public ones.
func builtinKey(module, name string) string {
	if module == "numpy._core" || strings.HasPrefix(module, "numpy._core.") {
		module = "numpy.core" + module[len("numpy._core"):]
	}
	if module == "numpy.core._multiarray_umath" {
		module = "numpy.core.multiarray"
	}
	return module + "." + name
}

// maxGlobalName bounds module and name lengths; real ones are short, and a
// memoized huge name must not cost a copy and a hash each time it is used.
const maxGlobalName = 1024

// resolve finds a global: built in, allowed, or *UnsupportedError.
func (m *machine) resolve(module, name string) (*Global, error) {
	if len(module) > maxGlobalName || len(name) > maxGlobalName {
		return nil, fmt.Errorf("global name longer than %d bytes", maxGlobalName)
	}
	module = canonicalModule(module)
	key := [2]string{module, name}
	if g, ok := m.globals[key]; ok {
		return g, nil
	}
	g := &Global{Module: module, Name: name}
	if fn, ok := builtins[builtinKey(module, name)]; ok {
		g.call = fn
	} else if m.allow != nil && m.allow(module, name) {
		g.allowed = true
	} else {
		return nil, &UnsupportedError{Module: module, Name: name}
	}
	m.globals[key] = g
	return g, nil
}

func (g *Global) is(key string) bool { return builtinKey(g.Module, g.Name) == key }

// call implements REDUCE, NEWOBJ, NEWOBJ_EX, OBJ and INST.
func (m *machine) call(f any, args Tuple, kwargs *Dict) (any, error) {
	g, ok := f.(*Global)
	if !ok {
		return nil, fmt.Errorf("cannot call %s", typeName(f))
	}
	if kwargs != nil && kwargs.Len() == 0 {
		kwargs = nil
	}
	switch {
	case g.call != nil:
		if kwargs != nil {
			return nil, fmt.Errorf("%s: keyword arguments are not supported", g)
		}
		v, err := g.call(m, args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g, err)
		}
		return v, nil
	case g.allowed:
		return &Object{Module: g.Module, Name: g.Name, Args: args, Kwargs: kwargs}, nil
	}
	return nil, fmt.Errorf("%s cannot be called", g)
}

func wantArgs(a Tuple, min, max int) error {
	if len(a) < min || len(a) > max {
		if min == max {
			return fmt.Errorf("takes %d arguments, got %d", min, len(a))
		}
		return fmt.Errorf("takes %d to %d arguments, got %d", min, max, len(a))
	}
	return nil
}

// iterItems returns the items of a list, tuple or set argument, capped so
// that appending to the result never writes into the source.
func iterItems(v any) ([]any, error) {
	var items []any
	switch x := v.(type) {
	case *List:
		items = x.Items
	case Tuple:
		items = x
	case *Set:
		items = x.Items
	default:
		return nil, fmt.Errorf("cannot iterate over %s", typeName(v))
	}
	return items[:len(items):len(items)], nil
}

func makeSet(m *machine, a Tuple, frozen bool) (any, error) {
	if err := wantArgs(a, 0, 1); err != nil {
		return nil, err
	}
	s := &Set{Frozen: frozen}
	if len(a) == 1 {
		items, err := iterItems(a[0])
		if err != nil {
			return nil, err
		}
		s.Items = items
	}
	return s, nil
}

func makeList(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 0, 1); err != nil {
		return nil, err
	}
	l := &List{}
	if len(a) == 1 {
		items, err := iterItems(a[0])
		if err != nil {
			return nil, err
		}
		l.Items = items
	}
	return l, nil
}

func makeTuple(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 0, 1); err != nil {
		return nil, err
	}
	if len(a) == 0 {
		return Tuple{}, nil
	}
	items, err := iterItems(a[0])
	if err != nil {
		return nil, err
	}
	return Tuple(items), nil
}

// makeDict implements dict() and collections.OrderedDict(): empty, a copy of
// a dict, or from a list of pairs.
func makeDict(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 0, 1); err != nil {
		return nil, err
	}
	d := NewDict()
	if len(a) == 0 {
		return d, nil
	}
	if src, ok := a[0].(*Dict); ok {
		if err := m.charge(src.Len()); err != nil {
			return nil, err
		}
		return d, m.fillDict(d, interleave(src))
	}
	items, err := iterItems(a[0])
	if err != nil {
		return nil, err
	}
	if err := m.charge(len(items)); err != nil {
		return nil, err
	}
	for _, it := range items {
		var kv []any
		switch p := it.(type) {
		case Tuple:
			kv = p
		case *List:
			kv = p.Items
		}
		if len(kv) != 2 {
			return nil, fmt.Errorf("dict item is %s, want a pair", describeLen(it))
		}
		if err := m.fillDict(d, kv); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// makeBytes implements bytes() and bytearray(): empty, from bytes, from
// (str, encoding) or from a list of ints.
func makeBytes(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 0, 3); err != nil {
		return nil, err
	}
	if len(a) == 0 {
		return []byte{}, nil
	}
	switch x := a[0].(type) {
	case []byte:
		if len(a) == 1 {
			return x, nil
		}
	case string:
		return codecsEncode(m, a)
	case *List, Tuple:
		items, _ := iterItems(x)
		if len(a) != 1 {
			break
		}
		if err := m.charge(len(items)); err != nil {
			return nil, err
		}
		out := make([]byte, len(items))
		for i, it := range items {
			n, ok := it.(int64)
			if !ok || n < 0 || n > 255 {
				return nil, fmt.Errorf("byte value %s out of range", short(it))
			}
			out[i] = byte(n)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported arguments (%s)", typeName(a[0]))
}

func codecsEncode(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 1, 3); err != nil {
		return nil, err
	}
	s, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("cannot encode %s", typeName(a[0]))
	}
	enc := "utf-8"
	if len(a) > 1 {
		if enc, ok = a[1].(string); !ok {
			return nil, fmt.Errorf("encoding is %s, want str", typeName(a[1]))
		}
	}
	if err := m.charge(len(s)); err != nil {
		return nil, err
	}
	switch strings.ReplaceAll(strings.ToLower(enc), "_", "-") {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1":
		return latin1Encode(s)
	case "utf-8", "utf8":
		return []byte(s), nil
	case "ascii", "us-ascii":
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return nil, errors.New("non-ASCII character")
			}
		}
		return []byte(s), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", enc)
}

func makeSlice(m *machine, a Tuple) (any, error) {
	switch len(a) {
	case 1:
		return &Slice{Stop: a[0]}, nil
	case 2:
		return &Slice{Start: a[0], Stop: a[1]}, nil
	case 3:
		return &Slice{Start: a[0], Stop: a[1], Step: a[2]}, nil
	}
	return nil, wantArgs(a, 1, 3)
}

// makeObject implements object(): a sentinel with no state, built as an
// inert *Object.
func makeObject(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 0, 0); err != nil {
		return nil, err
	}
	return &Object{Module: "builtins", Name: "object", Args: Tuple{}}, nil
}

func makeComplex(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 0, 2); err != nil {
		return nil, err
	}
	var parts [2]float64
	for i, v := range a {
		switch x := v.(type) {
		case float64:
			parts[i] = x
		case int64:
			parts[i] = float64(x)
		default:
			return nil, fmt.Errorf("complex part is %s", typeName(v))
		}
	}
	return complex(parts[0], parts[1]), nil
}

// reconstructor implements copyreg._reconstructor(cls, base, state), which
// protocol 0 and 1 pickles use for instances of ordinary classes.
func reconstructor(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 3, 3); err != nil {
		return nil, err
	}
	cls, ok1 := a[0].(*Global)
	base, ok2 := a[1].(*Global)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("class and base are %s and %s, want classes", typeName(a[0]), typeName(a[1]))
	}
	state := a[2]
	if cls.call != nil {
		if base.is("builtins.object") {
			return m.call(cls, Tuple{}, nil)
		}
		return m.call(cls, Tuple{state}, nil)
	}
	if !cls.allowed {
		return nil, fmt.Errorf("%s cannot be called", cls)
	}
	o := &Object{Module: cls.Module, Name: cls.Name, Args: Tuple{}}
	switch {
	case base.is("builtins.object"):
	case base.is("builtins.dict") && dictOrNone(state):
		o.DictItems = NewDict()
		if src, ok := state.(*Dict); ok {
			if err := m.charge(src.Len()); err != nil {
				return nil, err
			}
			if err := m.fillDict(o.DictItems, interleave(src)); err != nil {
				return nil, err
			}
		}
	case base.is("builtins.list"):
		if state != nil {
			items, err := iterItems(state)
			if err != nil {
				return nil, err
			}
			o.ListItems = items
		}
	default:
		o.Args = Tuple{state}
	}
	return o, nil
}

// cloudpickleBuiltinType implements cloudpickle's _builtin_type(name) for
// "MethodType" only: cloudpickle writes a bound method as
// _builtin_type("MethodType")(function, instance). The type is an allowed
// class named types.MethodType, so calling it builds an inert *Object; the
// other types cloudpickle names (code, cells, functions) rebuild Python code
// and are refused.
func cloudpickleBuiltinType(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 1, 1); err != nil {
		return nil, err
	}
	name, _ := a[0].(string)
	if name != "MethodType" {
		return nil, &UnsupportedError{Module: "types", Name: fmt.Sprint(a[0])}
	}
	return &Global{Module: "types", Name: name, allowed: true}, nil
}

func interleave(d *Dict) []any {
	out := make([]any, 0, 2*d.Len())
	for i, k := range d.keys {
		out = append(out, k, d.values[i])
	}
	return out
}

// newobj implements copyreg.__newobj__(cls, *args).
func newobj(m *machine, a Tuple) (any, error) {
	if len(a) == 0 {
		return nil, errors.New("missing class")
	}
	return m.call(a[0], a[1:], nil)
}

// newobjEx implements copyreg.__newobj_ex__(cls, args, kwargs).
func newobjEx(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 3, 3); err != nil {
		return nil, err
	}
	args, ok1 := a[1].(Tuple)
	kwargs, ok2 := a[2].(*Dict)
	if !ok1 || !ok2 {
		return nil, errors.New("want (class, tuple, dict)")
	}
	return m.call(a[0], args, kwargs)
}

// --- numpy ---

// makeDType implements numpy.dtype(typestr, align, copy); the byte order,
// item size of flexible types and fields come from the BUILD that follows.
func makeDType(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 1, 3); err != nil {
		return nil, err
	}
	s, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("unsupported dtype from %s", typeName(a[0]))
	}
	return newDType(s)
}

// reconstructArray implements multiarray._reconstruct(ndarray, shape, typecode):
// an empty array whose BUILD state carries everything.
func reconstructArray(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 3, 3); err != nil {
		return nil, err
	}
	cls, ok := a[0].(*Global)
	if !ok || !(cls.is("numpy.ndarray") || cls.is("numpy.core.multiarray.ndarray")) {
		return nil, fmt.Errorf("unsupported array class %s", typeName(a[0]))
	}
	return &NDArray{}, nil
}

// bytesArg returns raw bytes given as bytes, or as a str holding Latin-1
// code points (Python 2 pickles and Unpickler encoding='latin1').
func (m *machine) bytesArg(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		if err := m.charge(len(x)); err != nil {
			return nil, err
		}
		return latin1Encode(x)
	}
	return nil, fmt.Errorf("data is %s, want bytes", typeName(v))
}

// makeScalar implements multiarray.scalar(dtype, raw): a numpy scalar,
// returned as the matching Go value (see DType.value), or the object itself
// for object dtype.
func makeScalar(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 1, 2); err != nil {
		return nil, err
	}
	dt, ok := a[0].(*DType)
	if !ok {
		return nil, fmt.Errorf("dtype is %s", typeName(a[0]))
	}
	dt.seal()
	if dt.Kind == 'O' {
		if len(a) < 2 {
			return nil, nil
		}
		return a[1], nil
	}
	if dt.hasObject {
		return nil, fmt.Errorf("scalar of dtype %s with object fields", dt)
	}
	if len(a) < 2 {
		return nil, errors.New("missing scalar data")
	}
	raw, err := m.bytesArg(a[1])
	if err != nil {
		return nil, err
	}
	if len(raw) != dt.ItemSize {
		return nil, fmt.Errorf("scalar of dtype %s has %d bytes", dt, len(raw))
	}
	return dt.value(raw), nil
}

// fromBuffer implements numeric._frombuffer(buf, dtype, shape, order), the
// protocol 5 array reduction; the buffer is in-band.
func fromBuffer(m *machine, a Tuple) (any, error) {
	if err := wantArgs(a, 4, 4); err != nil {
		return nil, err
	}
	buf, ok := a[0].([]byte)
	if !ok {
		return nil, fmt.Errorf("buffer is %s, want bytes", typeName(a[0]))
	}
	dt, ok := a[1].(*DType)
	if !ok {
		return nil, fmt.Errorf("dtype is %s", typeName(a[1]))
	}
	order, ok := a[3].(string)
	if !ok || (order != "C" && order != "F" && order != "A" && order != "K") {
		return nil, fmt.Errorf("invalid order %s", short(a[3]))
	}
	arr := &NDArray{}
	return arr, m.fillArray(arr, a[2], dt, order == "F", buf)
}

// setArrayState applies an ndarray BUILD state:
// (version, shape, dtype, is_fortran, rawdata) or the older 4-tuple.
func (m *machine) setArrayState(arr *NDArray, state any) error {
	t, ok := state.(Tuple)
	if ok && len(t) == 5 {
		if _, isInt := t[0].(int64); !isInt {
			return fmt.Errorf("ndarray state version is %s", typeName(t[0]))
		}
		t = t[1:]
	}
	if !ok || len(t) != 4 {
		return fmt.Errorf("ndarray state is %s, want (version, shape, dtype, is_fortran, data)", describeLen(state))
	}
	dt, ok := t[1].(*DType)
	if !ok {
		return fmt.Errorf("ndarray dtype is %s", typeName(t[1]))
	}
	var fortran bool
	switch f := t[2].(type) {
	case bool:
		fortran = f
	case int64:
		fortran = f != 0
	default:
		return fmt.Errorf("ndarray is_fortran is %s", typeName(t[2]))
	}
	return m.fillArray(arr, t[0], dt, fortran, t[3])
}

// fillArray validates shape, dtype and data against each other and sets them.
func (m *machine) fillArray(arr *NDArray, shapeV any, dt *DType, fortran bool, data any) error {
	shape, err := toShape(shapeV)
	if err != nil {
		return fmt.Errorf("ndarray %w", err)
	}
	n, ok := shapeSize(shape)
	if !ok {
		return fmt.Errorf("ndarray shape %v overflows", shape)
	}
	dt.seal()
	if dt.Kind == 'O' {
		items, err := iterItems(data)
		if err != nil {
			return fmt.Errorf("object ndarray: %w", err)
		}
		if len(items) != n {
			return fmt.Errorf("object ndarray of shape %v has %d items", shape, len(items))
		}
		*arr = NDArray{DType: dt, Shape: shape, Fortran: fortran, Objects: items}
		return nil
	}
	if dt.hasObject {
		return fmt.Errorf("ndarray of dtype %s with object fields is not supported", dt)
	}
	raw, err := m.bytesArg(data)
	if err != nil {
		return fmt.Errorf("ndarray %w", err)
	}
	isz := dt.ItemSize
	if isz == 0 {
		// No bytes back the elements, so charge for the ones callers may
		// materialise.
		if err := m.charge(n); err != nil {
			return err
		}
	}
	if isz < 0 || (isz > 0 && n > len(raw)/isz) || n*isz != len(raw) {
		return fmt.Errorf("ndarray of shape %v and dtype %s does not match its %d bytes of data", shape, dt, len(raw))
	}
	*arr = NDArray{DType: dt, Shape: shape, Fortran: fortran, Data: raw}
	return nil
}
