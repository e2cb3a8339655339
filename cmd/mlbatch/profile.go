package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/pflag"

	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// profiles holds the hidden --cpuprofile and --memprofile flags: pprof files of a
// real run, for performance reports (go tool pprof mlbatch cpu.prof).
type profiles struct {
	cpu, mem string
	cpuFile  *os.File
}

func (p *profiles) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&p.mem, "memprofile", "", "write an allocation profile of the run to this file")
	_ = fs.MarkHidden("cpuprofile")
	_ = fs.MarkHidden("memprofile")
}

func (p *profiles) start() error {
	if p.mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	if p.cpu == "" {
		return nil
	}
	f, err := os.Create(p.cpu)
	if err != nil {
		return mlerr.Wrap(mlerr.IO, fmt.Errorf("--cpuprofile: %w", err))
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return mlerr.Wrap(mlerr.IO, fmt.Errorf("--cpuprofile: %w", err))
	}
	p.cpuFile = f
	return nil
}

// stop ends the CPU profile and writes the allocation profile; errors go to
// stderr only, since the run itself is over.
func (p *profiles) stop(stderr interface{ Write([]byte) (int, error) }) {
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		p.cpuFile.Close()
		p.cpuFile = nil
	}
	if p.mem != "" {
		f, err := os.Create(p.mem)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "mlbatch: --memprofile: %v\n", err)
		}
		p.mem = ""
	}
}
