package sklearn

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
	"github.com/mlbatch/mlbatch/model/labels"
)

// classes are a fitted classes_ array (see model/labels), with the short method
// names this package's estimators use.
type classes struct{ *labels.Classes }

func (c *classes) len() int                                           { return c.Len() }
func (c *classes) arrowType() arrow.DataType                          { return c.ArrowType() }
func (c *classes) labels(idx []int, mem memory.Allocator) arrow.Array { return c.Take(idx, mem) }

// readClasses decodes a classes_ array (int, uint, float, bool, or object/str).
func readClasses(v any) (*classes, error) {
	l, err := labels.FromPickle(v)
	if err != nil {
		return nil, err
	}
	return &classes{l}, nil
}

// classifierOutputs lists a single-output classifier's columns: the label, then
// with proba one probability column per class.
func classifierOutputs(c *classes, opts model.LoadOptions) []model.Column {
	return c.Outputs(opts.Proba)
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
			for _, n := range c.Names {
				cols = append(cols, model.Column{Name: "proba_" + strconv.Itoa(k) + "_" + n, Type: arrow.PrimitiveTypes.Float64})
			}
		}
	}
	return cols
}

// probaResult turns a row-major probability matrix (rows x K) into the classifier
// outputs: labels by numpy's argmax, then, with proba, one column per class.
func probaResult(c *classes, proba []float64, rows int, opts model.LoadOptions, mem memory.Allocator) []arrow.Array {
	return c.Result(proba, rows, opts.Proba, mem)
}

// argmax is numpy's argmax over one row.
func argmax(row []float64) int { return labels.Argmax(row) }

// columnsOf splits a row-major matrix into k float64 arrays.
func columnsOf(m []float64, rows, k int, mem memory.Allocator) []arrow.Array {
	return labels.Columns(m, rows, k, mem)
}

// float64Array builds one float64 array from values.
func float64Array(vals []float64, mem memory.Allocator) arrow.Array {
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, nil)
	return b.NewArray()
}
