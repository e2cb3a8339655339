// Package s3test starts a real S3-compatible server for tests: versitygw in
// posix mode, on a free loopback port, storing its buckets in a temporary folder.
//
// The binary is looked for in $MLBATCH_VERSITYGW, then in bin/tools/versitygw at
// the root of the repository (where `make test` and `make tools` install it), then
// on the PATH. When it is missing the test is skipped with a message on stderr
// that says how to install it, except under CI (CI set in the environment), where
// a missing server fails the test: CI installs it, so a skip there would hide a
// broken install step.
//
// Each Start is one server process, stopped and deleted by t.Cleanup. Requests
// made to it are written to an access log that Requests parses, so tests can count
// what a client really sent (ranged GETs, multipart parts).
package s3test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server is one running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:<port>
	AccessKey string
	SecretKey string
	Region    string
	Root      string // the folder holding one subfolder per bucket
	accessLog string
	cmd       *exec.Cmd
	stderr    *bytes.Buffer
	client    *s3.Client
}

const binName = "versitygw"

var warnOnce sync.Once

// Binary returns the path of the versitygw binary, or "" when none is found.
func Binary() string {
	if p := os.Getenv("MLBATCH_VERSITYGW"); p != "" {
		return p
	}
	if root := repoRoot(); root != "" {
		p := filepath.Join(root, "bin", "tools", binName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(binName); err == nil {
		return p
	}
	return ""
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Start starts a server for the test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "S3 tests SKIPPED: no versitygw binary (run `make tools`, or set MLBATCH_VERSITYGW)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI must install it (make test does)")
		}
		warnOnce.Do(func() { fmt.Fprintf(os.Stderr, "\n*** %s ***\n\n", msg) })
		t.Skip(msg)
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(t, bin)
		if err == nil {
			return s
		}
		last = err
	}
	t.Fatalf("s3test: cannot start %s: %v", bin, last)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(t testing.TB, bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	s := &Server{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
		AccessKey: "mlbatch-test",
		SecretKey: "mlbatch-test-secret",
		Region:    "us-east-1",
		Root:      filepath.Join(dir, "buckets"),
		accessLog: filepath.Join(dir, "access.log"),
		stderr:    &bytes.Buffer{},
	}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "--port", "127.0.0.1:"+strconv.Itoa(port), "--quiet",
		"--access-log", s.accessLog, "posix", s.Root)
	s.cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey, "VGW_REGION="+s.Region)
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	stop := func() {
		if s.cmd.Process != nil {
			s.cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				s.cmd.Process.Kill()
				<-exited
			}
		}
	}
	// Ready when it answers HTTP (403 to an unsigned request).
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("exited: %v: %s", err, s.stderr.String())
		default:
		}
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("not answering on %s after 15s: %v: %s", s.Endpoint, err, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(stop)
	s.client = s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	return s, nil
}

// Env points the AWS SDK's default configuration at the server for the rest of
// the test (t.Setenv): credentials, region and AWS_ENDPOINT_URL. Shared config
// files are hidden, so a developer's ~/.aws cannot change what the test does.
func (s *Server) Env(t testing.TB) {
	t.Helper()
	for k, v := range s.EnvVars() {
		t.Setenv(k, v)
	}
}

// EnvVars are the variables Env sets, for a child process.
func (s *Server) EnvVars() map[string]string {
	none := filepath.Join(os.TempDir(), "mlbatch-s3test-no-aws-config")
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           s.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       s.SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  s.Region,
		"AWS_ENDPOINT_URL":            s.Endpoint,
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// CreateBucket makes a bucket through the S3 API.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
}

// Client is an S3 client for the server (path-style, static credentials), for
// tests that check objects independently of the code under test.
func (s *Server) Client() *s3.Client { return s.client }

// Put writes an object through the S3 API.
func (s *Server) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
	}); err != nil {
		t.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

// Get reads an object through the S3 API.
func (s *Server) Get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

// OpenUploads lists the multipart uploads begun and neither completed nor
// aborted in a bucket, by key.
func (s *Server) OpenUploads(t testing.TB, bucket string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("s3test: list uploads of %s: %v", bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// Keys lists every object key in a bucket under prefix, through the S3 API.
func (s *Server) Keys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("s3test: list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Request is one line of the server's access log.
type Request struct {
	Operation string // e.g. s3_GetObject, s3_PutObject, s3_UploadPart
	Key       string
	Status    int
	BytesSent int64
}

// Requests returns the requests the server logged so far, in order.
func (s *Server) Requests(t testing.TB) []Request {
	t.Helper()
	f, err := os.Open(s.accessLog)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		t.Fatal(err)
	}
	defer f.Close()
	var out []Request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if r, ok := parseLogLine(sc.Text()); ok {
			out = append(out, r)
		}
	}
	return out
}

// parseLogLine reads the fields of the S3 server access log format that
// versitygw writes: owner bucket [time] ip requester id operation key "uri"
// status error bytes-sent ... (the time is one bracketed field with a space).
func parseLogLine(line string) (Request, bool) {
	i := strings.Index(line, "] ")
	if i < 0 {
		return Request{}, false
	}
	f := strings.Fields(line[i+2:])
	// ip requester id operation key uri... status error bytes
	if len(f) < 9 || !strings.HasPrefix(f[3], "s3_") {
		return Request{}, false
	}
	r := Request{Operation: f[3], Key: f[4]}
	// The request URI may be quoted with spaces ("GET /b/k HTTP/1.1") or a single "-"
	// or bare path: find the status as the first 3-digit field after the key.
	for j := 5; j+2 < len(f); j++ {
		if n, err := strconv.Atoi(f[j]); err == nil && n >= 100 && n < 600 && len(f[j]) == 3 {
			r.Status = n
			if b, err := strconv.ParseInt(f[j+2], 10, 64); err == nil {
				r.BytesSent = b
			}
			break
		}
	}
	return r, true
}
