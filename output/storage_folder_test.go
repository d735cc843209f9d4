package output

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFolderStoragePut(t *testing.T) {
	root := t.TempDir()
	fs, err := NewFolderStorage(filepath.Join(root, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "stage1/comp1/dest1/composite/media/hls/720p30-abcd/0.ts"
	if err := fs.Put(ctx, "my-bucket", key, bytes.NewReader([]byte("first")), 5, ""); err != nil {
		t.Fatal(err)
	}
	// Overwrite with a reader that is not at its start: Put rewinds.
	r := bytes.NewReader([]byte("second version"))
	r.Seek(3, 0)
	if err := fs.Put(ctx, "my-bucket", key, r, 14, "video/mp2t"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "recordings", "my-bucket", filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "second version" {
		t.Errorf("object = %q", got)
	}
	// Unknown size: everything.
	if err := fs.Put(ctx, "my-bucket", "a/b.json", strings.NewReader(`{"v":1}`), -1, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "recordings", "my-bucket", "a", "b.json")); string(got) != `{"v":1}` {
		t.Errorf("a/b.json = %q", got)
	}
	info, err := os.Stat(filepath.Join(root, "recordings", "my-bucket", "a", "b.json"))
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644", info.Mode(), err)
	}
	// A short body fails and leaves the old object and no temporary file.
	if err := fs.Put(ctx, "my-bucket", key, strings.NewReader("abc"), 10, ""); err == nil {
		t.Error("a body shorter than size was accepted")
	}
	got, _ = os.ReadFile(filepath.Join(root, "recordings", "my-bucket", filepath.FromSlash(key)))
	if string(got) != "second version" {
		t.Errorf("after a failed put, object = %q", got)
	}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	// A cancelled context writes nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := fs.Put(cctx, "my-bucket", "late.ts", strings.NewReader("x"), 1, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("put with a cancelled context: %v", err)
	}
}

func TestValidateObjectName(t *testing.T) {
	good := []struct{ bucket, key string }{
		{"b", "k"},
		{"my.bucket-1", "stage/comp/dest/composite/media/hls/multivariant.m3u8"},
		{"b", "a/..b/c..d/.e"},
		{"b", strings.Repeat("k", 1024)},
	}
	for _, c := range good {
		if err := ValidateObjectName(c.bucket, c.key); err != nil {
			t.Errorf("ValidateObjectName(%q, %q) = %v", c.bucket, c.key, err)
		}
	}
	bad := []struct{ bucket, key string }{
		{"", "k"},
		{".", "k"},
		{"..", "k"},
		{"a/b", "k"},
		{`a\b`, "k"},
		{"b", ""},
		{"b", "/abs/path"},
		{"b", "../escape"},
		{"b", "a/../../escape"},
		{"b", "a/./b"},
		{"b", "a//b"},
		{"b", "trailing/"},
		{"b", `a\..\b`},
		{"b", "nul\x00"},
		{"b", strings.Repeat("k", 1025)},
	}
	for _, c := range bad {
		if err := ValidateObjectName(c.bucket, c.key); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateObjectName(%q, %q) = %v, want ErrInvalidName", c.bucket, c.key, err)
		}
	}
}

func TestFolderStorageRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	fs, err := NewFolderStorage(filepath.Join(root, "store"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ bucket, key string }{
		{"b", "../../outside.ts"},
		{"b", "/etc/outside.ts"},
		{"..", "outside.ts"},
		{"b/../..", "outside.ts"},
	} {
		err := fs.Put(context.Background(), c.bucket, c.key, strings.NewReader("x"), 1, "")
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("Put(%q, %q) = %v, want ErrInvalidName", c.bucket, c.key, err)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 || entries[0].Name() != "store" {
		t.Errorf("something was written next to the store: %v", entries)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "store")); len(entries) != 0 {
		t.Errorf("something was written in the store: %v", entries)
	}
}

func TestContentTypeFor(t *testing.T) {
	for key, want := range map[string]string{
		"a/playlist.m3u8":               "application/vnd.apple.mpegurl",
		"a/0.ts":                        "video/mp2t",
		"events/recording-started.json": "application/json",
		"thumbnails/1280x720/0.JPG":     "image/jpeg",
		"x.bin":                         "application/octet-stream",
		"noext":                         "application/octet-stream",
	} {
		if got := ContentTypeFor(key); got != want {
			t.Errorf("ContentTypeFor(%q) = %q, want %q", key, got, want)
		}
	}
}
