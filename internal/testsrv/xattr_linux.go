package testsrv

import (
	"os"
	"syscall"
)

// xattrSupported reports whether dir's file system stores user extended
// attributes, which versitygw's posix backend keeps object metadata in.
func xattrSupported(dir string) bool {
	f, err := os.CreateTemp(dir, ".xattr-probe-")
	if err != nil {
		return true // let versitygw report the problem
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	return syscall.Setxattr(name, "user.tessera.probe", []byte("1"), 0) == nil
}
