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
	k, err := hashKey(key)
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
	k, err := hashKey(key)
	if err != nil {
		return err
	}
	if d.index == nil {
		d.index = map[any]int{}
	}
	if i, ok := d.index[k]; ok {
		d.values[i] = value
		return nil
	}
	d.index[k] = len(d.keys)
	d.keys = append(d.keys, key)
	d.values = append(d.values, value)
	return nil
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

// hashKey maps a Python value to a comparable Go value with Python's equality
// for the supported key types.
func hashKey(v any) (any, error) {
	switch k := v.(type) {
	case Tuple:
		var b strings.Builder
		n := 0
		if err := writeKey(&b, k, 0, &n); err != nil {
			return nil, err
		}
		return tupleKey(b.String()), nil
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
		return bigKey(strconv.FormatUint(k, 10)), nil
	case *big.Int:
		if k.IsInt64() {
			return k.Int64(), nil
		}
		return bigKey(k.String()), nil
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

// writeKey writes an injective encoding of a tuple key.
func writeKey(b *strings.Builder, t Tuple, depth int, n *int) error {
	if depth >= maxKeyDepth {
		return errors.New("tuple key nested too deeply")
	}
	*n += len(t)
	if *n > maxKeyItems {
		return errors.New("tuple key too large")
	}
	fmt.Fprintf(b, "(%d:", len(t))
	for _, item := range t {
		if sub, ok := item.(Tuple); ok {
			if err := writeKey(b, sub, depth+1, n); err != nil {
				return err
			}
			continue
		}
		k, err := hashKey(item)
		if err != nil {
			return err
		}
		switch k := k.(type) {
		case string:
			fmt.Fprintf(b, "s%d:%s", len(k), k)
		case bytesKey:
			fmt.Fprintf(b, "b%d:%s", len(k), string(k))
		case bigKey:
			fmt.Fprintf(b, "l%s;", string(k))
		case int64:
			fmt.Fprintf(b, "i%d;", k)
		case float64:
			fmt.Fprintf(b, "f%x;", math.Float64bits(k))
		case complex128:
			fmt.Fprintf(b, "c%x,%x;", math.Float64bits(real(k)), math.Float64bits(imag(k)))
		case nilKey:
			b.WriteString("n;")
		default: // identity
			fmt.Fprintf(b, "p%p;", k)
		}
	}
	b.WriteByte(')')
	return nil
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
