package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is what `tessera version` prints: the module's version (or
// "devel" for a build from a source tree), the commit and its time when
// the build recorded them, a "+dirty" commit when the tree had
// uncommitted changes, and the Go release it was built with.
func version() string {
	v, extra := "devel", []string{runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "tessera " + v + ", " + strings.Join(extra, ", ")
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		v = mv
	}
	var rev, at, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		case "GOEXPERIMENT":
			extra = append(extra, "GOEXPERIMENT="+s.Value)
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (commit %.12s%s", rev, dirty)
		if at != "" {
			v += " of " + at
		}
		v += ")"
	}
	return "tessera " + v + ", " + strings.Join(extra, ", ")
}
