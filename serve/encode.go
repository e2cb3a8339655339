package serve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/mlbatch/mlbatch/model"
)

// Responses are written byte for byte as MLflow's server writes them: Python's
// json.dumps with its default separators (", " and ": "), floats as Python's repr
// (the shortest text that parses back to the same float64, so every float
// round-trips exactly; "150.0" stays a float; NaN and Infinity as Python writes
// them), and strings with non-ASCII characters escaped.

// appendPyFloat appends f as Python's repr(float) writes it.
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		b = append(b, '-')
	}
	ei := 0
	for e[ei] != 'e' {
		ei++
	}
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	var digs [24]byte
	d := append(digs[:0], e[0])
	if ei > 1 {
		d = append(d, e[2:ei]...)
	}
	if exp < -4 || exp >= 16 {
		b = append(b, d[0])
		if len(d) > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	point := exp + 1 // digits before the decimal point
	switch {
	case point <= 0:
		b = append(b, '0', '.')
		for range -point {
			b = append(b, '0')
		}
		b = append(b, d...)
	case point >= len(d):
		b = append(b, d...)
		for range point - len(d) {
			b = append(b, '0')
		}
		b = append(b, '.', '0')
	default:
		b = append(b, d[:point]...)
		b = append(b, '.')
		b = append(b, d[point:]...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendPyString appends s as Python's json.dumps writes a str (ensure_ascii).
func appendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
			i++
			continue
		case '\\':
			b = append(b, '\\', '\\')
			i++
			continue
		case '\n':
			b = append(b, '\\', 'n')
			i++
			continue
		case '\r':
			b = append(b, '\\', 'r')
			i++
			continue
		case '\t':
			b = append(b, '\\', 't')
			i++
			continue
		case '\b':
			b = append(b, '\\', 'b')
			i++
			continue
		case '\f':
			b = append(b, '\\', 'f')
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = appendU(b, r1)
			b = appendU(b, r2)
			continue
		}
		b = appendU(b, r)
	}
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendValue appends row i of a as JSON, the way numpy's tolist() and json.dumps
// print it.
func appendValue(b []byte, a arrow.Array, i int) []byte {
	if a.IsNull(i) {
		return append(b, "null"...)
	}
	switch c := a.(type) {
	case *array.Float64:
		return appendPyFloat(b, c.Value(i))
	case *array.Float32:
		return appendPyFloat(b, float64(c.Value(i)))
	case *array.Int64:
		return strconv.AppendInt(b, c.Value(i), 10)
	case *array.Int32:
		return strconv.AppendInt(b, int64(c.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(b, int64(c.Value(i)), 10)
	case *array.Int8:
		return strconv.AppendInt(b, int64(c.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(b, c.Value(i), 10)
	case *array.Uint32:
		return strconv.AppendUint(b, uint64(c.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(b, uint64(c.Value(i)), 10)
	case *array.Uint8:
		return strconv.AppendUint(b, uint64(c.Value(i)), 10)
	case *array.Boolean:
		if c.Value(i) {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *array.String:
		return appendPyString(b, c.Value(i))
	case *array.LargeString:
		return appendPyString(b, c.Value(i))
	}
	return appendPyString(b, a.ValueStr(i))
}

// shape says how the prediction arrays become MLflow's "predictions".
type shape struct {
	// cols are the output indices written, in order.
	cols []int
	// groups, when set, split cols per output of a multi-output classifier's
	// probabilities: scikit-learn's predict_proba returns one (rows x classes)
	// array per output, which MLflow writes as a list of them.
	groups [][]int
	// flat writes one value per row (a 1-D prediction); otherwise a row is a
	// list of its values (a 2-D prediction).
	flat bool
}

// planOutputs chooses the arrays and the shape MLflow gives the same model: the
// 1-D predict() result, the (rows x k) result of a multi-output model, or with
// proba the (rows x classes) predict_proba() result.
func planOutputs(outs []model.Column, proba bool) (shape, error) {
	var pred, prob []int
	multi := false
	for i, c := range outs {
		switch {
		case c.Name == "prediction":
			pred = append(pred, i)
		case strings.HasPrefix(c.Name, "prediction_"):
			pred = append(pred, i)
			multi = true
		case strings.HasPrefix(c.Name, "proba_"):
			prob = append(prob, i)
		}
	}
	if proba && len(prob) > 0 {
		s := shape{cols: prob}
		if multi {
			// proba_<k>_<label>, grouped by output k in order.
			var cur string
			for _, i := range prob {
				rest := strings.TrimPrefix(outs[i].Name, "proba_")
				k, _, _ := strings.Cut(rest, "_")
				if len(s.groups) == 0 || k != cur {
					s.groups = append(s.groups, nil)
					cur = k
				}
				s.groups[len(s.groups)-1] = append(s.groups[len(s.groups)-1], i)
			}
		}
		return s, nil
	}
	if len(pred) == 0 {
		if len(outs) == 0 {
			return shape{}, fmt.Errorf("the model has no outputs")
		}
		for i := range outs {
			pred = append(pred, i)
		}
		multi = len(outs) > 1
	}
	return shape{cols: pred, flat: !multi}, nil
}

// appendPredictions appends the predictions of rows [off, off+n) of outs.
func (s *shape) appendPredictions(b []byte, outs []arrow.Array, off, n int) []byte {
	b = append(b, '[')
	if s.groups != nil {
		for g, cols := range s.groups {
			if g > 0 {
				b = append(b, ", "...)
			}
			b = appendRows(b, outs, cols, off, n, false)
		}
		return append(b, ']')
	}
	return appendRowsInner(b, outs, s.cols, off, n, s.flat)
}

func appendRows(b []byte, outs []arrow.Array, cols []int, off, n int, flat bool) []byte {
	b = append(b, '[')
	return appendRowsInner(b, outs, cols, off, n, flat)
}

// appendRowsInner appends the rows and the closing bracket.
func appendRowsInner(b []byte, outs []arrow.Array, cols []int, off, n int, flat bool) []byte {
	for r := off; r < off+n; r++ {
		if r > off {
			b = append(b, ", "...)
		}
		if flat {
			b = appendValue(b, outs[cols[0]], r)
			continue
		}
		b = append(b, '[')
		for j, c := range cols {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = appendValue(b, outs[c], r)
		}
		b = append(b, ']')
	}
	return append(b, ']')
}
