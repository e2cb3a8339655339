package readers

import (
	"math"
	"math/big"
	"math/bits"
)

// A hand-written decimal-to-float64 parser for the CSV hot path.
//
// strconv.ParseFloat is correctly rounded but spends most of its time in a general
// digit loop (underscores, hex, special values); profiling BenchmarkCSVRead showed
// it at ~60% of the read time. fastAtof reads pandas' grammar in one pass into a
// 64-bit mantissa and a decimal exponent, then converts:
//
//  1. Clinger's fast path when the mantissa fits in 53 bits and |exponent| <= 22:
//     one exact multiplication or division, so correctly rounded;
//  2. otherwise the Eisel-Lemire algorithm (D. Lemire, "Number Parsing at a
//     Gigabyte per Second", 2021): multiply by a 128-bit truncation of 10^q and
//     round, giving up whenever the truncation error could change the result;
//  3. anything else (more than 19 significant digits, subnormals, overflow, the
//     rare cases Eisel-Lemire gives up on) returns handled=false and the caller
//     uses strconv.ParseFloat.
//
// So every result is the correctly rounded one; TestFastAtof checks it against
// strconv on millions of inputs, near-halfway cases included.

// pow10tab[q-pow10Min] is 10^q as m * 2^e with m in [2^127, 2^128) truncated
// (rounded down): hi and lo are m's two halves, log2 is floor(log2(10^q)).
type pow10Entry struct {
	hi, lo uint64
	log2   int
}

const (
	pow10Min = -348
	pow10Max = 347
)

var pow10tab = makePow10Table()

func makePow10Table() []pow10Entry {
	tab := make([]pow10Entry, pow10Max-pow10Min+1)
	ten := big.NewInt(10)
	mask := new(big.Int).SetUint64(math.MaxUint64)
	for q := pow10Min; q <= pow10Max; q++ {
		var m *big.Int
		var log2 int
		if q >= 0 {
			v := new(big.Int).Exp(ten, big.NewInt(int64(q)), nil)
			n := v.BitLen()
			log2 = n - 1
			if n >= 128 {
				m = v.Rsh(v, uint(n-128))
			} else {
				m = v.Lsh(v, uint(128-n))
			}
		} else {
			// 10^q = 1/d with 2^(B-1) < d < 2^B, so floor(log2(10^q)) = -B and
			// floor(2^(B+127) / d) lies in [2^127, 2^128).
			d := new(big.Int).Exp(ten, big.NewInt(int64(-q)), nil)
			b := d.BitLen()
			log2 = -b
			m = new(big.Int).Lsh(big.NewInt(1), uint(b+127))
			m.Quo(m, d)
		}
		lo := new(big.Int).And(m, mask).Uint64()
		hi := new(big.Int).Rsh(m, 64).Uint64()
		tab[q-pow10Min] = pow10Entry{hi: hi, lo: lo, log2: log2}
	}
	return tab
}

var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastAtof parses c, which has no surrounding spaces and does not start with a
// letter, as [sign] digits [. digits] [(e|E) [sign] digits] with at least one
// mantissa digit. ok reports whether c is a number; when handled is false the
// caller must decide with strconv instead.
func fastAtof(c []byte) (f float64, ok, handled bool) {
	i := 0
	neg := false
	if i < len(c) && (c[i] == '-' || c[i] == '+') {
		neg = c[i] == '-'
		i++
	}
	var w uint64
	nd := 0      // significant digits kept in w
	dropped := 0 // significant digits that did not fit (forces the fallback)
	exp := 0     // decimal exponent of w
	digits := 0  // mantissa digits seen, leading zeros included
	for ; i < len(c); i++ {
		d := c[i] - '0'
		if d > 9 {
			break
		}
		digits++
		switch {
		case nd < 19:
			if w != 0 || d != 0 {
				w = w*10 + uint64(d)
				nd++
			}
		default:
			dropped++
			exp++
		}
	}
	if i < len(c) && c[i] == '.' {
		i++
		for ; i < len(c); i++ {
			d := c[i] - '0'
			if d > 9 {
				break
			}
			digits++
			switch {
			case nd < 19:
				if w != 0 || d != 0 {
					w = w*10 + uint64(d)
					nd++
				}
				exp--
			default:
				dropped++
			}
		}
	}
	if digits == 0 {
		return 0, false, true
	}
	if i < len(c) && (c[i] == 'e' || c[i] == 'E') {
		i++
		eneg := false
		if i < len(c) && (c[i] == '-' || c[i] == '+') {
			eneg = c[i] == '-'
			i++
		}
		start := i
		e := 0
		for ; i < len(c); i++ {
			d := c[i] - '0'
			if d > 9 {
				break
			}
			if e < 100000 {
				e = e*10 + int(d)
			}
		}
		if i == start {
			return 0, false, true
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(c) {
		return 0, false, true
	}
	if dropped > 0 {
		return 0, true, false
	}
	if w == 0 {
		if neg {
			return math.Copysign(0, -1), true, true
		}
		return 0, true, true
	}
	if w < 1<<53 && exp >= -22 && exp <= 22 {
		f = float64(w)
		if exp < 0 {
			f /= exactPow10[-exp]
		} else {
			f *= exactPow10[exp]
		}
		if neg {
			f = -f
		}
		return f, true, true
	}
	if exp < pow10Min || exp > pow10Max {
		return 0, true, false
	}
	f, ok = eiselLemire(w, exp, neg)
	return f, true, ok
}

// eiselLemire converts w * 10^q (w != 0) to the nearest float64, or reports false
// when the 128-bit approximation cannot decide the rounding or the result is not
// a normal number.
func eiselLemire(w uint64, q int, neg bool) (float64, bool) {
	p := &pow10tab[q-pow10Min]
	l := bits.LeadingZeros64(w)
	w <<= uint(l)
	xHi, xLo := bits.Mul64(w, p.hi)
	// The product with the table's high word is short of the true value by less
	// than w (in units of xLo). That only matters if it could carry into the bits
	// kept for the mantissa: then add the low word's part and check again.
	if xHi&0x1FF == 0x1FF && xLo+w < xLo {
		yHi, yLo := bits.Mul64(w, p.lo)
		mHi, mLo := xHi, xLo+yHi
		if mLo < xLo {
			mHi++
		}
		if mHi&0x1FF == 0x1FF && mLo+1 == 0 && yLo+w < yLo {
			return 0, false
		}
		xHi, xLo = mHi, mLo
	}
	msb := int(xHi >> 63)
	mant := xHi >> uint(msb+9) // 54 bits: the 53 of the result and a rounding bit
	exp2 := p.log2 + 63 + 1023 - l + msb
	// An exact-looking tie may be a value just above it, truncated: give up.
	if xLo == 0 && xHi&0x1FF == 0 && mant&3 == 1 {
		return 0, false
	}
	mant += mant & 1 // round half up on the rounding bit (ties were excluded above)
	mant >>= 1
	if mant>>53 > 0 {
		mant >>= 1
		exp2++
	}
	if exp2 < 1 || exp2 > 0x7FE {
		return 0, false // subnormal or overflow: strconv decides
	}
	b := uint64(exp2)<<52 | mant&(1<<52-1)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b), true
}
