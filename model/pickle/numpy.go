package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DType is a numpy dtype, as rebuilt from numpy.dtype(typestr, align, copy) and
// its BUILD state.
type DType struct {
	// Kind is numpy's kind character: 'b' bool, 'i' int, 'u' uint, 'f' float,
	// 'c' complex, 'O' object, 'U' UCS-4 str, 'S' bytes, 'V' void/structured.
	Kind byte
	// ItemSize is the size of one element in bytes ('U' uses 4 bytes a char).
	ItemSize int
	// Order is the byte order of multi-byte elements. Pickles record '<', '>'
	// or '|' (not applicable); '=' (native) is read as little-endian.
	Order binary.ByteOrder
	// Names lists the fields of a structured dtype in order; Fields maps each
	// name to its dtype and byte offset inside a record.
	Names  []string
	Fields map[string]Field
	// Sub is set for subarray dtypes such as ('<f8', (3,)).
	Sub *Subarray
	// Align and Flags are numpy's alignment and flags from the state.
	Align, Flags int

	big       bool
	sealed    bool // state set or dtype in use: BUILD may not change it any more
	hasObject bool
	depth     int
}

// Field is one field of a structured dtype.
type Field struct {
	DType  *DType
	Offset int
	Title  string
}

// Subarray describes a subarray dtype: Shape elements of Base.
type Subarray struct {
	Base  *DType
	Shape []int
}

const (
	maxDTypeDepth = 32
	maxItemSize   = 1 << 31
	maxEmptyElems = 1 << 16
)

var le, be binary.ByteOrder = binary.LittleEndian, binary.BigEndian

// newDType parses the type string numpy writes in a dtype's reduce tuple:
// kind character followed by the item size ('f8', 'i4', 'b1', 'O8', 'V56',
// 'S3'); for 'U' the number counts characters.
func newDType(s string) (*DType, error) {
	if s == "" {
		return nil, errors.New("empty dtype string")
	}
	kind, num := s[0], s[1:]
	n := -1
	if num != "" {
		v, err := strconv.ParseUint(num, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("unsupported dtype %q", s)
		}
		n = int(v)
	}
	d := &DType{Kind: kind, ItemSize: n, Order: le, depth: 1}
	ok := false
	switch kind {
	case 'b':
		ok = n == 1
	case 'i', 'u':
		ok = n == 1 || n == 2 || n == 4 || n == 8
	case 'f':
		ok = n == 2 || n == 4 || n == 8
	case 'c':
		ok = n == 8 || n == 16
	case 'O':
		if n == -1 {
			d.ItemSize = 8
		}
		ok = d.ItemSize == 4 || d.ItemSize == 8
		d.hasObject = true
	case 'U':
		if n >= 0 && n <= maxItemSize/4 {
			d.ItemSize, ok = 4*n, true
		}
	case 'S', 'V':
		ok = n >= 0
	case 'M', 'm':
		return nil, fmt.Errorf("unsupported dtype %q: datetime and timedelta dtypes are not supported", s)
	}
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q", s)
	}
	return d, nil
}

func (d *DType) seal() { d.sealed = true }

// sizeOK reports whether the item size is one the element decoders handle
// (always true for dtypes read from a pickle; DType is also constructible by
// callers).
func (d *DType) sizeOK() bool {
	switch d.Kind {
	case 'b':
		return d.ItemSize == 1
	case 'i', 'u':
		return d.ItemSize == 1 || d.ItemSize == 2 || d.ItemSize == 4 || d.ItemSize == 8
	case 'f':
		return d.ItemSize == 2 || d.ItemSize == 4 || d.ItemSize == 8
	case 'c':
		return d.ItemSize == 8 || d.ItemSize == 16
	}
	return d.ItemSize >= 0
}

// String returns numpy's dtype.str spelling: "<f8", "|b1", "<U5" (in
// characters), "|O", "|V56".
func (d *DType) String() string {
	if d == nil {
		return "<nil dtype>"
	}
	if d.Kind == 'O' {
		return "|O"
	}
	e := byte('|')
	switch d.Kind {
	case 'i', 'u', 'f', 'c', 'U':
		if d.ItemSize > 1 || d.Kind == 'U' {
			e = '<'
			if d.big {
				e = '>'
			}
		}
	}
	n := d.ItemSize
	if d.Kind == 'U' {
		n /= 4
	}
	return fmt.Sprintf("%c%c%d", e, d.Kind, n)
}

// numeric reports whether elements convert to float64 and int64 (bool, int,
// uint, float).
func (d *DType) numeric() bool {
	return d.Sub == nil && d.Names == nil && strings.IndexByte("biuf", d.Kind) >= 0
}

func (d *DType) u16(b []byte) uint16 {
	if d.big {
		return be.Uint16(b)
	}
	return le.Uint16(b)
}

func (d *DType) u32(b []byte) uint32 {
	if d.big {
		return be.Uint32(b)
	}
	return le.Uint32(b)
}

func (d *DType) u64(b []byte) uint64 {
	if d.big {
		return be.Uint64(b)
	}
	return le.Uint64(b)
}

// float decodes one numeric element (d.numeric()) from b[:d.ItemSize].
func (d *DType) float(b []byte) float64 {
	switch d.Kind {
	case 'f':
		switch d.ItemSize {
		case 8:
			return math.Float64frombits(d.u64(b))
		case 4:
			return float64(math.Float32frombits(d.u32(b)))
		case 2:
			return halfToFloat64(d.u16(b))
		}
	case 'u':
		return float64(d.uint(b))
	case 'i':
		return float64(d.int(b))
	case 'b':
		if b[0] != 0 {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// int decodes a signed ('i') or bool element.
func (d *DType) int(b []byte) int64 {
	switch d.ItemSize {
	case 1:
		if d.Kind == 'b' {
			if b[0] != 0 {
				return 1
			}
			return 0
		}
		return int64(int8(b[0]))
	case 2:
		return int64(int16(d.u16(b)))
	case 4:
		return int64(int32(d.u32(b)))
	case 8:
		return int64(d.u64(b))
	}
	return 0
}

// uint decodes an unsigned ('u') element.
func (d *DType) uint(b []byte) uint64 {
	switch d.ItemSize {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(d.u16(b))
	case 4:
		return uint64(d.u32(b))
	case 8:
		return d.u64(b)
	}
	return 0
}

// int64 converts one numeric element to int64; exact is false for fractional,
// non-finite or out-of-range values.
func (d *DType) int64(b []byte) (v int64, exact bool) {
	switch d.Kind {
	case 'b', 'i':
		return d.int(b), true
	case 'u':
		u := d.uint(b)
		return int64(u), u <= math.MaxInt64
	case 'f':
		f := d.float(b)
		return floatToInt(f)
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return int64(f), false
	}
	return int64(f), true
}

// value decodes one element of a non-object dtype to a Go value.
func (d *DType) value(b []byte) any {
	b = b[:d.ItemSize]
	switch d.Kind {
	case 'b':
		return b[0] != 0
	case 'i':
		return d.int(b)
	case 'u':
		u := d.uint(b)
		if u <= math.MaxInt64 {
			return int64(u)
		}
		return u
	case 'f':
		return d.float(b)
	case 'c':
		h := d.ItemSize / 2
		re := &DType{Kind: 'f', ItemSize: h, big: d.big}
		return complex(re.float(b[:h]), re.float(b[h:]))
	case 'U':
		return d.ucs4(b)
	case 'S':
		return trimNUL(b)
	}
	return b // 'V': the raw record
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// ucs4 decodes a 'U' element, dropping trailing NULs as numpy does.
func (d *DType) ucs4(b []byte) string {
	n := len(b) / 4
	for n > 0 && d.u32(b[4*(n-1):]) == 0 {
		n--
	}
	var sb strings.Builder
	sb.Grow(n)
	for i := 0; i < n; i++ {
		r := rune(d.u32(b[4*i:]))
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func halfToFloat64(h uint16) float64 {
	exp, frac := int(h>>10)&0x1f, float64(h&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			f = math.Inf(1)
		} else {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(frac+1024, exp-25)
	}
	if h&0x8000 != 0 {
		f = -f
	}
	return f
}

// setState applies a dtype BUILD state:
// (3, endian, subarray, names, fields, elsize, alignment, flags[, metadata]).
func (d *DType) setState(state any) error {
	t, ok := state.(Tuple)
	if !ok || (len(t) != 8 && len(t) != 9) {
		return fmt.Errorf("dtype state is %s, want a tuple of 8 or 9 items", describeLen(state))
	}
	if v, ok := t[0].(int64); !ok || (v != 3 && v != 4) {
		return fmt.Errorf("unsupported dtype state version %s", short(t[0]))
	}
	if d.sealed {
		return errors.New("dtype state set twice, or after the dtype was used")
	}
	endian, ok := t[1].(string)
	if !ok {
		return fmt.Errorf("dtype byte order is %s, want str", typeName(t[1]))
	}
	switch endian {
	case "<", "|", "=":
		d.big, d.Order = false, le
	case ">":
		d.big, d.Order = true, be
	default:
		return fmt.Errorf("invalid dtype byte order %q", endian)
	}
	elsize, ok1 := t[5].(int64)
	align, ok2 := t[6].(int64)
	flags, ok3 := t[7].(int64)
	if !ok1 || !ok2 || !ok3 || align < -1 || align > maxItemSize || flags < math.MinInt32 || flags > math.MaxInt32 {
		return errors.New("invalid dtype elsize, alignment or flags")
	}
	d.Align, d.Flags = int(align), int(flags)
	switch d.Kind {
	case 'U', 'S', 'V':
		if elsize < 0 || elsize > maxItemSize || (d.Kind == 'U' && elsize%4 != 0) {
			return fmt.Errorf("invalid item size %d for dtype kind %c", elsize, d.Kind)
		}
		d.ItemSize = int(elsize)
	}
	var children []*DType
	if t[2] != nil {
		if d.Kind != 'V' {
			return fmt.Errorf("subarray on dtype kind %c", d.Kind)
		}
		st, ok := t[2].(Tuple)
		if !ok || len(st) != 2 {
			return fmt.Errorf("dtype subarray is %s, want (dtype, shape)", describeLen(t[2]))
		}
		base, ok := st[0].(*DType)
		if !ok {
			return fmt.Errorf("subarray base is %s, want dtype", typeName(st[0]))
		}
		shape, err := toShape(st[1])
		if err != nil {
			return fmt.Errorf("subarray shape: %w", err)
		}
		n, ok := shapeSize(shape)
		if !ok || base.ItemSize < 0 || (base.ItemSize > 0 && n > d.ItemSize/base.ItemSize) || n*base.ItemSize != d.ItemSize {
			return fmt.Errorf("subarray %v of %s does not fill item size %d", shape, base, d.ItemSize)
		}
		d.Sub = &Subarray{Base: base, Shape: shape}
		children = append(children, base)
	}
	if (t[3] == nil) != (t[4] == nil) {
		return errors.New("dtype has names without fields or fields without names")
	}
	if t[3] != nil {
		if d.Kind != 'V' {
			return fmt.Errorf("fields on dtype kind %c", d.Kind)
		}
		names, ok := t[3].(Tuple)
		if !ok {
			return fmt.Errorf("dtype names is %s, want tuple", typeName(t[3]))
		}
		fields, ok := t[4].(*Dict)
		if !ok {
			return fmt.Errorf("dtype fields is %s, want dict", typeName(t[4]))
		}
		d.Names = make([]string, 0, len(names))
		d.Fields = make(map[string]Field, len(names))
		for _, nv := range names {
			name, ok := nv.(string)
			if !ok {
				return fmt.Errorf("dtype field name is %s, want str", typeName(nv))
			}
			if _, dup := d.Fields[name]; dup {
				return fmt.Errorf("duplicate dtype field %q", name)
			}
			fv, ok := fields.Get(name)
			if !ok {
				return fmt.Errorf("dtype field %q has no entry in fields", name)
			}
			ft, ok := fv.(Tuple)
			if !ok || (len(ft) != 2 && len(ft) != 3) {
				return fmt.Errorf("dtype field %q is %s, want (dtype, offset[, title])", name, describeLen(fv))
			}
			fd, ok := ft[0].(*DType)
			if !ok {
				return fmt.Errorf("dtype field %q has %s, want dtype", name, typeName(ft[0]))
			}
			off, ok := ft[1].(int64)
			if !ok || off < 0 || off > int64(d.ItemSize) || fd.ItemSize < 0 || int64(fd.ItemSize) > int64(d.ItemSize)-off {
				return fmt.Errorf("dtype field %q (%s at offset %s) does not fit item size %d", name, fd, short(ft[1]), d.ItemSize)
			}
			f := Field{DType: fd, Offset: int(off)}
			if len(ft) == 3 {
				if s, ok := ft[2].(string); ok {
					f.Title = s
				}
			}
			d.Names = append(d.Names, name)
			d.Fields[name] = f
			children = append(children, fd)
		}
	}
	for _, c := range children {
		c.seal()
	}
	if d.sealed {
		return errors.New("dtype contains itself")
	}
	for _, c := range children {
		if c.depth+1 > d.depth {
			d.depth = c.depth + 1
		}
		d.hasObject = d.hasObject || c.hasObject
	}
	if d.depth > maxDTypeDepth {
		return fmt.Errorf("dtype nested more than %d deep", maxDTypeDepth)
	}
	d.seal()
	return nil
}

// describeLen names a value's type, with its length for tuples.
func describeLen(v any) string {
	if t, ok := v.(Tuple); ok {
		return fmt.Sprintf("a tuple of %d items", len(t))
	}
	return typeName(v)
}

// toShape converts a shape tuple (or a single int) to dimensions.
func toShape(v any) ([]int, error) {
	switch s := v.(type) {
	case int64:
		v = Tuple{s}
	case Tuple:
	default:
		return nil, fmt.Errorf("shape is %s, want tuple", typeName(v))
	}
	t := v.(Tuple)
	if len(t) > 64 {
		return nil, fmt.Errorf("%d dimensions (at most 64)", len(t))
	}
	shape := make([]int, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok || n < 0 || uint64(n) > math.MaxInt {
			return nil, fmt.Errorf("invalid dimension %s", short(x))
		}
		shape[i] = int(n)
	}
	return shape, nil
}

// shapeSize returns the number of elements, or false on overflow.
func shapeSize(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d == 0 {
			return 0, true
		}
	}
	for _, d := range shape {
		if d < 0 || n > math.MaxInt/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// NDArray is a numpy array. Data holds the raw element bytes, in C order
// unless Fortran is set; object arrays hold their elements in Objects instead,
// always in C order. Data may alias the bytes given to Unmarshal.
type NDArray struct {
	DType   *DType
	Shape   []int
	Fortran bool
	Data    []byte
	Objects []any
}

// Len returns the number of elements (the product of Shape), or 0 for an
// array whose state was never set.
func (a *NDArray) Len() int {
	n, ok := shapeSize(a.Shape)
	if !ok || a.DType == nil {
		return 0
	}
	return n
}

// check validates that the data matches the shape and dtype and returns the
// number of elements.
func (a *NDArray) check() (int, error) {
	if a.DType == nil {
		return 0, errors.New("ndarray has no dtype (state never set)")
	}
	n, ok := shapeSize(a.Shape)
	if !ok {
		return 0, fmt.Errorf("ndarray shape %v overflows", a.Shape)
	}
	if a.DType.Kind == 'O' {
		if len(a.Objects) != n {
			return 0, fmt.Errorf("object ndarray of shape %v has %d items", a.Shape, len(a.Objects))
		}
		return n, nil
	}
	if !a.DType.sizeOK() {
		return 0, fmt.Errorf("invalid item size %d for dtype kind %q", a.DType.ItemSize, a.DType.Kind)
	}
	isz := a.DType.ItemSize
	if isz < 0 || (isz > 0 && len(a.Data)/isz != n) || len(a.Data) != n*isz {
		return 0, fmt.Errorf("ndarray of shape %v and dtype %s has %d bytes", a.Shape, a.DType, len(a.Data))
	}
	if isz == 0 && n > maxEmptyElems {
		// Zero-size elements take no bytes, so the data cannot bound their
		// number; converting them would allocate from the shape alone.
		return 0, fmt.Errorf("ndarray of shape %v has %d elements of size 0 (at most %d)", a.Shape, n, maxEmptyElems)
	}
	return n, nil
}

// perm maps C-order element indexes to storage indexes for Fortran-ordered
// arrays of two or more dimensions; nil means storage is already in C order.
func (a *NDArray) perm(n int) []int {
	nd := len(a.Shape)
	if !a.Fortran || nd < 2 || n == 0 {
		return nil
	}
	fs := make([]int, nd) // Fortran strides in elements
	s := 1
	for k := 0; k < nd; k++ {
		fs[k] = s
		s *= a.Shape[k]
	}
	out := make([]int, n)
	idx := make([]int, nd)
	pos := 0
	for c := 0; c < n; c++ {
		out[c] = pos
		for k := nd - 1; k >= 0; k-- {
			idx[k]++
			pos += fs[k]
			if idx[k] < a.Shape[k] {
				break
			}
			pos -= idx[k] * fs[k]
			idx[k] = 0
		}
	}
	return out
}

func (a *NDArray) elem(perm []int, i int) []byte {
	if perm != nil {
		i = perm[i]
	}
	isz := a.DType.ItemSize
	return a.Data[i*isz : (i+1)*isz]
}

// Float64s returns the elements as float64 in C order. It converts bool, int,
// uint and float dtypes of either byte order, and object arrays whose items
// are Python numbers.
func (a *NDArray) Float64s() ([]float64, error) {
	n, err := a.check()
	if err != nil {
		return nil, err
	}
	dt := a.DType
	out := make([]float64, n)
	switch {
	case dt.Kind == 'O':
		for i, v := range a.Objects {
			switch x := v.(type) {
			case float64:
				out[i] = x
			case int64:
				out[i] = float64(x)
			case uint64:
				out[i] = float64(x)
			case bool:
				if x {
					out[i] = 1
				}
			case *big.Int:
				out[i], _ = new(big.Float).SetInt(x).Float64()
			default:
				return nil, fmt.Errorf("object ndarray item %d is %s, not a number", i, typeName(v))
			}
		}
	case dt.numeric():
		perm := a.perm(n)
		if perm == nil && dt.Kind == 'f' && dt.ItemSize == 8 && !dt.big {
			for i := range out {
				out[i] = math.Float64frombits(le.Uint64(a.Data[8*i:]))
			}
			break
		}
		for i := range out {
			out[i] = dt.float(a.elem(perm, i))
		}
	default:
		return nil, fmt.Errorf("ndarray of dtype %s has no float values", dt)
	}
	return out, nil
}

// Int64s returns the elements as int64 in C order. Float elements must be
// whole numbers and unsigned ones at most MaxInt64; object arrays must hold
// Python ints or bools.
func (a *NDArray) Int64s() ([]int64, error) {
	n, err := a.check()
	if err != nil {
		return nil, err
	}
	dt := a.DType
	out := make([]int64, n)
	switch {
	case dt.Kind == 'O':
		for i, v := range a.Objects {
			switch x := v.(type) {
			case int64:
				out[i] = x
			case bool:
				if x {
					out[i] = 1
				}
			default:
				return nil, fmt.Errorf("object ndarray item %d is %s, not an int", i, typeName(v))
			}
		}
	case dt.numeric():
		perm := a.perm(n)
		for i := range out {
			v, exact := dt.int64(a.elem(perm, i))
			if !exact {
				return nil, fmt.Errorf("ndarray of dtype %s: item %d is not an int64 value", dt, i)
			}
			out[i] = v
		}
	default:
		return nil, fmt.Errorf("ndarray of dtype %s has no int values", dt)
	}
	return out, nil
}

// Strings returns the elements of a string array in C order: 'U' (UCS-4,
// as UTF-8) and 'S' (byte for byte) arrays with trailing NULs removed as numpy
// does, and object arrays whose items are all Python str.
func (a *NDArray) Strings() ([]string, error) {
	n, err := a.check()
	if err != nil {
		return nil, err
	}
	dt := a.DType
	out := make([]string, n)
	switch dt.Kind {
	case 'O':
		for i, v := range a.Objects {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("object ndarray item %d is %s, not a str", i, typeName(v))
			}
			out[i] = s
		}
	case 'U', 'S':
		if dt.Sub != nil || dt.Names != nil {
			return nil, fmt.Errorf("ndarray of dtype %s has no string values", dt)
		}
		perm := a.perm(n)
		for i := range out {
			if dt.Kind == 'U' {
				out[i] = dt.ucs4(a.elem(perm, i))
			} else {
				out[i] = string(trimNUL(a.elem(perm, i)))
			}
		}
	default:
		return nil, fmt.Errorf("ndarray of dtype %s has no string values", dt)
	}
	return out, nil
}

// Values returns the elements in C order as Go values: bool, int64 (uint64
// above MaxInt64), float64, complex128, string ('U'), []byte ('S', and the raw
// record for 'V'), or the items of an object array.
func (a *NDArray) Values() ([]any, error) {
	n, err := a.check()
	if err != nil {
		return nil, err
	}
	dt := a.DType
	if dt.Kind == 'O' {
		return append([]any(nil), a.Objects...), nil
	}
	perm := a.perm(n)
	out := make([]any, n)
	for i := range out {
		out[i] = dt.value(a.elem(perm, i))
	}
	return out, nil
}

// FieldView reads one numeric field of every record of a structured array,
// by the field's offset and its own dtype.
type FieldView struct {
	name   string
	dt     *DType
	data   []byte
	off    int
	stride int
	n      int
	perm   []int
}

// Field returns a view of the named field of a structured array. Only bool,
// int, uint and float fields can be read.
func (a *NDArray) Field(name string) (*FieldView, error) {
	n, err := a.check()
	if err != nil {
		return nil, err
	}
	dt := a.DType
	if dt.Kind != 'V' || dt.Fields == nil {
		return nil, fmt.Errorf("ndarray of dtype %s has no fields", dt)
	}
	f, ok := dt.Fields[name]
	if !ok {
		names := append([]string(nil), dt.Names...)
		sort.Strings(names)
		return nil, fmt.Errorf("structured ndarray has no field %q (fields: %s)", name, strings.Join(names, ", "))
	}
	if f.DType == nil || !f.DType.numeric() || !f.DType.sizeOK() {
		return nil, fmt.Errorf("field %q has dtype %s: only bool, int, uint and float fields can be read", name, f.DType)
	}
	if f.Offset < 0 || f.Offset+f.DType.ItemSize > dt.ItemSize {
		return nil, fmt.Errorf("field %q at offset %d does not fit record size %d", name, f.Offset, dt.ItemSize)
	}
	return &FieldView{name: name, dt: f.DType, data: a.Data, off: f.Offset, stride: dt.ItemSize, n: n, perm: a.perm(n)}, nil
}

// Name returns the field name.
func (f *FieldView) Name() string { return f.name }

// DType returns the field's dtype.
func (f *FieldView) DType() *DType { return f.dt }

// Len returns the number of records.
func (f *FieldView) Len() int { return f.n }

func (f *FieldView) at(i int) []byte {
	if f.perm != nil {
		i = f.perm[i]
	}
	p := i*f.stride + f.off
	return f.data[p : p+f.dt.ItemSize]
}

// Float64 returns the field of record i (C order) as float64. It panics if i
// is out of range, like a slice index.
func (f *FieldView) Float64(i int) float64 { return f.dt.float(f.at(i)) }

// Int64 returns the field of record i (C order) as int64: floats are
// truncated toward zero and uint64 values above MaxInt64 wrap. It panics if i
// is out of range, like a slice index.
func (f *FieldView) Int64(i int) int64 {
	v, _ := f.dt.int64(f.at(i))
	return v
}

// Float64s returns the field of every record as float64.
func (f *FieldView) Float64s() []float64 {
	out := make([]float64, f.n)
	for i := range out {
		out[i] = f.Float64(i)
	}
	return out
}

// Int64s returns the field of every record as int64 (see Int64).
func (f *FieldView) Int64s() []int64 {
	out := make([]int64, f.n)
	for i := range out {
		out[i] = f.Int64(i)
	}
	return out
}
