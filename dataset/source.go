package dataset

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/internal/csvtext"
	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/readers"
)

// Reader reads a shard's units one after the other as one stream of record
// batches with the dataset's schema (the files' columns, then the partition
// columns). It has the readers.Reader methods, and batch.Located: every batch
// comes from one file, and Location names it with the file's own row numbers.
// Files are opened one at a time, when the previous one is done.
type Reader struct {
	ctx   context.Context
	d     *Dataset
	units []Unit
	ropts readers.Options
	first map[string]arrow.DataType // CSV types for the dataset's first file
	rest  map[string]arrow.DataType // CSV types for the others
	name  string

	projected  bool
	fileProj   []string // projected file columns (nil: all)
	partIdx    []int    // projected partition columns, as indices of PartitionKeys
	projSchema *arrow.Schema

	next     int // the next unit to open
	cur      readers.Reader
	unit     Unit
	unitRows int64 // rows returned from the current unit
	loc      string
	offset   int64
	rowNums  []int64
	err      error
	closed   bool
}

// SetCSVTypes makes a CSV (or JSON Lines) dataset's columns the given types (the model's, for the
// columns it reads) instead of the inferred ones; the schema changes accordingly.
// A no-op for Parquet.
func (d *Dataset) SetCSVTypes(types map[string]arrow.DataType) {
	if !textual(d.Format) || len(types) == 0 {
		return
	}
	if d.csvTypes == nil {
		d.csvTypes = map[string]arrow.DataType{}
	}
	retype := func(s *arrow.Schema) *arrow.Schema {
		fields := append([]arrow.Field{}, s.Fields()...)
		for i, f := range fields {
			if t, ok := types[f.Name]; ok {
				fields[i].Type = t
			}
		}
		md := s.Metadata()
		return arrow.NewSchema(fields, &md)
	}
	for k, t := range types {
		d.csvTypes[k] = t
	}
	d.fileSchema = retype(d.fileSchema)
	d.schema = retype(d.schema)
}

// Open returns a Reader over the shard's units (after Inspect). ropts gives the
// batch size, allocator, delimiter and OnBadRow; its Format and Types are the
// dataset's. name is what Name reports (e.g. the input as the user wrote it).
func (d *Dataset) Open(ctx context.Context, s Shard, ropts readers.Options, name string) *Reader {
	r := &Reader{ctx: ctx, d: d, units: s.Units, ropts: ropts, name: name, projSchema: d.schema}
	if textual(d.Format) {
		r.first = d.csvTypes
		r.rest = map[string]arrow.DataType{}
		for _, f := range d.fileSchema.Fields() {
			r.rest[f.Name] = f.Type
		}
	}
	if len(s.Units) > 0 {
		r.loc = d.Files[s.Units[0].File].Name
	}
	return r
}

// Name is the name given to Open.
func (r *Reader) Name() string { return r.name }

// Schema is the dataset's schema.
func (r *Reader) Schema() *arrow.Schema { return r.d.schema }

// Project restricts the batches to the named columns, in the dataset's column
// order; call it before the first Next.
func (r *Reader) Project(columns []string) error {
	if r.cur != nil || r.next > 0 {
		return mlerr.Errorf(mlerr.Internal, "%s: Project called after Next", r.name)
	}
	want := map[string]bool{}
	for _, c := range columns {
		if len(r.d.schema.FieldIndices(c)) == 0 {
			return mlerr.Errorf(mlerr.Schema, "%s: no column %q", r.name, c)
		}
		want[c] = true
	}
	r.fileProj = []string{}
	r.partIdx = nil
	var fields []arrow.Field
	for _, f := range r.d.fileSchema.Fields() {
		if want[f.Name] {
			r.fileProj = append(r.fileProj, f.Name)
			fields = append(fields, f)
		}
	}
	nf := r.d.fileSchema.NumFields()
	for k, key := range r.d.PartitionKeys {
		if want[key] {
			r.partIdx = append(r.partIdx, k)
			fields = append(fields, r.d.schema.Field(nf+k))
		}
	}
	md := r.d.schema.Metadata()
	r.projSchema = arrow.NewSchema(fields, &md)
	r.projected = true
	return nil
}

// Location implements batch.Located.
func (r *Reader) Location() (string, int64) { return r.loc, r.offset }

// RowNumbers is the current file's row numbers of the last batch, or nil when
// they are contiguous (see readers.RowNumberer).
func (r *Reader) RowNumbers() []int64 { return r.rowNums }

// Next returns the next batch, or io.EOF after the shard's last unit.
func (r *Reader) Next() (arrow.RecordBatch, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.read()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		return nil, err
	}
	return rec, nil
}

func (r *Reader) read() (arrow.RecordBatch, error) {
	for {
		if r.closed {
			return nil, mlerr.Errorf(mlerr.Internal, "%s: reader is closed", r.name)
		}
		if r.cur == nil {
			if r.next >= len(r.units) {
				return nil, io.EOF
			}
			if err := r.ctx.Err(); err != nil {
				return nil, err
			}
			if err := r.openUnit(r.units[r.next]); err != nil {
				return nil, err
			}
			r.next++
		}
		rec, err := r.cur.Next()
		if errors.Is(err, io.EOF) {
			cerr := r.cur.Close()
			r.cur = nil
			if cerr != nil {
				return nil, cerr
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		n := rec.NumRows()
		r.rowNums = nil
		if rn, ok := r.cur.(readers.RowNumberer); ok {
			r.rowNums = rn.RowNumbers()
		}
		if sc, ok := r.cur.(readers.Scanner); ok {
			r.offset = sc.RowsScanned() - n
		} else {
			r.offset = r.unit.FirstRow + r.unitRows
		}
		r.unitRows += n
		return r.withPartitions(rec)
	}
}

func (r *Reader) openUnit(u Unit) error {
	f := &r.d.Files[u.File]
	o := r.ropts
	o.Format = f.Format
	o.Types = nil
	if textual(f.Format) {
		o.Types = r.rest
		if u.File == 0 {
			o.Types = r.first
		}
	}
	rd, err := r.d.open(r.ctx, f, o)
	if err != nil {
		return err
	}
	if err := sameSchema(r.d.fileSchema, rd.Schema(), false); err != nil {
		rd.Close()
		return mlerr.Errorf(mlerr.Schema, "%s: schema differs from the dataset's first file %s: %v", f.Name, r.d.Files[0].Name, err)
	}
	if u.Groups != nil {
		g, ok := rd.(readers.RowGrouper)
		if !ok {
			rd.Close()
			return mlerr.Errorf(mlerr.Internal, "%s: row groups asked of a %s file", f.Name, f.Format)
		}
		if err := g.ReadRowGroups(u.Groups); err != nil {
			rd.Close()
			return err
		}
	}
	if r.projected {
		if err := rd.Project(r.fileProj); err != nil {
			rd.Close()
			return err
		}
	}
	r.cur, r.unit, r.unitRows, r.loc = rd, u, 0, f.Name
	return nil
}

// withPartitions appends the projected partition columns to a file's batch.
func (r *Reader) withPartitions(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	nf := r.d.fileSchema.NumFields()
	if r.projected {
		nf = len(r.fileProj)
	}
	extra := len(r.d.PartitionKeys)
	if r.projected {
		extra = len(r.partIdx)
	}
	if extra == 0 && int(rec.NumCols()) == nf {
		if rec.Schema().Equal(r.projSchema) {
			return rec, nil
		}
		out := array.NewRecordBatch(r.projSchema, rec.Columns(), rec.NumRows())
		if text, cols, ok := csvtext.Of(rec); ok {
			// Same columns: a CSV file's text still fits them.
			out = csvtext.Attach(out, text, cols)
		}
		rec.Release()
		return out, nil
	}
	defer rec.Release()
	cols := append([]arrow.Array{}, rec.Columns()...)
	mem := r.ropts.Mem
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	f := &r.d.Files[r.unit.File]
	var made []arrow.Array
	defer func() {
		for _, a := range made {
			a.Release()
		}
	}()
	for k := range extra {
		key := k
		if r.projected {
			key = r.partIdx[k]
		}
		a, err := partitionArray(mem, r.d.PartitionTypes[key], f.Partition[key], int(rec.NumRows()))
		if err != nil {
			return nil, mlerr.Errorf(mlerr.Data, "%s: partition %s=%s: %v", f.Name, r.d.PartitionKeys[key], f.Partition[key], err)
		}
		made = append(made, a)
		cols = append(cols, a)
	}
	if len(cols) != r.projSchema.NumFields() {
		return nil, mlerr.Errorf(mlerr.Internal, "%s: %d columns for a schema of %d", f.Name, len(cols), r.projSchema.NumFields())
	}
	return array.NewRecordBatch(r.projSchema, cols, rec.NumRows()), nil
}

// Close closes the file being read; it is safe to call more than once.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		err := r.cur.Close()
		r.cur = nil
		return err
	}
	return nil
}
