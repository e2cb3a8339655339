package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/readers"
)

// Input is one input file of a dataset.
type Input struct {
	// Name is the file as its FS names it (a path, or a URL).
	Name   string
	Size   int64
	Format string // "csv" or "parquet"
	// Partition holds the raw values of the Hive partition directories above the
	// file, aligned with Dataset.PartitionKeys (nil without partition columns).
	Partition []string
	// RowGroups lists a Parquet file's row groups (filled in by Inspect).
	RowGroups []readers.RowGroup

	fs FS
}

// Rows is the file's row count (Parquet, after Inspect), or -1 when unknown (CSV).
func (f *Input) Rows() int64 {
	if f.Format != "parquet" {
		return -1
	}
	var n int64
	for _, g := range f.RowGroups {
		n += g.Rows
	}
	return n
}

// FindOptions control how input specs become files.
type FindOptions struct {
	// Format is "csv" or "parquet" for every file; empty means from each file's
	// extension (every file of the dataset must then have the same one).
	Format string
	// PartitionColumns turns Hive partition directories (key=value) below a spec's
	// root into columns.
	PartitionColumns bool
}

// Dataset is the ordered list of input files.
type Dataset struct {
	Files []Input
	// PartitionKeys and PartitionTypes describe the partition columns, in the
	// order of the directories (empty without FindOptions.PartitionColumns).
	PartitionKeys  []string
	PartitionTypes []arrow.DataType
	// Format is the format shared by every file.
	Format string

	// fileSchema is the files' schema (after Inspect); schema adds the partition
	// columns.
	fileSchema *arrow.Schema
	schema     *arrow.Schema
	csvTypes   map[string]arrow.DataType // SetCSVTypes
}

// Find expands input specs into files. A spec is a file, a directory (every data
// file below it, recursively), a glob (path.Match syntax per segment; matched
// directories are read recursively) or a URL of the same for a registered FS.
// Below a directory or glob root, files and directories named like Spark's hidden
// ones are skipped (see Hidden). Each spec's files come in byte-wise sorted order,
// specs in the order given; a file named twice is read once, at its first place.
// Nothing is read yet: Inspect reads the schemas.
func Find(ctx context.Context, specs []string, opts FindOptions) (*Dataset, error) {
	if len(specs) == 0 {
		return nil, mlerr.Errorf(mlerr.Usage, "no input given")
	}
	d := &Dataset{}
	seen := map[string]bool{}
	type found struct {
		Input
		rel string // path below the spec's root, slash-separated
	}
	var all []found
	for _, spec := range specs {
		if spec == "" {
			return nil, mlerr.Errorf(mlerr.Usage, "empty input name")
		}
		fsys, name, err := FSFor(ctx, spec)
		if err != nil {
			return nil, err
		}
		var matches []Entry
		root := name
		if HasGlob(name) {
			root = globRoot(name)
			if matches, err = fsys.Glob(ctx, name); err != nil {
				return nil, err
			}
			if len(matches) == 0 {
				return nil, mlerr.Errorf(mlerr.IO, "%s: no file matches", spec)
			}
		} else {
			e, err := fsys.Stat(ctx, name)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil, mlerr.Errorf(mlerr.IO, "%s: no such file or directory", spec)
				}
				return nil, err
			}
			matches = []Entry{e}
		}
		var files []found
		for _, m := range matches {
			if m.Name != root && Hidden(relPath(root, m.Name)) {
				continue
			}
			ents := []Entry{m}
			if m.IsDir {
				if ents, err = fsys.List(ctx, m.Name); err != nil {
					return nil, err
				}
			}
			for _, e := range ents {
				rel := relPath(root, e.Name)
				if e.Name != name && Hidden(rel) {
					continue
				}
				files = append(files, found{Input: Input{Name: e.Name, Size: e.Size, fs: fsys}, rel: rel})
			}
		}
		sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
		n := 0
		for _, f := range files {
			if !seen[f.Name] {
				seen[f.Name] = true
				all = append(all, f)
				n++
			}
		}
		if n == 0 && len(files) == 0 {
			return nil, mlerr.Errorf(mlerr.IO, "%s: no data files (names starting with _ or . are skipped)", spec)
		}
	}
	for i := range all {
		f := &all[i]
		f.Format = strings.ToLower(opts.Format)
		if f.Format == "" {
			fm, err := readers.FormatOf(f.Name)
			if err != nil {
				return nil, mlerr.Wrap(mlerr.Usage, err)
			}
			f.Format = fm
		}
		if f.Format == "tsv" {
			f.Format = "csv"
		}
		if i > 0 && f.Format != all[0].Format {
			return nil, mlerr.Errorf(mlerr.Usage, "%s is %s but %s is %s: a dataset has one format", f.Name, f.Format, all[0].Name, all[0].Format)
		}
	}
	d.Format = all[0].Format
	if opts.PartitionColumns {
		rels := make([]string, len(all))
		for i := range all {
			rels[i] = all[i].rel
		}
		keys, values, err := partitions(rels, func(i int) string { return all[i].Name })
		if err != nil {
			return nil, err
		}
		d.PartitionKeys = keys
		d.PartitionTypes = inferPartitionTypes(keys, values)
		for i := range all {
			all[i].Partition = values[i]
		}
	}
	for _, f := range all {
		d.Files = append(d.Files, f.Input)
	}
	return d, nil
}

// Hidden reports whether a slash-separated path below a dataset's root has a
// segment Spark leaves out of a dataset (InMemoryFileIndex.shouldFilterOutPathName):
// a name starting with "." (mlbatch's own temporary files among them), one
// starting with "_" unless it holds "=" (so "_SUCCESS", "_temporary" and
// "_delta_log" are skipped but a partition "_col=1" is kept), or one ending in
// "._COPYING_" (a copy in progress).
func Hidden(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, ".") || (strings.HasPrefix(seg, "_") && !strings.Contains(seg, "=")) || strings.HasSuffix(seg, "._COPYING_") {
			return true
		}
	}
	return false
}

// relPath is name below root, slash-separated ("" when name is root).
func relPath(root, name string) string {
	if IsURL(root) {
		r := strings.TrimRight(root, "/")
		if name == r || name == root {
			return ""
		}
		return strings.TrimPrefix(strings.TrimPrefix(name, r), "/")
	}
	rel, err := filepath.Rel(root, name)
	if err != nil || rel == "." {
		return ""
	}
	return filepath.ToSlash(rel)
}

// globRoot is the part of a glob before its first segment with a metacharacter.
func globRoot(pattern string) string {
	sep := string(filepath.Separator)
	if IsURL(pattern) {
		sep = "/"
	}
	segs := strings.Split(pattern, sep)
	for i, s := range segs {
		if HasGlob(s) {
			root := strings.Join(segs[:i], sep)
			if root == "" && i > 0 {
				root = sep
			}
			if root == "" {
				root = "."
			}
			return root
		}
	}
	return pattern
}

// Schema is the dataset's schema, the files' columns then the partition columns
// (after Inspect).
func (d *Dataset) Schema() *arrow.Schema { return d.schema }

// FileSchema is the schema every file has (after Inspect).
func (d *Dataset) FileSchema() *arrow.Schema { return d.fileSchema }

// Inspect reads what the split and the schema check need: every Parquet footer
// (schema and row groups), and every CSV header (the first file's column types are
// inferred as for a single file; the other files are read with them). Every file
// must have the first file's columns, in the same order, with the same types; the
// first that differs is an mlerr.Schema error naming it, the first file and the
// difference.
func (d *Dataset) Inspect(ctx context.Context, ropts readers.Options) error {
	for i := range d.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		f := &d.Files[i]
		o := ropts
		o.Format = f.Format
		o.OnBadRow = nil
		if f.Format == "csv" && i > 0 {
			o.BatchSize = 1 // only the header is compared
		}
		r, err := d.open(ctx, f, o)
		if err != nil {
			return err
		}
		sc := r.Schema()
		if g, ok := r.(readers.RowGrouper); ok {
			f.RowGroups = g.RowGroups()
		}
		r.Close()
		if i == 0 {
			d.fileSchema = sc
			continue
		}
		if err := sameSchema(d.fileSchema, sc, textual(f.Format)); err != nil {
			return mlerr.Errorf(mlerr.Schema, "%s: schema differs from the dataset's first file %s: %v", f.Name, d.Files[0].Name, err)
		}
	}
	fields := append([]arrow.Field{}, d.fileSchema.Fields()...)
	for k, key := range d.PartitionKeys {
		if len(d.fileSchema.FieldIndices(key)) > 0 {
			return mlerr.Errorf(mlerr.Schema, "partition column %q (from the directories) is also a column of %s", key, d.Files[0].Name)
		}
		fields = append(fields, arrow.Field{Name: key, Type: d.PartitionTypes[k], Nullable: true})
	}
	md := d.fileSchema.Metadata()
	d.schema = arrow.NewSchema(fields, &md)
	return nil
}

func (d *Dataset) open(ctx context.Context, f *Input, o readers.Options) (readers.Reader, error) {
	fh, err := f.fs.Open(ctx, f.Name)
	if err != nil {
		return nil, err
	}
	r, err := readers.OpenFile(f.Name, fh, o)
	if err != nil {
		if !mlerr.Classified(err) {
			err = mlerr.Wrap(mlerr.IO, err)
		}
		return nil, err
	}
	return r, nil
}

// textual formats carry no types: the dataset's are the first file's.
func textual(format string) bool { return format == "csv" || format == "jsonl" }

// sameSchema explains how got differs from want: names and order, and the types
// unless namesOnly (CSV, whose types are the first file's).
func sameSchema(want, got *arrow.Schema, namesOnly bool) error {
	for i := range max(want.NumFields(), got.NumFields()) {
		switch {
		case i >= got.NumFields():
			return fmt.Errorf("column %d %q is missing (%d columns, want %d)", i+1, want.Field(i).Name, got.NumFields(), want.NumFields())
		case i >= want.NumFields():
			return fmt.Errorf("extra column %d %q (%d columns, want %d)", i+1, got.Field(i).Name, got.NumFields(), want.NumFields())
		}
		w, g := want.Field(i), got.Field(i)
		if w.Name != g.Name {
			return fmt.Errorf("column %d is %q, want %q", i+1, g.Name, w.Name)
		}
		if !namesOnly && !arrow.TypeEqual(w.Type, g.Type) {
			return fmt.Errorf("column %q is %s, want %s", w.Name, g.Type, w.Type)
		}
	}
	return nil
}
