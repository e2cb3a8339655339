package pickle

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Tuple is a Python tuple.
type Tuple []any

// List is a Python list. It is a pointer type so that shared references and
// self-references in the pickle keep their identity.
type List struct {
	Items []any
}

// Set is a Python set or frozenset, in the order the pickle lists the items.
type Set struct {
	Items  []any
	Frozen bool
}

// Slice is a Python slice object (builtins.slice).
type Slice struct {
	Start, Stop, Step any
}

// Global is a reference to a Python class or function by name. It appears as a
// value when a pickle stores a class itself (for example an estimator's dtype
// parameter np.float64) rather than calling it. Only globals that are built in
// or allowed by Options.Allow can appear.
type Global struct {
	Module, Name string

	call    builtinFunc // built-in implementation, or nil
	allowed bool        // Options.Allow said yes: calling builds an *Object
}

// String returns "module.name".
func (g *Global) String() string { return g.Module + "." + g.Name }

// Dict is an insertion-ordered Python dict (also used for collections.OrderedDict).
// Keys are compared the way Python compares the common key types: str, int
// (bool and integral floats equal to the same int), bytes, None and tuples of
// those; other objects compare by identity. Lists, dicts, sets and arrays are
// unhashable, as in Python.
type Dict struct {
	keys   []any
	values []any
	index  map[any]int
}

// NewDict returns an empty Dict.
func NewDict() *Dict { return &Dict{index: map[any]int{}} }

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Keys returns the keys in insertion order. The slice must not be modified.
func (d *Dict) Keys() []any { return d.keys }

// Values returns the values in insertion order. The slice must not be modified.
func (d *Dict) Values() []any { return d.values }

// Get returns the value stored under key. Go int and int64 keys match Python
// ints, string keys match str.
func (d *Dict) Get(key any) (any, bool) {
	k, _, err := hashKeyCost(key)
	if err != nil {
		return nil, false
	}
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.values[i], true
}

// Set stores value under key, keeping the position of an existing equal key.
// It fails for unhashable keys.
func (d *Dict) Set(key, value any) error {
	_, err := d.set(key, value)
	return err
}

// set is Set that also reports the work of hashing the key (tuple items,
// and a unit per 16 bytes of key), so that the machine can charge it: a
// memoized key costs only two bytes of pickle to use again.
func (d *Dict) set(key, value any) (int, error) {
	k, n, err := hashKeyCost(key)
	if err != nil {
		return n, err
	}
	switch k := k.(type) {
	case string:
		n += len(k) / 16
	case bytesKey:
		n += len(k) / 16
	case bigKey:
		n += len(k) / 16
	case tupleKey:
		n += len(k) / 16
	}
	if d.index == nil {
		d.index = map[any]int{}
	}
	if i, ok := d.index[k]; ok {
		d.values[i] = value
		return n, nil
	}
	d.index[k] = len(d.keys)
	d.keys = append(d.keys, key)
	d.values = append(d.values, value)
	return n, nil
}

// Key types used in Dict.index. They are distinct Go types so that, for
// example, the str "1" and the bytes b"1" never collide.
type (
	nilKey   struct{}
	bytesKey string
	bigKey   string
	tupleKey string
)

const (
	maxKeyDepth = 32   // nesting of tuples inside a dict key
	maxKeyItems = 1024 // total items inside one tuple key
)

var errUnhashable = errors.New("unhashable key")

// hashKeyCost maps a Python value to a comparable Go value with Python's
// equality for the supported key types. It also returns the number of tuple
// items it had to encode.
func hashKeyCost(v any) (any, int, error) {
	t, ok := v.(Tuple)
	if !ok {
		k, err := hashKey(v)
		return k, 0, err
	}
	b := make([]byte, 0, 64)
	n := 0
	b, err := appendKey(b, t, 0, &n)
	if err != nil {
		return nil, n, err
	}
	return tupleKey(b), n, nil
}

func hashKey(v any) (any, error) {
	switch k := v.(type) {
	case Tuple:
		key, _, err := hashKeyCost(k)
		return key, err
	case *List, *Dict, *NDArray, *Slice:
		return nil, fmt.Errorf("%w of type %s", errUnhashable, typeName(v))
	case *Set:
		if !k.Frozen {
			return nil, fmt.Errorf("%w of type set", errUnhashable)
		}
		return k, nil
	}
	return scalarKey(v)
}

func scalarKey(v any) (any, error) {
	switch k := v.(type) {
	case nil:
		return nilKey{}, nil
	case bool:
		if k {
			return int64(1), nil
		}
		return int64(0), nil
	case int:
		return int64(k), nil
	case int64:
		return k, nil
	case uint64:
		if k <= math.MaxInt64 {
			return int64(k), nil
		}
		return scalarKey(new(big.Int).SetUint64(k))
	case *big.Int:
		if k.IsInt64() {
			return k.Int64(), nil
		}
		// Sign and magnitude bytes: linear, unlike a decimal string.
		return bigKey(string(rune('0'+k.Sign()+1)) + string(k.Bytes())), nil
	case float64:
		if k == math.Trunc(k) && k >= -(1<<63) && k < 1<<63 {
			return int64(k), nil
		}
		return k, nil
	case complex128:
		if imag(k) == 0 {
			return scalarKey(real(k))
		}
		return k, nil
	case string:
		return k, nil
	case []byte:
		return bytesKey(k), nil
	case *Object, *Global, *DType, *Set:
		return k, nil
	}
	return nil, fmt.Errorf("%w of type %s", errUnhashable, typeName(v))
}

// appendKey appends an injective encoding of a tuple key.
func appendKey(b []byte, t Tuple, depth int, n *int) ([]byte, error) {
	if depth >= maxKeyDepth {
		return nil, errors.New("tuple key nested too deeply")
	}
	*n += len(t)
	if *n > maxKeyItems {
		return nil, errors.New("tuple key too large")
	}
	b = append(b, '(')
	b = strconv.AppendInt(b, int64(len(t)), 10)
	b = append(b, ':')
	for _, item := range t {
		if sub, ok := item.(Tuple); ok {
			var err error
			if b, err = appendKey(b, sub, depth+1, n); err != nil {
				return nil, err
			}
			continue
		}
		k, err := hashKey(item)
		if err != nil {
			return nil, err
		}
		str := func(tag byte, s string) {
			b = append(b, tag)
			b = strconv.AppendInt(b, int64(len(s)), 10)
			b = append(b, ':')
			b = append(b, s...)
		}
		num := func(tag byte, u uint64) {
			b = append(b, tag)
			b = strconv.AppendUint(b, u, 16)
			b = append(b, ';')
		}
		switch k := k.(type) {
		case string:
			str('s', k)
		case bytesKey:
			str('b', string(k))
		case bigKey:
			str('l', string(k))
		case int64:
			num('i', uint64(k))
		case float64:
			num('f', math.Float64bits(k))
		case complex128:
			num('c', math.Float64bits(real(k)))
			num('c', math.Float64bits(imag(k)))
		case nilKey:
			b = append(b, 'n', ';')
		default: // identity
			b = fmt.Appendf(b, "p%p;", k)
		}
	}
	return append(b, ')'), nil
}

// Object is an instance of a class that Options.Allow accepted. It is inert
// data: nothing of the class runs.
type Object struct {
	Module, Name string

	// Args are the constructor arguments (NEWOBJ, REDUCE, copyreg.__newobj__);
	// Kwargs the keyword arguments of NEWOBJ_EX, or nil.
	Args   Tuple
	Kwargs *Dict

	// State is the argument of the last BUILD, as given.
	State any

	// Dict holds the attributes merged from every BUILD whose state is a dict
	// or a (dict, slotstate) pair; Keys lists them in first-set order.
	Dict map[string]any
	Keys []string

	// DictItems and ListItems hold items added by SETITEM(S) and APPEND(S) to
	// instances of dict and list subclasses.
	DictItems *Dict
	ListItems []any
}

// Class returns "module.name".
func (o *Object) Class() string { return o.Module + "." + o.Name }

// Has reports whether the attribute is set (possibly to None).
func (o *Object) Has(name string) bool {
	_, ok := o.Dict[name]
	return ok
}

// Attr returns an attribute set by BUILD.
func (o *Object) Attr(name string) (any, bool) {
	v, ok := o.Dict[name]
	return v, ok
}

func (o *Object) setAttr(name string, v any) {
	if o.Dict == nil {
		o.Dict = map[string]any{}
	}
	if _, ok := o.Dict[name]; !ok {
		o.Keys = append(o.Keys, name)
	}
	o.Dict[name] = v
}

func (o *Object) attr(name string) (any, error) {
	v, ok := o.Dict[name]
	if !ok {
		return nil, fmt.Errorf("%s: attribute %q not found", o.Class(), name)
	}
	return v, nil
}

func (o *Object) wrongType(name string, v any, want string) error {
	return fmt.Errorf("%s: attribute %q is %s, want %s", o.Class(), name, typeName(v), want)
}

// Float returns a numeric attribute as float64 (Python or numpy float or int,
// or a 0-d numeric array).
func (o *Object) Float(name string) (float64, error) {
	v, err := o.attr(name)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case *NDArray:
		if len(x.Shape) == 0 {
			f, err := x.Float64s()
			if err == nil && len(f) == 1 {
				return f[0], nil
			}
		}
	}
	return 0, o.wrongType(name, v, "float")
}

// Int returns an integer attribute (Python or numpy int, or a 0-d integer array).
func (o *Object) Int(name string) (int64, error) {
	v, err := o.attr(name)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case *NDArray:
		if len(x.Shape) == 0 && x.DType != nil && strings.IndexByte("iub", x.DType.Kind) >= 0 {
			n, err := x.Int64s()
			if err == nil && len(n) == 1 {
				return n[0], nil
			}
		}
	}
	return 0, o.wrongType(name, v, "int")
}

// Bool returns a bool attribute (Python bool or numpy bool_).
func (o *Object) Bool(name string) (bool, error) {
	v, err := o.attr(name)
	if err != nil {
		return false, err
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, o.wrongType(name, v, "bool")
}

// String returns a str attribute.
func (o *Object) String(name string) (string, error) {
	v, err := o.attr(name)
	if err != nil {
		return "", err
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", o.wrongType(name, v, "str")
}

// Array returns a numpy array attribute.
func (o *Object) Array(name string) (*NDArray, error) {
	v, err := o.attr(name)
	if err != nil {
		return nil, err
	}
	if a, ok := v.(*NDArray); ok {
		return a, nil
	}
	return nil, o.wrongType(name, v, "ndarray")
}

// Object returns an attribute holding another allowed object.
func (o *Object) Object(name string) (*Object, error) {
	v, err := o.attr(name)
	if err != nil {
		return nil, err
	}
	if x, ok := v.(*Object); ok {
		return x, nil
	}
	return nil, o.wrongType(name, v, "object")
}

// List returns a list attribute.
func (o *Object) List(name string) (*List, error) {
	v, err := o.attr(name)
	if err != nil {
		return nil, err
	}
	if x, ok := v.(*List); ok {
		return x, nil
	}
	return nil, o.wrongType(name, v, "list")
}

// Tuple returns a tuple attribute.
func (o *Object) Tuple(name string) (Tuple, error) {
	v, err := o.attr(name)
	if err != nil {
		return nil, err
	}
	if x, ok := v.(Tuple); ok {
		return x, nil
	}
	return nil, o.wrongType(name, v, "tuple")
}

// Items returns the items of a list or tuple attribute.
func (o *Object) Items(name string) ([]any, error) {
	v, err := o.attr(name)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *List:
		return x.Items, nil
	case Tuple:
		return x, nil
	}
	return nil, o.wrongType(name, v, "list or tuple")
}

// Mapping returns a dict attribute.
func (o *Object) Mapping(name string) (*Dict, error) {
	v, err := o.attr(name)
	if err != nil {
		return nil, err
	}
	if x, ok := v.(*Dict); ok {
		return x, nil
	}
	return nil, o.wrongType(name, v, "dict")
}

// TypeName returns a short Python-like name of a decoded value's type, for
// error messages: "None", "int", "str", "ndarray", "sklearn.tree._tree.Tree
// object", ...
func TypeName(v any) string { return typeName(v) }

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, int, uint64, *big.Int:
		return "int"
	case float64:
		return "float"
	case complex128:
		return "complex"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case *Set:
		if x.Frozen {
			return "frozenset"
		}
		return "set"
	case *Slice:
		return "slice"
	case *NDArray:
		if x.DType != nil {
			return "ndarray of " + x.DType.String()
		}
		return "ndarray"
	case *DType:
		return "dtype"
	case *Global:
		return "class " + x.String()
	case *Object:
		return x.Class() + " object"
	}
	return fmt.Sprintf("%T", v)
}

// short renders a decoded value for an error message: small scalars by
// value, everything else by type, so that a message never walks (or prints)
// a large or deeply shared structure.
func short(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool, int64, float64:
		return fmt.Sprint(x)
	case string:
		if len(x) > 40 {
			return strconv.Quote(x[:40]) + "..."
		}
		return strconv.Quote(x)
	}
	return typeName(v)
}
