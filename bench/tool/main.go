// Command tool is the Go side of `make bench` (see bench/README.md):
//
//	tool gen -rows N -seed S -dir DIR     data.csv, data.parquet and data.f64 (raw float64, row-major)
//	tool copy -in F -out G                mlbatch's reader and writer without a model (the copy floor)
//	tool predict -model DIR -in F.parquet -workers N
//	                                      batch.Run over batches already in memory: predict-only
//	                                      time, printed as SECONDS=<s>
//	tool run -dir DIR -runs N             the side-by-side runs, RESULTS.md
//
// It is not part of the mlbatch binary and needs no cgo.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/internal/bufpool"
	"github.com/mlbatch/mlbatch/model"
	_ "github.com/mlbatch/mlbatch/model/sklearn"
	_ "github.com/mlbatch/mlbatch/model/xgboost"
	"github.com/mlbatch/mlbatch/readers"
	"github.com/mlbatch/mlbatch/writers"
)

const nFeatures = 13

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tool gen|copy|predict|run ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "copy":
		err = copyCmd(os.Args[2:])
	case "predict":
		err = predictCmd(os.Args[2:])
	case "run":
		err = runCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tool:", err)
		os.Exit(1)
	}
}

func featureNames() []string {
	names := make([]string, nFeatures)
	for j := range names {
		names[j] = "x" + strconv.Itoa(j+1)
	}
	return names
}

// gen writes rows of 13 standard normal float64 columns x1..x13 from a fixed seed,
// as CSV (shortest round-trip repr, as pandas writes them), Parquet (mlbatch's own
// writer, snappy) and raw little-endian float64 for the Python peers.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	rows := fs.Int("rows", 1_000_000, "rows")
	seed := fs.Uint64("seed", 1, "seed")
	dir := fs.String("dir", "bench/out/1m", "output folder")
	raw := fs.Bool("raw", true, "also write data.f64")
	fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	names := featureNames()
	fields := make([]arrow.Field, nFeatures)
	for j, n := range names {
		fields[j] = arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)

	csvF, err := os.Create(*dir + "/data.csv")
	if err != nil {
		return err
	}
	defer csvF.Close()
	var rawF *os.File
	if *raw {
		if rawF, err = os.Create(*dir + "/data.f64"); err != nil {
			return err
		}
		defer rawF.Close()
	}
	pq, err := writers.Create(*dir+"/data.parquet", schema, writers.Options{Overwrite: true})
	if err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<20)
	for j, n := range names {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, n...)
	}
	buf = append(buf, '\n')
	const chunk = 65536
	cols := make([][]float64, nFeatures)
	for j := range cols {
		cols[j] = make([]float64, chunk)
	}
	rawBuf := make([]byte, chunk*nFeatures*8)
	for done := 0; done < *rows; {
		n := min(chunk, *rows-done)
		for i := range n {
			for j := range nFeatures {
				v := rng.NormFloat64()
				cols[j][i] = v
				if j > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
				binary.LittleEndian.PutUint64(rawBuf[(i*nFeatures+j)*8:], math.Float64bits(v))
			}
			buf = append(buf, '\n')
			if len(buf) > 1<<20-512 {
				if _, err := csvF.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		if rawF != nil {
			if _, err := rawF.Write(rawBuf[:n*nFeatures*8]); err != nil {
				return err
			}
		}
		arrs := make([]arrow.Array, nFeatures)
		for j := range arrs {
			b := array.NewFloat64Builder(memory.DefaultAllocator)
			b.AppendValues(cols[j][:n], nil)
			arrs[j] = b.NewArray()
			b.Release()
		}
		rec := array.NewRecordBatch(schema, arrs, int64(n))
		for _, a := range arrs {
			a.Release()
		}
		err := pq.Write(rec)
		rec.Release()
		if err != nil {
			pq.Abort()
			return err
		}
		done += n
	}
	if _, err := csvF.Write(buf); err != nil {
		return err
	}
	if err := csvF.Close(); err != nil {
		return err
	}
	return pq.Commit()
}

// copyCmd streams a file through mlbatch's reader and writer with no model: the
// floor for "scoring vs copying".
func copyCmd(args []string) error {
	fs := flag.NewFlagSet("copy", flag.ExitOnError)
	in := fs.String("in", "", "input")
	out := fs.String("out", "", "output")
	prof := fs.String("cpuprofile", "", "write a CPU profile here")
	fs.Parse(args)
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// As mlbatch score copies: pooled buffers, and a CSV output copies the
	// input's text.
	mem := bufpool.New()
	outFormat, _ := writers.FormatOf(*out)
	src, err := readers.Open(*in, readers.Options{Mem: mem, RowText: outFormat == "csv"})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := writers.Create(*out, src.Schema(), writers.Options{Overwrite: true, Mem: mem})
	if err != nil {
		return err
	}
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			dst.Abort()
			return err
		}
		err = dst.Write(rec)
		rec.Release()
		if err != nil {
			dst.Abort()
			return err
		}
	}
	return dst.Commit()
}

type sliceSource struct {
	recs []arrow.RecordBatch
}

func (s *sliceSource) Name() string { return "memory" }
func (s *sliceSource) Next() (arrow.RecordBatch, error) {
	if len(s.recs) == 0 {
		return nil, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}

type discard struct{ rows int64 }

func (d *discard) Write(rec arrow.RecordBatch) error { d.rows += rec.NumRows(); return nil }

// predictCmd times batch.Run (binding, row-block transposition, Predict, output
// assembly) over batches already in memory, with the given workers: the
// predict-only figure compared with xgboost's inplace_predict and sklearn's predict.
func predictCmd(args []string) error {
	fs := flag.NewFlagSet("predict", flag.ExitOnError)
	dir := fs.String("model", "", "model folder")
	in := fs.String("in", "", "parquet input")
	workers := fs.Int("workers", 2, "workers")
	fs.Parse(args)
	m, _, err := model.Load(*dir, model.LoadOptions{})
	if err != nil {
		return err
	}
	src, err := readers.Open(*in, readers.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	b, err := batch.Bind(src.Schema(), m, []string{}, "prediction")
	if err != nil {
		return err
	}
	var recs []arrow.RecordBatch
	var rows int64
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		recs = append(recs, rec)
		rows += rec.NumRows()
	}
	sink := &discard{}
	t0 := time.Now()
	if _, err := batch.Run(context.Background(), &sliceSource{recs}, m, b, sink, batch.Options{Workers: *workers}); err != nil {
		return err
	}
	el := time.Since(t0).Seconds()
	if sink.rows != rows {
		return fmt.Errorf("wrote %d rows of %d", sink.rows, rows)
	}
	fmt.Printf("SECONDS=%.6f\n", el)
	return nil
}
