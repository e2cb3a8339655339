package readers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// JSON Lines reading
//
// One JSON object per line (blank lines are skipped), as pandas' to_json(orient=
// "records", lines=True), DuckDB's COPY ... (FORMAT json) and Spark's write.json
// write them. The columns are the keys in the order they first appear in the first
// batch (up to BatchSize rows); a key missing from a row is a null, a key not seen
// in the first batch is an error for its row. Types come from Options.Types, else
// they are inferred from the first batch, with the same outcome as for CSV:
//
//	int64   every non-null value is an integer number that fits in int64
//	float64 every non-null value is a number (integers and fractions mixed)
//	bool    every non-null value is true or false
//	string  anything else: JSON strings, and numbers or booleans mixed with them
//	        (kept as their JSON text); objects and arrays as their JSON text
//	float64 a column with no non-null value
//
// JSON keeps its own typing: the string "1" is text, not a number. A value that
// does not fit its column's type is a *mlerr.RowError naming the file, data row
// (the n-th non-blank line), column and value. The stream is read sequentially,
// so it can be a pipe.

type jsonlReader struct {
	name   string
	br     *bufio.Reader
	closer io.Closer
	opts   Options

	cols     []string
	index    map[string]int
	types    []arrow.DataType
	inferred []bool
	inferN   int
	schema   *arrow.Schema
	proj     []int // projected column indices (nil: all)
	projSc   *arrow.Schema

	sample        [][]json.RawMessage // the first batch, parsed, not yet converted
	sampleN       []int64             // their data row numbers
	line          int64               // lines read
	rows          int64               // data rows read (non-blank lines)
	consumed      int64               // data rows of the batches returned so far
	sampleEnd     int64               // data rows read for the sample
	sampleSkipped bool                // the sample left bad rows out
	rowNums       []int64
	gaps          bool
	started       bool
	eof           bool
	err           error
	closed        bool
}

// Retyper is implemented by readers whose column types can still be changed
// before the first Next (JSON Lines): SetTypes makes the named columns those
// types, as Options.Types would have.
type Retyper interface {
	SetTypes(types map[string]arrow.DataType) error
}

func openJSONL(name string, r io.Reader, closer io.Closer, opts Options) (Reader, error) {
	jr := &jsonlReader{name: name, br: bufio.NewReaderSize(r, 1<<20), closer: closer, opts: opts, index: map[string]int{}}
	// The first batch: its keys make the columns, its values the types.
	for len(jr.sample) < opts.BatchSize {
		kv, row, err := jr.readObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *mlerr.RowError
			if errors.As(err, &re) && opts.OnBadRow != nil {
				if cerr := opts.OnBadRow(re, nil); cerr != nil {
					return nil, cerr
				}
				jr.sampleSkipped = true
				continue
			}
			return nil, err
		}
		var vals []json.RawMessage
		for _, p := range kv {
			j, ok := jr.index[p.key]
			if !ok {
				j = len(jr.cols)
				jr.index[p.key] = j
				jr.cols = append(jr.cols, p.key)
			}
			for len(vals) <= j {
				vals = append(vals, nil)
			}
			vals[j] = p.val
		}
		jr.sample = append(jr.sample, vals)
		jr.sampleN = append(jr.sampleN, row)
	}
	jr.inferN = len(jr.sample)
	jr.sampleEnd = jr.rows
	jr.types = make([]arrow.DataType, len(jr.cols))
	jr.inferred = make([]bool, len(jr.cols))
	for j, c := range jr.cols {
		if t, ok := opts.Types[c]; ok {
			jr.types[j] = t
			continue
		}
		jr.types[j] = inferJSON(jr.sample, j)
		jr.inferred[j] = true
	}
	if err := jr.makeSchema(); err != nil {
		return nil, err
	}
	return jr, nil
}

func (r *jsonlReader) makeSchema() error {
	fields := make([]arrow.Field, len(r.cols))
	for j, c := range r.cols {
		switch r.types[j].ID() {
		case arrow.INT64, arrow.INT32, arrow.FLOAT64, arrow.FLOAT32, arrow.BOOL, arrow.STRING:
		default:
			return mlerr.Errorf(mlerr.Schema, "%s: column %q: JSON Lines input cannot be read as %s", r.name, c, r.types[j])
		}
		fields[j] = arrow.Field{Name: c, Type: r.types[j], Nullable: true}
	}
	r.schema = arrow.NewSchema(fields, nil)
	r.projSc = r.schema
	if r.proj != nil {
		r.Project(r.projNames())
	}
	return nil
}

func (r *jsonlReader) projNames() []string {
	var out []string
	for _, j := range r.proj {
		out = append(out, r.cols[j])
	}
	return out
}

// SetTypes implements Retyper.
func (r *jsonlReader) SetTypes(types map[string]arrow.DataType) error {
	if r.started {
		return mlerr.Errorf(mlerr.Internal, "%s: SetTypes called after Next", r.name)
	}
	for c, t := range types {
		if j, ok := r.index[c]; ok {
			r.types[j], r.inferred[j] = t, false
		}
	}
	return r.makeSchema()
}

type jsonPair struct {
	key string
	val json.RawMessage
}

// readObject reads the next non-blank line as a JSON object, keys in order.
func (r *jsonlReader) readObject() ([]jsonPair, int64, error) {
	for {
		line, err := r.br.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				return nil, 0, io.EOF
			}
			return nil, 0, mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: %w", r.name, err))
		}
		if err != nil && err != io.EOF {
			return nil, 0, mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: %w", r.name, err))
		}
		r.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		r.rows++
		kv, perr := parseObject(line)
		if perr != nil {
			return nil, r.rows, &mlerr.RowError{File: r.name, Row: r.rows, Err: fmt.Errorf("line %d: %w", r.line, perr)}
		}
		return kv, r.rows, nil
	}
}

func parseObject(line []byte) ([]jsonPair, error) {
	if !utf8.Valid(line) {
		return nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var kv []jsonPair
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		kv = append(kv, jsonPair{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return kv, nil
}

type jsonKind int

const (
	jNull jsonKind = iota
	jInt
	jFloat
	jBool
	jString
)

func kindOfJSON(v json.RawMessage) jsonKind {
	if len(v) == 0 {
		return jNull
	}
	switch v[0] {
	case 'n':
		return jNull
	case 't', 'f':
		return jBool
	case '"', '{', '[':
		return jString
	}
	if bytes.ContainsAny(v, ".eE") {
		return jFloat
	}
	if _, err := strconv.ParseInt(string(v), 10, 64); err != nil {
		return jFloat
	}
	return jInt
}

func inferJSON(rows [][]json.RawMessage, j int) arrow.DataType {
	kind := jNull
	for _, row := range rows {
		if j >= len(row) {
			continue
		}
		k := kindOfJSON(row[j])
		switch {
		case k == jNull || k == kind:
		case kind == jNull:
			kind = k
		case (kind == jInt && k == jFloat) || (kind == jFloat && k == jInt):
			kind = jFloat
		default:
			kind = jString
		}
	}
	switch kind {
	case jInt:
		return arrow.PrimitiveTypes.Int64
	case jBool:
		return arrow.FixedWidthTypes.Boolean
	case jString:
		return arrow.BinaryTypes.String
	}
	return arrow.PrimitiveTypes.Float64
}

func (r *jsonlReader) Name() string          { return r.name }
func (r *jsonlReader) Schema() *arrow.Schema { return r.schema }

func (r *jsonlReader) Project(columns []string) error {
	idx, err := projectIndices(r.name, r.schema, columns)
	if err != nil {
		return err
	}
	r.proj = idx
	fields := make([]arrow.Field, len(idx))
	for i, j := range idx {
		fields[i] = r.schema.Field(j)
	}
	r.projSc = arrow.NewSchema(fields, nil)
	return nil
}

// RowNumbers implements RowNumberer.
func (r *jsonlReader) RowNumbers() []int64 {
	if !r.gaps {
		return nil
	}
	return append([]int64(nil), r.rowNums...)
}

// RowsScanned implements Scanner.
func (r *jsonlReader) RowsScanned() int64 {
	if !r.started {
		return 0
	}
	return r.consumed
}

func (r *jsonlReader) Next() (arrow.RecordBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.closed {
		return nil, mlerr.Errorf(mlerr.Internal, "%s: reader is closed", r.name)
	}
	var rows [][]json.RawMessage
	var nums []int64
	skipped := false
	var later error // a bad line in fail mode: the rows before it go out first
	skip := func(re *mlerr.RowError) error {
		if r.opts.OnBadRow == nil {
			later = re
			return nil
		}
		if err := r.opts.OnBadRow(re, nil); err != nil {
			r.err = err
			return err
		}
		skipped = true
		return nil
	}
	if !r.started {
		r.started = true
		rows, nums = r.sample, r.sampleN
		r.sample, r.sampleN = nil, nil
		r.consumed = r.sampleEnd
		skipped = r.sampleSkipped
	} else if !r.eof {
		for len(rows) < r.opts.BatchSize {
			kv, row, err := r.readObject()
			if err == io.EOF {
				r.eof = true
				break
			}
			r.consumed = r.rows
			if err != nil {
				var re *mlerr.RowError
				if !errors.As(err, &re) {
					r.err = err
					return nil, err
				}
				if err := skip(re); err != nil {
					return nil, err
				}
				if later != nil {
					break
				}
				continue
			}
			vals := make([]json.RawMessage, len(r.cols))
			var bad *mlerr.RowError
			for _, p := range kv {
				j, ok := r.index[p.key]
				if !ok {
					bad = &mlerr.RowError{File: r.name, Row: row, Column: p.key, Err: fmt.Errorf("key %q is not among the columns found in the first %d rows", p.key, r.inferN)}
					break
				}
				vals[j] = p.val
			}
			if bad != nil {
				if err := skip(bad); err != nil {
					return nil, err
				}
				if later != nil {
					break
				}
				continue
			}
			rows = append(rows, vals)
			nums = append(nums, row)
		}
	}
	if later != nil {
		r.err = later // returned by the next call, after these rows
		if len(rows) == 0 {
			return nil, later
		}
		rec, err := r.convert(rows, nums, skipped)
		if err != nil {
			return nil, err // an earlier row's error
		}
		return rec, nil
	}
	if len(rows) == 0 {
		if skipped {
			// Every row of this stretch was bad: an empty batch carries them.
			r.gaps, r.rowNums = true, nil
			return array.NewRecordBatch(r.projSc, r.emptyCols(), 0), nil
		}
		return nil, io.EOF
	}
	return r.convert(rows, nums, skipped)
}

func (r *jsonlReader) emptyCols() []arrow.Array {
	b := array.NewRecordBuilder(r.opts.Mem, r.projSc)
	defer b.Release()
	rec := b.NewRecordBatch()
	defer rec.Release()
	cols := rec.Columns()
	for _, c := range cols {
		c.Retain()
	}
	return cols
}

// convert builds a batch from parsed rows; a row with a value that does not fit
// is an error, or with OnBadRow is left out.
func (r *jsonlReader) convert(rows [][]json.RawMessage, nums []int64, skipped bool) (arrow.RecordBatch, error) {
	cols := r.proj
	if cols == nil {
		cols = make([]int, len(r.cols))
		for j := range cols {
			cols[j] = j
		}
	}
	b := array.NewRecordBuilder(r.opts.Mem, r.projSc)
	defer b.Release()
	vals := make([]any, len(cols))
	var kept []int64
	for i, row := range rows {
		var bad *mlerr.RowError
		for k, j := range cols {
			var raw json.RawMessage
			if j < len(row) {
				raw = row[j]
			}
			v, err := jsonValue(raw, r.types[j])
			if err != nil {
				msg := err.Error()
				if r.inferred[j] {
					msg += fmt.Sprintf(" (column type %s was inferred from the first %d rows; declare the type in the model signature)", r.types[j], r.inferN)
				}
				bad = &mlerr.RowError{File: r.name, Row: nums[i], Column: r.cols[j], Value: string(raw), Err: errors.New(msg)}
				break
			}
			vals[k] = v
		}
		if bad != nil {
			if r.opts.OnBadRow == nil {
				r.err = bad
				return nil, bad
			}
			fields := make([]string, len(r.cols))
			for j := range fields {
				if j < len(row) {
					fields[j] = string(row[j])
				}
			}
			if err := r.opts.OnBadRow(bad, fields); err != nil {
				r.err = err
				return nil, err
			}
			skipped = true
			continue
		}
		for k := range cols {
			appendJSON(b.Field(k), vals[k])
		}
		kept = append(kept, nums[i])
	}
	r.gaps, r.rowNums = skipped, kept
	rec := b.NewRecordBatch()
	if len(cols) == 0 {
		rec.Release()
		rec = array.NewRecordBatch(r.projSc, nil, int64(len(kept)))
	}
	return rec, nil
}

type null struct{}

// jsonValue converts a raw JSON value to a Go value for a column of type t
// (null{} for a null).
func jsonValue(raw json.RawMessage, t arrow.DataType) (any, error) {
	k := kindOfJSON(raw)
	if k == jNull {
		return null{}, nil
	}
	s := string(raw)
	switch t.ID() {
	case arrow.INT64, arrow.INT32:
		bits := 64
		if t.ID() == arrow.INT32 {
			bits = 32
		}
		if k != jInt {
			return nil, fmt.Errorf("not an integer (%s)", t)
		}
		v, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return nil, fmt.Errorf("out of range for %s", t)
		}
		return v, nil
	case arrow.FLOAT64, arrow.FLOAT32:
		if k != jInt && k != jFloat {
			return nil, fmt.Errorf("not a number (%s)", t)
		}
		bits := 64
		if t.ID() == arrow.FLOAT32 {
			bits = 32
		}
		v, err := strconv.ParseFloat(s, bits)
		if err != nil {
			return nil, fmt.Errorf("out of range for %s", t)
		}
		return v, nil
	case arrow.BOOL:
		if k != jBool {
			return nil, errors.New("not true or false")
		}
		return s == "true", nil
	case arrow.STRING:
		if raw[0] == '"' {
			var str string
			if err := json.Unmarshal(raw, &str); err != nil {
				return nil, err
			}
			return str, nil
		}
		return s, nil
	}
	return nil, fmt.Errorf("type %s is not supported", t)
}

func appendJSON(b array.Builder, v any) {
	if _, ok := v.(null); ok {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Int32Builder:
		b.Append(int32(v.(int64)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.Float32Builder:
		b.Append(float32(v.(float64)))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.StringBuilder:
		b.Append(v.(string))
	}
}

func (r *jsonlReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.closer != nil {
		if err := r.closer.Close(); err != nil {
			return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: close: %w", r.name, err))
		}
	}
	return nil
}
