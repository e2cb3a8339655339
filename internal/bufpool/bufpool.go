// Package bufpool is an Arrow memory.Allocator that keeps freed large buffers for
// reuse.
//
// A run allocates the same buffers batch after batch: every column of every
// batch read, every prediction array, every text and encoding buffer, tens of
// megabytes per batch. With Go's allocator each one is fresh heap memory, which
// the kernel must fault in page by page when the collector has returned it to
// the OS, and whose churn sets the collector's pace. On the 2-vCPU VMs this
// project is measured on, a page fault costs ~20 µs, so a 1M-row CSV run spent
// more time in the kernel than parsing. Arrow frees every buffer explicitly when
// its last reference is released, so the buffers can go back to a free list
// instead, and the next batch takes them already faulted in.
//
// Buffers below MinSize go to Go's allocator and are left to the collector.
// Larger ones are rounded up to a power of two and kept, per size, up to a total
// of MaxIdle bytes; beyond it a freed buffer is dropped for the collector.
package bufpool

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	// MinSize is the smallest buffer the pool keeps.
	MinSize = 64 << 10
	// MaxIdle bounds the bytes of freed buffers kept for reuse.
	MaxIdle    = 256 << 20
	numClasses = 48
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

func class(size int) int { return bits.Len(uint(size - 1)) }

// Allocate returns a zeroed buffer of size bytes.
func (a *Allocator) Allocate(size int) []byte {
	if size < MinSize {
		return a.small.Allocate(size)
	}
	c := class(size)
	a.mu.Lock()
	if l := a.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		a.free[c] = l[:len(l)-1]
		a.idle -= cap(b)
		a.mu.Unlock()
		clear(b[:cap(b)]) // as Go's allocator does; cheap on memory already faulted in
		return b[:size]
	}
	a.mu.Unlock()
	return make([]byte, size, 1<<c)
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
	if c < MinSize || c&(c-1) != 0 {
		return // a small buffer, or not one of ours: left to the collector
	}
	a.mu.Lock()
	if a.idle+c <= MaxIdle {
		if a.Poison {
			full := b[:c]
			for i := range full {
				full[i] = 0xFF
			}
		}
		k := class(c)
		a.free[k] = append(a.free[k], b[:0])
		a.idle += c
	}
	a.mu.Unlock()
}
