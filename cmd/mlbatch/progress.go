package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mlbatch/mlbatch/batch"
	"github.com/mlbatch/mlbatch/internal/mlerr"
)

// Progress modes of `score --progress`.
const (
	progressAuto = "auto" // a bar on a terminal, else JSON lines
	progressBar  = "bar"
	progressJSON = "json"
	progressNone = "none"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressEvent is one JSON progress line. Its field names are a stable interface.
type progressEvent struct {
	Event         string   `json:"event"` // "progress" or "done"
	Time          string   `json:"time"`
	ElapsedSec    float64  `json:"elapsed_seconds"`
	RowsRead      int64    `json:"rows_read"`
	RowsWritten   int64    `json:"rows_written"`
	RowsRejected  int64    `json:"rows_rejected"`
	Batches       int64    `json:"batches"`
	RowsPerSecond float64  `json:"rows_per_second"`
	BytesRead     int64    `json:"bytes_read,omitempty"` // an estimate for Parquet
	BytesTotal    int64    `json:"bytes_total,omitempty"`
	RowsTotal     int64    `json:"rows_total,omitempty"` // known for Parquet
	Fraction      *float64 `json:"fraction,omitempty"`
	ETASec        *float64 `json:"eta_seconds,omitempty"`
}

// progress reports a run's progress on stderr: a bar (redrawn a few times a second)
// or a JSON line every interval. update is called from the pipeline's writer
// goroutine and only stores the counts.
type progress struct {
	mode       string
	interval   time.Duration
	w          io.Writer
	path       string
	bytesTotal int64
	rowsTotal  int64
	start      time.Time

	mu   sync.Mutex
	last batch.Stats

	explicit bool // --progress named the mode
	emitted  bool // a JSON line was written (loop goroutine only, until finish)

	fd   int // the input's descriptor, for its read offset (CSV on Linux); -1 unknown
	bar  *progressbar.ProgressBar
	stop chan struct{}
	done chan struct{}
}

// newProgress starts a reporter for the input at path, or returns nil when mode is
// none. It must be called once the input is open.
func newProgress(mode string, interval time.Duration, w io.Writer, path, format string) *progress {
	explicit := mode != progressAuto
	if mode == progressAuto {
		mode = progressJSON
		if isTerminal(w) {
			mode = progressBar
		}
	}
	if mode == progressNone {
		return nil
	}
	var bytesTotal, rowsTotal int64
	fd := -1
	if fi, err := os.Stat(path); err == nil {
		bytesTotal = fi.Size()
	}
	if format == "parquet" {
		rowsTotal = parquetRows(path)
	} else {
		fd = findFD(path)
	}
	return startProgressMode(mode, explicit, interval, w, path, bytesTotal, rowsTotal, fd)
}

// startProgress is newProgress with the totals given (a dataset shard, stdin).
func startProgress(mode string, interval time.Duration, w io.Writer, path string, bytesTotal, rowsTotal int64, fd int) *progress {
	explicit := mode != progressAuto
	if mode == progressAuto {
		mode = progressJSON
		if isTerminal(w) {
			mode = progressBar
		}
	}
	if mode == progressNone {
		return nil
	}
	return startProgressMode(mode, explicit, interval, w, path, bytesTotal, rowsTotal, fd)
}

func startProgressMode(mode string, explicit bool, interval time.Duration, w io.Writer, path string, bytesTotal, rowsTotal int64, fd int) *progress {
	p := &progress{mode: mode, interval: interval, w: w, path: path, start: time.Now(), fd: fd, explicit: explicit,
		stop: make(chan struct{}), done: make(chan struct{}), bytesTotal: bytesTotal, rowsTotal: rowsTotal}
	if mode == progressBar {
		max := p.bytesTotal
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetDescription("scoring"),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
		p.interval = 200 * time.Millisecond
	}
	go p.loop()
	return p
}

// update records the running totals (called after each batch is written).
func (p *progress) update(st batch.Stats) {
	p.mu.Lock()
	p.last = st
	p.mu.Unlock()
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.render(p.event("progress"))
		}
	}
}

// finish stops the reporter. On success a JSON reporter writes a last "done" line
// (when --progress=json or once it wrote a line) and a bar is cleared (the summary
// follows).
func (p *progress) finish(st batch.Stats, ok bool) {
	close(p.stop)
	<-p.done
	p.update(st)
	switch p.mode {
	case progressBar:
		p.bar.Exit()
		fmt.Fprint(p.w, "\r\x1b[K")
	case progressJSON:
		// A run shorter than one interval says nothing unless JSON was asked for:
		// the summary follows anyway.
		if ok && (p.explicit || p.emitted) {
			p.render(p.event("done"))
		}
	}
}

func (p *progress) event(kind string) progressEvent {
	p.mu.Lock()
	st := p.last
	p.mu.Unlock()
	now := time.Now()
	el := now.Sub(p.start).Seconds()
	ev := progressEvent{Event: kind, Time: now.UTC().Format(time.RFC3339Nano), ElapsedSec: el,
		RowsRead: st.RowsRead, RowsWritten: st.RowsWritten, RowsRejected: st.RowsRejected, Batches: st.Batches,
		BytesTotal: p.bytesTotal, RowsTotal: p.rowsTotal}
	if el > 0 {
		ev.RowsPerSecond = float64(st.RowsRead) / el
	}
	var frac float64 = -1
	switch {
	case p.rowsTotal > 0:
		frac = float64(st.RowsRead) / float64(p.rowsTotal)
		ev.BytesRead = int64(frac * float64(p.bytesTotal))
	case p.fd >= 0 && p.bytesTotal > 0:
		if pos, ok := fdPos(p.fd); ok {
			ev.BytesRead = min(pos, p.bytesTotal)
			frac = float64(ev.BytesRead) / float64(p.bytesTotal)
		}
	}
	if kind == "done" {
		frac = 1
		if p.bytesTotal > 0 {
			ev.BytesRead = p.bytesTotal
		}
	}
	if frac >= 0 {
		frac = min(frac, 1)
		ev.Fraction = &frac
		if frac > 0 {
			eta := el/frac - el
			ev.ETASec = &eta
		}
	}
	return ev
}

func (p *progress) render(ev progressEvent) {
	switch p.mode {
	case progressJSON:
		data, _ := json.Marshal(ev)
		p.w.Write(append(data, '\n'))
		p.emitted = true
	case progressBar:
		desc := fmt.Sprintf("%d rows, %.0f rows/s", ev.RowsRead, ev.RowsPerSecond)
		if ev.RowsRejected > 0 {
			desc += fmt.Sprintf(", %d rejected", ev.RowsRejected)
		}
		p.bar.Describe(desc)
		if p.bytesTotal > 0 {
			p.bar.Set64(ev.BytesRead)
		} else {
			p.bar.Set64(ev.RowsRead)
		}
	}
}

// parquetRows reads the row count from a Parquet footer (0 if unreadable).
func parquetRows(path string) (n int64) {
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return 0
	}
	defer r.Close()
	return r.NumRows()
}

// findFD finds this process's open descriptor for path (Linux /proc), or -1.
func findFD(path string) int {
	abs, err := filepath.Abs(path)
	if err != nil {
		return -1
	}
	if p, err := filepath.EvalSymlinks(abs); err == nil {
		abs = p
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	found := -1
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || target != abs {
			continue
		}
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > found {
			found = fd
		}
	}
	return found
}

// fdPos reads a descriptor's file offset from /proc/self/fdinfo.
func fdPos(fd int) (int64, bool) {
	data, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "pos:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func checkProgressMode(mode string, interval time.Duration) error {
	switch mode {
	case progressAuto, progressBar, progressJSON, progressNone:
	default:
		return mlerr.Errorf(mlerr.Usage, "--progress %q: want auto, bar, json or none", mode)
	}
	if interval <= 0 {
		return mlerr.Errorf(mlerr.Usage, "--progress-interval must be positive, got %s", interval)
	}
	return nil
}
