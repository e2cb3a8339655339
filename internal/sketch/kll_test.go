package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

var testQs = []float64{0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999}

// exact is numpy's quantile(method="inverted_cdf") over sorted data.
func exact(sorted []float64, q float64) float64 {
	i := max(int(math.Ceil(q*float64(len(sorted))))-1, 0)
	return sorted[i]
}

func TestSmallStreamIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]float64, DefaultK-1)
	s := New()
	for i := range data {
		data[i] = r.NormFloat64()
		s.Add(data[i])
	}
	slices.Sort(data)
	got := s.Quantiles(testQs...)
	for i, q := range testQs {
		if want := exact(data, q); got[i] != want {
			t.Errorf("q=%v: got %v, want %v", q, got[i], want)
		}
	}
}

// TestRankError checks the stated bound: the rank of every returned quantile is
// within 1.5% of n of the requested rank, over several data orders and shapes.
func TestRankError(t *testing.T) {
	const bound = 0.015
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	shapes := map[string]func(r *rand.Rand, i int) float64{
		"uniform":   func(r *rand.Rand, _ int) float64 { return r.Float64() },
		"normal":    func(r *rand.Rand, _ int) float64 { return r.NormFloat64()*3 + 10 },
		"lognormal": func(r *rand.Rand, _ int) float64 { return math.Exp(r.NormFloat64() * 2) },
		"ascending": func(_ *rand.Rand, i int) float64 { return float64(i) },
		"desc":      func(_ *rand.Rand, i int) float64 { return float64(-i) },
		"zigzag":    func(_ *rand.Rand, i int) float64 { return float64((i * 7919) % 1000) },
	}
	worst := 0.0
	for name, gen := range shapes {
		for seed := range uint64(8) {
			r := rand.New(rand.NewPCG(seed, 99))
			data := make([]float64, n)
			s := New()
			for i := range data {
				data[i] = gen(r, i)
				s.Add(data[i])
			}
			slices.Sort(data)
			got := s.Quantiles(testQs...)
			for i, q := range testQs {
				// The returned value's rank range among the data (ties give a range).
				lo := sort.SearchFloat64s(data, got[i])
				hi := sort.Search(len(data), func(j int) bool { return data[j] > got[i] })
				target := q * float64(n)
				var e float64
				switch {
				case target < float64(lo):
					e = (float64(lo) - target) / float64(n)
				case target > float64(hi):
					e = (target - float64(hi)) / float64(n)
				}
				worst = max(worst, e)
				if e > bound {
					t.Errorf("%s seed %d q=%v: got %v, rank error %.4f > %.3f", name, seed, q, got[i], e, bound)
				}
			}
		}
	}
	t.Logf("worst normalized rank error over %d values: %.5f", n, worst)
}

func TestEmpty(t *testing.T) {
	if q := New().Quantiles(0.5); !math.IsNaN(q[0]) {
		t.Fatalf("empty sketch: got %v, want NaN", q[0])
	}
}

func TestBoundedSize(t *testing.T) {
	s := New()
	for i := range 1_000_000 {
		s.Add(float64(i))
	}
	if s.size > 3*DefaultK+64 {
		t.Fatalf("sketch holds %d items after 1e6 values", s.size)
	}
	if s.N() != 1_000_000 {
		t.Fatalf("N = %d", s.N())
	}
}

func BenchmarkAdd(b *testing.B) {
	s := New()
	r := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		s.Add(r.Float64())
	}
}
