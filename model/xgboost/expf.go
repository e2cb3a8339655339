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

// logf returns exactly what glibc's logf returns on x86-64 CPUs with FMA; it
// turns base_score into a margin for the log and logit links. Like expf it is
// not correctly rounded (about 0.02% of inputs differ from float32(math.Log)).
//
// The method (glibc >= 2.28, sysdeps/ieee754/flt-32/e_logf.c, from Arm's
// optimized-routines), in double precision: write x = 2^k z with z in
// [0x3f330000, 2*0x3f330000) as float bits, pick one of 16 subintervals of z
// with a tabulated c near its centre (1/c and log(c)), then
// log(x) = k ln2 + log(c) + log1p(z/c - 1), the last by a cubic polynomial in
// r = z/c - 1. The fused multiply-adds are those of glibc's FMA build. Written
// from that description with the numeric table of glibc 2.36 (__logf_data);
// checked against glibc 2.36's logf for every non-negative float32 input.
func logf(x float32) float32 {
	ix := math.Float32bits(x)
	if ix == 0x3f800000 {
		return 0
	}
	if ix-0x00800000 >= 0x7f800000-0x00800000 {
		// x < 2^-126, or x is negative, Inf or NaN.
		switch {
		case ix*2 == 0:
			return float32(math.Inf(-1))
		case ix == 0x7f800000:
			return x
		case ix&0x80000000 != 0 || ix*2 >= 0xff000000:
			return float32(math.NaN())
		}
		// Subnormal: normalise.
		ix = math.Float32bits(x * 0x1p23)
		ix -= 23 << 23
	}
	const (
		off = 0x3f330000
		ln2 = 0x1.62e42fefa39efp-1
		a0  = -0x1.00ea348b88334p-2
		a1  = 0x1.5575b0be00b6ap-2
		a2  = -0x1.ffffef20a4123p-2
	)
	tmp := ix - off
	i := (tmp >> (23 - 4)) % 16
	k := int32(tmp) >> 23
	iz := ix - (tmp & (0x1ff << 23))
	invc, logc := logTable[i][0], logTable[i][1]
	z := float64(math.Float32frombits(iz))
	r := math.FMA(z, invc, -1)
	y0 := math.FMA(float64(k), ln2, logc)
	r2 := float64(r * r)
	y := math.FMA(a1, r, a2)
	y = math.FMA(a0, r2, y)
	y = math.FMA(y, r2, float64(y0+r))
	return float32(y)
}

// logTable holds {1/c, log(c)} for the 16 subintervals of logf.
var logTable = [16][2]float64{
	{0x1.661ec79f8f3bep+0, -0x1.57bf7808caadep-2},
	{0x1.571ed4aaf883dp+0, -0x1.2bef0a7c06ddbp-2},
	{0x1.49539f0f010b0p+0, -0x1.01eae7f513a67p-2},
	{0x1.3c995b0b80385p+0, -0x1.b31d8a68224e9p-3},
	{0x1.30d190c8864a5p+0, -0x1.6574f0ac07758p-3},
	{0x1.25e227b0b8ea0p+0, -0x1.1aa2bc79c8100p-3},
	{0x1.1bb4a4a1a343fp+0, -0x1.a4e76ce8c0e5ep-4},
	{0x1.12358f08ae5bap+0, -0x1.1973c5a611cccp-4},
	{0x1.0953f419900a7p+0, -0x1.252f438e10c1ep-5},
	{0x1.0000000000000p+0, 0},
	{0x1.e608cfd9a47acp-1, 0x1.aa5aa5df25984p-5},
	{0x1.ca4b31f026aa0p-1, 0x1.c5e53aa362eb4p-4},
	{0x1.b2036576afce6p-1, 0x1.526e57720db08p-3},
	{0x1.9c2d163a1aa2dp-1, 0x1.bc2860d224770p-3},
	{0x1.886e6037841edp-1, 0x1.1058bc8a07ee1p-2},
	{0x1.767dcf5534862p-1, 0x1.4043057b6ee09p-2},
}
