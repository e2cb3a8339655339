package model

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Float64s views a numeric or boolean array as float64 values, the way pandas hands
// a column to numpy: nulls become NaN, booleans 0 and 1. A float64 array without
// nulls is returned in place (no copy; do not modify it); anything else is copied.
func Float64s(a arrow.Array) ([]float64, error) {
	n := a.Len()
	if f, ok := a.(*array.Float64); ok && f.NullN() == 0 {
		return f.Float64Values(), nil
	}
	out := make([]float64, n)
	nan := math.NaN()
	switch c := a.(type) {
	case *array.Float64:
		copy(out, c.Float64Values())
	case *array.Float32:
		for i, v := range c.Float32Values() {
			out[i] = float64(v)
		}
	case *array.Int64:
		for i, v := range c.Int64Values() {
			out[i] = float64(v)
		}
	case *array.Int32:
		for i, v := range c.Int32Values() {
			out[i] = float64(v)
		}
	case *array.Int16:
		for i, v := range c.Int16Values() {
			out[i] = float64(v)
		}
	case *array.Int8:
		for i, v := range c.Int8Values() {
			out[i] = float64(v)
		}
	case *array.Uint64:
		for i, v := range c.Uint64Values() {
			out[i] = float64(v)
		}
	case *array.Uint32:
		for i, v := range c.Uint32Values() {
			out[i] = float64(v)
		}
	case *array.Uint16:
		for i, v := range c.Uint16Values() {
			out[i] = float64(v)
		}
	case *array.Uint8:
		for i, v := range c.Uint8Values() {
			out[i] = float64(v)
		}
	case *array.Boolean:
		for i := range n {
			if c.Value(i) {
				out[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("type %s is not numeric", a.DataType())
	}
	if a.NullN() > 0 {
		for i := range n {
			if a.IsNull(i) {
				out[i] = nan
			}
		}
	}
	return out, nil
}
