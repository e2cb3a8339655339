package xgboost

import "math"

// expf returns exactly what glibc's expf returns on x86-64 CPUs with FMA, which
// is what xgboost's float32 transforms (sigmoid, exp, softmax) call. glibc's
// expf is not correctly rounded: about 1 input in 3000 differs by one ulp from
// the correctly rounded result, so float32(math.Exp(x)) would not give
// xgboost's numbers.
//
// The method (glibc >= 2.28, sysdeps/ieee754/flt-32/e_expf.c, from Arm's
// optimized-routines) in double precision: with N = 32, write x*N/ln2 = k + r,
// |r| <= 1/2; then exp(x) = 2^(k/N) * 2^(r/N) where 2^(k/N) comes from a
// 32-entry table of 2^(i/N) with the exponent added in, and 2^(r/N) is a
// cubic polynomial evaluated with fused multiply-adds (the __expf_fma variant
// glibc selects on CPUs with FMA, where the compiler also fuses the reduction
// r = x*N/ln2 - k). The implementation here is written from that
// description; it was checked against glibc 2.36's expf for every float32 input.
func expf(x float32) float32 {
	ix := math.Float32bits(x)
	if top := ix >> 20 & 0x7ff; top >= 0x42b { // |x| >= 88, or NaN/Inf
		switch {
		case ix == 0xff800000: // -Inf
			return 0
		case top >= 0x7f8: // +Inf or NaN
			return x + x
		case x > 0x1.62e42ep6: // above log(2^128)
			return float32(math.Inf(1))
		case x < -0x1.9fe368p6: // below log(2^-150)
			return 0
		}
	}
	const (
		invLn2N = 0x1.71547652b82fep+0 * expN
		shift   = 0x1.8p+52
		// 2^(r/N) ~= c0 r^3 + c1 r^2 + c2 r + 1
		c0 = 0x1.c6af84b912394p-5 / expN / expN / expN
		c1 = 0x1.ebfce50fac4f3p-3 / expN / expN
		c2 = 0x1.62e42ff0c52d6p-1 / expN
	)
	z := float64(invLn2N * float64(x))
	kd := float64(z + shift) // rounds z to an integer held in the low bits
	ki := math.Float64bits(kd)
	kd = float64(kd - shift)
	// glibc's FMA build contracts z - kd, i.e. invLn2N*x - kd, into one fused
	// operation: r keeps the exact product.
	r := math.FMA(invLn2N, float64(x), -kd)
	t := expTable[ki%expN] + ki<<(52-5)
	s := math.Float64frombits(t)
	p := math.FMA(c0, r, c1)
	r2 := float64(r * r)
	y := math.FMA(c2, r, 1)
	y = math.FMA(p, r2, y)
	return float32(float64(y * s))
}

const expN = 32

// expTable[i] is the bit pattern of 2^(i/32) (correctly rounded double) minus
// i<<47, so that adding k<<47 for k = i mod 32 scales it by 2^(k/32 - i/32).
var expTable = [expN]uint64{
	0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
	0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
	0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
	0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
	0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
	0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
	0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
	0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
}
