package serve

import "sync"

// arena holds a request's parsed JSON: the lists, dictionaries and frame cells
// of one body are carved from chunks that are reused by later requests, so that
// parsing a body allocates (almost) nothing and leaves the collector nothing to
// do. Everything carved from an arena dies with the request: the model's feature
// arrays copy the values they take. A nil *arena allocates normally.
type arena struct {
	vals  [][]value
	mems  [][]member
	ptrs  [][]*value
	vi    int // chunk being carved, per kind
	mi    int
	pi    int
	bytes int // cells handed out, to bound what the pool keeps
}

const (
	chunkLen = 1024
	// maxPooled bounds the cells an arena keeps for reuse (a huge request's
	// chunks are left to the collector).
	maxPooled = 1 << 16
)

var arenas = sync.Pool{New: func() any { return new(arena) }}

func getArena() *arena { return arenas.Get().(*arena) }

// free clears what the request used and returns the arena to the pool.
func (a *arena) free() {
	if a == nil {
		return
	}
	for i := range a.vals {
		clear(a.vals[i])
		a.vals[i] = a.vals[i][:0]
	}
	for i := range a.mems {
		clear(a.mems[i])
		a.mems[i] = a.mems[i][:0]
	}
	for i := range a.ptrs {
		clear(a.ptrs[i])
		a.ptrs[i] = a.ptrs[i][:0]
	}
	a.vi, a.mi, a.pi = 0, 0, 0
	if a.bytes > maxPooled {
		*a = arena{}
		return
	}
	a.bytes = 0
	arenas.Put(a)
}

// carve returns n zeroed elements from the chunks in *chunks, starting at chunk
// *ci, adding a chunk when none has room.
func carve[T any](chunks *[][]T, ci *int, n int) []T {
	for *ci < len(*chunks) {
		c := (*chunks)[*ci]
		if cap(c)-len(c) >= n {
			(*chunks)[*ci] = c[:len(c)+n]
			return c[len(c) : len(c)+n : len(c)+n]
		}
		*ci++
	}
	c := make([]T, n, max(n, chunkLen))
	*chunks = append(*chunks, c)
	*ci = len(*chunks) - 1
	return c[:n:n]
}

func (a *arena) values(n int) []value {
	if a == nil {
		return make([]value, n)
	}
	a.bytes += n
	return carve(&a.vals, &a.vi, n)
}

func (a *arena) members(n int) []member {
	if a == nil {
		return make([]member, n)
	}
	a.bytes += n
	return carve(&a.mems, &a.mi, n)
}

func (a *arena) cells(n int) []*value {
	if a == nil {
		return make([]*value, n)
	}
	a.bytes += n
	return carve(&a.ptrs, &a.pi, n)
}
