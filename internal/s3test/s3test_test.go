package s3test

import (
	"testing"
)

func TestServerRoundTrip(t *testing.T) {
	s := Start(t)
	s.CreateBucket(t, "one")
	s.Put(t, "one", "a/b.txt", []byte("hello"))
	s.Put(t, "one", "c.txt", []byte("hi"))
	keys := s.Keys(t, "one", "a/")
	if len(keys) != 1 || keys[0] != "a/b.txt" {
		t.Fatalf("keys = %v", keys)
	}
	var puts int
	for _, r := range s.Requests(t) {
		if r.Operation == "s3_PutObject" && r.Status == 200 {
			puts++
		}
	}
	if puts != 2 {
		t.Fatalf("access log has %d successful puts, want 2: %+v", puts, s.Requests(t))
	}
}

func TestParseLogLine(t *testing.T) {
	line := `- - [25/November/2026:02:53:51 +0000] 127.0.0.1 - SCG17ZWQVNM9DU4A s3_GetObject data/x.parquet /b/data/x.parquet 206 - 4096 10000 0 0 - aws-sdk-go-v2 - X SigV4 - AuthHeader h - arn Yes`
	r, ok := parseLogLine(line)
	if !ok || r.Operation != "s3_GetObject" || r.Key != "data/x.parquet" || r.Status != 206 || r.BytesSent != 4096 {
		t.Fatalf("parseLogLine = %+v, %v", r, ok)
	}
}
