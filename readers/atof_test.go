package readers

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkAtof compares parseFloat with strconv.ParseFloat on s, which must be a
// plain decimal number.
func checkAtof(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseFloat(s, 64)
	got, ok := parseFloat([]byte(s), 64)
	if err != nil {
		if ok {
			t.Fatalf("%q: got %v, strconv says %v", s, got, err)
		}
		return
	}
	if !ok || math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("%q: got %v (ok %v), want %v", s, got, ok, want)
	}
}

func TestFastAtof(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "0.0", "1", "-1", "1.5", ".5", "5.", "-3.", "1e5", "1E-5", "1e+5", "123456789012345678",
		"1234567890123456789", "12345678901234567890", "0.1", "0.30000000000000004", "9007199254740993",
		"1.7976931348623157e308", "1.7976931348623159e308", "2.2250738585072014e-308", "2.2250738585072011e-308",
		"4.9e-324", "5e-324", "1e-400", "1e400", "0.000000000000000000000000000001", "000123.4500",
		"1e23", "8.98846567431158e307", "2.225073858507201e-308", "9999999999999999999", "0e999999999",
	} {
		checkAtof(t, s)
	}
	for _, s := range []string{"", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", "0x10", "1_0", "--1", "1e5x", "1 2"} {
		if f, ok := parseFloat([]byte(s), 64); ok {
			t.Errorf("%q accepted as %v", s, f)
		}
	}

	rng := rand.New(rand.NewPCG(11, 12))
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	var buf []byte
	for range n {
		// Shortest representations of random doubles of every magnitude.
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		buf = strconv.AppendFloat(buf[:0], f, 'g', -1, 64)
		checkAtof(t, string(buf))
		// Normal deviates, as in real data, in both notations.
		g := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		buf = strconv.AppendFloat(buf[:0], g, 'e', rng.IntN(20), 64)
		checkAtof(t, string(buf))
		buf = strconv.AppendFloat(buf[:0], g, 'f', rng.IntN(20), 64)
		checkAtof(t, string(buf))
		// Random digit strings.
		buf = buf[:0]
		for range 1 + rng.IntN(20) {
			buf = append(buf, byte('0'+rng.IntN(10)))
		}
		buf = append(buf, 'e')
		buf = strconv.AppendInt(buf, int64(rng.IntN(700)-350), 10)
		checkAtof(t, string(buf))
	}

	// Decimals next to the exact midpoint between two adjacent doubles: the cases
	// where a truncated product could round the wrong way.
	for range n / 10 {
		f := math.Float64frombits(rng.Uint64() &^ (1 << 63))
		if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
			continue
		}
		next := math.Nextafter(f, math.Inf(1))
		if math.IsInf(next, 0) {
			continue
		}
		mid := new(big.Float).SetPrec(2000).SetFloat64(f)
		mid.Add(mid, new(big.Float).SetPrec(2000).SetFloat64(next))
		mid.Quo(mid, big.NewFloat(2))
		for _, digits := range []int{16, 17, 18, 19} {
			checkAtof(t, mid.Text('e', digits-1))
		}
	}
}

func BenchmarkParseFloat(b *testing.B) {
	in := []byte("-0.12345678901234567")
	for b.Loop() {
		parseFloat(in, 64)
	}
}
