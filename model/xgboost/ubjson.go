package xgboost

import (
	"encoding/binary"
	"fmt"
	"math"
)

// parseUBJSON decodes an XGBoost UBJSON model (model.ubj, and model.xgb from
// xgboost 2.1 on) into the value tree described in value.go.
//
// UBJSON is big-endian. XGBoost writes objects as '{' (key value)* '}' with each
// key as an integer length (marker 'L' + int64) and the bytes, no 'S' marker;
// generic arrays as '[' '#' 'L' n followed by n values and no closing ']'; typed
// arrays as '[' '$' type '#' 'L' n followed by n raw values (see UBJWriter in
// xgboost src/common/json.cc). This reader also takes the other shapes the UBJSON
// spec allows: any integer marker for lengths and counts, arrays closed by ']',
// counted and typed objects, and 'N' no-ops between values. Every count is checked
// against the bytes that remain before anything is allocated.
func parseUBJSON(data []byte) (any, error) {
	p := &ubjParser{b: data}
	m, err := p.marker()
	if err != nil {
		return nil, err
	}
	v, err := p.value(m)
	if err != nil {
		return nil, err
	}
	// Trailing bytes are ignored, as XGBoost does.
	return v, nil
}

type ubjParser struct {
	b     []byte
	pos   int
	depth int
}

func (p *ubjParser) errorf(format string, args ...any) error {
	return fmt.Errorf("ubjson: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *ubjParser) remaining() int { return len(p.b) - p.pos }

func (p *ubjParser) take(n int) ([]byte, error) {
	if n < 0 || n > p.remaining() {
		return nil, p.errorf("unexpected end of input (need %d bytes, %d left)", n, p.remaining())
	}
	s := p.b[p.pos : p.pos+n]
	p.pos += n
	return s, nil
}

// marker returns the next type marker, skipping 'N' no-ops.
func (p *ubjParser) marker() (byte, error) {
	for {
		if p.pos >= len(p.b) {
			return 0, p.errorf("unexpected end of input")
		}
		c := p.b[p.pos]
		p.pos++
		if c != 'N' {
			return c, nil
		}
	}
}

func (p *ubjParser) peek() (byte, error) {
	for p.pos < len(p.b) && p.b[p.pos] == 'N' {
		p.pos++
	}
	if p.pos >= len(p.b) {
		return 0, p.errorf("unexpected end of input")
	}
	return p.b[p.pos], nil
}

// intOf reads the payload of an integer marker.
func (p *ubjParser) intOf(m byte) (int64, error) {
	switch m {
	case 'i':
		b, err := p.take(1)
		if err != nil {
			return 0, err
		}
		return int64(int8(b[0])), nil
	case 'U':
		b, err := p.take(1)
		if err != nil {
			return 0, err
		}
		return int64(b[0]), nil
	case 'I':
		b, err := p.take(2)
		if err != nil {
			return 0, err
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		b, err := p.take(4)
		if err != nil {
			return 0, err
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case 'L':
		b, err := p.take(8)
		if err != nil {
			return 0, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return 0, p.errorf("expected an integer marker, found %q", m)
}

// count reads a length or count (an integer with its marker) that must be >= 0
// and, counting at least minBytes per element, fit in the remaining input.
func (p *ubjParser) count(minBytes int) (int, error) {
	m, err := p.marker()
	if err != nil {
		return 0, err
	}
	n, err := p.intOf(m)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, p.errorf("negative length %d", n)
	}
	if minBytes > 0 && n > int64(p.remaining()/minBytes) {
		return 0, p.errorf("length %d is larger than the remaining %d bytes allow", n, p.remaining())
	}
	return int(n), nil
}

func (p *ubjParser) value(m byte) (any, error) {
	switch m {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'i', 'U', 'I', 'l', 'L':
		return p.intOf(m)
	case 'C':
		b, err := p.take(1)
		if err != nil {
			return nil, err
		}
		return int64(b[0]), nil
	case 'd':
		b, err := p.take(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case 'D':
		b, err := p.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case 'S':
		n, err := p.count(1)
		if err != nil {
			return nil, err
		}
		b, err := p.take(n)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 'H':
		n, err := p.count(1)
		if err != nil {
			return nil, err
		}
		b, err := p.take(n)
		if err != nil {
			return nil, err
		}
		q := &jsonParser{s: string(b)}
		num, err := q.number()
		if err != nil || q.pos != len(q.s) {
			return nil, p.errorf("invalid high-precision number %q", b)
		}
		return jsonNum(num), nil
	case '[':
		return p.array()
	case '{':
		return p.object()
	}
	return nil, p.errorf("unknown marker %q", m)
}

func (p *ubjParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nesting deeper than %d", maxDepth)
	}
	return nil
}

// elemSize is the payload size of a typed-container element type, 0 for types
// that are not allowed there.
func elemSize(t byte) int {
	switch t {
	case 'i', 'U', 'C':
		return 1
	case 'I':
		return 2
	case 'l', 'd':
		return 4
	case 'L', 'D':
		return 8
	case 'S', 'H', '[', '{':
		return 1 // variable; at least one byte each
	}
	return 0
}

func (p *ubjParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	c, err := p.peek()
	if err != nil {
		return nil, err
	}
	if c == '$' {
		p.pos++
		t, err := p.marker()
		if err != nil {
			return nil, err
		}
		size := elemSize(t)
		if size == 0 {
			return nil, p.errorf("typed array of %q is not supported", t)
		}
		if h, err := p.marker(); err != nil || h != '#' {
			if err != nil {
				return nil, err
			}
			return nil, p.errorf("typed array without a count")
		}
		n, err := p.count(size)
		if err != nil {
			return nil, err
		}
		return p.typedArray(t, n)
	}
	if c == '#' {
		p.pos++
		n, err := p.count(1)
		if err != nil {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			m, err := p.marker()
			if err != nil {
				return nil, err
			}
			if out[i], err = p.value(m); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	out := []any{}
	for {
		m, err := p.marker()
		if err != nil {
			return nil, err
		}
		if m == ']' {
			return out, nil
		}
		v, err := p.value(m)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// typedArray reads n raw values of type t; n*size has been checked against the input.
func (p *ubjParser) typedArray(t byte, n int) (any, error) {
	switch t {
	case 'd':
		b, err := p.take(4 * n)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case 'D':
		b, err := p.take(8 * n)
		if err != nil {
			return nil, err
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(binary.BigEndian.Uint64(b[8*i:]))
		}
		return out, nil
	case 'i':
		b, err := p.take(n)
		if err != nil {
			return nil, err
		}
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(b[i])
		}
		return out, nil
	case 'U', 'C':
		b, err := p.take(n)
		if err != nil {
			return nil, err
		}
		return append([]uint8(nil), b...), nil
	case 'I':
		b, err := p.take(2 * n)
		if err != nil {
			return nil, err
		}
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(binary.BigEndian.Uint16(b[2*i:]))
		}
		return out, nil
	case 'l':
		b, err := p.take(4 * n)
		if err != nil {
			return nil, err
		}
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(binary.BigEndian.Uint32(b[4*i:]))
		}
		return out, nil
	case 'L':
		b, err := p.take(8 * n)
		if err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(binary.BigEndian.Uint64(b[8*i:]))
		}
		return out, nil
	}
	// Variable-size element types: values without their own marker.
	out := make([]any, n)
	for i := range out {
		v, err := p.value(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (p *ubjParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	m := map[string]any{}
	c, err := p.peek()
	if err != nil {
		return nil, err
	}
	var typ byte // element type of a typed object, 0 when every value has a marker
	n := -1      // entry count of a counted object
	if c == '$' {
		p.pos++
		if typ, err = p.marker(); err != nil {
			return nil, err
		}
		if elemSize(typ) == 0 && typ != 'Z' && typ != 'T' && typ != 'F' {
			return nil, p.errorf("typed object of %q is not supported", typ)
		}
		if h, err := p.marker(); err != nil || h != '#' {
			if err != nil {
				return nil, err
			}
			return nil, p.errorf("typed object without a count")
		}
		c = '#'
		p.pos-- // let the count branch read it
	}
	if c == '#' {
		p.pos++
		// Each entry holds at least a key length marker and its value.
		if n, err = p.count(2); err != nil {
			return nil, err
		}
	}
	for i := 0; n < 0 || i < n; i++ {
		if n < 0 {
			c, err := p.peek()
			if err != nil {
				return nil, err
			}
			if c == '}' {
				p.pos++
				return m, nil
			}
		}
		kn, err := p.count(1)
		if err != nil {
			return nil, err
		}
		kb, err := p.take(kn)
		if err != nil {
			return nil, err
		}
		vm := typ
		if vm == 0 {
			if vm, err = p.marker(); err != nil {
				return nil, err
			}
		}
		v, err := p.value(vm)
		if err != nil {
			return nil, err
		}
		m[string(kb)] = v
	}
	return m, nil
}
