package serve

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The expected texts are what Python 3.11's json.dumps wrote for the same values.
func TestPythonFloatRepr(t *testing.T) {
	vals := []float64{0.1, 1e16, 1e-5, 123456789012345680.0, 5e-324, 1.7976931348623157e308, math.Copysign(0, -1),
		100.0, 0.0001, 1e22, 1.5e-7, 12345678901234567.0, 9999999999999998.0, 0.00012345, -2.5,
		206.11667724510568, 1e15, 123.456e10, math.NaN(), math.Inf(1), math.Inf(-1), 3.0e-310}
	want := "[0.1, 1e+16, 1e-05, 1.2345678901234568e+17, 5e-324, 1.7976931348623157e+308, -0.0, 100.0, 0.0001, " +
		"1e+22, 1.5e-07, 1.2345678901234568e+16, 9999999999999998.0, 0.00012345, -2.5, 206.11667724510568, " +
		"1000000000000000.0, 1234560000000.0, NaN, Infinity, -Infinity, 3e-310]"
	b := []byte{'['}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendPyFloat(b, v)
	}
	b = append(b, ']')
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// Every finite float64 written by appendPyFloat parses back to itself.
func TestPythonFloatRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := string(appendPyFloat(nil, f))
		g, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(g) != math.Float64bits(f) {
			t.Fatalf("%v (%x) -> %q -> %v, %v", f, math.Float64bits(f), s, g, err)
		}
		if !strings.ContainsAny(s, ".e") {
			t.Fatalf("%q: Python always marks a float as one", s)
		}
	}
}

func TestPythonStringEscapes(t *testing.T) {
	var b []byte
	for i, s := range []string{"a\"b\\c\n\t\x01\x7f", "é€😀", "plain"} {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendPyString(b, s)
	}
	want := `"a\"b\\c\n\t\u0001\u007f", "\u00e9\u20ac\ud83d\ude00", "plain"`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestErrorBody(t *testing.T) {
	got := string(errorBody("BAD_REQUEST", `bad "x"`))
	want := `{"error_code": "BAD_REQUEST", "message": "bad \"x\""}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
