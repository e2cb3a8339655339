// Package bufpool is an Arrow memory.Allocator that keeps freed large buffers for
// reuse.
//
// A run allocates the same buffers batch after batch: every column of every
// batch read, every prediction array, every text and encoding buffer, tens of
// megabytes per batch. With Go's allocator each one is fresh heap memory, which
// the kernel must fault in page by page when the heap grows, and whose churn
// sets the collector's pace. On the 2-vCPU VMs this project is measured on, a
// page fault costs ~20 µs, so a 1M-row CSV run spent more time in the kernel
// than parsing. Arrow frees every buffer explicitly when its last reference is
// released, so the buffers can go back to a free list instead, and the next
// batch takes them already faulted in.
//
// Buffers below MinSize go to Go's allocator and are left to the collector.
// Larger ones are rounded up to a size class (at most 25% larger: a Parquet
// page of 1 MiB plus its header would take 2 MiB with powers of two) and kept,
// per class, up to a bound on the bytes in all (MaxIdle by default); beyond it the buffers freed longest
// ago are left to the collector.
package bufpool

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	// MinSize is the smallest buffer the pool keeps.
	MinSize = 64 << 10
	// MaxIdle is New's bound on the bytes of freed buffers kept for reuse; past
	// it the buffers freed longest ago are dropped: a few batches' worth. Idle buffers are live heap to the
	// collector: without the eviction, buffers of sizes asked for once (a
	// growing buffer's steps, compressed pages of odd sizes) piled up to the
	// cap, and a 10M-row run's heap grew by them. A sync.Pool per class
	// (emptied by every other collection) cost a 1M-row CSV run 20% more page
	// faults than keeping the buffers.
	MaxIdle = 32 << 20
	// Four size classes per power of two up to 2^63 bytes.
	numClasses = 4 * 64
)

// Allocator is a memory.Allocator that reuses large buffers. It is safe for
// concurrent use. Its zero value is not usable: use New.
type Allocator struct {
	small memory.Allocator
	// Poison makes Free overwrite a kept buffer with 0xFF bytes (a NaN in every
	// float64), so that tests which read a buffer after releasing it get wrong
	// numbers instead of the right ones by luck.
	Poison bool

	maxIdle int

	mu    sync.Mutex
	free  [numClasses][]idleBuf // per class, oldest first
	order []idleRef             // the idle buffers in the order they were freed, from head
	head  int
	seq   uint64
	idle  int // bytes
	nIdle int // buffers
}

type idleBuf struct {
	b   []byte // len 0, cap the class's capacity
	seq uint64
}

// idleRef names an idle buffer in order; it is stale once the buffer has been
// allocated again.
type idleRef struct {
	class int
	seq   uint64
}

// New returns an empty pool that keeps up to MaxIdle bytes of freed buffers.
func New() *Allocator { return NewIdle(MaxIdle) }

// NewIdle returns an empty pool that keeps up to maxIdle bytes of freed buffers.
func NewIdle(maxIdle int) *Allocator {
	return &Allocator{small: memory.NewGoAllocator(), maxIdle: maxIdle}
}

// class returns the size class of a buffer of size bytes (size >= MinSize) and
// the class's capacity.
func class(size int) (int, int) {
	e := bits.Len(uint(size-1)) - 3
	sub := (size - 1) >> e // 4 to 7
	return 4*e + sub - 4, (sub + 1) << e
}

// Allocate returns a zeroed buffer of size bytes.
func (a *Allocator) Allocate(size int) []byte {
	if size < MinSize {
		return a.small.Allocate(size)
	}
	c, capacity := class(size)
	a.mu.Lock()
	if l := a.free[c]; len(l) > 0 {
		b := l[len(l)-1].b[:capacity] // the most recently freed: likely still in cache
		l[len(l)-1] = idleBuf{}
		a.free[c] = l[:len(l)-1]
		a.idle -= capacity
		a.nIdle--
		a.mu.Unlock()
		clear(b) // as Go's allocator does; cheap on memory already faulted in
		return b[:size]
	}
	a.mu.Unlock()
	return make([]byte, size, capacity)
}

// Reallocate resizes b, copying its contents when it must move.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) && (cap(b) < MinSize || size >= MinSize) {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free takes b back. b must not be used afterwards.
func (a *Allocator) Free(b []byte) {
	c := cap(b)
	if c < MinSize {
		return // a small buffer: left to the collector
	}
	k, capacity := class(c)
	if capacity != c {
		return // not one of ours
	}
	if c > a.maxIdle {
		return
	}
	if a.Poison {
		b = b[:c]
		for i := range b {
			b[i] = 0xFF
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.idle+c > a.maxIdle && a.evictOldest() {
	}
	a.seq++
	a.free[k] = append(a.free[k], idleBuf{b: b[:0], seq: a.seq})
	a.order = append(a.order, idleRef{class: k, seq: a.seq})
	a.idle += c
	a.nIdle++
	if stale := len(a.order) - a.head - a.nIdle; stale > 64 && stale > 4*a.nIdle {
		a.reorder()
	}
}

// evictOldest drops the idle buffer freed longest ago, reporting whether there
// was one. The oldest idle buffer of a class is the first of its list.
func (a *Allocator) evictOldest() bool {
	for a.head < len(a.order) {
		r := a.order[a.head]
		a.order[a.head] = idleRef{}
		a.head++
		if l := a.free[r.class]; len(l) > 0 && l[0].seq == r.seq {
			a.idle -= cap(l[0].b)
			a.nIdle--
			l[0] = idleBuf{}
			a.free[r.class] = l[1:]
			return true
		}
	}
	return false
}

// reorder rebuilds order from the idle buffers, dropping stale references.
func (a *Allocator) reorder() {
	a.order = a.order[:0]
	a.head = 0
	for k, l := range a.free {
		for _, e := range l {
			a.order = append(a.order, idleRef{class: k, seq: e.seq})
		}
	}
	slices.SortFunc(a.order, func(x, y idleRef) int { return cmp.Compare(x.seq, y.seq) })
}
