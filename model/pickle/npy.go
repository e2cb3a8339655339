package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The .npy format (numpy.lib.format): the magic "\x93NUMPY", a major and minor
// version byte, the header length (2 bytes little-endian in version 1.0, 4 bytes
// in 2.0 and 3.0), the header, then the raw element data. The header is the text
// of a Python dict literal with the keys 'descr' (dtype.descr: a type string such
// as '<f8', or a list of (name, descr[, shape]) tuples for structured dtypes, with
// unnamed '|V<n>' entries for padding), 'fortran_order' and 'shape'. Version 3.0
// only allows UTF-8 in the header.

const (
	npyMagic     = "\x93NUMPY"
	maxNPYHeader = 1 << 20
	maxNPYDepth  = 16
)

// ParseNPY decodes one array in numpy's .npy format, as numpy.save writes it with
// allow_pickle=False (the skops format stores its arrays that way). Object arrays,
// which .npy can only hold as a pickle, are refused, as are datetime dtypes. The
// returned array's Data aliases data.
func ParseNPY(data []byte) (*NDArray, error) {
	if len(data) < len(npyMagic)+2 || string(data[:len(npyMagic)]) != npyMagic {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	major := data[len(npyMagic)]
	rest := data[len(npyMagic)+2:]
	var hlen int
	switch major {
	case 1:
		if len(rest) < 2 {
			return nil, errors.New("npy: truncated header length")
		}
		hlen, rest = int(binary.LittleEndian.Uint16(rest)), rest[2:]
	case 2, 3:
		if len(rest) < 4 {
			return nil, errors.New("npy: truncated header length")
		}
		n := binary.LittleEndian.Uint32(rest)
		if n > maxNPYHeader {
			return nil, fmt.Errorf("npy: header of %d bytes is larger than mlbatch reads (%d)", n, maxNPYHeader)
		}
		hlen, rest = int(n), rest[4:]
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d", major)
	}
	if hlen > len(rest) {
		return nil, fmt.Errorf("npy: header length %d exceeds the %d bytes left", hlen, len(rest))
	}
	header, body := rest[:hlen], rest[hlen:]
	p := &pyLit{s: string(header)}
	v, err := p.value(0)
	if err != nil {
		return nil, fmt.Errorf("npy: header: %w", err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("npy: header: unexpected %q after the dict", clip(p.s[p.i:]))
	}
	h, ok := v.(*Dict)
	if !ok {
		return nil, fmt.Errorf("npy: header is a %s, want a dict", typeName(v))
	}
	descr, ok1 := h.Get("descr")
	fo, ok2 := h.Get("fortran_order")
	sh, ok3 := h.Get("shape")
	if !ok1 || !ok2 || !ok3 || h.Len() != 3 {
		return nil, errors.New("npy: header must have exactly the keys descr, fortran_order and shape")
	}
	fortran, ok := fo.(bool)
	if !ok {
		return nil, fmt.Errorf("npy: fortran_order is a %s, want bool", typeName(fo))
	}
	shape, err := toShape(sh)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	dt, err := npyDType(descr, 0)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	if dt.hasObject {
		return nil, errors.New("npy: object arrays are stored as pickles in .npy files; mlbatch does not read them")
	}
	n, ok := shapeSize(shape)
	if !ok {
		return nil, fmt.Errorf("npy: shape %v overflows", shape)
	}
	if dt.ItemSize > 0 && n > len(body)/dt.ItemSize || n*dt.ItemSize != len(body) {
		return nil, fmt.Errorf("npy: shape %v of %s needs %s bytes of data, the file has %d", shape, dt, needBytes(n, dt.ItemSize), len(body))
	}
	arr := &NDArray{DType: dt, Shape: shape, Fortran: fortran, Data: body}
	if _, err := arr.check(); err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return arr, nil
}

func needBytes(n, size int) string {
	if size > 0 && n > math.MaxInt/size {
		return "more"
	}
	return strconv.Itoa(n * size)
}

// npyDType builds a dtype from a descr value: a type string or a list of fields.
func npyDType(v any, depth int) (*DType, error) {
	if depth > maxNPYDepth {
		return nil, fmt.Errorf("descr nested more than %d deep", maxNPYDepth)
	}
	switch x := v.(type) {
	case string:
		return npyTypeString(x)
	case *List:
		return npyStruct(x.Items, depth)
	}
	return nil, fmt.Errorf("descr is a %s, want str or list", typeName(v))
}

// npyTypeString parses '<f8', '|b1', '>i4', '<U5', '|S3', '|V8'.
func npyTypeString(s string) (*DType, error) {
	order := byte('|')
	if s != "" && strings.IndexByte("<>|=", s[0]) >= 0 {
		order, s = s[0], s[1:]
	}
	if s == "O" || strings.HasPrefix(s, "O") {
		d, err := newDType(s)
		if err != nil {
			return nil, err
		}
		d.seal()
		return d, nil
	}
	if len(s) < 2 {
		return nil, fmt.Errorf("unsupported dtype %q", s)
	}
	d, err := newDType(s)
	if err != nil {
		return nil, err
	}
	if order == '>' {
		d.big, d.Order = true, be
	}
	d.seal()
	return d, nil
}

// npyStruct builds a structured dtype from descr's list of (name, descr[,
// shape]) tuples, laid out one after another; unnamed entries are padding.
func npyStruct(items []any, depth int) (*DType, error) {
	d := &DType{Kind: 'V', Order: le, Fields: map[string]Field{}, Names: []string{}, depth: 1}
	off := 0
	for _, it := range items {
		t, ok := it.(Tuple)
		if !ok || (len(t) != 2 && len(t) != 3) {
			return nil, fmt.Errorf("structured descr item is %s, want (name, descr[, shape])", describeLen(it))
		}
		name, ok := t[0].(string)
		if !ok {
			return nil, fmt.Errorf("structured descr field name is %s, want str", typeName(t[0]))
		}
		fd, err := npyDType(t[1], depth+1)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		if len(t) == 3 {
			shape, err := toShape(t[2])
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", name, err)
			}
			n, ok := shapeSize(shape)
			if !ok || (fd.ItemSize > 0 && n > maxItemSize/fd.ItemSize) {
				return nil, fmt.Errorf("field %q: subarray %v is too large", name, shape)
			}
			sub := &DType{Kind: 'V', ItemSize: n * fd.ItemSize, Order: le, Sub: &Subarray{Base: fd, Shape: shape},
				depth: fd.depth + 1, hasObject: fd.hasObject}
			sub.seal()
			fd = sub
		}
		if fd.ItemSize < 0 || off > maxItemSize-fd.ItemSize {
			return nil, errors.New("structured dtype is too large")
		}
		if name != "" {
			if _, dup := d.Fields[name]; dup {
				return nil, fmt.Errorf("duplicate field %q", name)
			}
			d.Names = append(d.Names, name)
			d.Fields[name] = Field{DType: fd, Offset: off}
			d.hasObject = d.hasObject || fd.hasObject
			d.depth = max(d.depth, fd.depth+1)
		} else if fd.Kind != 'V' || fd.Names != nil {
			return nil, fmt.Errorf("unnamed field of dtype %s (only void padding may be unnamed)", fd)
		}
		off += fd.ItemSize
	}
	if len(d.Names) == 0 {
		return nil, errors.New("structured dtype without fields")
	}
	d.ItemSize = off
	d.seal()
	return d, nil
}

// NewObjectArray returns an object ndarray of the given shape whose elements, in
// C order, are items.
func NewObjectArray(items []any, shape []int) (*NDArray, error) {
	if len(shape) > 64 {
		return nil, fmt.Errorf("%d dimensions (at most 64)", len(shape))
	}
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("invalid dimension %d", d)
		}
	}
	dt, err := newDType("O")
	if err != nil {
		return nil, err
	}
	dt.seal()
	a := &NDArray{DType: dt, Shape: append([]int(nil), shape...), Objects: items}
	if _, err := a.check(); err != nil {
		return nil, err
	}
	return a, nil
}

// pyLit parses the Python literals numpy writes in .npy headers: dicts, lists,
// tuples, str, int, True, False and None.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

func (p *pyLit) value(depth int) (any, error) {
	if depth > 2*maxNPYDepth {
		return nil, errors.New("literal nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		d := NewDict()
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return d, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errors.New("want ':' in dict")
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := d.Set(k, v); err != nil {
				return nil, err
			}
			if err := p.sep('}'); err != nil {
				return nil, err
			}
		}
	case c == '[' || c == '(':
		p.i++
		end := byte(']')
		if c == '(' {
			end = ')'
		}
		var items []any
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				if c == '(' {
					return Tuple(items), nil
				}
				return &List{Items: items}, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
			if len(items) > 1<<16 {
				return nil, errors.New("too many items")
			}
			if err := p.sep(end); err != nil {
				return nil, err
			}
		}
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", clip(p.s[p.i:j]))
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long
			p.i++
		}
		return n, nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q", clip(p.s[p.i:]))
}

// sep consumes a ',' (then an optional end) or the end itself, leaving the
// end unconsumed for the caller's loop.
func (p *pyLit) sep(end byte) error {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == end {
		return nil
	}
	return fmt.Errorf("want ',' or %q", end)
}

func (p *pyLit) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b bytes.Buffer
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", errors.New("unterminated string")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				return "", fmt.Errorf("unsupported escape \\%c", e)
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", errors.New("unterminated string")
}
