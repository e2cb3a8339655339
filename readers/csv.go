package readers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/csvtext"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// CSV reading
//
// The first record is the header: it names the columns, and an empty or repeated
// name is an error. Types come from Options.Types, else they are inferred from the
// first batch (up to BatchSize rows), much as pandas.read_csv infers dtypes:
//
//	int64   every non-missing cell is a decimal integer that fits in int64
//	float64 every non-missing cell is a number: 1.5, 1e5, .5, -3., inf, -Infinity
//	bool    every non-missing cell is True/False/true/false/TRUE/FALSE
//	string  anything else
//	float64 a column with no non-missing cell (pandas: all NaN), including every
//	        column of a header-only file
//
// Missing cells are the empty cell and pandas' default NA markers (NA, N/A, NULL,
// null, NaN, nan, None, <NA>, #N/A, ...); they become nulls in every column type
// (the model layer turns nulls into NaN where the model allows it), so "nan" in a
// float column is a null, not a NaN value. Spaces around a number are ignored. Unlike pandas, an integer column with missing cells stays
// int64 (with nulls) instead of becoming float64, and a bool column with missing
// cells stays bool.
//
// A later cell that does not fit its column's type is a *mlerr.RowError that names
// the file, data row, column and value, and says when the type was inferred.

type csvReader struct {
	name   string
	closer io.Closer
	opts   Options
	sc     *csvScanner

	header   []string
	kinds    []colKind
	inferred []bool
	inferN   int // rows the inference saw
	schema   *arrow.Schema

	proj       []int
	projSchema *arrow.Schema

	rows         rawRows
	base         int64 // data rows before the current batch, skipped ones included
	scanned      int   // records the last scan consumed, skipped ones included
	firstScanned int
	// rowNums holds the file row of every kept row of r.rows, in skip mode
	// (Options.OnBadRow) only; gaps marks a batch that left rows out.
	rowNums []int64
	gaps    bool
	// textKeep lists the scanned records still in r.rows after dropRow
	// (Options.RowText only); nil when none was dropped.
	textKeep []int
	started  bool
	firstN   int   // rows of the first batch, scanned by Open
	firstErr error // error met while scanning the first batch
	err      error // sticky: returned by every later Next
	closed   bool
}

func openCSV(path string, opts Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, mlerr.Wrap(mlerr.IO, err)
	}
	r, err := newCSVReader(path, f, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// newCSVReader reads the header and the first batch from rd. opts must have its
// defaults filled in.
func newCSVReader(name string, rd io.Reader, closer io.Closer, opts Options) (*csvReader, error) {
	return newCSVReaderSize(name, rd, closer, opts, scanBufSize)
}

// newCSVReaderSize is newCSVReader with a given initial read buffer size; tests use
// tiny ones to make records cross refills.
func newCSVReaderSize(name string, rd io.Reader, closer io.Closer, opts Options, bufSize int) (*csvReader, error) {
	r := &csvReader{name: name, closer: closer, opts: opts, sc: newCSVScanner(rd, opts.Delimiter, bufSize)}
	r.sc.keepText, r.sc.mem = opts.RowText, opts.Mem
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	nc := len(r.header)
	r.rows.nc = nc

	n, err := r.scanBatch()
	if err != nil && mlerr.KindOf(err) == mlerr.IO {
		return nil, err
	}
	r.firstN, r.firstErr, r.firstScanned = n, err, r.scanned

	r.kinds = make([]colKind, nc)
	r.inferred = make([]bool, nc)
	r.inferN = n
	fields := make([]arrow.Field, nc)
	for j, name := range r.header {
		if dt, ok := opts.Types[name]; ok {
			k, ok := kindOf(dt)
			if !ok {
				return nil, mlerr.Errorf(mlerr.Schema, "%s: column %q: cannot read type %s from CSV (use float64, float32, int64, int32, bool or string)", r.name, name, dt)
			}
			r.kinds[j] = k
		} else {
			r.kinds[j] = inferKind(&r.rows, j)
			r.inferred[j] = true
		}
		fields[j] = arrow.Field{Name: name, Type: r.kinds[j].dataType(), Nullable: true}
	}
	r.schema = arrow.NewSchema(fields, nil)
	r.proj = make([]int, nc)
	for j := range r.proj {
		r.proj[j] = j
	}
	r.projSchema = r.schema
	return r, nil
}

func (r *csvReader) readHeader() error {
	s := r.sc
	if err := s.skipBOM(); err != nil {
		return r.ioError(err)
	}
	if empty, err := s.empty(); err != nil {
		return r.ioError(err)
	} else if empty {
		return &mlerr.RowError{File: r.name, Err: errors.New("empty file, no header")}
	}
	n, err := s.record()
	if err == io.EOF {
		return &mlerr.RowError{File: r.name, Err: errors.New("no header (only blank lines)")}
	}
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return &mlerr.RowError{File: r.name, Err: fmt.Errorf("header: %w", err)}
		}
		return r.ioError(err)
	}
	hdr := rawRows{data: s.data, ends: s.ends, nc: n, n: 1}
	r.header = make([]string, n)
	seen := make(map[string]int, n)
	for j := range n {
		c := hdr.cell(0, j)
		if !utf8.Valid(c) {
			return &mlerr.RowError{File: r.name, Err: fmt.Errorf("header: column %d: name %q is not valid UTF-8", j+1, c)}
		}
		name := string(c)
		if name == "" {
			return &mlerr.RowError{File: r.name, Err: fmt.Errorf("header: column %d has no name", j+1)}
		}
		if prev, dup := seen[name]; dup {
			return &mlerr.RowError{File: r.name, Err: fmt.Errorf("header: duplicate column name %q (columns %d and %d)", name, prev+1, j+1)}
		}
		seen[name] = j
		r.header[j] = name
	}
	s.reset()
	return nil
}

func (r *csvReader) ioError(err error) error {
	return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: read: %w", r.name, err))
}

// scanBatch scans up to BatchSize records into r.rows. It returns the number of good
// records and the error that stopped it early, if any.
func (r *csvReader) scanBatch() (int, error) {
	s := r.sc
	s.reset()
	nc := r.rows.nc
	n, scanned := 0, 0
	skip := r.opts.OnBadRow != nil
	r.rowNums, r.gaps = r.rowNums[:0], false
	defer func() {
		r.rows.data, r.rows.ends, r.rows.n = s.data, s.ends, n
		r.scanned = scanned
	}()
	r.textKeep = nil
	s.reserve(r.opts.BatchSize, nc)
	for n < r.opts.BatchSize && len(s.data) < maxBatchBytes {
		dl, el, tel := len(s.data), len(s.ends), len(s.textEnds)
		got, err := s.record()
		if err == io.EOF {
			break
		}
		row := r.base + int64(scanned) + 1
		scanned++
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) {
				msg := se.msg
				if se.field >= 0 && se.field < nc {
					msg += " in column " + strconv.Quote(r.header[se.field])
				}
				return n, &mlerr.RowError{File: r.name, Row: row, Err: fmt.Errorf("line %d: %s", se.line, msg)}
			}
			return n, r.ioError(err)
		}
		if got != nc {
			bad := &mlerr.RowError{File: r.name, Row: row, Err: fmt.Errorf("line %d: %d fields, but the header has %d", s.recLine, got, nc)}
			var fields []string
			if skip {
				start := dl
				for j := range got {
					end := int(s.ends[el+j])
					fields = append(fields, string(s.data[start:end]))
					start = end + 1
				}
			}
			s.data, s.ends = s.data[:dl], s.ends[:el]
			s.truncateText(tel)
			if !skip {
				return n, bad
			}
			r.gaps = true
			if cerr := r.opts.OnBadRow(bad, fields); cerr != nil {
				return n, cerr
			}
			continue
		}
		if skip {
			r.rowNums = append(r.rowNums, row)
		}
		n++
	}
	return n, nil
}

// takeText hands the text of the rows of r.rows over to a Binary array (nil when
// it does not match them) and gives the scanner a new buffer of the same size,
// from the allocator, for the next batch.
func (r *csvReader) takeText() *array.Binary {
	s := r.sc
	ends := s.textEnds
	if s.text == nil || len(ends) == 0 {
		return nil
	}
	if keep := r.textKeep; keep != nil {
		if len(keep) != r.rows.n || slices.ContainsFunc(keep, func(k int) bool { return k < 0 || k >= len(ends) }) {
			return nil
		}
	} else if len(ends) != r.rows.n {
		return nil
	}
	mem := r.opts.Mem
	val := s.text
	buf := val.Buf()
	offBuf := memory.NewResizableBuffer(mem)
	offBuf.Resize(4 * (r.rows.n + 1))
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	if keep := r.textKeep; keep != nil {
		// Rows were dropped: close the gaps they leave in the text.
		at := 0
		for k, rec := range keep {
			start := 0
			if rec > 0 {
				start = int(ends[rec-1])
			}
			offs[k] = int32(at)
			at += copy(buf[at:], buf[start:ends[rec]])
		}
		offs[len(keep)] = int32(at)
		s.textLen = at
	} else {
		offs[0] = 0
		for k, end := range ends {
			offs[k+1] = int32(end)
		}
	}
	val.ResizeNoShrink(s.textLen)
	data := array.NewData(arrow.BinaryTypes.Binary, r.rows.n, []*memory.Buffer{nil, offBuf, val}, nil, 0, 0)
	arr := array.NewBinaryData(data)
	data.Release()
	offBuf.Release()
	val.Release()
	s.text = memory.NewResizableBuffer(mem)
	s.text.Reserve(len(buf))
	s.textLen = 0
	s.textEnds = s.textEnds[:0]
	return arr
}

func (r *csvReader) Name() string          { return r.name }
func (r *csvReader) Schema() *arrow.Schema { return r.schema }

func (r *csvReader) Project(columns []string) error {
	if r.started {
		return mlerr.Errorf(mlerr.Internal, "%s: Project called after Next", r.name)
	}
	idx, err := projectIndices(r.name, r.schema, columns)
	if err != nil {
		return err
	}
	r.proj = idx
	fields := make([]arrow.Field, len(idx))
	for i, j := range idx {
		fields[i] = r.schema.Field(j)
	}
	r.projSchema = arrow.NewSchema(fields, nil)
	return nil
}

// SetTypes implements Retyper: the first batch is still raw text, so a stream
// (which cannot be read twice) can take the model's types as a reopened file
// would.
func (r *csvReader) SetTypes(types map[string]arrow.DataType) error {
	if r.started {
		return mlerr.Errorf(mlerr.Internal, "%s: SetTypes called after Next", r.name)
	}
	fields := r.schema.Fields()
	for j, name := range r.header {
		dt, ok := types[name]
		if !ok {
			continue
		}
		k, ok := kindOf(dt)
		if !ok {
			return mlerr.Errorf(mlerr.Schema, "%s: column %q: cannot read type %s from CSV (use float64, float32, int64, int32, bool or string)", r.name, name, dt)
		}
		r.kinds[j], r.inferred[j] = k, false
		fields[j].Type = k.dataType()
	}
	r.schema = arrow.NewSchema(fields, nil)
	names := make([]string, len(r.proj))
	for i, j := range r.proj {
		names[i] = r.header[j]
	}
	return r.Project(names)
}

// projectIndices maps column names to their indices in schema, in file order.
func projectIndices(file string, schema *arrow.Schema, columns []string) ([]int, error) {
	idx := make([]int, 0, len(columns))
	seen := make(map[int]bool, len(columns))
	for _, c := range columns {
		is := schema.FieldIndices(c)
		if len(is) == 0 {
			return nil, mlerr.Errorf(mlerr.Schema, "%s: no column %q", file, c)
		}
		if !seen[is[0]] {
			seen[is[0]] = true
			idx = append(idx, is[0])
		}
	}
	sort.Ints(idx)
	return idx, nil
}

func (r *csvReader) Next() (arrow.RecordBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	var n int
	var scanErr error
	if !r.started {
		r.started = true
		n, scanErr = r.firstN, r.firstErr
		r.scanned = r.firstScanned
	} else {
		n, scanErr = r.scanBatch()
	}
	if n == 0 && (scanErr != nil || r.scanned == 0) {
		if scanErr == nil {
			scanErr = io.EOF
		}
		r.err = scanErr
		return nil, scanErr
	}
	rec, err := r.convert()
	if err != nil {
		r.err = err
		return nil, err
	}
	if r.opts.RowText && len(r.proj) == r.rows.nc {
		// The projection keeps every column (it is sorted and unique), so the
		// batch's columns are the text's fields.
		if text := r.takeText(); text != nil {
			rec = csvtext.Attach(rec, &csvtext.Rows{Delim: r.opts.Delimiter, Text: text}, r.rows.nc)
			text.Release()
		}
	}
	r.base += int64(r.scanned)
	// The rows before a malformed record are good: deliver them, then the error.
	r.err = scanErr
	return rec, nil
}

// convert decodes the projected columns of r.rows into a record batch. In skip
// mode a row with a bad cell is reported to Options.OnBadRow and left out.
func (r *csvReader) convert() (arrow.RecordBatch, error) {
	for {
		rec, bad, badIdx := r.convertOnce()
		if bad == nil {
			return rec, nil
		}
		if r.opts.OnBadRow == nil {
			return nil, bad
		}
		fields := make([]string, r.rows.nc)
		for j := range fields {
			fields[j] = string(r.rows.cell(badIdx, j))
		}
		if err := r.opts.OnBadRow(bad, fields); err != nil {
			return nil, err
		}
		r.dropRow(badIdx)
	}
}

// fileRow is the 1-based file row of row i of the current batch.
func (r *csvReader) fileRow(i int) int64 {
	if r.opts.OnBadRow != nil {
		return r.rowNums[i]
	}
	return r.base + int64(i) + 1
}

// dropRow removes row i from r.rows (skip mode), shifting the rows after it.
func (r *csvReader) dropRow(i int) {
	rr := &r.rows
	nc := rr.nc
	start := 0
	if i > 0 {
		start = int(rr.ends[i*nc-1]) + 1
	}
	end := int(rr.ends[(i+1)*nc-1]) + 1 // past the row's last separator
	if end > len(rr.data) {
		end = len(rr.data)
	}
	cut := uint32(end - start)
	rr.data = append(rr.data[:start], rr.data[end:]...)
	for k := (i + 1) * nc; k < len(rr.ends); k++ {
		rr.ends[k] -= cut
	}
	rr.ends = append(rr.ends[:i*nc], rr.ends[(i+1)*nc:]...)
	rr.n--
	r.rowNums = append(r.rowNums[:i], r.rowNums[i+1:]...)
	if r.opts.RowText {
		if r.textKeep == nil {
			r.textKeep = make([]int, rr.n+1)
			for k := range r.textKeep {
				r.textKeep[k] = k
			}
		}
		r.textKeep = append(r.textKeep[:i], r.textKeep[i+1:]...)
	}
	r.gaps = true
}

// RowsScanned implements Scanner.
func (r *csvReader) RowsScanned() int64 { return r.base }

// RowNumbers implements RowNumberer.
func (r *csvReader) RowNumbers() []int64 {
	if !r.gaps {
		return nil
	}
	return append([]int64(nil), r.rowNums...)
}

// parallelCells is the batch size, in cells, from which columns are converted
// on several goroutines.
const parallelCells = 1 << 16

// buildColumns converts the projected columns of r.rows into built (or errs).
// Columns are independent, so a large batch spreads them over GOMAXPROCS
// goroutines: converting text to numbers is most of a CSV read, and the reader
// is one goroutine ahead of the workers, so it otherwise bounds a run whose
// model is cheap (a linear model scores a batch in a tenth of its parse time).
func (r *csvReader) buildColumns(mem memory.Allocator, built []arrow.Array, errs []*cellError) {
	one := func(i int) {
		j := r.proj[i]
		built[i], errs[i] = buildColumn(mem, &r.rows, j, r.kinds[j])
	}
	procs := min(runtime.GOMAXPROCS(0), len(r.proj))
	if procs < 2 || r.rows.n*len(r.proj) < parallelCells {
		for i := range r.proj {
			one(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(r.proj) {
					return
				}
				one(i)
			}
		})
	}
	wg.Wait()
}

func (r *csvReader) convertOnce() (arrow.RecordBatch, *mlerr.RowError, int) {
	mem := r.opts.Mem
	cols := make([]arrow.Array, len(r.proj))
	var bad *mlerr.RowError
	badIdx := -1
	built := make([]arrow.Array, len(r.proj))
	errs := make([]*cellError, len(r.proj))
	r.buildColumns(mem, built, errs)
	for i, j := range r.proj {
		arr, ce := built[i], errs[i]
		if ce != nil {
			row := r.fileRow(ce.row)
			if bad == nil || row < bad.Row {
				msg := ce.msg
				if r.inferred[j] && r.kinds[j] != kindString {
					msg = fmt.Sprintf("%s (column type %s was inferred from the first %d rows; declare the type in the model signature)", msg, r.kinds[j].dataType(), r.inferN)
				}
				bad = &mlerr.RowError{File: r.name, Row: row, Column: r.header[j], Value: string(r.rows.cell(ce.row, j)), Err: errors.New(msg)}
				badIdx = ce.row
			}
			continue
		}
		cols[i] = arr
	}
	if bad != nil {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
		return nil, bad, badIdx
	}
	rec := array.NewRecordBatch(r.projSchema, cols, int64(r.rows.n))
	for _, c := range cols {
		c.Release()
	}
	return rec, nil, -1
}

func (r *csvReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.closer != nil {
		err = r.closer.Close()
	}
	if r.sc != nil {
		r.sc.release()
	}
	r.sc = nil
	r.rows = rawRows{}
	if r.err == nil {
		r.err = mlerr.Errorf(mlerr.Internal, "%s: reader is closed", r.name)
	}
	if err != nil {
		return mlerr.Wrap(mlerr.IO, fmt.Errorf("%s: close: %w", r.name, err))
	}
	return nil
}
