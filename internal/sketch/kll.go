package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultK is the accuracy parameter used by New: rank error about 1.5% at 99%.
const DefaultK = 256

// KLL is a streaming quantile sketch over float64 values. NaNs must be filtered
// out by the caller. The zero value is not usable: call New or NewK.
type KLL struct {
	k       int
	levels  [][]float64 // levels[h] holds items of weight 2^h
	size    int         // items held over all levels
	maxSize int         // sum of the level capacities
	caps    []int       // capacity of each level
	n       int64       // values seen
	rng     *rand.PCG
	bits    uint64 // cached random bits
	nbits   int
}

// New returns a sketch with K = DefaultK.
func New() *KLL { return NewK(DefaultK) }

// NewK returns a sketch with accuracy parameter k (at least 8).
func NewK(k int) *KLL {
	k = max(k, 8)
	s := &KLL{k: k, rng: rand.NewPCG(0x6d6c6261, 0x746368)}
	s.grow()
	return s
}

// N reports how many values were added.
func (s *KLL) N() int64 { return s.n }

// capacity of level h when the sketch has len(levels) levels: the top level holds
// k items and each level below 2/3 of the one above, at least 2.
func (s *KLL) capacity(h int) int { return s.caps[h] }

func (s *KLL) grow() {
	s.levels = append(s.levels, nil)
	s.maxSize = 0
	s.caps = s.caps[:0]
	for h := range s.levels {
		depth := len(s.levels) - h - 1
		c := max(int(math.Ceil(float64(s.k)*math.Pow(2.0/3.0, float64(depth)))), 2)
		s.caps = append(s.caps, c)
		s.maxSize += c
	}
}

// Add adds one value.
func (s *KLL) Add(v float64) {
	s.levels[0] = append(s.levels[0], v)
	s.size++
	s.n++
	if s.size >= s.maxSize {
		s.compress()
	}
}

func (s *KLL) coin() int {
	if s.nbits == 0 {
		s.bits = s.rng.Uint64()
		s.nbits = 64
	}
	b := int(s.bits & 1)
	s.bits >>= 1
	s.nbits--
	return b
}

// compress compacts the lowest level over its capacity: it sorts the level and
// promotes every other item (odd or even positions, by a coin flip) to the level
// above, where each counts twice.
func (s *KLL) compress() {
	for h := 0; h < len(s.levels); h++ {
		lv := s.levels[h]
		if len(lv) < s.capacity(h) {
			continue
		}
		if h+1 >= len(s.levels) {
			s.grow()
		}
		slices.Sort(lv)
		keep := 0
		if len(lv)%2 == 1 {
			// An odd item out stays at this level, so the weights add up.
			keep = 1
		}
		off := s.coin()
		for i := keep + off; i < len(lv); i += 2 {
			s.levels[h+1] = append(s.levels[h+1], lv[i])
		}
		moved := (len(lv) - keep) / 2
		s.levels[h] = lv[:keep]
		s.size -= len(lv) - keep - moved
		if s.size < s.maxSize {
			return
		}
	}
}

type weighted struct {
	v float64
	w int64
}

// Quantiles returns the values at the given ranks q (each in [0, 1]), NaN for an
// empty sketch. q = 0 and q = 1 give the smallest and largest values kept, which
// may differ from the stream's true minimum and maximum: track those separately.
func (s *KLL) Quantiles(qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if s.n == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	items := make([]weighted, 0, s.size)
	var total int64
	for h, lv := range s.levels {
		w := int64(1) << h
		for _, v := range lv {
			items = append(items, weighted{v, w})
			total += w
		}
	}
	slices.SortFunc(items, func(a, b weighted) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	for i, q := range qs {
		q = min(max(q, 0), 1)
		// The smallest item whose cumulative weight reaches q of the total (the
		// "inverted CDF" definition, numpy's method="inverted_cdf").
		target := int64(math.Ceil(q * float64(total)))
		target = max(target, 1)
		var cum int64
		out[i] = items[len(items)-1].v
		for _, it := range items {
			cum += it.w
			if cum >= target {
				out[i] = it.v
				break
			}
		}
	}
	return out
}
