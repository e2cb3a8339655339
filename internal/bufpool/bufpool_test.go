package bufpool

import (
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestReuse(t *testing.T) {
	a := New()
	b := a.Allocate(100_000)
	if len(b) != 100_000 || cap(b) != 112<<10 {
		t.Fatalf("len %d cap %d, want 100000 and 114688 (1.75 x 64 KiB)", len(b), cap(b))
	}
	for i := range b {
		b[i] = 7
	}
	a.Free(b)
	c := a.Allocate(99_000) // same size class
	if &c[0] != &b[0] {
		t.Fatal("a freed buffer of the same class was not reused")
	}
	for i, x := range c[:cap(c)] {
		if x != 0 {
			t.Fatalf("reused buffer not zeroed at %d", i)
		}
	}
	if d := a.Allocate(99_000); &d[0] == &c[0] {
		t.Fatal("one buffer handed out twice")
	}
}

func TestSmallAndForeignBuffersAreNotKept(t *testing.T) {
	a := New()
	small := a.Allocate(1000)
	a.Free(small)
	foreign := make([]byte, 100_000) // not a class's capacity: not ours
	a.Free(foreign)
	if b := a.Allocate(100_000); &b[0] == &foreign[0] {
		t.Fatal("a buffer the pool did not allocate was handed out")
	}
}

// TestClasses: every size gets a class no more than 25% larger, and a class's
// capacity maps back to the same class.
func TestClasses(t *testing.T) {
	prev := -1
	for size := MinSize; size < 1<<30; size += size/7 + 1 {
		k, c := class(size)
		if c < size || float64(c) > 1.25*float64(size)+1 {
			t.Fatalf("size %d: class capacity %d", size, c)
		}
		if k2, c2 := class(c); k2 != k || c2 != c {
			t.Fatalf("capacity %d of class %d maps to class %d (%d)", c, k, k2, c2)
		}
		if k < prev || k >= numClasses {
			t.Fatalf("size %d: class %d after %d", size, k, prev)
		}
		prev = k
	}
}

// TestIdleBound: past MaxIdle the buffers freed longest ago are dropped, so the
// pool keeps the sizes in use rather than those asked for once.
func TestIdleBound(t *testing.T) {
	a := New()
	var once [][]byte
	for range MaxIdle/(1<<20) + 10 {
		once = append(once, a.Allocate(1<<20))
	}
	for _, b := range once {
		a.Free(b)
	}
	if a.idle != MaxIdle {
		t.Fatalf("idle %d, want the pool filled to MaxIdle %d and no more", a.idle, MaxIdle)
	}
	// A working set of another size, allocated and freed again and again,
	// pushes out only as many old buffers as it needs, and is reused.
	k3, c3 := class(3 << 20)
	ws := make([][]byte, 4)
	seen := map[*byte]bool{}
	for round := range 100 {
		for i := range ws {
			ws[i] = a.Allocate(3 << 20)
			if round > 0 && !seen[&ws[i][0]] {
				t.Fatalf("round %d: the working set got a new buffer", round)
			}
			seen[&ws[i][0]] = true
		}
		for _, b := range ws {
			a.Free(b)
		}
		if a.idle > MaxIdle {
			t.Fatalf("round %d: idle %d > MaxIdle", round, a.idle)
		}
	}
	k1, _ := class(1 << 20)
	if got, want := len(a.free[k1]), (MaxIdle-len(ws)*c3)/(1<<20); got != want {
		t.Fatalf("%d old buffers left, want %d", got, want)
	}
	if got := len(a.free[k3]); got != len(ws) {
		t.Fatalf("%d idle buffers of the working set's class, want %d", got, len(ws))
	}
	if stale := len(a.order) - a.head - a.nIdle; stale > 64+4*a.nIdle {
		t.Fatalf("%d stale references kept for %d idle buffers", stale, a.nIdle)
	}
}

func TestReallocate(t *testing.T) {
	a := New()
	b := a.Allocate(MinSize)
	for i := range b {
		b[i] = byte(i)
	}
	g := a.Reallocate(3*MinSize, b)
	for i := range MinSize {
		if g[i] != byte(i) {
			t.Fatalf("byte %d lost when growing", i)
		}
	}
	s := a.Reallocate(MinSize+1, g) // shrinking within the capacity keeps the buffer
	if &s[0] != &g[0] || len(s) != MinSize+1 {
		t.Fatal("shrinking moved the buffer")
	}
}

func TestPoison(t *testing.T) {
	a := New()
	a.Poison = true
	b := a.Allocate(MinSize)
	a.Free(b)
	if b[:1][0] != 0xFF {
		t.Fatal("freed buffer not poisoned")
	}
}

// TestArrowBuilders runs Arrow's builders on the pool, concurrently and with
// Arrow's leak checker, and checks the values survive reuse.
func TestArrowBuilders(t *testing.T) {
	pool := New()
	pool.Poison = true
	mem := memory.NewCheckedAllocator(pool)
	defer mem.AssertSize(t, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 20 {
				b := array.NewFloat64Builder(mem)
				n := 20_000 + round*100
				for i := range n {
					if i%7 == 0 {
						b.AppendNull()
					} else {
						b.Append(float64(g*1_000_000 + i))
					}
				}
				arr := b.NewFloat64Array()
				b.Release()
				for i := range n {
					if i%7 == 0 {
						if !arr.IsNull(i) {
							t.Errorf("row %d not null", i)
						}
					} else if arr.IsNull(i) || arr.Value(i) != float64(g*1_000_000+i) {
						t.Errorf("row %d = %v", i, arr.Value(i))
					}
				}
				arr.Release()
			}
		})
	}
	wg.Wait()
}
