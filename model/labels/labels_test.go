package labels

import (
	"math"
	"testing"
)

// TestPyFloatStr: the strings Python 3's str(float) gives for these values.
func TestPyFloatStr(t *testing.T) {
	for x, want := range map[float64]string{
		0: "0.0", 1: "1.0", -2: "-2.0", 0.5: "0.5", 1e-05: "1e-05", 0.0001: "0.0001",
		1.5e16: "1.5e+16", 1e16: "1e+16", 123456789012345.6: "123456789012345.6",
		math.Inf(1): "inf", math.Inf(-1): "-inf", 0.30000000000000004: "0.30000000000000004",
	} {
		if got := PyFloatStr(x); got != want {
			t.Errorf("PyFloatStr(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestArgmax(t *testing.T) {
	for _, c := range []struct {
		row  []float64
		want int
	}{
		{[]float64{0.2, 0.5, 0.3}, 1},
		{[]float64{0.5, 0.5}, 0}, // the first maximum wins a tie
		{[]float64{0.1, math.NaN(), 0.9}, 1},
		{[]float64{-1}, 0},
	} {
		if got := Argmax(c.row); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.row, got, c.want)
		}
	}
}

func TestFromValues(t *testing.T) {
	c, err := FromValues([]any{true, false})
	if err != nil || c.Kind != Bool || c.Names[0] != "True" || !c.Equal(1, false) {
		t.Errorf("bools: %+v %v", c, err)
	}
	if _, err := FromValues([]any{"a", int64(1)}); err == nil {
		t.Error("mixed labels were accepted")
	}
	if _, err := FromValues(nil); err == nil {
		t.Error("no labels were accepted")
	}
}
