package xgboost

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// BenchmarkPredict100Trees scores a 100-tree, depth-6, 13-feature regression
// model (testdata/xgboost/models/bench_reg_100x6) on one goroutine. Compare
// with testdata/xgboost/bench_native.py, which times xgboost on the same file
// and the same kind of rows.
func BenchmarkPredict100Trees(b *testing.B) { benchPredict(b, 0) }

// BenchmarkPredict100TreesNaN is the same with 5% of the cells missing (about
// half of the rows have a NaN somewhere).
func BenchmarkPredict100TreesNaN(b *testing.B) { benchPredict(b, 0.05) }

func benchPredict(b *testing.B, nanFrac float64) {
	m, _, err := model.Load(filepath.Join(fixtureDir, "models", "bench_reg_100x6"), model.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 65536
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(1, 2))
	cols := make([]arrow.Array, len(m.Inputs()))
	for j := range cols {
		bld := array.NewFloat64Builder(mem)
		for range rows {
			if rng.Float64() < nanFrac {
				bld.AppendNull()
				continue
			}
			bld.Append(rng.NormFloat64())
		}
		cols[j] = bld.NewArray()
		bld.Release()
	}
	in := model.Features{Cols: cols, Rows: rows}
	ctx := context.Background()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		out, err := m.Predict(ctx, in, mem)
		if err != nil {
			b.Fatal(err)
		}
		releaseAll(out)
	}
	b.StopTimer()
	// Wall-clock rows/s, and rows per second of process CPU time, which stays
	// meaningful on a loaded machine.
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)*float64(b.N)/(cpuSeconds()-cpu0), "rows/cpu-s")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
