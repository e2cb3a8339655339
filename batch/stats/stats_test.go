package stats

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestCollector(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "prediction", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	c := New(schema, []string{"prediction", "label", "missing"})
	for b := range 3 {
		rb := array.NewRecordBuilder(mem, schema)
		for i := range 100 {
			v := b*100 + i + 1 // 1..300
			rb.Field(0).(*array.Int64Builder).Append(int64(v))
			switch {
			case v == 7:
				rb.Field(1).AppendNull()
			case v == 8:
				rb.Field(1).(*array.Float64Builder).Append(math.NaN())
			default:
				rb.Field(1).(*array.Float64Builder).Append(float64(v))
			}
			if v%3 == 0 {
				rb.Field(2).(*array.StringBuilder).Append("a")
			} else if v == 10 {
				rb.Field(2).AppendNull()
			} else {
				rb.Field(2).(*array.StringBuilder).Append("b")
			}
		}
		rec := rb.NewRecordBatch()
		c.Observe(rec)
		rec.Release()
		rb.Release()
	}
	cols := c.Columns()
	if len(cols) != 2 {
		t.Fatalf("%d columns", len(cols))
	}
	p := cols[0]
	if p.Count != 299 || p.Nulls != 1 || p.NaNs != 1 || *p.Min != 1 || *p.Max != 300 {
		t.Errorf("prediction: %+v", p)
	}
	wantMean := (300.0*301/2 - 7 - 8) / 298
	if math.Abs(*p.Mean-wantMean) > 1e-12 || *p.P50 != 151 || *p.P01 != 3 || *p.P99 != 298 {
		t.Errorf("mean %v (want %v) p01 %v p50 %v p99 %v", *p.Mean, wantMean, *p.P01, *p.P50, *p.P99)
	}
	l := cols[1]
	if l.Count != 299 || l.Nulls != 1 || len(l.Classes) != 2 || l.Classes[0] != (ClassCount{"b", 199}) || l.Classes[1] != (ClassCount{"a", 100}) || l.Min != nil {
		t.Errorf("label: %+v", l)
	}
}
