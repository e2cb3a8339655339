package readers

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// colKind is the Arrow type a CSV column decodes to.
type colKind uint8

const (
	kindFloat64 colKind = iota
	kindFloat32
	kindInt64
	kindInt32
	kindBool
	kindString
)

func (k colKind) dataType() arrow.DataType {
	switch k {
	case kindFloat32:
		return arrow.PrimitiveTypes.Float32
	case kindInt64:
		return arrow.PrimitiveTypes.Int64
	case kindInt32:
		return arrow.PrimitiveTypes.Int32
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindString:
		return arrow.BinaryTypes.String
	}
	return arrow.PrimitiveTypes.Float64
}

// kindOf maps a requested Arrow type to a column kind.
func kindOf(dt arrow.DataType) (colKind, bool) {
	switch dt.ID() {
	case arrow.FLOAT64:
		return kindFloat64, true
	case arrow.FLOAT32:
		return kindFloat32, true
	case arrow.INT64:
		return kindInt64, true
	case arrow.INT32:
		return kindInt32, true
	case arrow.BOOL:
		return kindBool, true
	case arrow.STRING:
		return kindString, true
	}
	return 0, false
}

// rawRows is one batch of scanned records: nc fields per row, laid out as described
// in csvscan.go.
type rawRows struct {
	data []byte
	ends []uint32
	nc   int
	n    int
}

func (r *rawRows) cell(i, j int) []byte {
	k := i*r.nc + j
	s := 0
	if k > 0 {
		s = int(r.ends[k-1]) + 1
	}
	return r.data[s:r.ends[k]]
}

// IsNA reports whether a cell is one of pandas.read_csv's default missing-value
// markers (keep_default_na=True); the empty cell is checked by the callers. The
// server's CSV and JSON bodies use the same rule.
func IsNA(c []byte) bool { return isNA(c) }

func isNA(c []byte) bool {
	if len(c) < 2 || len(c) > 8 {
		return false
	}
	switch string(c) {
	case "NA", "N/A", "n/a", "NULL", "null", "NaN", "-NaN", "nan", "-nan", "None",
		"<NA>", "#NA", "#N/A", "#N/A N/A", "-1.#IND", "1.#IND", "-1.#QNAN", "1.#QNAN":
		return true
	}
	return false
}

// TrimSpace drops the spaces and tabs around a number, which pandas ignores.
func TrimSpace(c []byte) []byte { return trimSpace(c) }

func trimSpace(c []byte) []byte {
	for len(c) > 0 && (c[0] == ' ' || c[0] == '\t') {
		c = c[1:]
	}
	for len(c) > 0 && (c[len(c)-1] == ' ' || c[len(c)-1] == '\t') {
		c = c[:len(c)-1]
	}
	return c
}

// parseFloat parses a number as pandas.read_csv (1.5) does: optional sign, digits
// with an optional point and exponent ("1e5", ".5", "-3."), inf and infinity in any
// case; spaces around it are ignored. Like pandas it rejects values beyond the
// type's range ("1e400" is a string to pandas), "+NaN" and "NAN" (nan and NaN are
// missing-value markers, handled by the callers), and the Go-only syntaxes that
// strconv also accepts (hex floats like 0x1p-2, digit separators like 1_000).
//
// float64 cells go through fastAtof (atof.go), which handles nearly all of them and
// leaves the rest to strconv.ParseFloat. strconv.ParseFloat(string(c)) does not
// allocate: the conversion does not escape (strconv clones the string into its
// errors), so the compiler copies short cells to a stack buffer. Both are correctly
// rounded, which matters here: predictions must match Python's bit for bit.
func parseFloat(c []byte, bits int) (float64, bool) {
	if len(c) == 0 {
		return 0, false
	}
	if c[0] <= ' ' || c[len(c)-1] <= ' ' {
		if c = trimSpace(c); len(c) == 0 {
			return 0, false
		}
	}
	d := c
	if d[0] == '-' || d[0] == '+' {
		d = d[1:]
	}
	if len(d) == 0 {
		return 0, false
	}
	if d[0] >= 'A' {
		if strings.EqualFold(string(d), "inf") || strings.EqualFold(string(d), "infinity") {
			if c[0] == '-' {
				return math.Inf(-1), true
			}
			return math.Inf(1), true
		}
		return 0, false
	}
	if bits == 64 {
		if f, ok, handled := fastAtof(c); handled {
			return f, ok
		}
	}
	if len(d) > 1 && d[0] == '0' && d[1]|0x20 == 'x' || bytes.IndexByte(d, '_') >= 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(c), bits)
	return f, err == nil
}

// parseInt parses an optionally signed decimal integer that fits in bits.
func parseInt(c []byte, bits int) (int64, bool) {
	if len(c) == 0 {
		return 0, false
	}
	if c[0] <= ' ' || c[len(c)-1] <= ' ' {
		c = trimSpace(c)
	}
	// Fast path: up to 18 digits cannot overflow int64.
	if len(c) > 0 && len(c) <= 18 && bits == 64 {
		neg := false
		d := c
		if d[0] == '-' || d[0] == '+' {
			neg = d[0] == '-'
			d = d[1:]
		}
		if len(d) == 0 {
			return 0, false
		}
		var v int64
		for _, b := range d {
			b -= '0'
			if b > 9 {
				return 0, false
			}
			v = v*10 + int64(b)
		}
		if neg {
			v = -v
		}
		return v, true
	}
	v, err := strconv.ParseInt(string(c), 10, bits)
	return v, err == nil
}

// parseBool accepts pandas' default true_values and false_values.
func parseBool(c []byte) (v, ok bool) {
	switch string(c) {
	case "True", "true", "TRUE":
		return true, true
	case "False", "false", "FALSE":
		return false, true
	}
	return false, false
}

// inferKind chooses a type for column j from the cells of rows: int64 when every
// non-missing cell is an integer, float64 when every one is a number, bool when every
// one is True/False, string otherwise; float64 when all cells are missing (pandas
// gives an all-NaN float column). Integers beyond int64 make a float64 column
// (pandas would try uint64 first).
func inferKind(rr *rawRows, j int) colKind {
	canInt, canFloat, canBool, seen := true, true, true, false
	for i := 0; i < rr.n; i++ {
		c := rr.cell(i, j)
		if len(c) == 0 || isNA(c) {
			continue
		}
		seen = true
		if canInt {
			if _, ok := parseInt(c, 64); !ok {
				canInt = false
			}
		}
		if canFloat && !canInt {
			if _, ok := parseFloat(c, 64); !ok {
				canFloat = false
			}
		}
		if canBool {
			if _, ok := parseBool(c); !ok {
				canBool = false
			}
		}
		if !canInt && !canFloat && !canBool {
			return kindString
		}
	}
	switch {
	case !seen:
		return kindFloat64
	case canInt:
		return kindInt64
	case canFloat:
		return kindFloat64
	case canBool:
		return kindBool
	}
	return kindString
}

// cellError is a cell that does not fit its column's type.
type cellError struct {
	row int // 0-based within the batch
	msg string
}

// validity is a lazily allocated validity bitmap: columns without missing cells
// carry none.
type validity struct {
	mem   memory.Allocator
	n     int
	buf   *memory.Buffer
	bits  []byte
	nulls int
}

func (v *validity) setNull(i int) {
	if v.buf == nil {
		v.buf = memory.NewResizableBuffer(v.mem)
		v.buf.Resize(int(bitutil.BytesForBits(int64(v.n))))
		v.bits = v.buf.Bytes()
		bitutil.SetBitsTo(v.bits, 0, int64(v.n), true)
	}
	bitutil.ClearBit(v.bits, i)
	v.nulls++
}

func (v *validity) release() {
	if v.buf != nil {
		v.buf.Release()
	}
}

func newBuffer(mem memory.Allocator, size int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(size)
	return b
}

// makeArray wraps freshly built buffers into an array, handing our references over.
func makeArray(dt arrow.DataType, n int, v *validity, bufs ...*memory.Buffer) arrow.Array {
	all := append([]*memory.Buffer{v.buf}, bufs...)
	d := array.NewData(dt, n, all, nil, v.nulls, 0)
	arr := array.MakeFromData(d)
	d.Release()
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// buildColumn decodes column j of rr as kind k. On a bad cell it returns a nil array
// and the cell's error; nothing is left allocated.
func buildColumn(mem memory.Allocator, rr *rawRows, j int, k colKind) (arrow.Array, *cellError) {
	n := rr.n
	v := &validity{mem: mem, n: n}
	fail := func(i int, msg string, bufs ...*memory.Buffer) (arrow.Array, *cellError) {
		v.release()
		for _, b := range bufs {
			b.Release()
		}
		return nil, &cellError{row: i, msg: msg}
	}
	switch k {
	case kindFloat64, kindFloat32:
		width, bits := 8, 64
		if k == kindFloat32 {
			width, bits = 4, 32
		}
		buf := newBuffer(mem, n*width)
		var f64 []float64
		var f32 []float32
		if k == kindFloat64 {
			f64 = arrow.Float64Traits.CastFromBytes(buf.Bytes())
		} else {
			f32 = arrow.Float32Traits.CastFromBytes(buf.Bytes())
		}
		for i := 0; i < n; i++ {
			c := rr.cell(i, j)
			f, ok := parseFloat(c, bits)
			if !ok {
				if len(c) == 0 || isNA(c) {
					v.setNull(i)
					continue
				}
				if _, ok := parseFloat(c, 64); ok {
					return fail(i, "number out of range for float32", buf)
				}
				return fail(i, "not a number", buf)
			}
			if f64 != nil {
				f64[i] = f
			} else {
				f32[i] = float32(f)
			}
		}
		return makeArray(k.dataType(), n, v, buf), nil

	case kindInt64, kindInt32:
		width, bits := 8, 64
		if k == kindInt32 {
			width, bits = 4, 32
		}
		buf := newBuffer(mem, n*width)
		var i64 []int64
		var i32 []int32
		if k == kindInt64 {
			i64 = arrow.Int64Traits.CastFromBytes(buf.Bytes())
		} else {
			i32 = arrow.Int32Traits.CastFromBytes(buf.Bytes())
		}
		for i := 0; i < n; i++ {
			c := rr.cell(i, j)
			x, ok := parseInt(c, bits)
			if !ok {
				if len(c) == 0 || isNA(c) {
					v.setNull(i)
					continue
				}
				if _, isInt := parseInt(c, 64); isInt {
					return fail(i, "integer out of range for int32", buf)
				}
				return fail(i, "not an integer", buf)
			}
			if i64 != nil {
				i64[i] = x
			} else {
				i32[i] = int32(x)
			}
		}
		return makeArray(k.dataType(), n, v, buf), nil

	case kindBool:
		buf := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
		bits := buf.Bytes()
		for i := 0; i < n; i++ {
			c := rr.cell(i, j)
			b, ok := parseBool(c)
			if !ok {
				if len(c) == 0 || isNA(c) {
					v.setNull(i)
					continue
				}
				return fail(i, "not a boolean (True or False)", buf)
			}
			if b {
				bitutil.SetBit(bits, i)
			}
		}
		return makeArray(k.dataType(), n, v, buf), nil

	case kindString:
		total := 0
		for i := 0; i < n; i++ {
			total += len(rr.cell(i, j))
		}
		if total > 1<<31-1 {
			return fail(0, fmt.Sprintf("string column holds more than 2 GiB in one batch (%d bytes); use a smaller batch size", total))
		}
		offBuf := newBuffer(mem, (n+1)*4)
		offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
		dataBuf := newBuffer(mem, total)
		data := dataBuf.Bytes()[:0]
		for i := 0; i < n; i++ {
			offs[i] = int32(len(data))
			c := rr.cell(i, j)
			if len(c) == 0 || isNA(c) {
				v.setNull(i)
				continue
			}
			if !utf8.Valid(c) {
				return fail(i, "invalid UTF-8", offBuf, dataBuf)
			}
			data = append(data, c...)
		}
		offs[n] = int32(len(data))
		dataBuf.Resize(len(data))
		return makeArray(k.dataType(), n, v, offBuf, dataBuf), nil
	}
	panic("readers: unknown column kind")
}
