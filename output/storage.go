package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Storage is where recordings go: an object store addressed by bucket and
// key. S3Storage speaks the S3 API; FolderStorage writes a local folder.
//
// Put stores size bytes read from body (which it may rewind and read again)
// as the object key in bucket, replacing any object of that key. It gives up
// when ctx ends. An empty contentType means ContentTypeFor(key). A Put that
// can never succeed — an invalid bucket or key — returns an error wrapping
// ErrInvalidName; callers retry any other error.
type Storage interface {
	Put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, contentType string) error
}

// ErrInvalidName reports a bucket or object key that no Storage accepts
// (see ValidateObjectName).
var ErrInvalidName = errors.New("output: invalid bucket or key")

// ContentTypeFor gives the Content-Type of a recording's object by the
// extension of its key: playlists, MPEG-TS segments, event JSON and JPEG
// thumbnails; anything else is application/octet-stream.
func ContentTypeFor(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".ts":
		return "video/mp2t"
	case ".mp4":
		return "video/mp4"
	case ".json":
		return "application/json"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	}
	return "application/octet-stream"
}

// ValidateObjectName checks a bucket name and an object key. The rules are
// those every backend can honour, including a folder on disk:
//
//   - bucket: 1–255 bytes, no '/' or '\', no NUL, not "." or "..";
//   - key: 1–1024 bytes, '/'-separated segments, not starting with '/',
//     no empty, "." or ".." segment, no '\' and no NUL.
//
// Keys Tessera writes (<recordingPrefix>/media/hls/…) always pass. The error
// wraps ErrInvalidName.
func ValidateObjectName(bucket, key string) error {
	switch {
	case bucket == "" || len(bucket) > 255 || bucket == "." || bucket == "..":
		return fmt.Errorf("%w: bucket %q", ErrInvalidName, bucket)
	case strings.ContainsAny(bucket, "/\\\x00"):
		return fmt.Errorf("%w: bucket %q", ErrInvalidName, bucket)
	case key == "" || len(key) > 1024:
		return fmt.Errorf("%w: key of %d bytes", ErrInvalidName, len(key))
	case strings.ContainsAny(key, "\\\x00"):
		return fmt.Errorf("%w: key %q", ErrInvalidName, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: key %q", ErrInvalidName, key)
		}
	}
	return nil
}
