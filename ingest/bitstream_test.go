package ingest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/tessera-media/tessera/internal/h264"
)

// accessUnits splits an Annex-B stream whose access units start with an
// access unit delimiter into access units, every NAL unit behind a
// four-byte start code.
func accessUnits(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	for nal := range h264.NALs(b) {
		if h264.TypeOf(nal) == h264.AUD {
			aus = append(aus, nil)
		}
		if len(aus) > 0 {
			aus[len(aus)-1] = append(append(aus[len(aus)-1], 0, 0, 0, 1), nal...)
		}
	}
	if len(aus) == 0 {
		t.Fatalf("%s: no access units", path)
	}
	return aus
}

// ivfFrames returns the frames of an IVF file.
func ivfFrames(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatalf("%s: not IVF", path)
	}
	var frames [][]byte
	for p := int(binary.LittleEndian.Uint16(b[6:])); p+12 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[p:]))
		frames = append(frames, b[p+12:p+12+n])
		p += 12 + n
	}
	return frames
}

func TestParseH264(t *testing.T) {
	for _, tc := range []struct {
		file          string
		width, height int
		bframes       bool
	}{
		{"testdata/base180.h264", 320, 180, false},
		{"testdata/high1080b.h264", 1920, 1080, true},
	} {
		aus := accessUnits(t, tc.file)
		var keys, bs int
		for i, au := range aus {
			info, err := parseH264(au, nil)
			if err != nil {
				t.Fatalf("%s AU %d: %v", tc.file, i, err)
			}
			if i == 0 {
				if !info.keyframe || info.width != tc.width || info.height != tc.height {
					t.Fatalf("%s: first AU keyframe=%v size %dx%d, want keyframe %dx%d", tc.file, info.keyframe, info.width, info.height, tc.width, tc.height)
				}
			}
			if info.keyframe {
				keys++
			}
			if info.bframe {
				bs++
			}
		}
		if keys != 1 {
			t.Errorf("%s: %d keyframes, want 1", tc.file, keys)
		}
		if tc.bframes != (bs > 0) {
			t.Errorf("%s: %d AUs with B slices, want bframes=%v", tc.file, bs, tc.bframes)
		}
	}
}

func TestParseVP8(t *testing.T) {
	frames := ivfFrames(t, "testdata/vp8_360.ivf")
	f, err := parseVP8(frames[0])
	if err != nil || !f.keyframe || f.width != 640 || f.height != 360 {
		t.Fatalf("first frame: %+v, %v; want a 640x360 keyframe", f, err)
	}
	for i, fr := range frames[1:] {
		if f, err := parseVP8(fr); err != nil || f.keyframe {
			t.Errorf("frame %d: %+v, %v; want an interframe", i+1, f, err)
		}
	}
	if _, err := parseVP8([]byte{0x10, 0, 0, 1, 2, 3, 4, 5, 6, 7}); err == nil {
		t.Error("keyframe without the start code accepted")
	}
}

func TestUnescapeRBSP(t *testing.T) {
	got := unescapeRBSP(nil, []byte{1, 0, 0, 3, 1, 0, 0, 3, 0, 3}, 100)
	if want := []byte{1, 0, 0, 1, 0, 0, 0, 3}; !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

// FuzzBitstream feeds arbitrary bytes to the H.264 and VP8 parsers, which
// read what publishers send: they may refuse, never panic, and sizes they
// return are sane.
func FuzzBitstream(f *testing.F) {
	for _, au := range accessUnits(f, "testdata/base180.h264")[:2] {
		f.Add(au)
	}
	for _, au := range accessUnits(f, "testdata/high1080b.h264")[:2] {
		f.Add(au)
	}
	f.Add(ivfFrames(f, "testdata/vp8_360.ivf")[0])
	f.Add([]byte{0, 0, 1, 0x67, 0x64, 0, 0x1f, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if info, err := parseH264(b, nil); err == nil && (info.width < 0 || info.width > 16384 || info.height < 0 || info.height > 32768) {
			t.Fatalf("size %dx%d", info.width, info.height)
		}
		for n := range h264.NALs(b) {
			_, _, _ = spsSize(n, nil)
			_, _ = sliceType(n, nil)
		}
		if v, err := parseVP8(b); err == nil && v.keyframe && (v.width == 0 || v.height == 0) {
			t.Fatal("keyframe with zero size")
		}
	})
}
