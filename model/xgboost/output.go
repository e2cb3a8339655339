package xgboost

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// classLabels are a classifier's classes in order, with the Arrow type of the
// prediction column and the names of the proba columns.
type classLabels struct {
	typ    arrow.DataType
	ints   []int64
	floats []float64
	strs   []string
	bools  []bool
	names  []string
}

func intLabels(v []int64) *classLabels {
	l := &classLabels{typ: arrow.PrimitiveTypes.Int64, ints: v}
	for _, x := range v {
		l.names = append(l.names, strconv.FormatInt(x, 10))
	}
	return l
}

// labelsFrom reads a JSON list of class labels (a label encoder's classes_).
func labelsFrom(v any) (*classLabels, error) {
	items, ok := v.([]any)
	if !ok {
		if nl, ok := v.(numList); ok {
			items = make([]any, len(nl))
			for i, s := range nl {
				items[i] = jsonNum(s)
			}
		} else {
			return nil, fmt.Errorf("expected a list, found %s", typeName(v))
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no classes")
	}
	l := &classLabels{}
	switch items[0].(type) {
	case string:
		l.typ = arrow.BinaryTypes.String
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("mixed label types")
			}
			l.strs = append(l.strs, s)
			l.names = append(l.names, s)
		}
	case bool:
		l.typ = arrow.FixedWidthTypes.Boolean
		for _, it := range items {
			x, ok := it.(bool)
			if !ok {
				return nil, fmt.Errorf("mixed label types")
			}
			l.bools = append(l.bools, x)
			l.names = append(l.names, map[bool]string{true: "True", false: "False"}[x])
		}
	default:
		ints := make([]int64, 0, len(items))
		allInt := true
		for _, it := range items {
			n, err := toInt(it)
			if err != nil {
				allInt = false
				break
			}
			ints = append(ints, n)
		}
		if allInt {
			return intLabels(ints), nil
		}
		l.typ = arrow.PrimitiveTypes.Float64
		for _, it := range items {
			x, err := toFloat64(it)
			if err != nil {
				return nil, fmt.Errorf("unsupported label: %w", err)
			}
			l.floats = append(l.floats, x)
			s := strconv.FormatFloat(x, 'g', -1, 64)
			if x == math.Trunc(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e16 {
				s = strconv.FormatFloat(x, 'f', 1, 64)
			}
			l.names = append(l.names, s)
		}
	}
	return l, nil
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case jsonNum:
		return strconv.ParseFloat(string(x), 64)
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("expected a number, found %s", typeName(v))
}

// finish turns margins into the model's output arrays.
func (m *xgbModel) finish(margins []float32, rows int, mem memory.Allocator) ([]arrow.Array, error) {
	b := m.b
	vals, width := b.predictValues(margins, rows)
	if m.api != apiClassifier {
		out := make([]arrow.Array, width)
		for k := range out {
			out[k] = float64Column(mem, vals, rows, width, k)
		}
		return out, nil
	}
	idx := m.classIndex(vals, width, rows)
	out := []arrow.Array{m.labelColumn(mem, idx)}
	if !m.proba {
		return out, nil
	}
	probs, k, err := m.probaMatrix(margins, vals, width, rows)
	if err != nil {
		for _, a := range out {
			a.Release()
		}
		return nil, err
	}
	for c := range k {
		out = append(out, float64Column(mem, probs, rows, k, c))
	}
	return out, nil
}

// classIndex is XGBClassifier.predict (xgboost 1.7 sklearn.py) before the label
// encoder: a class index per row, from the transformed predictions vals (rows
// x width).
func (m *xgbModel) classIndex(vals []float32, width, rows int) []int64 {
	idx := make([]int64, rows)
	switch {
	case width > 1:
		for r := range rows {
			idx[r] = int64(npArgmax(vals[r*width : r*width+width]))
		}
	case m.multiSoftmx:
		for r := range rows {
			idx[r] = int64(castInt32(vals[r]))
		}
	default:
		for r := range rows {
			if vals[r] > 0.5 {
				idx[r] = 1
			}
		}
	}
	return idx
}

// probaMatrix is XGBClassifier.predict_proba: rows x k probabilities in float32.
func (m *xgbModel) probaMatrix(margins, vals []float32, width, rows int) ([]float32, int, error) {
	ng := m.b.numOutput
	var probs []float32
	k := m.nClasses
	switch {
	case m.multiSoftmx:
		// scipy.special.softmax over the float32 margins.
		probs = make([]float32, rows*ng)
		copy(probs, margins)
		for r := range rows {
			npSoftmax(probs[r*ng : r*ng+ng])
		}
		k = ng
	case width == k:
		probs = vals
	default:
		// Binary: vstack((1 - p, p)) in float32.
		probs = make([]float32, rows*2)
		for r := range rows {
			p := vals[r*width]
			probs[2*r] = 1 - p
			probs[2*r+1] = p
		}
		k = 2
	}
	if k != len(m.labels.names) {
		return nil, 0, fmt.Errorf("predict_proba gives %d columns for %d classes", k, len(m.labels.names))
	}
	return probs, k, nil
}

// predictValues applies the objective's transform: what Booster.predict and
// inplace_predict return, rows x width.
func (b *booster) predictValues(margins []float32, rows int) ([]float32, int) {
	ng := b.numOutput
	switch b.obj.transform {
	case transIdentity:
		return margins, ng
	case transSoftprob:
		out := make([]float32, len(margins))
		copy(out, margins)
		for r := range rows {
			softmaxRow(out[r*ng : r*ng+ng])
		}
		return out, ng
	case transSoftmax:
		out := make([]float32, rows)
		for r := range rows {
			out[r] = float32(argmax(margins[r*ng : r*ng+ng]))
		}
		return out, 1
	}
	out := make([]float32, len(margins))
	for i, v := range margins {
		out[i] = b.obj.transformOne(v)
	}
	return out, ng
}

// npArgmax is numpy.argmax: the first NaN if there is one, else the first maximum.
func npArgmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v != v {
			return i
		}
		if v > p[best] {
			best = i
		}
	}
	return best
}

// castInt32 is numpy's float32 -> int32 cast on x86: truncation, and INT_MIN
// for NaN and values out of range.
func castInt32(v float32) int32 {
	if v != v || v >= 2147483648 || v < -2147483648 {
		return math.MinInt32
	}
	return int32(v)
}

// npSoftmax is scipy.special.softmax on a float32 row: exp(x - max(x)) divided
// by its numpy (pairwise) sum, in float32.
func npSoftmax(p []float32) {
	mx := p[0]
	for _, v := range p {
		if v != v {
			mx = v
			break
		}
		if v > mx {
			mx = v
		}
	}
	for i, v := range p {
		p[i] = npExpf(v - mx)
	}
	s := pairwiseSum(p)
	for i := range p {
		p[i] /= s
	}
}

// pairwiseSum is numpy's float32 add.reduce over a contiguous row.
func pairwiseSum(a []float32) float32 {
	n := len(a)
	switch {
	case n < 8:
		var res float32
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float32
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

func float64Column(mem memory.Allocator, vals []float32, rows, stride, col int) arrow.Array {
	bld := array.NewFloat64Builder(mem)
	defer bld.Release()
	bld.Reserve(rows)
	for r := range rows {
		bld.UnsafeAppend(float64(vals[r*stride+col]))
	}
	return bld.NewArray()
}

// labelColumn maps class indices to labels.
func (m *xgbModel) labelColumn(mem memory.Allocator, idx []int64) arrow.Array {
	l := m.labels
	if m.multiSoftmx || !m.mapLabels {
		bld := array.NewInt64Builder(mem)
		defer bld.Release()
		bld.AppendValues(idx, nil)
		return bld.NewArray()
	}
	switch {
	case l.strs != nil:
		bld := array.NewStringBuilder(mem)
		defer bld.Release()
		for _, i := range idx {
			bld.Append(l.strs[i])
		}
		return bld.NewArray()
	case l.bools != nil:
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		for _, i := range idx {
			bld.Append(l.bools[i])
		}
		return bld.NewArray()
	case l.floats != nil:
		bld := array.NewFloat64Builder(mem)
		defer bld.Release()
		for _, i := range idx {
			bld.Append(l.floats[i])
		}
		return bld.NewArray()
	default:
		bld := array.NewInt64Builder(mem)
		defer bld.Release()
		for _, i := range idx {
			bld.Append(l.ints[i])
		}
		return bld.NewArray()
	}
}

// npExpf is numpy's float32 exp as numpy 1.24 computes it on x86-64 with
// AVX2/AVX512F (simd_exp_FLOAT in numpy/core/src/umath/
// loops_exponent_log.dispatch.c.src): round x*log2(e) to an integer k, reduce
// with a two-constant Cody-Waite step, approximate exp of the remainder by a
// ratio of a 5th- and a 2nd-order polynomial (fused multiply-adds), and scale
// by 2^k. scipy.special.softmax, which XGBClassifier.predict_proba uses for
// multi:softmax, calls it on float32 margins. Written from that description;
// checked against numpy 1.24.2 on every float32 in [-104, 89].
func npExpf(x float32) float32 {
	const (
		xmax  float32 = 88.72283935546875
		xmin  float32 = -103.97208404541015625
		magic float32 = 0x1.8p23
		log2e float32 = 1.442695040888963407359924681001892137
		c1    float32 = -6.93145752e-1
		c2    float32 = -1.42860677e-6
		p0    float32 = 9.999999999980870924916e-01
		p1    float32 = 7.257664613233124478488e-01
		p2    float32 = 2.473615434895520810817e-01
		p3    float32 = 5.114512081637298353406e-02
		p4    float32 = 6.757896990527504603057e-03
		p5    float32 = 5.082762527590693718096e-04
		q0    float32 = 1.000000000000000000000e+00
		q1    float32 = -2.742335390411667452936e-01
		q2    float32 = 2.159509375685829852307e-02
	)
	switch {
	case x != x:
		return x
	case x >= xmax:
		return float32(math.Inf(1))
	case x <= xmin:
		return 0
	}
	// x*log2e + magic is one fused operation: GCC contracts the multiply and
	// add intrinsics, which it implements as plain vector arithmetic.
	k := float32(fmaf(x, log2e, magic) - magic)
	r := fmaf(k, c1, x)
	r = fmaf(k, c2, r)
	num := fmaf(p5, r, p4)
	num = fmaf(num, r, p3)
	num = fmaf(num, r, p2)
	num = fmaf(num, r, p1)
	num = fmaf(num, r, p0)
	den := fmaf(q2, r, q1)
	den = fmaf(den, r, q0)
	poly := float32(num / den)
	return float32(math.Ldexp(float64(poly), int(k)))
}

// fmaf is a correctly rounded float32 fused multiply-add. The product of two
// float32 values is exact in float64; the sum is then rounded to float64 and
// its rounding error kept (TwoSum), so that a float64 sum landing exactly
// halfway between two float32 values is rounded the way the exact sum would be.
func fmaf(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cd := float64(c)
	s := p + cd
	bb := s - p
	e := (p - (s - bb)) + (cd - bb) // s + e == p + c exactly
	r := float32(s)
	if e == 0 || math.IsInf(s, 0) {
		return r
	}
	// The other float32 neighbour of s, on the side of the rounding.
	var o float32
	if float64(r) > s {
		o = math.Nextafter32(r, float32(math.Inf(-1)))
	} else {
		o = math.Nextafter32(r, float32(math.Inf(1)))
	}
	if mid := (float64(r) + float64(o)) / 2; mid == s {
		// s is a tie between r and o: the exact value lies on e's side.
		if (e > 0) == (float64(o) > s) {
			return o
		}
		return r
	}
	return r
}
