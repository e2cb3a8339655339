package serve

import (
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON parser for request bodies. encoding/json decodes objects into Go
// maps, which forget key order (the column order of dataframe_records and of
// "inputs" column dictionaries decides positional binding), and turns numbers into
// float64 before we know the column type they are for. This parser keeps object
// members in order and numbers as their literal text, which the column converters
// parse straight to the model's type (an int64 is never rounded through float64).
//
// It accepts what Python's json.loads accepts, since that is what MLflow's server
// parses with: RFC 8259 plus the NaN, Infinity and -Infinity literals that
// Python's json.dumps writes for non-finite floats. Duplicate keys keep the last
// value, as in Python.

type kind uint8

const (
	kNull kind = iota
	kFalse
	kTrue
	kNumber // s holds the literal; isInt says it has no fraction or exponent
	kString // s holds the decoded UTF-8 bytes
	kArray
	kObject
	kText // a CSV cell: s holds the raw text, typed by the column it feeds
)

// value is one parsed JSON value. Numbers and strings without escapes point into
// the request body.
type value struct {
	k     kind
	isInt bool
	s     []byte
	arr   []value
	obj   []member
}

type member struct {
	key string
	val value
}

func (v *value) kindName() string {
	switch v.k {
	case kNull:
		return "null"
	case kFalse, kTrue:
		return "boolean"
	case kNumber:
		return "number"
	case kString:
		return "string"
	case kArray:
		return "list"
	case kObject:
		return "dictionary"
	}
	return "text"
}

// get returns the last member named key (Python keeps the last duplicate).
func (v *value) get(key string) (*value, bool) {
	for i := len(v.obj) - 1; i >= 0; i-- {
		if v.obj[i].key == key {
			return &v.obj[i].val, true
		}
	}
	return nil, false
}

// keys lists an object's distinct keys in first-seen order.
func (v *value) keys() []string {
	out := make([]string, 0, len(v.obj))
	seen := make(map[string]bool, len(v.obj))
	for _, m := range v.obj {
		if !seen[m.key] {
			seen[m.key] = true
			out = append(out, m.key)
		}
	}
	return out
}

// maxDepth bounds nesting so that a hostile body cannot exhaust the stack.
const maxDepth = 512

type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

type parser struct {
	ar    *arena
	b     []byte
	i     int
	depth int
	// Elements and members being parsed, of every open list and dictionary: a
	// finished one is copied into a slice of its exact size, so that parsing
	// allocates once per list rather than once per growth.
	elems   []value
	members []member
}

// parseJSON parses one JSON document that fills data (surrounding white space
// allowed).
func parseJSON(data []byte, ar *arena) (value, error) {
	p := parsers.Get().(*parser)
	defer func() {
		p.b, p.ar = nil, nil
		if cap(p.elems) <= 1<<16 && cap(p.members) <= 1<<16 {
			parsers.Put(p)
		}
	}()
	p.b, p.i, p.depth, p.ar = data, 0, 0, ar
	p.elems, p.members = p.elems[:0], p.members[:0]
	p.ws()
	v, err := p.value()
	if err != nil {
		clear(p.elems[:cap(p.elems)])
		clear(p.members[:cap(p.members)])
		return value{}, err
	}
	p.ws()
	if p.i != len(p.b) {
		return value{}, p.errorf("extra data after the JSON document")
	}
	return v, nil
}

// parsers keep their element stacks between requests.
var parsers = sync.Pool{New: func() any { return new(parser) }}

func (p *parser) errorf(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), off: p.i}
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) literal(word string) bool {
	if len(p.b)-p.i >= len(word) && string(p.b[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *parser) value() (value, error) {
	if p.i >= len(p.b) {
		return value{}, p.errorf("unexpected end of data")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return value{k: kString, s: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't' && p.literal("true"):
		return value{k: kTrue}, nil
	case c == 'f' && p.literal("false"):
		return value{k: kFalse}, nil
	case c == 'n' && p.literal("null"):
		return value{k: kNull}, nil
	case c == 'N' && p.literal("NaN"):
		return value{k: kNumber, s: []byte("NaN")}, nil
	case c == 'I' && p.literal("Infinity"):
		return value{k: kNumber, s: []byte("Infinity")}, nil
	}
	return value{}, p.errorf("expecting a value")
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nested deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *parser) array() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // [
	p.ws()
	v := value{k: kArray}
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		v.arr = []value{}
		return v, nil
	}
	mark := len(p.elems)
	for {
		p.ws()
		e, err := p.value()
		if err != nil {
			return value{}, err
		}
		p.elems = append(p.elems, e)
		p.ws()
		if p.i >= len(p.b) {
			return value{}, p.errorf("unexpected end of data in a list")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			v.arr = p.ar.values(len(p.elems) - mark)
			copy(v.arr, p.elems[mark:])
			clear(p.elems[mark:])
			p.elems = p.elems[:mark]
			return v, nil
		default:
			return value{}, p.errorf("expecting ',' or ']'")
		}
	}
}

func (p *parser) object() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	defer func() { p.depth-- }()
	p.i++ // {
	p.ws()
	v := value{k: kObject}
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		v.obj = []member{}
		return v, nil
	}
	mark := len(p.members)
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return value{}, p.errorf("expecting a property name enclosed in double quotes")
		}
		k, err := p.str()
		if err != nil {
			return value{}, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return value{}, p.errorf("expecting ':' delimiter")
		}
		p.i++
		p.ws()
		e, err := p.value()
		if err != nil {
			return value{}, err
		}
		p.members = append(p.members, member{key: string(k), val: e})
		p.ws()
		if p.i >= len(p.b) {
			return value{}, p.errorf("unexpected end of data in a dictionary")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			v.obj = p.ar.members(len(p.members) - mark)
			copy(v.obj, p.members[mark:])
			clear(p.members[mark:])
			p.members = p.members[:mark]
			return v, nil
		default:
			return value{}, p.errorf("expecting ',' or '}'")
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) number() (value, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
		if p.literal("Infinity") {
			return value{k: kNumber, s: p.b[start:p.i]}, nil
		}
	}
	if p.i >= len(p.b) || !isDigit(p.b[p.i]) {
		return value{}, p.errorf("expecting a value")
	}
	if p.b[p.i] == '0' {
		p.i++
	} else {
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
	}
	isInt := true
	if p.i < len(p.b) && p.b[p.i] == '.' && p.i+1 < len(p.b) && isDigit(p.b[p.i+1]) {
		isInt = false
		p.i++
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		j := p.i + 1
		if j < len(p.b) && (p.b[j] == '+' || p.b[j] == '-') {
			j++
		}
		if j < len(p.b) && isDigit(p.b[j]) {
			isInt = false
			p.i = j
			for p.i < len(p.b) && isDigit(p.b[p.i]) {
				p.i++
			}
		}
	}
	return value{k: kNumber, isInt: isInt, s: p.b[start:p.i]}, nil
}

// str parses a string literal. Without escapes the result aliases the body.
func (p *parser) str() ([]byte, error) {
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return nil, p.errorf("invalid UTF-8 in a string")
			}
			return s, nil
		case c == '\\':
			return p.strSlow(start)
		case c < 0x20:
			return nil, p.errorf("invalid control character in a string")
		}
		p.i++
	}
	return nil, p.errorf("unterminated string")
}

func (p *parser) strSlow(start int) ([]byte, error) {
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return nil, p.errorf("invalid UTF-8 in a string")
			}
			return out, nil
		case c < 0x20:
			return nil, p.errorf("invalid control character in a string")
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, p.errorf("invalid \\uXXXX escape")
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by a low one is one character;
				// a lone surrogate becomes U+FFFD (Python would keep it, but
				// it cannot be UTF-8).
				save := p.i
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					p.i += 2
					if r2, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							continue
						}
					}
				}
				p.i = save
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, p.errorf("invalid \\escape")
		}
	}
	return nil, p.errorf("unterminated string")
}

func (p *parser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}
