package lightgbm

import (
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

type labelKind int

const (
	labelInt labelKind = iota
	labelFloat
	labelBool
	labelString
)

// classes are an LGBMClassifier's labels (classes_), in probability-column order.
type classes struct {
	kind   labelKind
	ints   []int64
	floats []float64
	bools  []bool
	strs   []string
	// names are the labels as Python's str() prints them, for proba_<label>.
	names []string
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

// outputs lists the label column, then with proba one column per class.
func (c *classes) outputs(proba bool) []model.Column {
	cols := []model.Column{{Name: "prediction", Type: c.arrowType()}}
	if proba {
		for _, n := range c.names {
			cols = append(cols, model.Column{Name: "proba_" + n, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	return cols
}

// predict turns transformed scores (k per row) into LGBMClassifier.predict's
// labels and, with proba, predict_proba's columns. A binary model has one score
// p per row and predict_proba returns [1-p, p]; the label is numpy's argmax over
// the probabilities (the first maximum wins a tie).
func (c *classes) predict(scores []float64, k, rows int, proba bool, mem memory.Allocator) ([]arrow.Array, error) {
	nc := len(c.names)
	probs := scores
	if k == 1 {
		probs = make([]float64, rows*2)
		for i, p := range scores {
			probs[2*i] = 1 - p
			probs[2*i+1] = p
		}
	}
	idx := make([]int, rows)
	for i := range rows {
		row := probs[i*nc : (i+1)*nc]
		best := 0
		for j := 1; j < nc; j++ {
			// numpy's argmax: NaN wins at once, otherwise the first strict max.
			if math.IsNaN(row[best]) {
				break
			}
			if row[j] > row[best] || math.IsNaN(row[j]) {
				best = j
			}
		}
		idx[i] = best
	}
	out := []arrow.Array{c.labels(idx, mem)}
	if proba {
		out = append(out, columns(probs, nc, rows, mem)...)
	}
	return out, nil
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

// pyFloatStr formats a float as Python's str() does (repr: shortest round trip,
// ".0" on integral values, exponent form outside [1e-4, 1e16)).
func pyFloatStr(x float64) string {
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
