// Package labels holds a fitted classifier's class labels (scikit-learn's
// classes_) and turns class probabilities into the outputs mlbatch writes: the
// label column, typed like classes_, and one proba_<label> column per class.
// Every flavor with scikit-learn-style classifiers (sklearn, the LightGBM and
// XGBoost scikit-learn APIs) shares it, so labels are typed and named alike.
//
// A Classes value is immutable after construction and safe for concurrent use.
package labels

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/pickle"
)

// Kind is the Arrow type labels are written as.
type Kind int

const (
	Int Kind = iota
	Float
	Bool
	String
)

// Classes are a classifier's labels, in the order of its probability columns.
// Exactly one of Ints, Floats, Bools, Strs is set, by Kind.
type Classes struct {
	Kind   Kind
	Ints   []int64
	Floats []float64
	Bools  []bool
	Strs   []string
	// Names are the labels as Python's str() prints them, for proba_<label>.
	Names []string
}

// Len is the number of classes.
func (c *Classes) Len() int { return len(c.Names) }

// FromPickle decodes a classes_ array: int, uint, float, bool, or an object or
// str array of str, int, float or bool labels.
func FromPickle(v any) (*Classes, error) {
	arr, ok := v.(*pickle.NDArray)
	if !ok || arr.DType == nil {
		return nil, fmt.Errorf("classes_ is a %s, want an array", pickle.TypeName(v))
	}
	var vals []any
	switch arr.DType.Kind {
	case 'i', 'u':
		ints, err := arr.Int64s()
		if err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
		for _, x := range ints {
			vals = append(vals, x)
		}
	case 'f':
		fs, err := arr.Float64s()
		if err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
		for _, x := range fs {
			vals = append(vals, x)
		}
	case 'b', 'U', 'S', 'O':
		var err error
		if vals, err = arr.Values(); err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
	default:
		return nil, fmt.Errorf("classes_ has dtype %s, which mlbatch cannot write as labels", arr.DType)
	}
	return FromValues(vals)
}

// FromValues builds Classes from decoded labels that are all str, all int, all
// float or all bool.
func FromValues(vals []any) (*Classes, error) {
	if len(vals) == 0 {
		return nil, errors.New("classes_ is empty")
	}
	c := &Classes{}
	switch vals[0].(type) {
	case string, []byte:
		c.Kind = String
	case int64:
		c.Kind = Int
	case float64:
		c.Kind = Float
	case bool:
		c.Kind = Bool
	default:
		return nil, fmt.Errorf("classes_ holds %s labels, which mlbatch cannot write", pickle.TypeName(vals[0]))
	}
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			if c.Kind == String {
				c.Strs, c.Names = append(c.Strs, x), append(c.Names, x)
				continue
			}
		case []byte:
			if c.Kind == String {
				c.Strs, c.Names = append(c.Strs, string(x)), append(c.Names, string(x))
				continue
			}
		case int64:
			if c.Kind == Int {
				c.Ints, c.Names = append(c.Ints, x), append(c.Names, strconv.FormatInt(x, 10))
				continue
			}
		case float64:
			if c.Kind == Float {
				c.Floats, c.Names = append(c.Floats, x), append(c.Names, PyFloatStr(x))
				continue
			}
		case bool:
			if c.Kind == Bool {
				c.Bools, c.Names = append(c.Bools, x), append(c.Names, pyBoolStr(x))
				continue
			}
		}
		return nil, fmt.Errorf("classes_ mixes label types (%s and %s)", pickle.TypeName(vals[0]), pickle.TypeName(v))
	}
	return c, nil
}

// Equal reports whether label k equals a decoded Python value.
func (c *Classes) Equal(k int, v any) bool {
	switch c.Kind {
	case Int:
		x, ok := v.(int64)
		return ok && x == c.Ints[k]
	case Float:
		switch x := v.(type) {
		case float64:
			return x == c.Floats[k]
		case int64:
			return float64(x) == c.Floats[k]
		}
	case Bool:
		x, ok := v.(bool)
		return ok && x == c.Bools[k]
	case String:
		x, ok := v.(string)
		return ok && x == c.Strs[k]
	}
	return false
}

// ArrowType is the type of the label column.
func (c *Classes) ArrowType() arrow.DataType {
	switch c.Kind {
	case Float:
		return arrow.PrimitiveTypes.Float64
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case String:
		return arrow.BinaryTypes.String
	}
	return arrow.PrimitiveTypes.Int64
}

// Outputs lists a single-output classifier's columns: "prediction", then with
// proba one "proba_<label>" column per class.
func (c *Classes) Outputs(proba bool) []model.Column {
	cols := []model.Column{{Name: "prediction", Type: c.ArrowType()}}
	if proba {
		for _, n := range c.Names {
			cols = append(cols, model.Column{Name: "proba_" + n, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	return cols
}

// Take builds the label array for class indices idx.
func (c *Classes) Take(idx []int, mem memory.Allocator) arrow.Array {
	switch c.Kind {
	case Float:
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		b.Reserve(len(idx))
		for _, k := range idx {
			b.UnsafeAppend(c.Floats[k])
		}
		return b.NewArray()
	case Bool:
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		b.Reserve(len(idx))
		for _, k := range idx {
			b.UnsafeAppend(c.Bools[k])
		}
		return b.NewArray()
	case String:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(len(idx))
		for _, k := range idx {
			b.Append(c.Strs[k])
		}
		return b.NewArray()
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, k := range idx {
		b.UnsafeAppend(c.Ints[k])
	}
	return b.NewArray()
}

// Result turns a row-major probability matrix (rows x Len()) into the outputs:
// labels by numpy's argmax (the first maximum, or the first NaN), then with
// proba one column per class.
func (c *Classes) Result(probs []float64, rows int, proba bool, mem memory.Allocator) []arrow.Array {
	k := c.Len()
	idx := make([]int, rows)
	for i := range rows {
		idx[i] = Argmax(probs[i*k : (i+1)*k])
	}
	out := []arrow.Array{c.Take(idx, mem)}
	if proba {
		out = append(out, Columns(probs, rows, k, mem)...)
	}
	return out
}

// Argmax is numpy's argmax over one row: the first maximum, and the first NaN if
// there is one.
func Argmax(row []float64) int {
	best := 0
	for j, v := range row {
		if math.IsNaN(v) {
			return j
		}
		if v > row[best] {
			best = j
		}
	}
	return best
}

// Columns splits a row-major matrix (rows x k) into k float64 arrays.
func Columns(m []float64, rows, k int, mem memory.Allocator) []arrow.Array {
	out := make([]arrow.Array, k)
	for j := range k {
		b := array.NewFloat64Builder(mem)
		b.Reserve(rows)
		for i := range rows {
			b.UnsafeAppend(m[i*k+j])
		}
		out[j] = b.NewArray()
		b.Release()
	}
	return out
}

// PyFloatStr formats a float as Python's str() does: repr, the shortest round
// trip, with ".0" on integral values and the exponent form outside [1e-4, 1e16).
func PyFloatStr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	if a := math.Abs(x); x != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(x, 'e', -1, 64)
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func pyBoolStr(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
