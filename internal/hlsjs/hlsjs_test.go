package hlsjs

import (
	"bytes"
	"testing"
)

// The vendored script is the release Version names and its licence is
// Apache 2.0, as the console serves them.
func TestVendored(t *testing.T) {
	if !bytes.Contains(Script, []byte(`"`+Version+`"`)) {
		t.Errorf("hls.min.js (%d bytes) does not name version %q", len(Script), Version)
	}
	if !bytes.Contains(License, []byte("Apache License, Version 2.0")) {
		t.Errorf("LICENSE is not the Apache License 2.0: %.80q", License)
	}
}
