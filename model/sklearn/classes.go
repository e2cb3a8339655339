package sklearn

import (
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

// labelKind is the Arrow type a classifier's labels are written as.
type labelKind int

const (
	labelInt labelKind = iota
	labelFloat
	labelBool
	labelString
)

// classes is a fitted classes_ array: the labels a classifier predicts, in the
// order of its probability columns.
type classes struct {
	kind   labelKind
	ints   []int64
	floats []float64
	bools  []bool
	strs   []string
	// names are the labels as Python's str() prints them, for proba_<label>.
	names []string
}

func (c *classes) len() int { return len(c.names) }

// readClasses decodes a classes_ array (int, uint, float, bool, or object/str).
func readClasses(v any) (*classes, error) {
	arr, ok := v.(*pickle.NDArray)
	if !ok {
		return nil, fmt.Errorf("classes_ is a %s, want an array", pickle.TypeName(v))
	}
	if arr.DType == nil {
		return nil, fmt.Errorf("classes_ has no dtype")
	}
	c := &classes{}
	switch arr.DType.Kind {
	case 'i', 'u':
		vals, err := arr.Int64s()
		if err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
		c.kind, c.ints = labelInt, vals
		for _, x := range vals {
			c.names = append(c.names, strconv.FormatInt(x, 10))
		}
	case 'f':
		vals, err := arr.Float64s()
		if err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
		c.kind, c.floats = labelFloat, vals
		for _, x := range vals {
			c.names = append(c.names, pyFloatStr(x))
		}
	case 'b':
		vals, err := arr.Values()
		if err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
		c.kind = labelBool
		for _, x := range vals {
			b, _ := x.(bool)
			c.bools = append(c.bools, b)
			c.names = append(c.names, pyBoolStr(b))
		}
	case 'U', 'S', 'O':
		vals, err := arr.Values()
		if err != nil {
			return nil, fmt.Errorf("classes_: %w", err)
		}
		if err := c.fromObjects(vals); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("classes_ has dtype %s, which mlbatch cannot write as labels", arr.DType)
	}
	if c.len() == 0 {
		return nil, fmt.Errorf("classes_ is empty")
	}
	return c, nil
}

// fromObjects reads an object array of labels: all str, all int or all bool.
func (c *classes) fromObjects(vals []any) error {
	if len(vals) == 0 {
		return fmt.Errorf("classes_ is empty")
	}
	switch vals[0].(type) {
	case string, []byte:
		c.kind = labelString
	case int64:
		c.kind = labelInt
	case float64:
		c.kind = labelFloat
	case bool:
		c.kind = labelBool
	default:
		return fmt.Errorf("classes_ holds %s labels, which mlbatch cannot write", pickle.TypeName(vals[0]))
	}
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			if c.kind == labelString {
				c.strs = append(c.strs, x)
				c.names = append(c.names, x)
				continue
			}
		case []byte:
			if c.kind == labelString {
				c.strs = append(c.strs, string(x))
				c.names = append(c.names, string(x))
				continue
			}
		case int64:
			if c.kind == labelInt {
				c.ints = append(c.ints, x)
				c.names = append(c.names, strconv.FormatInt(x, 10))
				continue
			}
		case float64:
			if c.kind == labelFloat {
				c.floats = append(c.floats, x)
				c.names = append(c.names, pyFloatStr(x))
				continue
			}
		case bool:
			if c.kind == labelBool {
				c.bools = append(c.bools, x)
				c.names = append(c.names, pyBoolStr(x))
				continue
			}
		}
		return fmt.Errorf("classes_ mixes label types (%s and %s)", pickle.TypeName(vals[0]), pickle.TypeName(v))
	}
	return nil
}

func (c *classes) arrowType() arrow.DataType {
	switch c.kind {
	case labelFloat:
		return arrow.PrimitiveTypes.Float64
	case labelBool:
		return arrow.FixedWidthTypes.Boolean
	case labelString:
		return arrow.BinaryTypes.String
	}
	return arrow.PrimitiveTypes.Int64
}

// labels builds the label array for class indices idx.
func (c *classes) labels(idx []int, mem memory.Allocator) arrow.Array {
	switch c.kind {
	case labelFloat:
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		b.Reserve(len(idx))
		for _, k := range idx {
			b.UnsafeAppend(c.floats[k])
		}
		return b.NewArray()
	case labelBool:
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		b.Reserve(len(idx))
		for _, k := range idx {
			b.UnsafeAppend(c.bools[k])
		}
		return b.NewArray()
	case labelString:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(len(idx))
		for _, k := range idx {
			b.Append(c.strs[k])
		}
		return b.NewArray()
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, k := range idx {
		b.UnsafeAppend(c.ints[k])
	}
	return b.NewArray()
}

// pyFloatStr formats a float as Python's str() does: repr, shortest round trip,
// with ".0" on integral values and exponents outside [1e-4, 1e16).
func pyFloatStr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	abs := math.Abs(x)
	if x != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(x, 'e', -1, 64)
		// Go writes e-05 / e+16; Python writes e-05 / e+16 as well.
		return s
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
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

// classifierOutputs lists a single-output classifier's columns: the label, then
// with proba one probability column per class.
func classifierOutputs(c *classes, opts model.LoadOptions) []model.Column {
	cols := []model.Column{{Name: "prediction", Type: c.arrowType()}}
	if opts.Proba {
		for _, n := range c.names {
			cols = append(cols, model.Column{Name: "proba_" + n, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	return cols
}

// multiClassifierOutputs lists a multi-output classifier's columns:
// prediction_<k> per output, then proba_<k>_<label> per output and class.
func multiClassifierOutputs(cs []*classes, opts model.LoadOptions) []model.Column {
	var cols []model.Column
	for k, c := range cs {
		cols = append(cols, model.Column{Name: "prediction_" + strconv.Itoa(k), Type: c.arrowType()})
	}
	if opts.Proba {
		for k, c := range cs {
			for _, n := range c.names {
				cols = append(cols, model.Column{Name: "proba_" + strconv.Itoa(k) + "_" + n, Type: arrow.PrimitiveTypes.Float64})
			}
		}
	}
	return cols
}

// probaResult turns a row-major probability matrix (rows x K) into the classifier
// outputs: labels by numpy's argmax (the first maximum wins), then, with proba,
// one column per class.
func probaResult(c *classes, proba []float64, rows int, opts model.LoadOptions, mem memory.Allocator) []arrow.Array {
	k := c.len()
	idx := make([]int, rows)
	for i := range rows {
		idx[i] = argmax(proba[i*k : (i+1)*k])
	}
	out := []arrow.Array{c.labels(idx, mem)}
	if opts.Proba {
		out = append(out, columnsOf(proba, rows, k, mem)...)
	}
	return out
}

// argmax is numpy's argmax over one row: the first maximum, and the first NaN if
// there is one.
func argmax(row []float64) int {
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

// columnsOf splits a row-major matrix into k float64 arrays.
func columnsOf(m []float64, rows, k int, mem memory.Allocator) []arrow.Array {
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

// float64Array builds one float64 array from values.
func float64Array(vals []float64, mem memory.Allocator) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}
