package lightgbm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/mlbatch/mlbatch/model"
)

// synthModel writes a LightGBM-shaped text model: trees trees of leaves leaves
// (random shapes, as leaf-wise growth makes them) over nf features, with every
// missing type and, when cats, a categorical feature.
func synthModel(trees, leaves, nf int, cats bool) string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	names := make([]string, nf)
	for i := range names {
		names[i] = fmt.Sprintf("f%d", i)
	}
	fmt.Fprintf(&b, "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=%d\n", nf-1)
	fmt.Fprintf(&b, "objective=binary sigmoid:1\nfeature_names=%s\nfeature_infos=%s\n\n", strings.Join(names, " "), strings.Repeat("[-3:3] ", nf))
	for t := range trees {
		// Grow by splitting a random leaf, as LightGBM's leaf-wise learner does.
		type nd struct {
			feat, dt  int
			thr       float64
			left, rgt int
		}
		var nodes []nd
		parent := map[int][2]int{} // leaf -> (node, side)
		nl := 1
		var catWords []uint32
		for nl < leaves {
			l := rng.IntN(nl)
			f := rng.IntN(nf)
			n := nd{feat: f, thr: math.Round(rng.NormFloat64()*100) / 100, dt: []int{0, 2, 8, 10, 4}[rng.IntN(5)], left: ^l, rgt: ^nl}
			if cats && f == 0 {
				n.dt = 1
				n.thr = float64(len(catWords))
				catWords = append(catWords, rng.Uint32())
			}
			idx := len(nodes)
			if p, ok := parent[l]; ok {
				if p[1] == 0 {
					nodes[p[0]].left = idx
				} else {
					nodes[p[0]].rgt = idx
				}
			}
			parent[l] = [2]int{idx, 0}
			parent[nl] = [2]int{idx, 1}
			nodes = append(nodes, n)
			nl++
		}
		join := func(f func(n nd) string) string {
			s := make([]string, len(nodes))
			for i, n := range nodes {
				s[i] = f(n)
			}
			return strings.Join(s, " ")
		}
		fmt.Fprintf(&b, "Tree=%d\nnum_leaves=%d\nnum_cat=%d\n", t, nl, len(catWords))
		fmt.Fprintf(&b, "split_feature=%s\n", join(func(n nd) string { return fmt.Sprint(n.feat) }))
		fmt.Fprintf(&b, "threshold=%s\n", join(func(n nd) string { return fmt.Sprint(n.thr) }))
		fmt.Fprintf(&b, "decision_type=%s\n", join(func(n nd) string { return fmt.Sprint(n.dt) }))
		fmt.Fprintf(&b, "left_child=%s\n", join(func(n nd) string { return fmt.Sprint(n.left) }))
		fmt.Fprintf(&b, "right_child=%s\n", join(func(n nd) string { return fmt.Sprint(n.rgt) }))
		lv := make([]string, nl)
		for i := range lv {
			lv[i] = fmt.Sprint(rng.NormFloat64() * 0.1)
		}
		fmt.Fprintf(&b, "leaf_value=%s\n", strings.Join(lv, " "))
		if len(catWords) > 0 {
			bounds := make([]string, len(catWords)+1)
			words := make([]string, len(catWords))
			for i := range bounds {
				bounds[i] = fmt.Sprint(i)
			}
			for i, w := range catWords {
				words[i] = fmt.Sprint(w)
			}
			fmt.Fprintf(&b, "cat_boundaries=%s\ncat_threshold=%s\n", strings.Join(bounds, " "), strings.Join(words, " "))
		}
		b.WriteString("is_linear=0\nshrinkage=0.1\n\n\n")
	}
	b.WriteString("end of trees\n")
	return b.String()
}

func benchInput(rows, nf int, mem memory.Allocator) []arrow.Array {
	rng := rand.New(rand.NewPCG(3, 4))
	cols := make([]arrow.Array, nf)
	for j := range cols {
		bld := array.NewFloat64Builder(mem)
		for range rows {
			switch r := rng.Float64(); {
			case r < 0.03:
				bld.AppendNull()
			case r < 0.06:
				bld.Append(0)
			case j == 0:
				bld.Append(float64(rng.IntN(40)))
			default:
				bld.Append(rng.NormFloat64())
			}
		}
		cols[j] = bld.NewArray()
		bld.Release()
	}
	return cols
}

// BenchmarkPredict scores 10,000 rows with a 100-tree, 31-leaf binary model over
// 20 features (one categorical), through model.Model (Arrow in, Arrow out).
func BenchmarkPredict(b *testing.B) {
	for _, c := range []struct {
		trees, leaves, nf int
	}{{100, 31, 20}, {500, 63, 100}} {
		b.Run(fmt.Sprintf("trees=%d/leaves=%d/features=%d", c.trees, c.leaves, c.nf), func(b *testing.B) {
			dir := b.TempDir()
			os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(boosterMLmodel), 0o644)
			os.WriteFile(filepath.Join(dir, "model.lgb"), []byte(synthModel(c.trees, c.leaves, c.nf, true)), 0o644)
			m, _, err := model.Load(dir, model.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			mem := memory.NewGoAllocator()
			const rows = 10000
			cols := benchInput(rows, c.nf, mem)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				outs, err := m.Predict(context.Background(), model.Features{Cols: cols, Rows: rows}, mem)
				if err != nil {
					b.Fatal(err)
				}
				releaseAll(outs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/rows, "cpu-ns/row")
		})
	}
}

// BenchmarkParse loads the 100-tree model's text.
func BenchmarkParse(b *testing.B) {
	text := []byte(synthModel(100, 31, 20, true))
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := ParseText(text); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSynthModelParses(t *testing.T) {
	b, err := ParseText([]byte(synthModel(100, 31, 20, true)))
	if err != nil {
		t.Fatal(err)
	}
	if b.NumTrees() != 100 || !b.hasCat {
		t.Fatalf("%d trees, categorical %v", b.NumTrees(), b.hasCat)
	}
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkWalk compares walking rows one at a time with walking walkGroup rows
// in lock step, over the 100-tree model and 4096 rows (leaf lookups only).
func BenchmarkWalk(b *testing.B) {
	bst, err := ParseText([]byte(synthModel(100, 31, 20, true)))
	if err != nil {
		b.Fatal(err)
	}
	const rows, nf = 4096, 20
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]float64, rows*nf)
	for i := range buf {
		buf[i] = rng.NormFloat64()
	}
	var sink int32
	b.Run("single", func(b *testing.B) {
		for b.Loop() {
			for ti := range bst.trees {
				t := &bst.trees[ti]
				for i := range rows {
					sink += t.leaf(buf[i*nf : (i+1)*nf])
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
	})
	b.Run("group", func(b *testing.B) {
		var out [walkGroup]int32
		for b.Loop() {
			for ti := range bst.trees {
				t := &bst.trees[ti]
				for i := 0; i < rows; i += walkGroup {
					t.leavesOf(buf, nf, i, &out)
					sink += out[0]
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
	})
	_ = sink
}
