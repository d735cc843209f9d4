package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tessera-media/tessera/internal/durable"
)

// FolderStorage is a Storage on the local file system, the embedded
// default: bucket b, key k is the file <Root>/b/k ('/' in keys makes
// folders). A Put is durable (internal/durable): a temporary file next to
// the target, synced and renamed into place, the folder synced, so readers
// and a crash see either the old object or the new one, never a part, and
// a returned Put is on disk; folders are created (and synced) as needed.
// Names are checked with ValidateObjectName, so nothing is written outside
// Root.
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
	if err := durable.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("output: put %s/%s: rewind: %w", bucket, key, err)
	}
	err := durable.Write(target, 0o644, func(w io.Writer) error {
		var src io.Reader = body
		if size >= 0 {
			src = io.LimitReader(body, size)
		}
		n, err := io.Copy(w, src)
		if err != nil {
			return err
		}
		if size >= 0 && n != size {
			return fmt.Errorf("body has %d bytes, want %d", n, size)
		}
		return ctx.Err() // a cancelled Put replaces nothing
	})
	if err != nil {
		return fmt.Errorf("output: put %s/%s: %w", bucket, key, err)
	}
	return nil
}
