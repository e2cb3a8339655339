package blobfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"gocloud.dev/blob"
)

// Ranged reads: every ReadAt that misses the cache becomes one ranged GET of at
// least readBlock bytes, kept in a small LRU of blocks. A read within the last
// readBlock bytes of the object fetches the whole tail, so a Parquet footer
// (8 bytes, then the metadata before them) costs one request, and a run of
// small column chunks shares one. Reads larger than maxKept bytes are served
// but not kept: they are whole column chunks the caller buffers itself.
const (
	readBlock = 1 << 20
	maxBlocks = 8
	maxKept   = 4 << 20
)

// Reader reads one object: Read streams it from the start, ReadAt reads ranges.
// ReadAt is safe for concurrent use; Read is not (as with an *os.File).
type Reader struct {
	b    *Bucket
	key  string
	size int64
	ctx  context.Context

	stream *blob.Reader
	spos   int64

	mu     sync.Mutex
	blocks []block // least recently used first
	closed bool

	requests atomic.Int64
	fetched  atomic.Int64
}

type block struct {
	off  int64
	data []byte
}

// OpenReader opens an object for reading. size is the object's size when the
// caller knows it from a listing, else -1 (then one HEAD request asks).
// Requests made later (ReadAt, Read) use ctx.
func (b *Bucket) OpenReader(ctx context.Context, key string, size int64) (*Reader, error) {
	if size < 0 {
		o, err := b.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		size = o.Size
	}
	return &Reader{b: b, key: key, size: size, ctx: ctx}, nil
}

// Size is the object's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// Name is the object's URL.
func (r *Reader) Name() string { return r.b.URL(r.key) }

// Stats reports the GET requests made so far and the bytes they returned.
func (r *Reader) Stats() (requests, bytes int64) { return r.requests.Load(), r.fetched.Load() }

// Read streams the object from the start with one GET.
func (r *Reader) Read(p []byte) (int, error) {
	if r.stream == nil {
		if r.spos >= r.size {
			return 0, io.EOF
		}
		s, err := r.b.b.NewReader(r.ctx, r.key, nil)
		if err != nil {
			return 0, r.b.wrap("read", r.key, err)
		}
		r.requests.Add(1)
		r.stream = s
	}
	n, err := r.stream.Read(p)
	r.spos += int64(n)
	r.fetched.Add(int64(n))
	if err != nil && !errors.Is(err, io.EOF) {
		err = r.b.wrap("read", r.key, err)
	}
	return n, err
}

// ReadAt implements io.ReaderAt through ranged GETs and the block cache.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", Redact(r.Name()), off)
	}
	if off >= r.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := int64(len(p))
	var eof error
	if off+n > r.size {
		n = r.size - off
		eof = io.EOF
	}
	if r.fromCache(p[:n], off) {
		return int(n), eof
	}
	start, end := off, off+n
	if n < readBlock {
		end = min(r.size, off+readBlock)
		if end-start < readBlock {
			start = max(0, end-readBlock)
		}
	}
	data, err := r.fetch(start, end-start)
	if err != nil {
		return 0, err
	}
	copy(p[:n], data[off-start:])
	if len(data) <= maxKept {
		r.keep(block{off: start, data: data})
	}
	return int(n), eof
}

func (r *Reader) fromCache(p []byte, off int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.blocks) - 1; i >= 0; i-- {
		b := r.blocks[i]
		if off >= b.off && off+int64(len(p)) <= b.off+int64(len(b.data)) {
			copy(p, b.data[off-b.off:])
			if i != len(r.blocks)-1 {
				copy(r.blocks[i:], r.blocks[i+1:])
				r.blocks[len(r.blocks)-1] = b
			}
			return true
		}
	}
	return false
}

func (r *Reader) keep(b block) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if len(r.blocks) == maxBlocks {
		copy(r.blocks, r.blocks[1:])
		r.blocks = r.blocks[:maxBlocks-1]
	}
	r.blocks = append(r.blocks, b)
}

// fetch reads length bytes at off with one ranged GET.
func (r *Reader) fetch(off, length int64) ([]byte, error) {
	rr, err := r.b.b.NewRangeReader(r.ctx, r.key, off, length, nil)
	if err != nil {
		return nil, r.b.wrap("read", r.key, err)
	}
	defer rr.Close()
	r.requests.Add(1)
	buf := make([]byte, length)
	n, err := io.ReadFull(rr, buf)
	r.fetched.Add(int64(n))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: bytes %d-%d: got %d of %d bytes (was the object replaced while reading?)",
				Redact(r.Name()), off, off+length-1, n, length)
		}
		return nil, r.b.wrap("read", r.key, err)
	}
	return buf, nil
}

// Close releases the stream and the cached blocks.
func (r *Reader) Close() error {
	r.mu.Lock()
	r.closed = true
	r.blocks = nil
	r.mu.Unlock()
	if r.stream != nil {
		err := r.stream.Close()
		r.stream = nil
		return err
	}
	return nil
}
