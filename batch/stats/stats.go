package stats

import (
	"math"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/mlbatch/mlbatch/internal/sketch"
)

// RankError is the stated normalized rank error of the reported quantiles.
const RankError = 0.015

// MaxClasses caps the distinct labels counted per column; past it the counts stop
// growing and Column.ClassesTruncated is set.
const MaxClasses = 1000

// Column is the summary of one output column. Pointers are nil when the column had
// no value to summarise (all null, or not numeric).
type Column struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Count int64  `json:"count"` // non-null values, NaNs included
	Nulls int64  `json:"nulls"`
	NaNs  int64  `json:"nans"`

	Min  *float64 `json:"min,omitempty"`
	Max  *float64 `json:"max,omitempty"`
	Mean *float64 `json:"mean,omitempty"`
	P01  *float64 `json:"p01,omitempty"`
	P50  *float64 `json:"p50,omitempty"`
	P99  *float64 `json:"p99,omitempty"`

	// Classes counts each label of a label column (integer, boolean or string).
	Classes          []ClassCount `json:"classes,omitempty"`
	ClassesTruncated bool         `json:"classes_truncated,omitempty"`
}

// ClassCount is one label's count.
type ClassCount struct {
	Label string `json:"label"`
	Count int64  `json:"count"`
}

type colAcc struct {
	name, typ   string
	idx         int
	numeric     bool
	labels      bool
	count, null int64
	nan         int64
	finite      int64
	min, max    float64
	sum, comp   float64 // Neumaier-compensated sum of the non-NaN values
	sk          *sketch.KLL
	classes     map[string]int64
	truncated   bool
}

// Collector accumulates statistics for chosen columns of a schema.
type Collector struct {
	cols []*colAcc
}

// New returns a Collector for the named columns of schema (absent names are
// ignored).
func New(schema *arrow.Schema, names []string) *Collector {
	c := &Collector{}
	for _, name := range names {
		idx := schema.FieldIndices(name)
		if len(idx) == 0 {
			continue
		}
		f := schema.Field(idx[0])
		a := &colAcc{name: name, typ: f.Type.String(), idx: idx[0], min: math.Inf(1), max: math.Inf(-1)}
		switch f.Type.ID() {
		case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
			a.numeric = true
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
			arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
			a.numeric, a.labels = true, true
		case arrow.BOOL, arrow.STRING, arrow.LARGE_STRING:
			a.labels = true
		}
		if a.numeric {
			a.sk = sketch.New()
		}
		if a.labels {
			a.classes = map[string]int64{}
		}
		c.cols = append(c.cols, a)
	}
	return c
}

// Observe adds one batch. It does not retain rec.
func (c *Collector) Observe(rec arrow.RecordBatch) {
	for _, a := range c.cols {
		if a.idx < int(rec.NumCols()) {
			a.observe(rec.Column(a.idx))
		}
	}
}

func (a *colAcc) addNum(v float64) {
	if math.IsNaN(v) {
		a.nan++
		return
	}
	a.finite++
	a.min = min(a.min, v)
	a.max = max(a.max, v)
	// Neumaier summation keeps the mean exact to float64 rounding over long runs.
	t := a.sum + v
	if math.Abs(a.sum) >= math.Abs(v) {
		a.comp += (a.sum - t) + v
	} else {
		a.comp += (v - t) + a.sum
	}
	a.sum = t
	a.sk.Add(v)
}

func (a *colAcc) addLabel(s string) {
	if n, ok := a.classes[s]; ok {
		a.classes[s] = n + 1
		return
	}
	if len(a.classes) >= MaxClasses {
		a.truncated = true
		return
	}
	a.classes[s] = 1
}

func (a *colAcc) observe(arr arrow.Array) {
	n := arr.Len()
	nulls := arr.NullN()
	a.null += int64(nulls)
	a.count += int64(n - nulls)
	valid := func(i int) bool { return nulls == 0 || arr.IsValid(i) }
	switch arr := arr.(type) {
	case *array.Float64:
		for i, v := range arr.Float64Values() {
			if valid(i) {
				a.addNum(v)
			}
		}
	case *array.Float32:
		for i, v := range arr.Float32Values() {
			if valid(i) {
				a.addNum(float64(v))
			}
		}
	case *array.Int64:
		for i, v := range arr.Int64Values() {
			if valid(i) {
				a.addNum(float64(v))
				a.addLabel(strconv.FormatInt(v, 10))
			}
		}
	case *array.Int32:
		for i, v := range arr.Int32Values() {
			if valid(i) {
				a.addNum(float64(v))
				a.addLabel(strconv.FormatInt(int64(v), 10))
			}
		}
	case *array.Boolean:
		for i := range n {
			if valid(i) {
				a.addLabel(strconv.FormatBool(arr.Value(i)))
			}
		}
	case *array.String:
		for i := range n {
			if valid(i) {
				a.addLabel(arr.Value(i))
			}
		}
	case *array.LargeString:
		for i := range n {
			if valid(i) {
				a.addLabel(arr.Value(i))
			}
		}
	default:
		// Other integer widths: through the generic value accessor.
		if a.numeric {
			for i := range n {
				if !valid(i) {
					continue
				}
				v, err := strconv.ParseFloat(arr.ValueStr(i), 64)
				if err == nil {
					a.addNum(v)
					if a.labels {
						a.addLabel(arr.ValueStr(i))
					}
				}
			}
		}
	}
}

// Columns returns the statistics gathered so far, in the order asked for in New.
func (c *Collector) Columns() []Column {
	out := make([]Column, 0, len(c.cols))
	for _, a := range c.cols {
		col := Column{Name: a.name, Type: a.typ, Count: a.count, Nulls: a.null, NaNs: a.nan}
		if a.numeric && a.finite > 0 {
			q := a.sk.Quantiles(0.01, 0.5, 0.99)
			col.Min, col.Max, col.Mean = finite(a.min), finite(a.max), finite((a.sum+a.comp)/float64(a.finite))
			col.P01, col.P50, col.P99 = finite(q[0]), finite(q[1]), finite(q[2])
		}
		if a.labels {
			for l, n := range a.classes {
				col.Classes = append(col.Classes, ClassCount{Label: l, Count: n})
			}
			sort.Slice(col.Classes, func(i, j int) bool {
				x, y := col.Classes[i], col.Classes[j]
				if x.Count != y.Count {
					return x.Count > y.Count
				}
				return x.Label < y.Label
			})
			col.ClassesTruncated = a.truncated
		}
		out = append(out, col)
	}
	return out
}

// finite returns a pointer to v, or nil for an infinity or NaN (which JSON cannot
// carry).
func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
