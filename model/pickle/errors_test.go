package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

// pb builds pickles by hand.
type pb struct{ bytes.Buffer }

func (p *pb) op(b ...byte) *pb { p.Write(b); return p }
func (p *pb) raw(s string) *pb { p.WriteString(s); return p }
func (p *pb) str(s string) *pb {
	p.WriteByte(opBinUnicode)
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}
func (p *pb) bytes(b []byte) *pb {
	p.WriteByte(opBinBytes)
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(b)))
	p.Write(b)
	return p
}
func (p *pb) int(n int32) *pb {
	p.WriteByte(opBinInt)
	binary.Write(&p.Buffer, binary.LittleEndian, n)
	return p
}
func (p *pb) global(module, name string) *pb { return p.raw("c" + module + "\n" + name + "\n") }

// dtype emits numpy.dtype(typestr, False, True) and its BUILD.
func (p *pb) dtype(typestr, endian string, elsize int32) *pb {
	p.global("numpy", "dtype").str(typestr).op(opNewFalse, opNewTrue, opTuple3, opReduce)
	return p.op(opMark).int(3).str(endian).op(opNone, opNone, opNone).int(elsize).int(-1).int(0).op(opTuple, opBuild)
}

// array emits _reconstruct(ndarray, (0,), b'b') with BUILD (1, (n,), dtype, False, data);
// the dtype ops are written by fn.
func (p *pb) array(n int32, dtype func(*pb), data []byte) *pb {
	p.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").int(0).op(opTuple1).bytes([]byte("b")).op(opTuple3, opReduce)
	p.op(opMark).int(1).int(n).op(opTuple1)
	dtype(p)
	return p.op(opNewFalse).bytes(data).op(opTuple, opBuild)
}

func (p *pb) stop() []byte { p.WriteByte(opStop); return p.Bytes() }

func TestErrorMessages(t *testing.T) {
	f8 := func(p *pb) { p.dtype("f8", "<", -1) }
	tests := []struct {
		name string
		data []byte
		opts Options
		want string
	}{
		{"empty", nil, Options{}, "pickle: offset 0: unexpected end of data"},
		{"no stop", []byte("N"), Options{}, "pickle: offset 1: unexpected end of data"},
		{"memo miss", []byte("\x80\x02h\x07."), Options{}, "pickle: offset 2: BINGET: memo key 7 not found"},
		{"long memo miss", []byte("j\x00\x00\x01\x00."), Options{}, "pickle: offset 0: LONG_BINGET: memo key 65536 not found"},
		{"text memo miss", []byte("g3\n."), Options{}, "pickle: offset 0: GET: memo key 3 not found"},
		{"truncated str", []byte("\x80\x02X\xff\x00\x00\x00ab"), Options{}, "pickle: offset 2: unexpected end of data"},
		{"huge bytes8", []byte("\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."), Options{}, "pickle: offset 0: unexpected end of data"},
		{"huge unicode8", []byte("\x8d\x00\x00\x00\x00\x00\x00\x00\x80."), Options{}, "pickle: offset 0: unexpected end of data"},
		{"huge frame", []byte("\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00N."), Options{}, "pickle: offset 2: unexpected end of data"},
		{"unknown opcode", []byte("\xff"), Options{}, "pickle: offset 0: unknown opcode 0xff"},
		{"protocol 6", []byte("\x80\x06N."), Options{}, "pickle: offset 0: PROTO: unsupported protocol 6"},
		{"stop on empty", []byte("(."), Options{}, "pickle: offset 1: STOP: stack underflow"},
		{"append underflow", []byte("a"), Options{}, "pickle: offset 0: APPEND: stack underflow"},
		{"tuple2 underflow", []byte("N\x86."), Options{}, "pickle: offset 1: TUPLE2: stack underflow"},
		{"tuple without mark", []byte("Nt."), Options{}, "pickle: offset 1: TUPLE: no MARK on the stack"},
		{"pop underflow", []byte("0"), Options{}, "pickle: offset 0: POP: stack underflow"},
		{"setitem on int", []byte("K\x01K\x02K\x03s."), Options{}, "pickle: offset 6: SETITEM: cannot set items on int"},
		{"setitems on list", []byte("](K\x01K\x02u."), Options{}, "pickle: offset 6: SETITEMS: cannot set items on list"},
		{"append to dict", []byte("}K\x01a."), Options{}, "pickle: offset 3: APPEND: cannot append to dict"},
		{"additems to frozenset", []byte("(\x91(K\x01\x90."), Options{}, "pickle: offset 5: ADDITEMS: cannot add items to frozenset"},
		{"unhashable key", []byte("}]K\x01s."), Options{}, "pickle: offset 4: SETITEM: unhashable key of type list"},
		{"odd dict", []byte("(K\x01d."), Options{}, "pickle: offset 3: DICT: odd number of items (1) for a dict"},
		{"negative long4", []byte("\x8b\xff\xff\xff\xff."), Options{}, "pickle: offset 0: LONG4: negative byte count -1"},
		{"negative binstring", []byte("T\xff\xff\xff\xff."), Options{}, "pickle: offset 0: BINSTRING: negative length -1"},
		{"bad int", []byte("Iabc\n."), Options{}, `pickle: offset 0: INT: invalid integer "abc"`},
		{"huge text int", []byte("L" + strings.Repeat("9", 5000) + "L\n."), Options{}, "pickle: offset 0: LONG: integer literal longer than 4300 digits"},
		{"bad float", []byte("Fx\n."), Options{}, `pickle: offset 0: FLOAT: invalid float "x"`},
		{"bad put", []byte("Np-1\n."), Options{}, `pickle: offset 1: PUT: invalid memo key "-1"`},
		{"put on empty", []byte("q\x00."), Options{}, "pickle: offset 0: BINPUT: stack underflow"},
		{"unquoted string", []byte("Sabc\n."), Options{}, "pickle: offset 0: STRING: the STRING argument must be quoted"},
		{"next buffer", []byte("\x80\x05\x97."), Options{}, "pickle: offset 2: NEXT_BUFFER: out-of-band buffers are not supported"},
		{"readonly buffer", []byte("\x98"), Options{}, "pickle: offset 0: READONLY_BUFFER: out-of-band buffers are not supported"},
		{"persid", []byte("Pfoo\n."), Options{}, "pickle: offset 0: PERSID: persistent IDs are not supported"},
		{"binpersid", []byte("NQ."), Options{}, "pickle: offset 1: BINPERSID: persistent IDs are not supported"},
		{"ext1", []byte("\x82\x01."), Options{}, "pickle: offset 0: EXT1: extension registry codes are not supported"},
		{"reduce int", []byte("K\x01)R."), Options{}, "pickle: offset 3: REDUCE: cannot call int"},
		{"reduce non-tuple args", (&pb{}).global("builtins", "set").op(opEmptyList, opReduce).stop(), Options{}, "REDUCE: arguments are list, want tuple"},
		{"stack_global ints", []byte("K\x01K\x02\x93."), Options{}, "pickle: offset 4: STACK_GLOBAL: module and name are int and int, want str"},
		{"build on int", []byte("K\x01K\x02b."), Options{}, "pickle: offset 4: BUILD: cannot set state of int"},
		{"global os.system", []byte("cos\nsystem\n."), Options{}, "pickle: offset 0: GLOBAL: unsupported class os.system"},
		{"python 2 builtins", []byte("c__builtin__\neval\n."), Options{}, "pickle: offset 0: GLOBAL: unsupported class builtins.eval"},
		{"calling a type reference", (&pb{}).global("builtins", "int").str("5").op(opTuple1, opReduce).stop(), Options{}, "REDUCE: builtins.int cannot be called"},
		{"obj without class", []byte("(o."), Options{}, "pickle: offset 1: OBJ: no class"},
		{"inst not allowed", []byte("(ios\nsystem\n."), Options{}, "pickle: offset 1: INST: unsupported class os.system"},
		{"kwargs to builtin", (&pb{}).global("builtins", "set").op(opEmptyTuple, opEmptyDict).str("a").op(opNone, opSetItem, opNewObjEx).stop(), Options{}, "NEWOBJ_EX: builtins.set: keyword arguments are not supported"},
		{"datetime dtype", (&pb{}).global("numpy", "dtype").str("M8").op(opTuple1, opReduce).stop(), Options{}, `REDUCE: numpy.dtype: unsupported dtype "M8": datetime and timedelta dtypes are not supported`},
		{"float128", (&pb{}).global("numpy", "dtype").str("f16").op(opTuple1, opReduce).stop(), Options{}, `REDUCE: numpy.dtype: unsupported dtype "f16"`},
		{"dtype from a class", (&pb{}).global("numpy", "dtype").global("numpy", "float64").op(opTuple1, opReduce).stop(), Options{}, "REDUCE: numpy.dtype: unsupported dtype from class numpy.float64"},
		{"dtype state twice", (&pb{}).dtype("f8", "<", -1).op(opMark).int(3).str(">").op(opNone, opNone, opNone).int(-1).int(-1).int(0).op(opTuple, opBuild).stop(), Options{},
			"BUILD: dtype state set twice, or after the dtype was used"},
		{"dtype bad endian", (&pb{}).dtype("f8", "!", -1).stop(), Options{}, `BUILD: invalid dtype byte order "!"`},
		{"array length mismatch", (&pb{}).array(3, f8, make([]byte, 23)).stop(), Options{}, "BUILD: ndarray of shape [3] and dtype <f8 does not match its 23 bytes of data"},
		{"array huge shape", (&pb{}).array(0x7fffffff, f8, make([]byte, 8)).stop(), Options{}, "BUILD: ndarray of shape [2147483647] and dtype <f8 does not match its 8 bytes of data"},
		{"object array from bytes", (&pb{}).array(1, func(p *pb) { p.dtype("O8", "|", -1) }, make([]byte, 8)).stop(), Options{}, "BUILD: object ndarray: cannot iterate over bytes"},
		{"reconstruct other class", (&pb{}).global("numpy.core.multiarray", "_reconstruct").global("numpy", "float64").int(0).op(opTuple1).bytes([]byte("b")).op(opTuple3, opReduce).stop(), Options{},
			"REDUCE: numpy.core.multiarray._reconstruct: unsupported array class class numpy.float64"},
		{"scalar size", (&pb{}).global("numpy.core.multiarray", "scalar").dtype("f8", "<", -1).bytes([]byte{1, 2, 3}).op(opTuple2, opReduce).stop(), Options{},
			"REDUCE: numpy.core.multiarray.scalar: scalar of dtype <f8 has 3 bytes"},
		{"frombuffer order", (&pb{}).global("numpy.core.numeric", "_frombuffer").op(opMark).bytes(make([]byte, 8)).dtype("f8", "<", -1).int(1).op(opTuple1).str("X").op(opTuple, opReduce).stop(), Options{},
			`REDUCE: numpy.core.numeric._frombuffer: invalid order "X"`},
		{"max memo", []byte("]\x94\x94\x94\x94."), Options{MaxMemo: 3}, "pickle: offset 4: MEMOIZE: memo larger than MaxMemo (3)"},
		{"max depth values", []byte(strings.Repeat("N", 20) + "."), Options{MaxDepth: 10}, "pickle: offset 10: NONE: stack deeper than MaxDepth (10)"},
		{"max depth marks", []byte(strings.Repeat("(", 20) + "."), Options{MaxDepth: 10}, "pickle: offset 10: MARK: stack deeper than MaxDepth (10)"},
		{"default max depth", []byte(strings.Repeat("(", 1<<17) + "."), Options{}, "pickle: offset 65536: MARK: stack deeper than MaxDepth (65536)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Unmarshal(tc.data, tc.opts)
			if err == nil {
				t.Fatalf("got %#v, want error %q", v, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n  %v\nwant\n  %v", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
		})
	}
}

func TestNumpyCraftedErrors(t *testing.T) {
	// A structured dtype whose field is itself.
	cyc := (&pb{}).global("numpy", "dtype").str("V8").op(opNewFalse, opNewTrue, opTuple3, opReduce, opBinPut, 0)
	cyc.op(opMark).int(3).str("|").op(opNone).str("a").op(opTuple1, opEmptyDict).str("a").op(opBinGet, 0).int(0).op(opTuple2, opSetItem)
	cyc.int(8).int(1).int(0).op(opTuple, opBuild)
	if _, err := Unmarshal(cyc.stop(), Options{}); err == nil || !strings.Contains(err.Error(), "dtype contains itself") {
		t.Fatalf("cyclic dtype: %v", err)
	}

	// A structured dtype with an object field cannot be read from raw bytes.
	obj := func(p *pb) {
		p.global("numpy", "dtype").str("V8").op(opNewFalse, opNewTrue, opTuple3, opReduce)
		p.op(opMark).int(3).str("|").op(opNone).str("o").op(opTuple1, opEmptyDict).str("o")
		p.dtype("O8", "|", -1).int(0).op(opTuple2, opSetItem)
		p.int(8).int(8).int(63).op(opTuple, opBuild)
	}
	if _, err := Unmarshal((&pb{}).array(1, obj, make([]byte, 8)).stop(), Options{}); err == nil || !strings.Contains(err.Error(), "object fields is not supported") {
		t.Fatalf("object field: %v", err)
	}

	// A field that runs past the record.
	over := func(p *pb) {
		p.global("numpy", "dtype").str("V4").op(opNewFalse, opNewTrue, opTuple3, opReduce)
		p.op(opMark).int(3).str("|").op(opNone).str("x").op(opTuple1, opEmptyDict).str("x")
		p.dtype("f8", "<", -1).int(0).op(opTuple2, opSetItem)
		p.int(4).int(1).int(0).op(opTuple, opBuild)
	}
	if _, err := Unmarshal((&pb{}).array(1, over, make([]byte, 4)).stop(), Options{}); err == nil || !strings.Contains(err.Error(), `dtype field "x" (<f8 at offset 0) does not fit item size 4`) {
		t.Fatalf("field overflow: %v", err)
	}

	// Changing a dtype after an array used it.
	p := (&pb{}).op(opMark).array(1, func(p *pb) { p.dtype("f8", "<", -1).op(opBinPut, 9) }, make([]byte, 8))
	p.op(opBinGet, 9).op(opMark).int(3).str("<").op(opNone, opNone, opNone).int(4).int(-1).int(0).op(opTuple, opBuild, opTuple)
	if _, err := Unmarshal(p.stop(), Options{}); err == nil || !strings.Contains(err.Error(), "dtype state set twice") {
		t.Fatalf("dtype change after use: %v", err)
	}
}

func TestFailClosedNothingRuns(t *testing.T) {
	// os.system("touch ...") as Python would run it.
	marker := t.TempDir() + "/ran"
	evil := (&pb{}).op(opProto, 2).global("os", "system").str("touch "+marker).op(opTuple1, opReduce).stop()
	asked := []string{}
	opts := Options{Allow: func(m, n string) bool { asked = append(asked, m+"."+n); return false }}
	_, err := Unmarshal(evil, opts)
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Module != "os" || ue.Name != "system" || ue.Error() != "unsupported class os.system" {
		t.Fatalf("got %v", err)
	}
	if strings.Join(asked, ",") != "os.system" {
		t.Fatalf("Allow asked %v", asked)
	}

	// Even when a careless Allow lets it through, it is only an inert object.
	v, err := Unmarshal(evil, Options{Allow: func(string, string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if o.Class() != "os.system" || len(o.Args) != 1 || o.Args[0] != "touch "+marker {
		t.Fatalf("got %#v", o)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran")
	}

	// Built-ins win over Allow: a caller cannot turn numpy into a generic object.
	v, err = Unmarshal((&pb{}).dtype("f8", ">", -1).stop(), Options{Allow: func(string, string) bool { return true }})
	if d, ok := v.(*DType); err != nil || !ok || d.String() != ">f8" {
		t.Fatalf("got %v %v", v, err)
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	defer noRecover()()
	for _, name := range []string{"p_tree_p0", "p_tree_p2", "p_tree_p5", "cp_linreg", "p_containers_p0", "p_containers_p1", "p_containers_p3", "p_containers_p5", "p_arrays_p5", "p_scalars_p1", "p_np2_scalars_p4"} {
		data, err := os.ReadFile("testdata/" + name + ".pkl")
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			_, err := Unmarshal(data[:n], sklearnAllow)
			if !errors.Is(err, ErrUnexpectedEnd) {
				t.Fatalf("%s cut at %d: got %v, want unexpected end", name, n, err)
			}
		}
	}
}

// TestCorruptedEverywhere overwrites each byte of real pickles: errors are
// fine, panics are not.
func TestCorruptedEverywhere(t *testing.T) {
	defer noRecover()()
	names := []string{"p_scalars_p0", "p_tree_p5", "p_containers_p4"}
	if testing.Short() {
		names = names[1:2]
	}
	for _, name := range names {
		data, err := os.ReadFile("testdata/" + name + ".pkl")
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(data))
		for i := range data {
			for _, b := range []byte{0, 0x80, 0xff, data[i] ^ 0x01, data[i] + 1, 'R'} {
				copy(buf, data)
				buf[i] = b
				v, err := Unmarshal(buf, sklearnAllow)
				if err == nil {
					exercise(v)
				}
			}
		}
	}
}

func TestCycles(t *testing.T) {
	// l = []; l.append(l)
	v, err := Unmarshal([]byte("\x80\x02]q\x00h\x00a."), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := v.(*List)
	if len(l.Items) != 1 || l.Items[0] != l {
		t.Fatalf("got %#v", l)
	}
	// d = {}; d['d'] = d
	v, err = Unmarshal([]byte("}q\x00X\x01\x00\x00\x00dh\x00s."), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	if got, _ := d.Get("d"); got != d {
		t.Fatalf("got %#v", d)
	}
	exercise(l)
	exercise(d)

	// Deeply nested lists built through the memo: nothing recurses.
	p := (&pb{}).op(opEmptyList, opBinPut, 0)
	for i := 0; i < 300_000; i++ {
		p.op(opPop, opEmptyList, opBinGet, 0, opAppend, opBinPut, 0)
	}
	start := time.Now()
	v, err = Unmarshal(p.stop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	exercise(v)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("deep nesting took %v", d)
	}
}

func TestWorkBudget(t *testing.T) {
	allowX := Options{Allow: func(m, n string) bool { return m == "x" }}
	// A dict of 1000 attributes, BUILT into the same object 200000 times.
	p := (&pb{}).op(opEmptyDict, opBinPut, 0, opMark)
	for i := 0; i < 1000; i++ {
		p.str("k" + string(rune('a'+i%26)) + string(rune('a'+i/26))).op(opNone)
	}
	p.op(opSetItems, opPop).global("x", "Y").op(opEmptyTuple, opNewObj)
	for i := 0; i < 200000; i++ {
		p.op(opBinGet, 0, opBuild)
	}
	_, err := Unmarshal(p.stop(), allowX)
	if err == nil || !strings.Contains(err.Error(), "BUILD: pickle needs too much work for its size") {
		t.Fatalf("got %v", err)
	}

	// Hashing the same 1000-item tuple key 200000 times.
	k := (&pb{}).op(opMark)
	for i := 0; i < 1000; i++ {
		k.int(int32(i))
	}
	k.op(opTuple, opBinPut, 0, opPop, opEmptyDict)
	for i := 0; i < 200000; i++ {
		k.op(opBinGet, 0, opNone, opSetItem)
	}
	start := time.Now()
	_, err = Unmarshal(k.stop(), Options{})
	if err == nil || !strings.Contains(err.Error(), "SETITEM: pickle needs too much work for its size") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("tuple keys took %v", d)
	}

	// A tuple that doubles 64 times through the memo, used where an error
	// message names the value and as a dict key: neither may walk it.
	e := (&pb{}).op(opEmptyTuple, opBinPut, 0)
	for i := 0; i < 64; i++ {
		e.op(opPop, opBinGet, 0, opBinGet, 0, opTuple2, opBinPut, 0)
	}
	e.op(opPop)
	msg := (&pb{}).raw(e.String()).global("numpy.core.numeric", "_frombuffer").op(opMark).bytes(make([]byte, 8)).dtype("f8", "<", -1).int(1).op(opTuple1, opBinGet, 0, opTuple, opReduce).stop()
	if _, err := Unmarshal(msg, Options{}); err == nil || !strings.HasSuffix(err.Error(), "invalid order tuple") {
		t.Fatalf("got %v", err)
	}
	key := (&pb{}).raw(e.String()).op(opEmptyDict, opBinGet, 0, opNone, opSetItem).stop()
	if _, err := Unmarshal(key, Options{}); err == nil || !strings.Contains(err.Error(), "tuple key") {
		t.Fatalf("got %v", err)
	}

	// A 1 MB str used as a dict key 100000 times.
	long := (&pb{}).str(strings.Repeat("k", 1<<20)).op(opBinPut, 0, opPop, opEmptyDict)
	for i := 0; i < 100000; i++ {
		long.op(opBinGet, 0, opNone, opSetItem)
	}
	start = time.Now()
	_, err = Unmarshal(long.stop(), Options{})
	if err == nil || !strings.Contains(err.Error(), "SETITEM: pickle needs too much work for its size") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("long keys took %v", d)
	}
	// ... or as a module name.
	glob := (&pb{}).str(strings.Repeat("m", 1<<20)).str("x").op(opStackGlobal).stop()
	if _, err := Unmarshal(glob, Options{}); err == nil || !strings.Contains(err.Error(), "STACK_GLOBAL: global name longer than 1024 bytes") {
		t.Fatalf("got %v", err)
	}

	// Latin-1 encoding the same 1 MB str 1000 times.
	q := (&pb{}).str(strings.Repeat("a", 1<<20)).op(opBinPut, 0, opPop)
	for i := 0; i < 1000; i++ {
		q.global("_codecs", "encode").op(opBinGet, 0).str("latin1").op(opTuple2, opReduce, opPop)
	}
	_, err = Unmarshal(q.op(opNone).stop(), Options{})
	if err == nil || !strings.Contains(err.Error(), "too much work") {
		t.Fatalf("got %v", err)
	}
}

func TestDictKeys(t *testing.T) {
	d := NewDict()
	for _, kv := range [][2]any{{"a", 1}, {int64(1), "one"}, {true, "true"}, {Tuple{int64(1), "x"}, "tuple"}, {nil, "none"}, {[]byte("a"), "bytes"}, {2.0, "two"}} {
		if err := d.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	// True == 1 in Python: the value is replaced, the first key kept.
	if d.Len() != 6 || d.Keys()[1] != int64(1) {
		t.Fatalf("keys %v", d.Keys())
	}
	for _, c := range []struct {
		key  any
		want any
	}{{"a", 1}, {1, "true"}, {int64(1), "true"}, {1.0, "true"}, {Tuple{1, "x"}, "tuple"}, {nil, "none"}, {[]byte("a"), "bytes"}, {int64(2), "two"}} {
		if got, ok := d.Get(c.key); !ok || got != c.want {
			t.Errorf("Get(%#v) = %v, %v; want %v", c.key, got, ok, c.want)
		}
	}
	if _, ok := d.Get("b"); ok {
		t.Error("Get(b) found")
	}
	if _, ok := d.Get(&List{}); ok {
		t.Error("Get(list) found")
	}
	if err := d.Set(&List{}, 1); err == nil {
		t.Error("list key accepted")
	}
	big1 := new(big.Int).Lsh(big.NewInt(1), 70)
	_ = d.Set(big1, "big")
	if got, _ := d.Get(new(big.Int).Lsh(big.NewInt(1), 70)); got != "big" {
		t.Error("big.Int key")
	}
	deep := Tuple{}
	for i := 0; i < 100; i++ {
		deep = Tuple{deep}
	}
	if err := d.Set(deep, 1); err == nil {
		t.Error("deep tuple key accepted")
	}
}

func TestObjectSentinel(t *testing.T) {
	v, err := Unmarshal((&pb{}).op(opProto, 4).global("builtins", "object").op(opEmptyTuple, opNewObj).stop(), Options{})
	if o, ok := v.(*Object); err != nil || !ok || o.Class() != "builtins.object" {
		t.Fatalf("got %#v, %v", v, err)
	}
	if _, err := Unmarshal((&pb{}).global("builtins", "object").str("x").op(opTuple1, opReduce).stop(), Options{}); err == nil {
		t.Fatal("object(x) accepted")
	}
}

func TestTextProtocol(t *testing.T) {
	v, err := Unmarshal([]byte("(lp0\nI01\naI00\naI-12\naL123456789012345678901234567890L\naF1.5\naS'a\\'b\\x41\\n\\101'\naVcaf\\u00e9\\u005c\nag0\na."), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := v.(*List)
	want := []any{true, false, int64(-12), "123456789012345678901234567890", 1.5, "a'bA\nA", "café\\"}
	if len(l.Items) != len(want)+1 {
		t.Fatalf("got %#v", l.Items)
	}
	for i, w := range want {
		got := l.Items[i]
		if b, ok := got.(*big.Int); ok {
			got = b.String()
		}
		if got != w {
			t.Errorf("item %d = %#v, want %#v", i, got, w)
		}
	}
	if l.Items[len(want)] != l {
		t.Error("GET of the list itself")
	}
}

func TestTypeConversions(t *testing.T) {
	// A Fortran-ordered 2x3 big-endian int16 array.
	be := func(p *pb) { p.dtype("i2", ">", -1) }
	p := (&pb{}).global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").int(0).op(opTuple1).bytes([]byte("b")).op(opTuple3, opReduce)
	p.op(opMark).int(1).int(2).int(3).op(opTuple2)
	be(p)
	// Column-major storage of [[1 2 3] [4 5 6]]: 1 4 2 5 3 6.
	p.op(opNewTrue).bytes([]byte{0, 1, 0, 4, 0, 2, 0, 5, 0, 3, 0, 6}).op(opTuple, opBuild)
	v, err := Unmarshal(p.stop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := v.(*NDArray)
	n, err := a.Int64s()
	if err != nil || len(n) != 6 || n[0] != 1 || n[1] != 2 || n[3] != 4 || n[5] != 6 {
		t.Fatalf("Int64s %v %v", n, err)
	}
	if _, err := a.Strings(); err == nil || err.Error() != "ndarray of dtype >i2 has no string values" {
		t.Fatalf("Strings error %v", err)
	}
	if _, err := a.Field("x"); err == nil || err.Error() != "ndarray of dtype >i2 has no fields" {
		t.Fatalf("Field error %v", err)
	}
	// Float arrays convert to ints only when whole.
	half := (&pb{}).array(2, func(p *pb) { p.dtype("f8", "<", -1) }, append(le8(1.0), le8(1.5)...)).stop()
	v, _ = Unmarshal(half, Options{})
	if _, err := v.(*NDArray).Int64s(); err == nil || !strings.Contains(err.Error(), "item 1 is not an int64 value") {
		t.Fatalf("Int64s of 1.5: %v", err)
	}
	// An array whose state was never set.
	var empty NDArray
	if _, err := empty.Float64s(); err == nil || empty.Len() != 0 {
		t.Fatal("empty array converts")
	}
}

func le8(f float64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
	return b[:]
}
