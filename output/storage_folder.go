package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
)

// FolderStorage is a Storage on the local file system, the embedded
// default: bucket b, key k is the file <Root>/b/k ('/' in keys makes
// folders). A Put writes a temporary file next to the target, syncs it and
// renames it into place, so readers see either the old object or the new
// one, never a part; folders are created as needed. Names are checked with
// ValidateObjectName, so nothing is written outside Root.
type FolderStorage struct {
	Root string
}

// NewFolderStorage returns a FolderStorage writing under root, creating
// root if needed.
func NewFolderStorage(root string) (*FolderStorage, error) {
	if root == "" {
		return nil, errors.New("output: folder storage needs a root folder")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("output: folder storage: %w", err)
	}
	return &FolderStorage{Root: root}, nil
}

// Put implements Storage. A size < 0 copies body to its end. contentType is
// not stored (a file's extension says it; see ContentTypeFor).
func (f *FolderStorage) Put(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, contentType string) error {
	if err := ValidateObjectName(bucket, key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	target := filepath.Join(f.Root, bucket, filepath.FromSlash(key))
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("output: put %s/%s: rewind: %w", bucket, key, err)
	}
	tmp, err := os.CreateTemp(dir, "."+path.Base(key)+".tmp-*")
	if err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var src io.Reader = body
	if size >= 0 {
		src = io.LimitReader(body, size)
	}
	n, err := io.Copy(tmp, src)
	if err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("output: put %s/%s: body has %d bytes, want %d", bucket, key, n, size)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	ok = true
	return syncDir(dir)
}

// syncDir makes a rename or a removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
