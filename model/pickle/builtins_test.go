package pickle

import (
	"errors"
	"reflect"
	"testing"
)

func TestBuiltins(t *testing.T) {
	allowX := Options{Allow: func(m, n string) bool { return m == "x" }}
	list12 := func(p *pb) *pb { return p.op(opEmptyList, opMark).int(1).int(2).op(opAppends) }
	tests := []struct {
		name string
		data []byte
		want any
	}{
		{"list(tuple)", (&pb{}).global("builtins", "list").op(opMark).int(1).int(2).op(opTuple, opTuple1, opReduce).stop(), &List{Items: []any{int64(1), int64(2)}}},
		{"tuple(list)", list12((&pb{}).global("__builtin__", "tuple")).op(opTuple1, opReduce).stop(), Tuple{int64(1), int64(2)}},
		{"tuple()", (&pb{}).global("builtins", "tuple").op(opEmptyTuple, opReduce).stop(), Tuple{}},
		{"set(list)", list12((&pb{}).global("__builtin__", "set")).op(opTuple1, opReduce).stop(), &Set{Items: []any{int64(1), int64(2)}}},
		{"frozenset()", (&pb{}).global("builtins", "frozenset").op(opEmptyTuple, opReduce).stop(), &Set{Frozen: true}},
		{"dict(pairs)", (&pb{}).global("builtins", "dict").op(opEmptyList).str("a").int(1).op(opTuple2, opAppend, opTuple1, opReduce).stop(), func() any { d := NewDict(); d.Set("a", int64(1)); return d }()},
		{"OrderedDict(dict)", (&pb{}).global("collections", "OrderedDict").op(opEmptyDict).str("a").int(1).op(opSetItem, opTuple1, opReduce).stop(), func() any { d := NewDict(); d.Set("a", int64(1)); return d }()},
		{"bytes()", (&pb{}).global("__builtin__", "bytes").op(opEmptyTuple, opReduce).stop(), []byte{}},
		{"bytes(list)", list12((&pb{}).global("builtins", "bytes")).op(opTuple1, opReduce).stop(), []byte{1, 2}},
		{"bytearray(bytes)", (&pb{}).global("builtins", "bytearray").bytes([]byte("ab")).op(opTuple1, opReduce).stop(), []byte("ab")},
		{"bytearray(str, latin1)", (&pb{}).global("builtins", "bytearray").str("\u00e9").str("latin-1").op(opTuple2, opReduce).stop(), []byte{0xe9}},
		{"encode utf-8", (&pb{}).global("_codecs", "encode").str("\u00e9").op(opTuple1, opReduce).stop(), []byte{0xc3, 0xa9}},
		{"encode ascii", (&pb{}).global("_codecs", "encode").str("ok").str("ascii").op(opTuple2, opReduce).stop(), []byte("ok")},
		{"slice(stop)", (&pb{}).global("builtins", "slice").int(5).op(opTuple1, opReduce).stop(), &Slice{Stop: int64(5)}},
		{"slice(a, b)", (&pb{}).global("builtins", "slice").int(1).int(5).op(opTuple2, opReduce).stop(), &Slice{Start: int64(1), Stop: int64(5)}},
		{"complex(int)", (&pb{}).global("builtins", "complex").int(2).op(opTuple1, opReduce).stop(), complex(2, 0)},
		{"__newobj__", (&pb{}).global("copyreg", "__newobj__").global("x", "C").int(7).op(opTuple2, opReduce).stop(), &Object{Module: "x", Name: "C", Args: Tuple{int64(7)}}},
		{"__newobj_ex__", (&pb{}).global("copy_reg", "__newobj_ex__").global("x", "C").op(opEmptyTuple, opEmptyDict).str("k").int(1).op(opSetItem, opTuple3, opReduce).stop(),
			&Object{Module: "x", Name: "C", Args: Tuple{}, Kwargs: func() *Dict { d := NewDict(); d.Set("k", int64(1)); return d }()}},
		{"NEWOBJ_EX", (&pb{}).global("x", "C").int(1).op(opTuple1, opEmptyDict).str("k").int(2).op(opSetItem, opNewObjEx).stop(),
			&Object{Module: "x", Name: "C", Args: Tuple{int64(1)}, Kwargs: func() *Dict { d := NewDict(); d.Set("k", int64(2)); return d }()}},
		{"NEWOBJ_EX empty kwargs", (&pb{}).global("x", "C").op(opEmptyTuple, opEmptyDict, opNewObjEx).stop(), &Object{Module: "x", Name: "C", Args: Tuple{}}},
		{"_reconstructor other base", (&pb{}).global("copy_reg", "_reconstructor").global("x", "C").global("__builtin__", "int").int(3).op(opTuple3, opReduce).stop(),
			&Object{Module: "x", Name: "C", Args: Tuple{int64(3)}}},
		{"_reconstructor of a builtin", (&pb{}).global("copyreg", "_reconstructor").global("builtins", "set").global("builtins", "object").op(opNone, opTuple3, opReduce).stop(), &Set{}},
		{"OBJ", (&pb{}).op(opMark).global("x", "C").int(1).op(opObj).stop(), &Object{Module: "x", Name: "C", Args: Tuple{int64(1)}}},
		{"INST", (&pb{}).op(opMark).int(1).raw("ix\nC\n").stop(), &Object{Module: "x", Name: "C", Args: Tuple{int64(1)}}},
		{"BUILD slots", (&pb{}).global("x", "C").op(opEmptyTuple, opNewObj).op(opNone, opEmptyDict).str("a").int(1).op(opSetItem, opTuple2, opBuild).stop(),
			&Object{Module: "x", Name: "C", Args: Tuple{}, State: Tuple{nil, func() *Dict { d := NewDict(); d.Set("a", int64(1)); return d }()}, Dict: map[string]any{"a": int64(1)}, Keys: []string{"a"}}},
		{"BUILD other state", (&pb{}).global("x", "C").op(opEmptyTuple, opNewObj).int(5).op(opBuild).stop(), &Object{Module: "x", Name: "C", Args: Tuple{}, State: int64(5)}},
		{"BUILD None on list", (&pb{}).op(opEmptyList, opNone, opBuild).stop(), &List{}},
		{"py2 str", []byte("U\x03a\xe9\xff."), "a\u00e9\u00ff"},
		{"py2 binstring", []byte("T\x02\x00\x00\x00\x00\x80."), "\u0000\u0080"},
		{"POP pops a mark", []byte("K\x01(0."), int64(1)},
		{"POP_MARK", []byte("K\x01(K\x02K\x031."), int64(1)},
		{"DUP", []byte("]2\x86."), func() any { l := &List{}; return Tuple{l, l} }()},
		{"LONG1 negative", []byte("\x8a\x02\x00\xff."), int64(-256)},
		{"LONG1 zero", []byte("\x8a\x00."), int64(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Unmarshal(tc.data, allowX)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestPython2NumpyArray(t *testing.T) {
	// Python 2 numpy pickles hold raw data as str (SHORT_BINSTRING), which
	// Python 3 reads with encoding='latin1'.
	p := (&pb{}).global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").int(0).op(opTuple1).raw("U\x01b").op(opTuple3, opReduce)
	p.op(opMark).int(1).int(2).op(opTuple1).dtype("u2", "<", -1).op(opNewFalse).raw("U\x04\x01\x00\xff\xff").op(opTuple, opBuild)
	v, err := Unmarshal(p.stop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := v.(*NDArray).Int64s()
	if err != nil || !reflect.DeepEqual(n, []int64{1, 65535}) {
		t.Fatalf("got %v %v", n, err)
	}
}

func TestSlotsFixture(t *testing.T) {
	_, data := loadFixture(t, "p_slots_p4")
	v, err := Unmarshal(data, Options{Allow: allowPrefixes([]string{"__main__."})})
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*List).Items[0].(*Object)
	if a, err := o.Int("a"); err != nil || a != 1 {
		t.Fatalf("a = %v, %v", a, err)
	}
	if b, err := o.List("b"); err != nil || len(b.Items) != 1 {
		t.Fatalf("b = %v, %v", b, err)
	}
	if _, err := o.Tuple("a"); err == nil || err.Error() != `__main__.Slots: attribute "a" is int, want tuple` {
		t.Fatalf("Tuple(a) error %v", err)
	}
	if v, ok := o.Attr("a"); !ok || v != int64(1) || !o.Has("b") || o.Has("c") {
		t.Fatal("Attr/Has")
	}
}

// TestCloudpickleMethodType: cloudpickle writes a bound method as
// _builtin_type("MethodType")(function, instance); with the function and the
// instance allowed, that is an inert types.MethodType object. The other types
// cloudpickle names (code objects, cells) are refused.
func TestCloudpickleMethodType(t *testing.T) {
	allowX := Options{Allow: func(m, n string) bool { return m == "x" }}
	p := (&pb{}).global("cloudpickle.cloudpickle", "_builtin_type").str("MethodType").op(opTuple1, opReduce)
	p.global("x", "C.f").global("x", "C").op(opEmptyTuple, opNewObj, opTuple2, opReduce)
	v, err := Unmarshal(p.stop(), allowX)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := v.(*Object); !ok || o.Class() != "types.MethodType" || len(o.Args) != 2 {
		t.Fatalf("got %#v", v)
	}
	code := (&pb{}).global("cloudpickle.cloudpickle", "_builtin_type").str("CodeType").op(opTuple1, opReduce).stop()
	var ue *UnsupportedError
	if _, err := Unmarshal(code, allowX); !errors.As(err, &ue) || ue.Name != "CodeType" {
		t.Errorf("CodeType: %v", err)
	}
}
