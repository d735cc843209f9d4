package output

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// gofakeServer is an in-process S3 (gofakes3 with its memory backend) on
// 127.0.0.1, behind a handler that records the PUT requests it answered
// and can play an outage.
type gofakeServer struct {
	backend *s3mem.Backend
	srv     *httptest.Server

	mu     sync.Mutex
	outage gofakeOutage
	puts   []gofakePut
	failed int // requests refused by the outage
}

type gofakeOutage int

const (
	gofakeUp          gofakeOutage = iota
	gofakeUnavailable              // 503 Service Unavailable
	gofakeHangUp                   // close the connection without an answer
)

type gofakePut struct {
	Bucket, Key, ACL, ContentType, Authorization string
}

func newGofakeServer(t *testing.T, buckets ...string) *gofakeServer {
	t.Helper()
	f := &gofakeServer{backend: s3mem.New()}
	for _, b := range buckets {
		if err := f.backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	s3 := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		outage := f.outage
		if outage != gofakeUp {
			f.failed++
		}
		f.mu.Unlock()
		switch outage {
		case gofakeUnavailable:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>down for the test</Message></Error>`)
			return
		case gofakeHangUp:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		// A successful PUT is recorded before its answer leaves, so the
		// client never sees success before the record exists.
		rec := &gofakeStatus{ResponseWriter: w, header: func(code int) {
			if r.Method != http.MethodPut || code != http.StatusOK {
				return
			}
			bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			f.mu.Lock()
			f.puts = append(f.puts, gofakePut{
				Bucket:        bucket,
				Key:           key,
				ACL:           r.Header.Get("X-Amz-Acl"),
				ContentType:   r.Header.Get("Content-Type"),
				Authorization: r.Header.Get("Authorization"),
			})
			f.mu.Unlock()
		}}
		s3.ServeHTTP(rec, r)
		if !rec.done { // nothing written: net/http answers 200 when we return
			rec.done = true
			rec.header(http.StatusOK)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// gofakeStatus calls header with the status code before the answer's
// header is written.
type gofakeStatus struct {
	http.ResponseWriter
	header func(code int)
	done   bool
}

func (s *gofakeStatus) WriteHeader(code int) {
	if !s.done {
		s.done = true
		s.header(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *gofakeStatus) Write(p []byte) (int, error) {
	if !s.done {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(p)
}

func (f *gofakeServer) setOutage(o gofakeOutage) {
	f.mu.Lock()
	f.outage = o
	f.mu.Unlock()
}

func (f *gofakeServer) refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *gofakeServer) putKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for _, p := range f.puts {
		keys = append(keys, p.Bucket+"/"+p.Key)
	}
	return keys
}

// closedEndpoint is the URL of a port on 127.0.0.1 where nothing listens.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return url
}

func (f *gofakeServer) object(t *testing.T, bucket, key string) (data []byte, contentType string) {
	t.Helper()
	obj, err := f.backend.GetObject(bucket, key, nil)
	if err != nil {
		t.Fatalf("object %s/%s: %v", bucket, key, err)
	}
	defer obj.Contents.Close()
	data, err = io.ReadAll(obj.Contents)
	if err != nil {
		t.Fatal(err)
	}
	return data, obj.Metadata["Content-Type"]
}

func (f *gofakeServer) storage(t *testing.T) *S3Storage {
	t.Helper()
	return testS3Storage(t, f.srv.URL)
}

// testS3Storage is an S3Storage for the endpoint, with test credentials.
func testS3Storage(t *testing.T, endpoint string) *S3Storage {
	t.Helper()
	st, err := NewS3Storage(S3Config{
		Endpoint:        endpoint,
		Region:          "eu-west-1",
		PathStyle:       true,
		AccessKeyID:     "AKIDTESSERATEST",
		SecretAccessKey: "not-a-real-secret",
		RequestTimeout:  5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestS3StoragePut(t *testing.T) {
	f := newGofakeServer(t, "rec-bucket")
	st := f.storage(t)
	ctx := context.Background()
	objects := []struct{ key, contentType string }{
		{"s/c/d/composite/media/hls/720p30-x/0.ts", "video/mp2t"},
		{"s/c/d/composite/media/hls/720p30-x/playlist.m3u8", "application/vnd.apple.mpegurl"},
		{"s/c/d/composite/events/recording-started.json", "application/json"},
		{"s/c/d/composite/media/thumbnails/1280x720/0.jpg", "image/jpeg"},
	}
	for i, o := range objects {
		body := bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1))
		if err := st.Put(ctx, "rec-bucket", o.key, bytes.NewReader(body), int64(len(body)), ""); err != nil {
			t.Fatalf("put %s: %v", o.key, err)
		}
		data, ct := f.object(t, "rec-bucket", o.key)
		if !bytes.Equal(data, body) {
			t.Errorf("%s: stored %d bytes, want %d", o.key, len(data), len(body))
		}
		if ct != o.contentType {
			t.Errorf("%s: stored Content-Type %q, want %q", o.key, ct, o.contentType)
		}
	}
	f.mu.Lock()
	puts := append([]gofakePut(nil), f.puts...)
	f.mu.Unlock()
	if len(puts) != len(objects) {
		t.Fatalf("%d PUT requests, want %d", len(puts), len(objects))
	}
	for i, p := range puts {
		if p.ACL != "bucket-owner-full-control" {
			t.Errorf("PUT %s: x-amz-acl %q", p.Key, p.ACL)
		}
		if p.ContentType != objects[i].contentType {
			t.Errorf("PUT %s: Content-Type %q", p.Key, p.ContentType)
		}
		if !strings.HasPrefix(p.Authorization, "AWS4-HMAC-SHA256 Credential=AKIDTESSERATEST/") || !strings.Contains(p.Authorization, "/eu-west-1/s3/aws4_request") {
			t.Errorf("PUT %s: Authorization %q", p.Key, p.Authorization)
		}
	}

	// A missing bucket is an error (to retry), an invalid key is final.
	if err := st.Put(ctx, "no-such-bucket", "k.ts", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("put to a missing bucket succeeded")
	}
	if err := st.Put(ctx, "rec-bucket", "../k.ts", strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalidName) {
		t.Errorf("put of ../k.ts: %v, want ErrInvalidName", err)
	}
	// One attempt only, bounded by the request timeout: a server that
	// hangs up fails the Put at once.
	f.setOutage(gofakeHangUp)
	before := f.refused()
	if err := st.Put(ctx, "rec-bucket", "k.ts", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("put to a server that hangs up succeeded")
	}
	if n := f.refused() - before; n != 1 {
		t.Errorf("%d requests for one Put, want 1 (the SDK must not retry)", n)
	}
}

func TestS3StorageConfig(t *testing.T) {
	if _, err := NewS3Storage(S3Config{SecretAccessKey: "s"}); err == nil {
		t.Error("a secret without an access key id was accepted")
	}
	// Unsigned requests without credentials.
	f := newGofakeServer(t, "b")
	st, err := NewS3Storage(S3Config{Endpoint: f.srv.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(context.Background(), "b", "k.json", strings.NewReader("{}"), 2, ""); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.puts) != 1 || f.puts[0].Authorization != "" {
		t.Errorf("puts = %+v, want one unsigned", f.puts)
	}
}
