package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Options configure Unmarshal.
type Options struct {
	// Allow reports whether module.name may be built as a generic *Object
	// (scikit-learn estimator classes, inert helper objects). Globals that are
	// neither built in nor allowed fail closed with *UnsupportedError. Allow is
	// consulted with Python 2 spellings mapped to Python 3 ones (__builtin__ ->
	// builtins, copy_reg -> copyreg). A nil Allow allows nothing.
	Allow func(module, name string) bool
	// MaxDepth bounds the unpickling stack: values on it plus open MARKs
	// (0 = DefaultMaxDepth).
	MaxDepth int
	// MaxMemo bounds the number of memo entries (0 = DefaultMaxMemo).
	MaxMemo int
}

// Defaults for Options.
const (
	DefaultMaxDepth = 1 << 16
	DefaultMaxMemo  = 1 << 20
)

// UnsupportedError reports a global (class or function) that the pickle names
// but that is neither built in nor allowed. Nothing of it was run.
type UnsupportedError struct{ Module, Name string }

func (e *UnsupportedError) Error() string {
	return "unsupported class " + e.Module + "." + e.Name
}

// ErrUnexpectedEnd is wrapped by errors for truncated input.
var ErrUnexpectedEnd = errors.New("unexpected end of data")

// Error is the error Unmarshal returns: the byte offset of the opcode that
// failed, its name and the cause. Use errors.As to reach *UnsupportedError
// and errors.Is for ErrUnexpectedEnd.
type Error struct {
	Offset int
	Op     string
	Err    error
}

func (e *Error) Error() string {
	if errors.Is(e.Err, ErrUnexpectedEnd) || e.Op == "" {
		return fmt.Sprintf("pickle: offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("pickle: offset %d: %s: %v", e.Offset, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// recoverPanics turns a panic (a bug) into an error; the fuzz test turns it
// off so that bugs surface.
var recoverPanics = true

// Unmarshal decodes one pickle from data. Values are described in the package
// documentation. Returned []byte values and NDArray.Data may alias data, which
// must not be modified afterwards.
func Unmarshal(data []byte, opts Options) (v any, err error) {
	m := &machine{
		data:     data,
		allow:    opts.Allow,
		maxDepth: opts.MaxDepth,
		maxMemo:  opts.MaxMemo,
		memo:     map[int]any{},
		globals:  map[[2]string]*Global{},
		budget:   4*len(data) + 1<<20,
	}
	if m.maxDepth <= 0 {
		m.maxDepth = DefaultMaxDepth
	}
	if m.maxMemo <= 0 {
		m.maxMemo = DefaultMaxMemo
	}
	if recoverPanics {
		defer func() {
			if r := recover(); r != nil {
				v, err = nil, &Error{Offset: m.opStart, Op: m.op, Err: fmt.Errorf("internal error: %v", r)}
			}
		}()
	}
	return m.run()
}

type machine struct {
	data    []byte
	pos     int
	opStart int
	op      string

	stack []any
	marks [][]any // stacks saved by MARK
	saved int     // values in marks plus the marks themselves

	memo    map[int]any
	globals map[[2]string]*Global

	allow             func(module, name string) bool
	maxDepth, maxMemo int
	budget            int // units of work left for copies done on behalf of short opcodes
}

// Opcodes.
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opFloat          = 'F'
	opInt            = 'I'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opLong           = 'L'
	opBinInt2        = 'M'
	opNone           = 'N'
	opPersID         = 'P'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opString         = 'S'
	opBinString      = 'T'
	opShortBinString = 'U'
	opUnicode        = 'V'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opGet            = 'g'
	opBinGet         = 'h'
	opInst           = 'i'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opObj            = 'o'
	opPut            = 'p'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'

	opProto    = 0x80
	opNewObj   = 0x81
	opExt1     = 0x82
	opExt2     = 0x83
	opExt4     = 0x84
	opTuple1   = 0x85
	opTuple2   = 0x86
	opTuple3   = 0x87
	opNewTrue  = 0x88
	opNewFalse = 0x89
	opLong1    = 0x8a
	opLong4    = 0x8b

	opBinBytes      = 'B'
	opShortBinBytes = 'C'

	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opBinBytes8       = 0x8e
	opEmptySet        = 0x8f
	opAddItems        = 0x90
	opFrozenSet       = 0x91
	opNewObjEx        = 0x92
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95

	opByteArray8     = 0x96
	opNextBuffer     = 0x97
	opReadonlyBuffer = 0x98
)

var opNames = [256]string{
	opMark:            "MARK",
	opStop:            "STOP",
	opPop:             "POP",
	opPopMark:         "POP_MARK",
	opDup:             "DUP",
	opFloat:           "FLOAT",
	opInt:             "INT",
	opBinInt:          "BININT",
	opBinInt1:         "BININT1",
	opLong:            "LONG",
	opBinInt2:         "BININT2",
	opNone:            "NONE",
	opPersID:          "PERSID",
	opBinPersID:       "BINPERSID",
	opReduce:          "REDUCE",
	opString:          "STRING",
	opBinString:       "BINSTRING",
	opShortBinString:  "SHORT_BINSTRING",
	opUnicode:         "UNICODE",
	opBinUnicode:      "BINUNICODE",
	opAppend:          "APPEND",
	opBuild:           "BUILD",
	opGlobal:          "GLOBAL",
	opDict:            "DICT",
	opEmptyDict:       "EMPTY_DICT",
	opAppends:         "APPENDS",
	opGet:             "GET",
	opBinGet:          "BINGET",
	opInst:            "INST",
	opLongBinGet:      "LONG_BINGET",
	opList:            "LIST",
	opEmptyList:       "EMPTY_LIST",
	opObj:             "OBJ",
	opPut:             "PUT",
	opBinPut:          "BINPUT",
	opLongBinPut:      "LONG_BINPUT",
	opSetItem:         "SETITEM",
	opTuple:           "TUPLE",
	opEmptyTuple:      "EMPTY_TUPLE",
	opSetItems:        "SETITEMS",
	opBinFloat:        "BINFLOAT",
	opProto:           "PROTO",
	opNewObj:          "NEWOBJ",
	opExt1:            "EXT1",
	opExt2:            "EXT2",
	opExt4:            "EXT4",
	opTuple1:          "TUPLE1",
	opTuple2:          "TUPLE2",
	opTuple3:          "TUPLE3",
	opNewTrue:         "NEWTRUE",
	opNewFalse:        "NEWFALSE",
	opLong1:           "LONG1",
	opLong4:           "LONG4",
	opBinBytes:        "BINBYTES",
	opShortBinBytes:   "SHORT_BINBYTES",
	opShortBinUnicode: "SHORT_BINUNICODE",
	opBinUnicode8:     "BINUNICODE8",
	opBinBytes8:       "BINBYTES8",
	opEmptySet:        "EMPTY_SET",
	opAddItems:        "ADDITEMS",
	opFrozenSet:       "FROZENSET",
	opNewObjEx:        "NEWOBJ_EX",
	opStackGlobal:     "STACK_GLOBAL",
	opMemoize:         "MEMOIZE",
	opFrame:           "FRAME",
	opByteArray8:      "BYTEARRAY8",
	opNextBuffer:      "NEXT_BUFFER",
	opReadonlyBuffer:  "READONLY_BUFFER",
}

func (m *machine) run() (any, error) {
	for {
		m.opStart, m.op = m.pos, ""
		if m.pos >= len(m.data) {
			return nil, m.wrap(ErrUnexpectedEnd)
		}
		code := m.data[m.pos]
		m.pos++
		m.op = opNames[code]
		if m.op == "" {
			return nil, m.wrap(fmt.Errorf("unknown opcode 0x%02x", code))
		}
		if code == opStop {
			v, err := m.pop()
			if err != nil {
				return nil, m.wrap(err)
			}
			return v, nil
		}
		if err := m.step(code); err != nil {
			return nil, m.wrap(err)
		}
		if len(m.stack)+m.saved > m.maxDepth {
			return nil, m.wrap(fmt.Errorf("stack deeper than MaxDepth (%d)", m.maxDepth))
		}
	}
}

func (m *machine) wrap(err error) error {
	return &Error{Offset: m.opStart, Op: m.op, Err: err}
}

// charge spends n units of the work budget. Opcodes that copy or hash more
// than the bytes they occupy (a BUILD of a memoized dict, a set() of a
// memoized list, a Latin-1 encode of a memoized str) charge it, so a short
// pickle cannot make the decoder do unbounded work.
func (m *machine) charge(n int) error {
	if n < 0 || n > m.budget {
		return errors.New("pickle needs too much work for its size")
	}
	m.budget -= n
	return nil
}

// --- reading ---

func (m *machine) read(n int) ([]byte, error) {
	if n < 0 || n > len(m.data)-m.pos {
		return nil, ErrUnexpectedEnd
	}
	b := m.data[m.pos : m.pos+n : m.pos+n]
	m.pos += n
	return b, nil
}

func (m *machine) read64(n uint64) ([]byte, error) {
	if n > uint64(len(m.data)-m.pos) {
		return nil, ErrUnexpectedEnd
	}
	return m.read(int(n))
}

func (m *machine) u8() (int, error) {
	b, err := m.read(1)
	if err != nil {
		return 0, err
	}
	return int(b[0]), nil
}

func (m *machine) u16() (int, error) {
	b, err := m.read(2)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint16(b)), nil
}

func (m *machine) u32() (uint32, error) {
	b, err := m.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (m *machine) u64() (uint64, error) {
	b, err := m.read(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// line reads up to and excluding the next '\n'.
func (m *machine) line() (string, error) {
	rest := m.data[m.pos:]
	for i, c := range rest {
		if c == '\n' {
			m.pos += i + 1
			return string(rest[:i]), nil
		}
	}
	return "", ErrUnexpectedEnd
}

// --- stack ---

var errUnderflow = errors.New("stack underflow")

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) pop() (any, error) {
	n := len(m.stack)
	if n == 0 {
		return nil, errUnderflow
	}
	v := m.stack[n-1]
	m.stack[n-1] = nil
	m.stack = m.stack[:n-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) == 0 {
		return nil, errUnderflow
	}
	return m.stack[len(m.stack)-1], nil
}

func (m *machine) mark() {
	m.marks = append(m.marks, m.stack)
	m.saved += len(m.stack) + 1
	m.stack = nil
}

// popMark returns the values pushed since the last MARK and removes them
// and the mark.
func (m *machine) popMark() ([]any, error) {
	n := len(m.marks)
	if n == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	items := m.stack
	if items == nil {
		items = []any{}
	}
	m.stack = m.marks[n-1]
	m.marks[n-1] = nil
	m.marks = m.marks[:n-1]
	m.saved -= len(m.stack) + 1
	return items, nil
}

// --- memo ---

func (m *machine) put(key int) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	if _, ok := m.memo[key]; !ok && len(m.memo) >= m.maxMemo {
		return fmt.Errorf("memo larger than MaxMemo (%d)", m.maxMemo)
	}
	m.memo[key] = v
	return nil
}

func (m *machine) get(key int) error {
	v, ok := m.memo[key]
	if !ok {
		return fmt.Errorf("memo key %d not found", key)
	}
	m.push(v)
	return nil
}

func memoKey(s string) (int, error) {
	k, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || k < 0 || uint64(k) > math.MaxInt {
		return 0, fmt.Errorf("invalid memo key %q", s)
	}
	return int(k), nil
}

// --- the opcodes ---

func (m *machine) step(code byte) error {
	switch code {
	case opProto:
		v, err := m.u8()
		if err != nil {
			return err
		}
		if v > 5 {
			return fmt.Errorf("unsupported protocol %d", v)
		}
	case opFrame:
		n, err := m.u64()
		if err != nil {
			return err
		}
		if n > uint64(len(m.data)-m.pos) {
			return ErrUnexpectedEnd
		}
	case opMark:
		m.mark()
	case opPop:
		if len(m.stack) > 0 {
			_, err := m.pop()
			return err
		}
		_, err := m.popMark()
		if err != nil {
			return errUnderflow
		}
	case opPopMark:
		_, err := m.popMark()
		return err
	case opDup:
		v, err := m.top()
		if err != nil {
			return err
		}
		m.push(v)

	case opNone:
		m.push(nil)
	case opNewTrue:
		m.push(true)
	case opNewFalse:
		m.push(false)
	case opBinInt:
		v, err := m.u32()
		if err != nil {
			return err
		}
		m.push(int64(int32(v)))
	case opBinInt1:
		v, err := m.u8()
		if err != nil {
			return err
		}
		m.push(int64(v))
	case opBinInt2:
		v, err := m.u16()
		if err != nil {
			return err
		}
		m.push(int64(v))
	case opLong1:
		n, err := m.u8()
		if err != nil {
			return err
		}
		b, err := m.read(n)
		if err != nil {
			return err
		}
		m.push(decodeLong(b))
	case opLong4:
		n, err := m.u32()
		if err != nil {
			return err
		}
		if int32(n) < 0 {
			return fmt.Errorf("negative byte count %d", int32(n))
		}
		b, err := m.read(int(n))
		if err != nil {
			return err
		}
		m.push(decodeLong(b))
	case opInt:
		s, err := m.line()
		if err != nil {
			return err
		}
		switch s {
		case "00":
			m.push(false)
		case "01":
			m.push(true)
		default:
			v, err := parseInt(s)
			if err != nil {
				return err
			}
			m.push(v)
		}
	case opLong:
		s, err := m.line()
		if err != nil {
			return err
		}
		v, err := parseInt(strings.TrimSuffix(strings.TrimSpace(s), "L"))
		if err != nil {
			return err
		}
		m.push(v)
	case opFloat:
		s, err := m.line()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("invalid float %q", s)
		}
		m.push(f)
	case opBinFloat:
		b, err := m.read(8)
		if err != nil {
			return err
		}
		m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))

	case opBinUnicode, opBinBytes:
		n, err := m.u32()
		if err != nil {
			return err
		}
		return m.pushBytes(code, uint64(n))
	case opShortBinUnicode, opShortBinBytes, opShortBinString:
		n, err := m.u8()
		if err != nil {
			return err
		}
		return m.pushBytes(code, uint64(n))
	case opBinUnicode8, opBinBytes8, opByteArray8:
		n, err := m.u64()
		if err != nil {
			return err
		}
		return m.pushBytes(code, n)
	case opBinString:
		n, err := m.u32()
		if err != nil {
			return err
		}
		if int32(n) < 0 {
			return fmt.Errorf("negative length %d", int32(n))
		}
		return m.pushBytes(code, uint64(n))
	case opString:
		s, err := m.line()
		if err != nil {
			return err
		}
		v, err := unquoteString(s)
		if err != nil {
			return err
		}
		m.push(v)
	case opUnicode:
		s, err := m.line()
		if err != nil {
			return err
		}
		m.push(rawUnicodeEscape(s))
	case opNextBuffer, opReadonlyBuffer:
		return errors.New("out-of-band buffers are not supported")

	case opEmptyTuple:
		m.push(Tuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(code-opTuple1) + 1
		if len(m.stack) < n {
			return errUnderflow
		}
		t := make(Tuple, n)
		copy(t, m.stack[len(m.stack)-n:])
		m.stack = m.stack[:len(m.stack)-n]
		m.push(t)
	case opTuple:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(Tuple(items))
	case opEmptyList:
		m.push(&List{})
	case opList:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(&List{Items: items})
	case opEmptyDict:
		m.push(NewDict())
	case opDict:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		d := NewDict()
		if err := m.fillDict(d, items); err != nil {
			return err
		}
		m.push(d)
	case opEmptySet:
		m.push(&Set{})
	case opFrozenSet:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		m.push(&Set{Items: items, Frozen: true})
	case opAppend:
		v, err := m.pop()
		if err != nil {
			return err
		}
		return m.appendItems([]any{v})
	case opAppends:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.appendItems(items)
	case opSetItem:
		if len(m.stack) < 2 {
			return errUnderflow
		}
		kv := []any{m.stack[len(m.stack)-2], m.stack[len(m.stack)-1]}
		m.stack = m.stack[:len(m.stack)-2]
		return m.setItems(kv)
	case opSetItems:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.setItems(items)
	case opAddItems:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		s, ok := t.(*Set)
		if !ok || s.Frozen {
			return fmt.Errorf("cannot add items to %s", typeName(t))
		}
		s.Items = append(s.Items, items...)

	case opPut:
		s, err := m.line()
		if err != nil {
			return err
		}
		k, err := memoKey(s)
		if err != nil {
			return err
		}
		return m.put(k)
	case opBinPut:
		k, err := m.u8()
		if err != nil {
			return err
		}
		return m.put(k)
	case opLongBinPut:
		k, err := m.u32()
		if err != nil {
			return err
		}
		return m.put(int(k))
	case opMemoize:
		return m.put(len(m.memo))
	case opGet:
		s, err := m.line()
		if err != nil {
			return err
		}
		k, err := memoKey(s)
		if err != nil {
			return err
		}
		return m.get(k)
	case opBinGet:
		k, err := m.u8()
		if err != nil {
			return err
		}
		return m.get(k)
	case opLongBinGet:
		k, err := m.u32()
		if err != nil {
			return err
		}
		return m.get(int(k))

	case opGlobal:
		module, err := m.line()
		if err != nil {
			return err
		}
		name, err := m.line()
		if err != nil {
			return err
		}
		g, err := m.resolve(module, name)
		if err != nil {
			return err
		}
		m.push(g)
	case opStackGlobal:
		nv, err := m.pop()
		if err != nil {
			return err
		}
		mv, err := m.pop()
		if err != nil {
			return err
		}
		module, ok1 := mv.(string)
		name, ok2 := nv.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("module and name are %s and %s, want str", typeName(mv), typeName(nv))
		}
		g, err := m.resolve(module, name)
		if err != nil {
			return err
		}
		m.push(g)
	case opReduce, opNewObj:
		av, err := m.pop()
		if err != nil {
			return err
		}
		f, err := m.pop()
		if err != nil {
			return err
		}
		args, ok := av.(Tuple)
		if !ok {
			return fmt.Errorf("arguments are %s, want tuple", typeName(av))
		}
		v, err := m.call(f, args, nil)
		if err != nil {
			return err
		}
		m.push(v)
	case opNewObjEx:
		kv, err := m.pop()
		if err != nil {
			return err
		}
		av, err := m.pop()
		if err != nil {
			return err
		}
		f, err := m.pop()
		if err != nil {
			return err
		}
		args, ok1 := av.(Tuple)
		kwargs, ok2 := kv.(*Dict)
		if !ok1 || !ok2 {
			return fmt.Errorf("arguments are %s and %s, want tuple and dict", typeName(av), typeName(kv))
		}
		v, err := m.call(f, args, kwargs)
		if err != nil {
			return err
		}
		m.push(v)
	case opObj:
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return errors.New("no class")
		}
		v, err := m.call(items[0], Tuple(items[1:]), nil)
		if err != nil {
			return err
		}
		m.push(v)
	case opInst:
		module, err := m.line()
		if err != nil {
			return err
		}
		name, err := m.line()
		if err != nil {
			return err
		}
		items, err := m.popMark()
		if err != nil {
			return err
		}
		g, err := m.resolve(module, name)
		if err != nil {
			return err
		}
		v, err := m.call(g, Tuple(items), nil)
		if err != nil {
			return err
		}
		m.push(v)
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return err
		}
		inst, err := m.top()
		if err != nil {
			return err
		}
		return m.build(inst, state)

	case opPersID, opBinPersID:
		return errors.New("persistent IDs are not supported")
	case opExt1, opExt2, opExt4:
		return errors.New("extension registry codes are not supported")
	default:
		return fmt.Errorf("unknown opcode 0x%02x", code)
	}
	return nil
}

// pushBytes reads n bytes of string or bytes data for code.
func (m *machine) pushBytes(code byte, n uint64) error {
	b, err := m.read64(n)
	if err != nil {
		return err
	}
	switch code {
	case opBinUnicode, opShortBinUnicode, opBinUnicode8:
		m.push(string(b))
	case opBinString, opShortBinString:
		// Python 2 str: decoded as Latin-1, as numpy's loaders expect.
		m.push(latin1Decode(b))
	default:
		m.push(b)
	}
	return nil
}

func (m *machine) appendItems(items []any) error {
	t, err := m.top()
	if err != nil {
		return err
	}
	switch x := t.(type) {
	case *List:
		x.Items = append(x.Items, items...)
	case *Object:
		x.ListItems = append(x.ListItems, items...)
	default:
		return fmt.Errorf("cannot append to %s", typeName(t))
	}
	return nil
}

func (m *machine) setItems(items []any) error {
	t, err := m.top()
	if err != nil {
		return err
	}
	var d *Dict
	switch x := t.(type) {
	case *Dict:
		d = x
	case *Object:
		if x.DictItems == nil {
			x.DictItems = NewDict()
		}
		d = x.DictItems
	default:
		return fmt.Errorf("cannot set items on %s", typeName(t))
	}
	return m.fillDict(d, items)
}

// fillDict sets key, value pairs from items, charging the budget for
// hashing tuple keys (a memoized tuple costs two bytes to reference).
func (m *machine) fillDict(d *Dict, items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		n, err := d.set(items[i], items[i+1])
		if err != nil {
			return err
		}
		if n > 0 {
			if err := m.charge(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// build applies a BUILD state to inst.
func (m *machine) build(inst, state any) error {
	switch x := inst.(type) {
	case *Object:
		return m.setObjectState(x, state)
	case *NDArray:
		return m.setArrayState(x, state)
	case *DType:
		return x.setState(state)
	}
	if state == nil {
		return nil
	}
	return fmt.Errorf("cannot set state of %s", typeName(inst))
}

func (m *machine) setObjectState(o *Object, state any) error {
	o.State = state
	merge := func(v any) error {
		d, ok := v.(*Dict)
		if !ok {
			return nil
		}
		if err := m.charge(d.Len()); err != nil {
			return err
		}
		for i, k := range d.keys {
			name, ok := k.(string)
			if !ok {
				return fmt.Errorf("%s: attribute name is %s, want str", o.Class(), typeName(k))
			}
			if err := m.charge(len(name) / 16); err != nil {
				return err
			}
			o.setAttr(name, d.values[i])
		}
		return nil
	}
	if t, ok := state.(Tuple); ok && len(t) == 2 && dictOrNone(t[0]) && dictOrNone(t[1]) {
		if err := merge(t[0]); err != nil {
			return err
		}
		return merge(t[1])
	}
	return merge(state)
}

func dictOrNone(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(*Dict)
	return ok
}

// --- scalars ---

// decodeLong decodes a little-endian two's complement integer (LONG1, LONG4).
func decodeLong(b []byte) any {
	n := len(b)
	if n == 0 {
		return int64(0)
	}
	if n <= 8 {
		var u uint64
		for i := n - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*n)
		return int64(u<<shift) >> shift
	}
	be := make([]byte, n)
	for i, c := range b {
		be[n-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if b[n-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return normInt(v)
}

func normInt(v *big.Int) any {
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

// maxIntDigits mirrors Python's default limit on int <-> str conversion.
const maxIntDigits = 4300

func parseInt(s string) (any, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxIntDigits+1 {
		return nil, fmt.Errorf("integer literal longer than %d digits", maxIntDigits)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("invalid integer %q", s)
	}
	return normInt(v), nil
}

func latin1Decode(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func latin1Encode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("character %U cannot be encoded as Latin-1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

// unquoteString decodes the argument of the protocol 0 STRING opcode: a
// Python 2 repr of a byte string, in single or double quotes.
func unquoteString(s string) (string, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", errors.New("the STRING argument must be quoted")
	}
	s = s[1 : len(s)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, e)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 't':
			out = append(out, 9)
		case 'n':
			out = append(out, 10)
		case 'v':
			out = append(out, 11)
		case 'f':
			out = append(out, 12)
		case 'r':
			out = append(out, 13)
		case 'x':
			if i+2 >= len(s) {
				return "", errors.New("truncated \\x escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("invalid \\x escape %q", s[i-1:i+3])
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, '\\', e)
		}
	}
	return latin1Decode(out), nil
}

// rawUnicodeEscape decodes Python's raw-unicode-escape codec (UNICODE opcode):
// \uXXXX and \UXXXXXXXX escapes, every other byte a Latin-1 character.
func rawUnicodeEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil {
					r := rune(v)
					if v > 0x10ffff {
						r = 0xfffd
					}
					b.WriteRune(r)
					i += 1 + n
					continue
				}
			}
		}
		b.WriteRune(rune(c))
	}
	return b.String()
}
