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
// per class, up to MaxIdle bytes in all; beyond it a freed buffer is left to
// the collector.
package bufpool

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	// MinSize is the smallest buffer the pool keeps.
	MinSize = 64 << 10
	// MaxIdle bounds the bytes of freed buffers kept for reuse. Measured on a
	// 1M-row CSV run: 64 MiB dropped buffers the next batches needed and cost
	// 40% more page faults, and a sync.Pool per class (emptied by every other
	// collection) 20% more, than this.
	MaxIdle = 256 << 20
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

	mu   sync.Mutex
	free [numClasses][][]byte
	idle int
}

// New returns an empty pool.
func New() *Allocator { return &Allocator{small: memory.NewGoAllocator()} }

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
		b := l[len(l)-1][:capacity]
		l[len(l)-1] = nil
		a.free[c] = l[:len(l)-1]
		a.idle -= capacity
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
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.idle+c > MaxIdle {
		return
	}
	if a.Poison {
		b = b[:c]
		for i := range b {
			b[i] = 0xFF
		}
	}
	a.free[k] = append(a.free[k], b[:0])
	a.idle += c
}
