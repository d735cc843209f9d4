//go:build pin

// Package tessera is the root of the Tessera module; its packages live in
// the folders below (see docs/ARCHITECTURE.md).
//
// This file is never compiled (build tag "pin"). It names the libraries the
// architecture commits to before any package uses them, so that go.mod keeps
// their exact pinned versions: go-astiav v0.16.0 is the last release for
// FFmpeg 5.1, the FFmpeg that Debian 12 ships. Remove a line once a real
// package imports the library.
package tessera

import (
	_ "github.com/asticode/go-astiav"
	_ "github.com/pion/webrtc/v4"
	_ "github.com/prometheus/client_golang/prometheus"
)
