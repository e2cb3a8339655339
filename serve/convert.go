package serve

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/readers"
)

// Column conversion: a frame column becomes one Arrow array of the type the model
// takes for that input.
//
// A JSON number, like a CSV cell, has no width of its own, so a column is always
// parsed straight to the model's type, the way `mlbatch score` parses a CSV column
// that feeds a signature column (and the way MLflow casts a parsed request to its
// signature before predicting). The rules:
//
//   - float64: JSON numbers (and NaN, Infinity), parsed from their text with
//     correct rounding. float32: parsed as float64, then rounded to float32, as
//     pandas' astype does.
//   - integers: integral numbers in range. 3.0 and 1e3 are integral; 1.5 is
//     refused, where pandas' astype would silently truncate it.
//   - bool: true and false. A model without a signature also takes booleans as
//     1 and 0 in a numeric column, as scikit-learn does.
//   - string: JSON strings; binary: base64 strings (MLflow's encoding); datetime:
//     ISO 8601 strings.
//   - null and a missing cell (a key a record lacks) are nulls; the model turns
//     them into NaN where it takes NaN, or reports the row.
//
// Everything else, a string in a numeric column for instance, is refused with the
// column, row and value, rather than coerced.

// cellError is a cell that does not fit its column's type.
type cellError struct {
	row int // 0-based
	val string
	msg string
}

func (e *cellError) Error() string {
	return fmt.Sprintf("row %d: value %s: %s", e.row+1, e.val, e.msg)
}

// isNAText reports pandas.read_csv's default missing-value markers, the empty
// cell included (the CSV reader's rule).
func isNAText(c []byte) bool { return len(c) == 0 || readers.IsNA(c) }

func trimText(c []byte) []byte { return readers.TrimSpace(c) }

// bstr views b as a string without copying; the string must not outlive b's use.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseNum parses a JSON number literal or a CSV cell as float64. CSV cells also
// take inf/infinity in any case (pandas does); Go-only syntaxes (hex floats, digit
// separators) are refused.
func parseNum(v *value) (float64, bool) {
	s := v.s
	if v.k == kText {
		s = trimText(s)
		if len(s) == 0 {
			return 0, false
		}
		d := s
		if d[0] == '-' || d[0] == '+' {
			d = d[1:]
		}
		if len(d) == 0 {
			return 0, false
		}
		if d[0] >= 'A' {
			if strings.EqualFold(bstr(d), "inf") || strings.EqualFold(bstr(d), "infinity") {
				if s[0] == '-' {
					return math.Inf(-1), true
				}
				return math.Inf(1), true
			}
			return 0, false
		}
		if strings.ContainsAny(bstr(d), "xX_pP") {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(bstr(s), 64)
	if err != nil {
		// Out of range: Python's float() gives inf for 1e400, strconv too (with
		// ErrRange); anything else is not a number.
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func parseBoolText(c []byte) (v, ok bool) {
	switch string(trimText(c)) {
	case "True", "true", "TRUE":
		return true, true
	case "False", "false", "FALSE":
		return false, true
	}
	return false, false
}

// isNull reports a cell that becomes a null: a missing cell, JSON null, or a CSV
// missing-value marker.
func isNull(v *value) bool {
	if v == nil || v.k == kNull {
		return true
	}
	return v.k == kText && isNAText(trimText(v.s))
}

func show(v *value) string {
	switch v.k {
	case kNumber:
		return string(v.s)
	case kTrue:
		return "true"
	case kFalse:
		return "false"
	case kString, kText:
		s := string(v.s)
		if len(s) > 64 {
			s = s[:64] + "..."
		}
		return strconv.Quote(s)
	case kArray:
		return "a list"
	case kObject:
		return "a dictionary"
	}
	return "null"
}

// buildColumn converts column c of f into an array of type dt. lenient lets
// booleans feed numeric columns (models without a signature, as scikit-learn
// converts them).
func buildColumn(mem memory.Allocator, f *frame, c int, dt arrow.DataType, lenient bool) (arrow.Array, error) {
	n := f.rows
	bad := func(r int, v *value, msg string) error {
		return &cellError{row: r, val: show(v), msg: msg}
	}
	if dt == nil {
		dt = inferType(f, c)
	}
	switch dt.ID() {
	case arrow.FLOAT64, arrow.FLOAT32:
		var b64 *array.Float64Builder
		var b32 *array.Float32Builder
		if dt.ID() == arrow.FLOAT64 {
			b64 = array.NewFloat64Builder(mem)
			defer b64.Release()
			b64.Reserve(n)
		} else {
			b32 = array.NewFloat32Builder(mem)
			defer b32.Release()
			b32.Reserve(n)
		}
		for r := range n {
			v := f.cell(r, c)
			var x float64
			switch {
			case isNull(v):
				if b64 != nil {
					b64.UnsafeAppendBoolToBitmap(false)
				} else {
					b32.UnsafeAppendBoolToBitmap(false)
				}
				continue
			case v.k == kNumber || v.k == kText:
				var ok bool
				if x, ok = parseNum(v); !ok {
					if bv, isBool := parseBoolText(v.s); lenient && v.k == kText && isBool {
						x = b2f(bv)
						break
					}
					return nil, bad(r, v, "not a number")
				}
			case lenient && (v.k == kTrue || v.k == kFalse):
				x = b2f(v.k == kTrue)
			default:
				return nil, bad(r, v, "a "+v.kindName()+" is not a number")
			}
			if b64 != nil {
				b64.UnsafeAppend(x)
			} else {
				b32.UnsafeAppend(float32(x))
			}
		}
		if b64 != nil {
			return b64.NewArray(), nil
		}
		return b32.NewArray(), nil

	case arrow.INT64, arrow.INT32, arrow.INT16, arrow.INT8,
		arrow.UINT64, arrow.UINT32, arrow.UINT16, arrow.UINT8:
		bits := dt.(arrow.FixedWidthDataType).BitWidth()
		unsigned := dt.ID() == arrow.UINT64 || dt.ID() == arrow.UINT32 || dt.ID() == arrow.UINT16 || dt.ID() == arrow.UINT8
		bld := array.NewBuilder(mem, dt)
		defer bld.Release()
		bld.Reserve(n)
		for r := range n {
			v := f.cell(r, c)
			if isNull(v) {
				bld.AppendNull()
				continue
			}
			var iv int64
			var uv uint64
			switch v.k {
			case kNumber, kText:
				s := v.s
				if v.k == kText {
					s = trimText(s)
				}
				var err error
				if unsigned {
					uv, err = strconv.ParseUint(bstr(s), 10, bits)
				} else {
					iv, err = strconv.ParseInt(bstr(s), 10, bits)
				}
				if err != nil {
					// An integral float (3.0, 1e3) in range is that integer.
					x, ok := parseNum(v)
					if !ok || x != math.Trunc(x) || math.IsInf(x, 0) {
						return nil, bad(r, v, "not an integer")
					}
					if unsigned {
						if x < 0 || x >= math.Ldexp(1, bits) {
							return nil, bad(r, v, "out of range for "+dt.String())
						}
						uv = uint64(x)
					} else {
						if x < -math.Ldexp(1, bits-1) || x >= math.Ldexp(1, bits-1) {
							return nil, bad(r, v, "out of range for "+dt.String())
						}
						iv = int64(x)
					}
				}
			case kTrue, kFalse:
				if !lenient {
					return nil, bad(r, v, "a boolean is not an integer")
				}
				iv, uv = int64(b2f(v.k == kTrue)), uint64(b2f(v.k == kTrue))
			default:
				return nil, bad(r, v, "a "+v.kindName()+" is not an integer")
			}
			switch b := bld.(type) {
			case *array.Int64Builder:
				b.UnsafeAppend(iv)
			case *array.Int32Builder:
				b.UnsafeAppend(int32(iv))
			case *array.Int16Builder:
				b.UnsafeAppend(int16(iv))
			case *array.Int8Builder:
				b.UnsafeAppend(int8(iv))
			case *array.Uint64Builder:
				b.UnsafeAppend(uv)
			case *array.Uint32Builder:
				b.UnsafeAppend(uint32(uv))
			case *array.Uint16Builder:
				b.UnsafeAppend(uint16(uv))
			case *array.Uint8Builder:
				b.UnsafeAppend(uint8(uv))
			}
		}
		return bld.NewArray(), nil

	case arrow.BOOL:
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		b.Reserve(n)
		for r := range n {
			v := f.cell(r, c)
			switch {
			case isNull(v):
				b.UnsafeAppendBoolToBitmap(false)
			case v.k == kTrue || v.k == kFalse:
				b.UnsafeAppend(v.k == kTrue)
			case v.k == kText:
				bv, ok := parseBoolText(v.s)
				if !ok {
					return nil, bad(r, v, "not a boolean (True or False)")
				}
				b.UnsafeAppend(bv)
			default:
				return nil, bad(r, v, "a "+v.kindName()+" is not a boolean")
			}
		}
		return b.NewArray(), nil

	case arrow.STRING, arrow.LARGE_STRING:
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		b.Reserve(n)
		for r := range n {
			v := f.cell(r, c)
			switch {
			case v == nil || v.k == kNull || (v.k == kText && isNAText(v.s)):
				b.AppendNull()
			case v.k == kString || v.k == kText:
				switch sb := b.(type) {
				case *array.StringBuilder:
					sb.BinaryBuilder.Append(v.s)
				case *array.LargeStringBuilder:
					sb.BinaryBuilder.Append(v.s)
				}
			default:
				return nil, bad(r, v, "a "+v.kindName()+" is not a string")
			}
		}
		return b.NewArray(), nil

	case arrow.BINARY, arrow.LARGE_BINARY:
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		b.Reserve(n)
		for r := range n {
			v := f.cell(r, c)
			switch {
			case v == nil || v.k == kNull:
				b.AppendNull()
			case v.k == kString:
				raw, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, string(v.s)))
				if err != nil {
					return nil, bad(r, v, "not base64 (MLflow sends binary values base64-encoded)")
				}
				b.(*array.BinaryBuilder).Append(raw)
			case v.k == kText:
				b.(*array.BinaryBuilder).Append(v.s)
			default:
				return nil, bad(r, v, "a "+v.kindName()+" is not a base64 string")
			}
		}
		return b.NewArray(), nil

	case arrow.TIMESTAMP:
		unit := dt.(*arrow.TimestampType).Unit
		b := array.NewTimestampBuilder(mem, dt.(*arrow.TimestampType))
		defer b.Release()
		for r := range n {
			v := f.cell(r, c)
			if isNull(v) {
				b.AppendNull()
				continue
			}
			if v.k != kString && v.k != kText {
				return nil, bad(r, v, "a "+v.kindName()+" is not a datetime string")
			}
			t, ok := parseTime(string(trimText(v.s)))
			if !ok {
				return nil, bad(r, v, "not an ISO 8601 datetime")
			}
			ts, err := arrow.TimestampFromTime(t, unit)
			if err != nil {
				return nil, bad(r, v, err.Error())
			}
			b.Append(ts)
		}
		return b.NewArray(), nil
	}
	return nil, fmt.Errorf("the model takes %s, which mlbatch serve cannot read from a request", dt)
}

// buildFloat64 converts column c of f into a float64 array over vals (len
// f.rows, Go memory), with the rules of buildColumn.
func buildFloat64(f *frame, c int, lenient bool, vals []float64) (arrow.Array, error) {
	n := f.rows
	var valid []byte
	nulls := 0
	for r := range n {
		v := f.cell(r, c)
		var x float64
		switch {
		case isNull(v):
			if valid == nil {
				valid = make([]byte, (n+7)/8)
				for i := range valid {
					valid[i] = 0xff
				}
			}
			valid[r/8] &^= 1 << (r % 8)
			nulls++
			continue
		case v.k == kNumber || v.k == kText:
			var ok bool
			if x, ok = parseNum(v); !ok {
				if bv, isBool := parseBoolText(v.s); lenient && v.k == kText && isBool {
					x = b2f(bv)
					break
				}
				return nil, &cellError{row: r, val: show(v), msg: "not a number"}
			}
		case lenient && (v.k == kTrue || v.k == kFalse):
			x = b2f(v.k == kTrue)
		default:
			return nil, &cellError{row: r, val: show(v), msg: "a " + v.kindName() + " is not a number"}
		}
		vals[r] = x
	}
	var vb *memory.Buffer
	if valid != nil {
		vb = memory.NewBufferBytes(valid)
	}
	data := array.NewData(arrow.PrimitiveTypes.Float64, n,
		[]*memory.Buffer{vb, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(vals))}, nil, nulls, 0)
	defer data.Release()
	return array.NewFloat64Data(data), nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func dropSpace(r rune) rune {
	switch r {
	case ' ', '\n', '\r', '\t':
		return -1
	}
	return r
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// numpyName is the numpy dtype MLflow names in its conversion errors.
func numpyName(dt arrow.DataType) string {
	if dt == nil {
		return "object"
	}
	switch dt.ID() {
	case arrow.FLOAT64:
		return "float64"
	case arrow.FLOAT32:
		return "float32"
	case arrow.INT64:
		return "int64"
	case arrow.INT32:
		return "int32"
	case arrow.BOOL:
		return "bool"
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return "object"
	case arrow.TIMESTAMP:
		return "datetime64[ns]"
	}
	return dt.String()
}
