package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/mlbatch/mlbatch/internal/mlerr"
	"github.com/mlbatch/mlbatch/writers"
)

// Folder output
//
// A run writing to a folder writes its rows as parts named
// part-<shard>-<seq>.<ext> (part-00003-00000.parquet: shard 3's first part; an
// unsharded run is shard 0), each at most MaxRowsPerFile rows, in input order:
// reading the parts in name order gives the rows of the dataset in input order.
// Each part is committed by the FS (temporary file and rename on disk) as soon as
// it is full, then the run's success marker is written last: _SUCCESS for an
// unsharded run, _SUCCESS.shard-0003-of-0004 for shard 3 of 4. A downstream step
// reads the folder once it holds every marker it expects.
//
// Retries. A run replaces its own parts only: a shard's parts and marker without
// touching the other shards' (an unsharded run owns the whole folder). Order of
// a re-run (with Overwrite): remove its marker, write and commit the new parts
// over the old names, then remove its old parts that were not rewritten, then
// write the marker. A run that crashes at any point leaves no marker for its
// shard, and some mix of old and new parts of that shard: a consumer that waits
// for the marker never reads that mix, and running the shard again repairs it.
// When the marker exists, the shard's parts are exactly those the marker lists.
// Two runs of the same shard at the same time are not supported.

// OutputOptions describe a folder output.
type OutputOptions struct {
	// Format is "parquet" or "csv".
	Format string
	// Shard and Shards: this run is shard Shard of Shards (0 of 1: unsharded).
	Shard, Shards int
	// MaxRowsPerFile caps the rows of a part (0: no cap, one part per run).
	MaxRowsPerFile int64
	// Overwrite allows replacing the run's own earlier output.
	Overwrite bool
	// Writer holds the encoding options (compression, allocator, metadata).
	Writer writers.Options
}

// DirWriter writes a run's parts into a folder. It has the writers.Writer
// methods; Commit writes the marker. It is not safe for concurrent use.
type DirWriter struct {
	ctx    context.Context
	fs     FS
	dir    string
	schema *arrow.Schema
	opts   OutputOptions

	stale   map[string]bool // the run's parts from before, removed after Commit
	cur     writers.Writer
	curName string
	curRows int64
	seq     int
	parts   []string // committed, base names
	rows    int64
	done    bool
}

var partRE = regexp.MustCompile(`^part-(\d{5,})-(\d{5,})\.[a-z]+$`)
var markerRE = regexp.MustCompile(`^_SUCCESS\.shard-(\d{4,})-of-(\d{4,})$`)

// IsDirOutput tells whether --out names a folder: an existing directory, a name
// ending in "/", or a name without a file extension.
func IsDirOutput(ctx context.Context, out string) bool {
	if strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator)) {
		return true
	}
	fsys, name, err := FSFor(ctx, out)
	if err == nil {
		if e, err := fsys.Stat(ctx, name); err == nil && e.IsDir {
			return true
		}
	}
	base := out
	if i := strings.LastIndexAny(base, "/"+string(filepath.Separator)); i >= 0 {
		base = base[i+1:]
	}
	return !strings.Contains(strings.TrimPrefix(base, "."), ".")
}

// PartName is the name of a part: part-00003-00012.parquet.
func PartName(shard, seq int, format string) string {
	ext := "parquet"
	if format == "csv" {
		ext = "csv"
	}
	return fmt.Sprintf("part-%05d-%05d.%s", shard, seq, ext)
}

// CreateDir checks the folder and prepares the run's output (it makes the folder
// when missing). Without Overwrite, the run's own parts or marker from before are
// an mlerr.IO error; a folder holding another layout (an unsharded run's _SUCCESS
// beside shards, or markers of another shard count) is an mlerr.Usage error.
func CreateDir(ctx context.Context, dir string, schema *arrow.Schema, opts OutputOptions) (*DirWriter, error) {
	if opts.Shards < 1 {
		opts.Shards = 1
	}
	fsys, name, err := FSFor(ctx, dir)
	if err != nil {
		return nil, err
	}
	name = strings.TrimRight(name, "/")
	if !IsURL(name) {
		name = strings.TrimRight(name, string(filepath.Separator))
		if name == "" {
			name = string(filepath.Separator)
		}
	}
	if err := fsys.MkdirAll(ctx, name); err != nil {
		return nil, err
	}
	w := &DirWriter{ctx: ctx, fs: fsys, dir: name, schema: schema, opts: opts, stale: map[string]bool{}}
	ents, err := fsys.List(ctx, name)
	if err != nil {
		return nil, err
	}
	sharded := opts.Shards > 1
	own := MarkerName(opts.Shard, opts.Shards)
	var mine, tmps []string
	for _, e := range ents {
		rel := relPath(name, e.Name)
		if strings.Contains(rel, "/") {
			continue
		}
		switch {
		case rel == "_SUCCESS" && sharded:
			return nil, mlerr.Errorf(mlerr.Usage, "%s holds the output of an unsharded run (_SUCCESS): write the shards to another folder, or remove it first", dir)
		case markerRE.MatchString(rel):
			m := markerRE.FindStringSubmatch(rel)
			if n, _ := strconv.Atoi(m[2]); sharded && n != opts.Shards {
				return nil, mlerr.Errorf(mlerr.Usage, "%s holds the output of a %d-shard run (%s), this run has %d shards: use another folder, or remove it first", dir, n, rel, opts.Shards)
			}
			if rel == own || !sharded {
				mine = append(mine, rel)
			}
		case rel == "_SUCCESS":
			mine = append(mine, rel)
		case partRE.MatchString(rel):
			m := partRE.FindStringSubmatch(rel)
			if s, _ := strconv.Atoi(m[1]); s == opts.Shard || !sharded {
				w.stale[rel] = true
			}
		case strings.HasPrefix(rel, ".part-"+fmt.Sprintf("%05d-", opts.Shard)) && strings.Contains(rel, ".mlbatch-tmp-"):
			tmps = append(tmps, rel) // left by a killed run of this shard
		}
	}
	if !opts.Overwrite && (len(mine) > 0 || len(w.stale) > 0) {
		what := append(mine, sortedKeys(w.stale)...)
		return nil, mlerr.Errorf(mlerr.IO, "%s already holds this run's output (%s): use --overwrite to replace it", dir, strings.Join(what, ", "))
	}
	// The marker goes first: from now on the folder does not claim this run's
	// output is whole.
	for _, m := range mine {
		if err := fsys.Remove(ctx, Join(name, m)); err != nil {
			return nil, err
		}
	}
	for _, t := range tmps {
		fsys.Remove(ctx, Join(name, t))
	}
	return w, nil
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Dir is the folder written to.
func (w *DirWriter) Dir() string { return w.dir }

// Parts lists the parts committed so far, by base name.
func (w *DirWriter) Parts() []string { return w.parts }

func (w *DirWriter) open() error {
	base := PartName(w.opts.Shard, w.seq, w.opts.Format)
	name := Join(w.dir, base)
	p, err := w.fs.Create(w.ctx, name, w.opts.Overwrite)
	if err != nil {
		return err
	}
	wo := w.opts.Writer
	wo.Format = w.opts.Format
	wr, err := writers.CreateOn(p, name, w.schema, wo)
	if err != nil {
		return err
	}
	w.cur, w.curName, w.curRows = wr, base, 0
	w.seq++
	return nil
}

func (w *DirWriter) commitPart() error {
	if w.cur == nil {
		return nil
	}
	err := w.cur.Commit()
	w.cur = nil
	if err != nil {
		return err
	}
	w.parts = append(w.parts, w.curName)
	delete(w.stale, w.curName)
	return nil
}

// Write appends a batch, starting new parts at MaxRowsPerFile rows. It does not
// take ownership of rec.
func (w *DirWriter) Write(rec arrow.RecordBatch) error {
	if w.done {
		return mlerr.Errorf(mlerr.Internal, "%s: write after commit or abort", w.dir)
	}
	n := rec.NumRows()
	var at int64
	for at < n {
		if w.cur == nil {
			if err := w.open(); err != nil {
				return err
			}
		}
		take := n - at
		if max := w.opts.MaxRowsPerFile; max > 0 {
			take = min(take, max-w.curRows)
		}
		if at == 0 && take == n {
			if err := w.cur.Write(rec); err != nil {
				return err
			}
		} else {
			s := rec.NewSlice(at, at+take)
			err := w.cur.Write(s)
			s.Release()
			if err != nil {
				return err
			}
		}
		at += take
		w.curRows += take
		w.rows += take
		if max := w.opts.MaxRowsPerFile; max > 0 && w.curRows >= max {
			if err := w.commitPart(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Commit commits the last part (an empty one when the run had no rows, so the
// folder still carries the schema), removes the run's parts from before that
// were not rewritten, and writes the marker: a small JSON document listing the
// parts and rows.
func (w *DirWriter) Commit() error {
	if w.done {
		return mlerr.Errorf(mlerr.Internal, "%s: commit after commit or abort", w.dir)
	}
	w.done = true
	if w.cur == nil && len(w.parts) == 0 {
		if err := w.open(); err != nil {
			return err
		}
	}
	if err := w.commitPart(); err != nil {
		return err
	}
	for _, s := range sortedKeys(w.stale) {
		if err := w.fs.Remove(w.ctx, Join(w.dir, s)); err != nil {
			return err
		}
	}
	marker := struct {
		Shard  int      `json:"shard"`
		Shards int      `json:"shards"`
		Rows   int64    `json:"rows"`
		Parts  []string `json:"parts"`
	}{w.opts.Shard, w.opts.Shards, w.rows, w.parts}
	data, _ := json.MarshalIndent(marker, "", "  ")
	p, err := w.fs.Create(w.ctx, Join(w.dir, MarkerName(w.opts.Shard, w.opts.Shards)), true)
	if err != nil {
		return err
	}
	if _, err := p.Write(append(data, '\n')); err != nil {
		p.Abort()
		return mlerr.Wrap(mlerr.IO, err)
	}
	return p.Commit()
}

// Abort discards the part being written. Parts already committed stay (without
// a marker); a no-op after Commit or Abort.
func (w *DirWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if w.cur != nil {
		err := w.cur.Abort()
		w.cur = nil
		return err
	}
	return nil
}
