package dataset

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Sharding
//
// A dataset is cut into pieces: one per Parquet row group, one per CSV file (a CSV
// file cannot be split without reading it). Pieces keep the dataset's order and
// each has a weight: its rows for Parquet (known from the footers), its bytes for
// CSV. Shard k of n takes the pieces whose weight midpoint falls in the k-th n-th
// of the total weight, so shards are contiguous runs of pieces: shard 0's rows,
// then shard 1's, ... are exactly the rows of an unsharded run, in the same order.
// The split depends only on the file list and the footers, so every process of a
// sharded run computes the same one. With fewer pieces than shards some shards are
// empty; they still write their (empty) output and marker.

// Unit is the work of a shard in one file: the whole file, or a run of
// consecutive row groups of a Parquet file.
type Unit struct {
	File int // index in Dataset.Files
	// Groups lists the row groups to read (ascending, consecutive); nil means the
	// whole file.
	Groups []int
	// FirstRow counts the file's rows before the unit (its first row is FirstRow+1).
	FirstRow int64
	Rows     int64 // -1 when unknown (CSV)
	Bytes    int64
}

// Shard is one process's share of a dataset.
type Shard struct {
	Index, Count int
	Units        []Unit
}

// Rows is the shard's row count, or -1 when unknown (CSV).
func (s Shard) Rows() int64 {
	var n int64
	for _, u := range s.Units {
		if u.Rows < 0 {
			return -1
		}
		n += u.Rows
	}
	return n
}

// Bytes is the size of the shard's data (compressed column chunks for Parquet).
func (s Shard) Bytes() int64 {
	var n int64
	for _, u := range s.Units {
		n += u.Bytes
	}
	return n
}

type piece struct {
	file, group int // group -1: the whole file
	firstRow    int64
	rows, bytes int64
	weight      int64
}

func (d *Dataset) pieces() []piece {
	var ps []piece
	for i, f := range d.Files {
		if f.Format != "parquet" || len(f.RowGroups) == 0 {
			rows := int64(-1)
			if f.Format == "parquet" {
				rows = 0
			}
			ps = append(ps, piece{file: i, group: -1, rows: rows, bytes: f.Size})
			continue
		}
		var first int64
		for g, rg := range f.RowGroups {
			ps = append(ps, piece{file: i, group: g, firstRow: first, rows: rg.Rows, bytes: rg.Bytes})
			first += rg.Rows
		}
	}
	for k := range ps {
		if d.Format == "parquet" {
			ps[k].weight = ps[k].rows
		} else {
			ps[k].weight = ps[k].bytes
		}
	}
	return ps
}

// Split returns shard index of count (after Inspect). Split(0, 1) is the whole
// dataset.
func (d *Dataset) Split(index, count int) Shard {
	s := Shard{Index: index, Count: count}
	ps := d.pieces()
	var total int64
	for _, p := range ps {
		total += p.weight
	}
	var at int64
	for k, p := range ps {
		var owner int
		if total > 0 {
			// The shard holding the piece's weight midpoint, in integers:
			// floor((at + w/2) * count / total).
			owner = int((2*at + p.weight) * int64(count) / (2 * total))
		} else {
			owner = k * count / len(ps)
		}
		owner = min(owner, count-1)
		at += p.weight
		if owner != index {
			continue
		}
		if n := len(s.Units); n > 0 && s.Units[n-1].File == p.file && p.group >= 0 {
			u := &s.Units[n-1]
			u.Groups = append(u.Groups, p.group)
			u.Rows += p.rows
			u.Bytes += p.bytes
			continue
		}
		u := Unit{File: p.file, FirstRow: p.firstRow, Rows: p.rows, Bytes: p.bytes}
		if p.group >= 0 {
			u.Groups = []int{p.group}
			// A file read whole needs no row group selection.
		}
		s.Units = append(s.Units, u)
	}
	// Units that turned out to cover a whole file read it without selection.
	for k := range s.Units {
		u := &s.Units[k]
		if u.Groups != nil && len(u.Groups) == len(d.Files[u.File].RowGroups) {
			u.Groups = nil
		}
	}
	return s
}

// ParseShard reads --shard "i/n" (0 <= i < n).
func ParseShard(s string) (index, count int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, mlerr.Errorf(mlerr.Usage, "--shard %q: want i/n with 0 <= i < n, e.g. 3/8", s)
	}
	return i, n, nil
}

// ShardFromEnv is the shard of a Kubernetes Indexed Job: the index from
// JOB_COMPLETION_INDEX, the count given (--shard-count). ok is false when the
// variable is unset.
func ShardFromEnv(count int) (index int, ok bool, err error) {
	v, set := os.LookupEnv("JOB_COMPLETION_INDEX")
	if !set || v == "" {
		return 0, false, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return 0, true, mlerr.Errorf(mlerr.Usage, "JOB_COMPLETION_INDEX=%q: want a non-negative integer", v)
	}
	if i >= count {
		return 0, true, mlerr.Errorf(mlerr.Usage, "JOB_COMPLETION_INDEX=%d but --shard-count is %d: the Job's completions must equal --shard-count", i, count)
	}
	return i, true, nil
}

// MarkerName is the success marker of a run: _SUCCESS for an unsharded run,
// _SUCCESS.shard-0003-of-0004 for shard 3 of 4.
func MarkerName(index, count int) string {
	if count <= 1 {
		return "_SUCCESS"
	}
	return fmt.Sprintf("_SUCCESS.shard-%04d-of-%04d", index, count)
}
