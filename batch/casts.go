package batch

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// CastAllowed reports whether an input column of type from may feed a signature
// column of type to, with MLflow's rules (mlflow.models.utils._enforce_mlflow_datatype):
// the same type passes; within a kind (signed int, unsigned int, float) a value
// may only widen; an unsigned int may widen into a larger signed int; an int of at
// most 4 bytes may become a double; everything else (int64 -> double, double ->
// float, double -> long, int -> float, bool -> number) is refused because it could
// change values. Strings take only strings, binaries only binaries, datetimes any
// timestamp precision. A nil error means allowed.
func CastAllowed(from, to arrow.DataType) error {
	if arrow.TypeEqual(from, to) {
		return nil
	}
	fk, fs := kindOf(from)
	tk, ts := kindOf(to)
	ok := false
	switch {
	case fk == 0 || tk == 0:
	case tk == 's' || tk == 'B' || tk == 'b' || tk == 'M':
		ok = fk == tk
	case fk == tk:
		ok = fs <= ts
	case fk == 'u' && tk == 'i':
		ok = fs < ts
	case (fk == 'i' || fk == 'u') && tk == 'f' && ts == 8:
		ok = fs <= 6 // in practice: 1, 2 and 4-byte ints
	}
	if ok {
		return nil
	}
	return fmt.Errorf("cannot safely convert %s to %s (MLflow's signature rules)", from, to)
}

// kindOf is numpy's kind letter and item size for an Arrow type: 'i' signed,
// 'u' unsigned, 'f' float, 'b' bool, 's' string, 'B' binary, 'M' datetime.
func kindOf(t arrow.DataType) (byte, int) {
	switch t.ID() {
	case arrow.INT8:
		return 'i', 1
	case arrow.INT16:
		return 'i', 2
	case arrow.INT32:
		return 'i', 4
	case arrow.INT64:
		return 'i', 8
	case arrow.UINT8:
		return 'u', 1
	case arrow.UINT16:
		return 'u', 2
	case arrow.UINT32:
		return 'u', 4
	case arrow.UINT64:
		return 'u', 8
	case arrow.FLOAT16:
		return 'f', 2
	case arrow.FLOAT32:
		return 'f', 4
	case arrow.FLOAT64:
		return 'f', 8
	case arrow.BOOL:
		return 'b', 1
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return 's', 0
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return 'B', 0
	case arrow.TIMESTAMP, arrow.DATE32, arrow.DATE64:
		return 'M', 8
	}
	return 0, 0
}
