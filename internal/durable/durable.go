// Package durable writes files that survive a crash: what it has written
// when it returns is on stable storage, and a crash at any moment leaves
// either the old file or the new one at the path, never a part.
//
// Write (and WriteFile) write a temporary file in the target's directory,
// sync it, rename it over the target and sync the directory, so that the
// rename itself is on disk. On any error the temporary file is removed
// and the target is left as it was (except after a failed directory sync:
// the new file is then in place but possibly not yet on disk). MkdirAll
// creates directories the same way: each new one's parent is synced.
//
// A crash can leave a temporary file behind (IsTemp recognizes its name);
// whoever owns the directory may remove such files.
//
// The package imports nothing of Tessera's, so every package may use it.
package durable

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// fsync flushes a file or directory to stable storage; tests inject
// failures.
var fsync = (*os.File).Sync

// tempInfix is in every temporary file's name: "." + base + tempInfix + random.
const tempInfix = ".tmp-"

// WriteFile durably replaces the file at path with data, with permissions
// perm (exactly: the umask does not apply). The directory must exist.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile with the contents written by write, which gets the
// temporary file. An error from write is returned as it is, and nothing
// changes at path.
func Write(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return err
	}
	if err := commit(f, path, perm, write); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	return Sync(dir)
}

// commit writes, syncs and closes the temporary file f, then renames it to
// path.
func commit(f *os.File, path string, perm fs.FileMode, write func(w io.Writer) error) error {
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := fsync(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Sync flushes the file or directory at path to stable storage: for a
// directory, the creations, renames and removals in it.
func Sync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = fsync(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// MkdirAll is os.MkdirAll that syncs the parent of every directory it
// creates, so that the new directories survive a crash along with what is
// then durably written into them.
func MkdirAll(dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	if info, err := os.Stat(dir); err == nil {
		if info.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, perm); err != nil {
		if info, serr := os.Lstat(dir); serr == nil && info.IsDir() {
			return nil // made meanwhile by someone else
		}
		return err
	}
	return Sync(parent)
}

// IsTemp reports whether name, a file name without directory, is that of
// a temporary file of Write: one a crash may have left behind.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}
