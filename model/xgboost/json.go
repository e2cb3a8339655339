package xgboost

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON decodes an XGBoost JSON model into the value tree described in
// value.go. It accepts what XGBoost's own writer produces (including the NaN,
// Infinity and -Infinity tokens it writes for non-finite floats) and rejects
// anything malformed with an error giving the byte offset; it never panics.
func parseJSON(data []byte) (any, error) {
	p := &jsonParser{s: string(data)}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	for p.pos < len(p.s) && p.s[p.pos] == 0 {
		p.pos++
	}
	if p.pos != len(p.s) {
		return nil, p.errorf("unexpected data after the end of the model")
	}
	return v, nil
}

type jsonParser struct {
	s     string
	pos   int
	depth int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("json: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.pos >= len(p.s) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c == 'N' || c == 'I' || (c >= '0' && c <= '9'):
		n, err := p.number()
		return jsonNum(n), err
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *jsonParser) literal(lit string) error {
	if !strings.HasPrefix(p.s[p.pos:], lit) {
		return p.errorf("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

// isNumberStart reports whether the next value is a number token.
func (p *jsonParser) isNumberStart() bool {
	if p.pos >= len(p.s) {
		return false
	}
	c := p.s[p.pos]
	return c == '-' || c == 'N' || c == 'I' || (c >= '0' && c <= '9')
}

// number scans one number token and checks its grammar: -?(0|[1-9]digits)(.digits)?([eE][+-]?digits)?
// or NaN, Infinity, -Infinity.
func (p *jsonParser) number() (string, error) {
	start := p.pos
	s := p.s
	i := p.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		p.pos = i + len("Infinity")
		return s[start:p.pos], nil
	}
	if i == start && strings.HasPrefix(s[i:], "NaN") {
		p.pos = i + 3
		return s[start:p.pos], nil
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		p.pos = i
		return "", p.errorf("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			p.pos = i
			return "", p.errorf("invalid number: no digits after the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			p.pos = i
			return "", p.errorf("invalid number: no digits in the exponent")
		}
	}
	p.pos = i
	return s[start:i], nil
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf("nesting deeper than %d", maxDepth)
	}
	return nil
}

func (p *jsonParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		return []any{}, nil
	}
	// Numeric arrays (the bulk of a model) are kept as token texts, unboxed.
	var nums numList
	var items []any
	generic := !p.isNumberStart()
	for {
		p.skipSpace()
		if !generic && p.isNumberStart() {
			n, err := p.number()
			if err != nil {
				return nil, err
			}
			nums = append(nums, n)
		} else {
			if !generic {
				generic = true
				items = make([]any, len(nums), len(nums)+1)
				for i, n := range nums {
					items[i] = jsonNum(n)
				}
				nums = nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			if generic {
				return items, nil
			}
			return nums, nil
		default:
			return nil, p.errorf("expected ',' or ']' in an array")
		}
	}
}

func (p *jsonParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	m := map[string]any{}
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			return nil, p.errorf("expected a string key in an object")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, p.errorf("expected ':' after an object key")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.skipSpace()
		if p.pos >= len(p.s) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m, nil
		default:
			return nil, p.errorf("expected ',' or '}' in an object")
		}
	}
}

var errBadEscape = errors.New("invalid escape")

func (p *jsonParser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for i := start; i < len(p.s); i++ {
		c := p.s[i]
		if c == '"' {
			p.pos = i + 1
			return p.s[start:i], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			p.pos = i
			return "", p.errorf("control character in a string")
		}
	}
	var b strings.Builder
	i := start
	for {
		if i >= len(p.s) {
			p.pos = i
			return "", p.errorf("unterminated string")
		}
		c := p.s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return b.String(), nil
		case c < 0x20:
			p.pos = i
			return "", p.errorf("control character in a string")
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		// Escape.
		if i+1 >= len(p.s) {
			p.pos = i
			return "", p.errorf("unterminated string")
		}
		e := p.s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, err := readU4(p.s[i:])
			if err != nil {
				p.pos = i
				return "", p.errorf("%v", err)
			}
			i += n
			if utf16.IsSurrogate(r) {
				// A high surrogate must be followed by \uDC00-\uDFFF.
				if strings.HasPrefix(p.s[i:], `\u`) {
					r2, n2, err := readU4(p.s[i+2:])
					if err == nil {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r = d
							i += 2 + n2
						} else {
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			p.pos = i - 1
			return "", p.errorf("%v %q", errBadEscape, e)
		}
	}
}

func readU4(s string) (rune, int, error) {
	if len(s) < 4 {
		return 0, 0, errBadEscape
	}
	v, err := strconv.ParseUint(s[:4], 16, 32)
	if err != nil {
		return 0, 0, errBadEscape
	}
	return rune(v), 4, nil
}
