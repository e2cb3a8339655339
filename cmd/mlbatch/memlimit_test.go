package main

import (
	"runtime/debug"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		in    string
		auto  bool
		limit int64
		bad   bool
	}{
		{"auto", true, 0, false},
		{"", true, 0, false},
		{"off", false, 0, false},
		{"0", false, 0, false},
		{"512MiB", false, 512 << 20, false},
		{"2GB", false, 2e9, false},
		{"1 GiB", false, 1 << 30, false},
		{"10MiB", false, 0, true}, // below the 64 MiB floor
		{"lots", false, 0, true},
		{"-1", false, 0, true},
	} {
		auto, limit, err := parseMemoryLimit(c.in)
		if (err != nil) != c.bad || auto != c.auto || limit != c.limit {
			t.Errorf("parseMemoryLimit(%q) = %v, %d, %v; want %v, %d, error %v", c.in, auto, limit, err, c.auto, c.limit, c.bad)
		}
	}
}

// TestApplyMemoryLimit checks that each form of --memory-limit reaches the Go
// runtime: auto is the live heap plus the headroom, a size is itself.
func TestApplyMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	t.Setenv("GOMEMLIMIT", "")

	got, err := applyMemoryLimit("768MiB")
	if err != nil || got != 768<<20 || debug.SetMemoryLimit(-1) != 768<<20 {
		t.Fatalf("768MiB: set %d (%v), runtime has %d", got, err, debug.SetMemoryLimit(-1))
	}
	got, err = applyMemoryLimit("auto")
	if err != nil || got < autoHeadroom || got > autoHeadroom+1<<30 || debug.SetMemoryLimit(-1) != got {
		t.Fatalf("auto: set %d (%v), runtime has %d", got, err, debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(old)
	if got, err = applyMemoryLimit("off"); err != nil || got != 0 || debug.SetMemoryLimit(-1) != old {
		t.Fatalf("off: set %d (%v), runtime has %d", got, err, debug.SetMemoryLimit(-1))
	}
}
