package pickle

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// npyFile builds a .npy file (version 1.0) with the given header dict text.
func npyFile(header string, data []byte) []byte {
	h := header
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func f64s(vals ...float64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

func TestParseNPY(t *testing.T) {
	a, err := ParseNPY(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f64s(1, 2, 3, 4, 5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := a.Float64s()
	if len(a.Shape) != 2 || a.Shape[0] != 2 || a.Shape[1] != 3 || got[5] != 6 {
		t.Errorf("got shape %v values %v", a.Shape, got)
	}

	// Fortran order: elements come back in C order.
	a, err = ParseNPY(npyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", f64s(1, 2, 3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Float64s(); got[1] != 3 || got[2] != 2 {
		t.Errorf("fortran: %v", got)
	}

	// Big-endian int32, 0-d.
	be := []byte{0, 0, 1, 2}
	a, err = ParseNPY(npyFile("{'descr': '>i4', 'fortran_order': False, 'shape': (), }", be))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Int64s(); len(a.Shape) != 0 || got[0] != 258 {
		t.Errorf("big endian: %v", got)
	}

	// Unicode strings.
	u := make([]byte, 2*3*4)
	for i, r := range "abxy" {
		binary.LittleEndian.PutUint32(u[[]int{0, 4, 12, 16}[i]:], uint32(r))
	}
	a, err = ParseNPY(npyFile("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", u))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Strings(); got[0] != "ab" || got[1] != "xy" {
		t.Errorf("strings: %q", got)
	}

	// A structured dtype with padding, as a tree's nodes are written.
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint64(rec, 7)
	rec[8] = 1
	a, err = ParseNPY(npyFile("{'descr': [('left', '<i8'), ('miss', '|u1'), ('', '|V7')], 'fortran_order': False, 'shape': (1,), }", rec))
	if err != nil {
		t.Fatal(err)
	}
	left, err1 := a.Field("left")
	miss, err2 := a.Field("miss")
	if err1 != nil || err2 != nil || left.Int64(0) != 7 || miss.Int64(0) != 1 || a.DType.ItemSize != 16 {
		t.Errorf("structured: %v %v %+v", err1, err2, a.DType)
	}
}

func TestParseNPYErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"magic", []byte("\x93NUMPX\x01\x00\x00\x00"), "bad magic"},
		{"version", []byte("\x93NUMPY\x09\x00\x00\x00"), "version 9"},
		{"truncated header", []byte("\x93NUMPY\x01\x00\xff\x00{"), "exceeds"},
		{"object", npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), "object arrays"},
		{"datetime", npyFile("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), "unsupported dtype"},
		{"short data", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64s(1, 2)), "needs 24 bytes"},
		{"long data", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", f64s(1, 2)), "needs 8 bytes"},
		{"huge shape", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", f64s(1)), "overflows"},
		{"extra key", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", f64s(1)), "exactly the keys"},
		{"not a dict", npyFile("[1, 2]", nil), "want a dict"},
		{"bad literal", npyFile("{'descr': <f8}", nil), "unexpected"},
		{"deep", npyFile(strings.Repeat("[", 100), nil), "nested too deeply"},
		{"padding with a dtype", npyFile("{'descr': [('a', '<f8'), ('', '<f8')], 'fortran_order': False, 'shape': (1,), }", f64s(1, 2)), "only void padding"},
		{"duplicate field", npyFile("{'descr': [('a', '<f8'), ('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", f64s(1, 2)), "duplicate field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseNPY(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestNewObjectArray(t *testing.T) {
	a, err := NewObjectArray([]any{"a", int64(1), nil, 2.5}, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Values(); v[0] != "a" || v[3] != 2.5 {
		t.Errorf("values %v", v)
	}
	if _, err := NewObjectArray([]any{"a"}, []int{2}); err == nil {
		t.Error("wrong item count accepted")
	}
}

// FuzzParseNPY: any bytes give an array or an error, never a panic.
func FuzzParseNPY(f *testing.F) {
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f64s(1, 2, 3, 4, 5, 6)))
	f.Add(npyFile("{'descr': [('left', '<i8'), ('miss', '|u1'), ('', '|V7')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 16)))
	f.Add(npyFile("{'descr': '<U3', 'fortran_order': True, 'shape': (1, 2), }", make([]byte, 24)))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseNPY(data)
		if err != nil {
			return
		}
		_, _ = a.Values()
		_, _ = a.Float64s()
		_, _ = a.Strings()
	})
}

func TestParseNPYZeroSizeElements(t *testing.T) {
	// '<U0' elements take no bytes: a huge shape must not make Values allocate.
	_, err := ParseNPY(npyFile("{'descr': '<U0', 'fortran_order': False, 'shape': (100000000,), }", nil))
	if err == nil || !strings.Contains(err.Error(), "elements of size 0") {
		t.Errorf("got %v", err)
	}
}
