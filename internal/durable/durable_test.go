package durable

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// syncs records the paths fsync is called on (and may fail some of them)
// for the duration of a test.
type syncs struct {
	mu     sync.Mutex
	paths  []string
	before func(path string)      // called before each fsync
	fail   func(path string) bool // fsync of this path fails
}

func recordSyncs(t *testing.T) *syncs {
	s := &syncs{}
	fsync = func(f *os.File) error {
		s.mu.Lock()
		s.paths = append(s.paths, f.Name())
		before, fail := s.before, s.fail
		s.mu.Unlock()
		if before != nil {
			before(f.Name())
		}
		if fail != nil && fail(f.Name()) {
			return fmt.Errorf("injected: %w", syscall.EIO)
		}
		return f.Sync()
	}
	t.Cleanup(func() { fsync = (*os.File).Sync })
	return s
}

// checkOnly fails the test unless dir holds exactly one file, name.
func checkOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != name {
		t.Errorf("%s holds %v, %v; want only %s", dir, entries, err, name)
	}
}

func checkFile(t *testing.T, path string, want []byte, perm fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: %q, %v; want %q", path, got, err, want)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != perm {
		t.Fatalf("%s: mode %v, %v; want %v", path, info.Mode(), err, perm)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	if err := WriteFile(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, []byte("first"), 0o600)
	// Replacing: new contents and permissions (exactly, whatever the umask).
	if err := WriteFile(path, []byte("second, longer"), 0o664); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, []byte("second, longer"), 0o664)
	if err := WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, nil, 0o644)
	checkOnly(t, dir, "key.pem")
}

// A bare file name is in the working directory, like the temporary file.
func TestWriteFileRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("state.json", []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFile(t, filepath.Join(dir, "state.json"), []byte("{}"), 0o644)
	checkOnly(t, dir, "state.json")
}

// The file is synced before the rename, the directory after it.
func TestWriteSyncOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seg.ts")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := recordSyncs(t)
	s.before = func(p string) {
		b, _ := os.ReadFile(path)
		switch {
		case p == dir && string(b) != "new":
			t.Errorf("directory synced before the rename: target holds %q", b)
		case p != dir && string(b) != "old":
			t.Errorf("file %s synced after the rename: target holds %q", p, b)
		}
	}
	if err := WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(s.paths) != 2 || filepath.Dir(s.paths[0]) != dir || !IsTemp(filepath.Base(s.paths[0])) || s.paths[1] != dir {
		t.Errorf("synced %q, want the temporary file in %s, then %s", s.paths, dir, dir)
	}
}

func TestWriteFailures(t *testing.T) {
	errWrite := errors.New("source went away")
	for _, tc := range []struct {
		name     string
		write    func(w io.Writer) error
		failSync string // "file" or "dir"
		want     string // the target's contents afterwards
	}{
		{"write fails at once", func(io.Writer) error { return errWrite }, "", "old"},
		{"write fails halfway", func(w io.Writer) error {
			w.Write([]byte("ne"))
			return errWrite
		}, "", "old"},
		{"file sync fails", nil, "file", "old"},
		// The rename happened; only its durability is in doubt.
		{"directory sync fails", nil, "dir", "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "obj")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			write := tc.write
			if write == nil {
				write = func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }
			}
			s := recordSyncs(t)
			s.fail = func(p string) bool {
				return tc.failSync == "file" && p != dir || tc.failSync == "dir" && p == dir
			}
			err := Write(path, 0o644, write)
			switch {
			case tc.write != nil && !errors.Is(err, errWrite):
				t.Errorf("error %v, want the write's error", err)
			case tc.failSync != "" && !errors.Is(err, syscall.EIO):
				t.Errorf("error %v, want the sync's error", err)
			}
			checkFile(t, path, []byte(tc.want), 0o644)
			checkOnly(t, dir, "obj")
		})
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "missing", "obj"), []byte("x"), 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("into a missing directory: %v, want ErrNotExist", err)
	}
}

// Writers racing on one path leave one of their files, whole, and nothing
// else.
func TestWriteConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "playlist.m3u8")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				data := bytes.Repeat([]byte{byte('a' + i)}, 1000+j)
				if err := WriteFile(path, data, 0o644); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 1000 || !bytes.Equal(b, bytes.Repeat(b[:1], len(b))) {
		t.Errorf("%d bytes, %v: not one writer's file", len(b), err)
	}
	checkOnly(t, dir, "playlist.m3u8")
}

func TestMkdirAll(t *testing.T) {
	root := t.TempDir()
	s := recordSyncs(t)
	dir := filepath.Join(root, "a", "b", "c")
	if err := MkdirAll(dir+"/", 0o750); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a", "a/b", "a/b/c"} {
		if info, err := os.Stat(filepath.Join(root, d)); err != nil || !info.IsDir() || info.Mode().Perm() != 0o750 {
			t.Errorf("%s: %v, %v; want a directory, mode 0750", d, info, err)
		}
	}
	// Each new directory's parent, so the new entry is on disk.
	if want := []string{root, filepath.Join(root, "a"), filepath.Join(root, "a", "b")}; !slices.Equal(s.paths, want) {
		t.Errorf("synced %q, want %q", s.paths, want)
	}
	s.paths = nil
	if err := MkdirAll(dir, 0o750); err != nil || len(s.paths) != 0 {
		t.Errorf("existing directory: %v, synced %q; want nothing done", err, s.paths)
	}
	file := filepath.Join(root, "a", "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAll(file, 0o750); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("over a file: %v, want ENOTDIR", err)
	}
	if err := MkdirAll(filepath.Join(file, "x"), 0o750); err == nil {
		t.Error("below a file: no error")
	}
}

func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	var temp string
	err := Write(filepath.Join(dir, "00000000000000000042.data"), 0o600, func(w io.Writer) error {
		temp = filepath.Base(w.(*os.File).Name())
		return errors.New("stop")
	})
	if err == nil || !IsTemp(temp) {
		t.Errorf("temporary file %q: IsTemp false (%v)", temp, err)
	}
	for name, want := range map[string]bool{
		".tmp-123":                       true, // older spools' temporary files
		".seg1.ts.tmp-99":                true,
		"seg1.ts":                        false,
		"00000000000000000042.data":      false,
		"x.tmp-1":                        false,
		".hidden":                        false,
		"00000000000000000042.meta":      false,
		".00000000000000000042.meta.tmp": false,
	} {
		if IsTemp(name) != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, !want, want)
		}
	}
}
