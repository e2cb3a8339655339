package blobfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// partSize is the S3 multipart part size (and the GCS/Azure chunk size): the
// writer holds about this much per upload in flight.
const partSize = 8 << 20

// ErrExists is wrapped by the error for an object that exists when the caller
// asked not to overwrite it.
var ErrExists = fs.ErrExist

// Writer uploads one object. Nothing is visible under its key until Commit
// returns without error; Abort (or a cancelled context) drops the upload.
type Writer struct {
	b      *Bucket
	key    string
	w      *blob.Writer
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

// Create starts uploading an object. Without overwrite an existing object is an
// error wrapping ErrExists, checked now and again when the upload completes
// (a conditional write, If-None-Match, where the store supports it).
func (b *Bucket) Create(ctx context.Context, key string, overwrite bool) (*Writer, error) {
	if !overwrite {
		ok, err := b.Exists(ctx, key)
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, b.existsErr(key)
		}
	}
	ct := mime.TypeByExtension(path.Ext(key))
	switch path.Ext(key) {
	case ".parquet":
		ct = "application/vnd.apache.parquet"
	case ".csv":
		ct = "text/csv"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	cctx, cancel := context.WithCancel(ctx)
	w, err := b.b.NewWriter(cctx, key, &blob.WriterOptions{
		ContentType: ct,
		BufferSize:  partSize,
		IfNotExist:  !overwrite,
		BeforeWrite: b.abortOnCancel,
	})
	if err != nil {
		cancel()
		return nil, b.wrap("write", key, err)
	}
	return &Writer{b: b, key: key, w: w, cancel: cancel}, nil
}

// abortOnCancel gives the S3 transfer manager a fresh context to abort a
// multipart upload with: by default it aborts with the upload's own context,
// which is already cancelled when Abort is why the upload stops, and the parts
// uploaded so far would be left on the server.
func (b *Bucket) abortOnCancel(as func(any) bool) error {
	var tm *transfermanager.Client
	var client *s3.Client
	if !as(&tm) || !b.b.As(&client) {
		return nil
	}
	// As hands out the driver's client; replace what it points to.
	*tm = *transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.RequestChecksumCalculation = client.Options().RequestChecksumCalculation
		o.FailTimeout = 30 * time.Second
	})
	return nil
}

func (b *Bucket) existsErr(key string) error {
	return fmt.Errorf("%s already exists (use --overwrite): %w", Redact(b.URL(key)), ErrExists)
}

// Write uploads bytes; the object stays invisible until Commit.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		return n, w.b.wrap("write", w.key, err)
	}
	return n, nil
}

// Commit completes the upload: the object appears whole, or not at all.
func (w *Writer) Commit() error {
	done := false
	w.once.Do(func() {
		done = true
		err := w.w.Close()
		w.cancel()
		if err != nil {
			if gcerrors.Code(err) == gcerrors.FailedPrecondition {
				w.err = w.b.existsErr(w.key)
			} else {
				w.err = w.b.wrap("write", w.key, err)
			}
		}
	})
	if !done {
		return errors.New("blobfs: Commit after Commit or Abort")
	}
	return w.err
}

// Abort cancels the upload: no object appears. Abort after Commit or Abort does
// nothing.
func (w *Writer) Abort() error {
	w.once.Do(func() {
		w.cancel()
		w.w.Close() // returns the cancellation; the upload is dropped
	})
	return nil
}
