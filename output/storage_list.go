package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/tessera-media/tessera/internal/durable"
)

// Object is a stored object as a listing shows it.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
}

// ErrNoObject reports that a bucket holds no object under a key (or that
// there is no such bucket).
var ErrNoObject = errors.New("output: no such object")

// Lister lists and reads back what a Storage holds; the console browses
// and plays recordings with it. FolderStorage and S3Storage are Listers.
type Lister interface {
	// List returns, in key order (bytewise), up to max (1–1000) of
	// bucket's objects whose keys begin with prefix and sort after after
	// ("" from the first), and whether more follow.
	List(ctx context.Context, bucket, prefix, after string, max int) (objs []Object, more bool, err error)
	// Open returns an object's content, which the caller closes, and what
	// a listing says of it; ErrNoObject when there is none.
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, Object, error)
}

// MaxList is the most objects one List returns (S3's own page bound).
const MaxList = 1000

func checkList(bucket, prefix string, max int) error {
	if max < 1 || max > MaxList {
		return fmt.Errorf("output: list of %d objects: want 1–%d", max, MaxList)
	}
	key := prefix
	if key == "" || strings.HasSuffix(key, "/") {
		key += "x" // a prefix may end with '/', a key may not
	}
	return ValidateObjectName(bucket, key)
}

// List implements Lister. It walks the folders that can hold keys with
// prefix and sorts what it finds, so one call costs the whole walk: the
// folder storage is the single-machine default, not meant for millions of
// objects. Temporary files of Puts in progress are not objects.
func (f *FolderStorage) List(ctx context.Context, bucket, prefix, after string, max int) ([]Object, bool, error) {
	if err := checkList(bucket, prefix, max); err != nil {
		return nil, false, err
	}
	root := filepath.Join(f.Root, bucket)
	start := root
	if dir := path.Dir(prefix + "x"); dir != "." {
		start = filepath.Join(root, filepath.FromSlash(dir))
	}
	var objs []Object
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || durable.IsTemp(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || key <= after {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		objs = append(objs, Object{Key: key, Size: info.Size(), Modified: info.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("output: list %s/%s: %w", bucket, prefix, err)
	}
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	if len(objs) > max {
		return objs[:max], true, nil
	}
	return objs, false, nil
}

// Open implements Lister.
func (f *FolderStorage) Open(ctx context.Context, bucket, key string) (io.ReadCloser, Object, error) {
	if err := ValidateObjectName(bucket, key); err != nil {
		return nil, Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Object{}, err
	}
	file, err := os.Open(filepath.Join(f.Root, bucket, filepath.FromSlash(key)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Object{}, fmt.Errorf("%w: %s/%s", ErrNoObject, bucket, key)
	}
	if err != nil {
		return nil, Object{}, fmt.Errorf("output: open %s/%s: %w", bucket, key, err)
	}
	info, err := file.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s/%s", ErrNoObject, bucket, key)
	}
	if err != nil {
		file.Close()
		return nil, Object{}, err
	}
	return file, Object{Key: key, Size: info.Size(), Modified: info.ModTime().UTC()}, nil
}

// List implements Lister with one ListObjectsV2 request.
func (s *S3Storage) List(ctx context.Context, bucket, prefix, after string, max int) ([]Object, bool, error) {
	if err := checkList(bucket, prefix, max); err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(int32(max))}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		if notFound(err) {
			return nil, false, fmt.Errorf("%w: s3://%s", ErrNoObject, bucket)
		}
		return nil, false, fmt.Errorf("output: list s3://%s/%s: %w", bucket, prefix, err)
	}
	objs := make([]Object, 0, len(out.Contents))
	for _, o := range out.Contents {
		objs = append(objs, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified).UTC()})
	}
	return objs, aws.ToBool(out.IsTruncated), nil
}

// Open implements Lister with one GetObject request; reading the body is
// bounded by the storage's request timeout too.
func (s *S3Storage) Open(ctx context.Context, bucket, key string) (io.ReadCloser, Object, error) {
	if err := ValidateObjectName(bucket, key); err != nil {
		return nil, Object{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		cancel()
		if notFound(err) {
			return nil, Object{}, fmt.Errorf("%w: s3://%s/%s", ErrNoObject, bucket, key)
		}
		return nil, Object{}, fmt.Errorf("output: get s3://%s/%s: %w", bucket, key, err)
	}
	return cancelOnClose{out.Body, cancel}, Object{Key: key, Size: aws.ToInt64(out.ContentLength), Modified: aws.ToTime(out.LastModified).UTC()}, nil
}

// notFound reports an S3 error saying there is no such key or bucket.
func notFound(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "NoSuchKey", "NoSuchBucket", "NotFound":
		return true
	}
	return false
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
