package batch

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestCastAllowed: the conversions MLflow's own _enforce_schema tests exercise,
// written from what they check (widening allowed, anything that may change a
// value refused).
func TestCastAllowed(t *testing.T) {
	i8, i16, i32, i64 := arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64
	u8, u32, u64 := arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64
	f32, f64 := arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64
	b, s, bin := arrow.FixedWidthTypes.Boolean, arrow.BinaryTypes.String, arrow.BinaryTypes.Binary
	tsNs := &arrow.TimestampType{Unit: arrow.Nanosecond}
	tsUs := &arrow.TimestampType{Unit: arrow.Microsecond}
	cases := []struct {
		from, to arrow.DataType
		ok       bool
	}{
		// same type
		{f64, f64, true}, {i64, i64, true}, {s, s, true}, {b, b, true},
		// ints widen to long; int32 is MLflow's "integer"
		{i8, i64, true}, {i16, i64, true}, {i32, i64, true}, {i8, i32, true},
		{i64, i32, false},
		// small ints to double; int64 to double refused
		{i8, f64, true}, {i16, f64, true}, {i32, f64, true}, {u8, f64, true}, {u32, f64, true},
		{i64, f64, false}, {u64, f64, false},
		// float widens, never narrows
		{f32, f64, true}, {f64, f32, false},
		// floats never become ints
		{f64, i64, false}, {f32, i32, false}, {f64, i32, false},
		// ints never become float32
		{i32, f32, false}, {i8, f32, false},
		// unsigned into a strictly larger signed int
		{u8, i32, true}, {u32, i64, true}, {u32, i32, false}, {u64, i64, false},
		// signed never into unsigned of another kind
		{i8, u64, false},
		// bool is its own kind
		{b, f64, false}, {b, i64, false}, {i64, b, false},
		// strings and binaries
		{s, f64, false}, {f64, s, false}, {i64, s, false}, {bin, s, false}, {s, bin, false}, {bin, bin, true},
		// datetime precision is ignored
		{tsUs, tsNs, true}, {i64, tsNs, false},
	}
	for _, c := range cases {
		err := CastAllowed(c.from, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%s -> %s: got %v, want allowed=%v", c.from, c.to, err, c.ok)
		}
	}
}
