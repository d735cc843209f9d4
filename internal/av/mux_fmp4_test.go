package av

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMuxFragmentedMP4 writes 6 s of constrained-baseline H.264 (its SPS
// and PPS given as the stream's extradata) and AAC as fragmented MP4 cut
// into an initialization section and one file per 2 s keyframe interval,
// and plays them back as an HLS playlist.
func TestMuxFragmentedMP4(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Codec: "h264-baseline", Width: 320, Height: 180, FrameRate: 30, Bitrate: 500_000})
	ae := newAudioEncoder(t)
	dir := t.TempDir()
	var m *Muxer
	var werr error
	seq := 0
	check := func(err error) {
		if err != nil && werr == nil {
			werr = err
		}
	}
	newAVSource(t, 320, 180, 30).run(6*time.Second, ve, ae, func(p Packet) {
		if werr != nil {
			return
		}
		if m == nil {
			if p.Kind != Video || !p.Keyframe {
				return // a segment starts with a keyframe
			}
			vs := ve.Stream()
			vs.Extradata = H264ParameterSets(p.Data)
			var err error
			m, err = NewMuxer("mp4", filepath.Join(dir, "init.mp4"), MuxOptions{FormatOptions: FragmentedMP4(time.Second)}, vs, ae.Stream())
			if err != nil {
				werr = err
				return
			}
		}
		if p.Kind == Video && p.Keyframe {
			seq++
			check(m.NextFile(filepath.Join(dir, fmt.Sprintf("%d.mp4", seq))))
		}
		check(m.WritePacket(p))
	})
	if werr != nil {
		t.Fatal(werr)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if seq != 3 {
		t.Fatalf("%d segments, want 3", seq)
	}
	init, err := os.ReadFile(filepath.Join(dir, "init.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if boxes := topBoxes(init); strings.Join(boxes, ",") != "ftyp,moov" {
		t.Errorf("initialization section boxes %v", boxes)
	}
	var start float64
	pl := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n"
	for i := 1; i <= seq; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.mp4", i)))
		if err != nil {
			t.Fatal(err)
		}
		boxes := topBoxes(b)
		if len(boxes) < 2 || boxes[0] != "moof" || len(boxes)%2 != 0 {
			t.Errorf("segment %d boxes %v", i, boxes)
		}
		for _, b := range boxes {
			if b != "moof" && b != "mdat" {
				t.Errorf("segment %d holds a %s box", i, b)
			}
		}
		// Each segment, after the initialization section, is a file
		// whose video starts with a keyframe at its place in the time line.
		whole := filepath.Join(dir, fmt.Sprintf("whole%d.mp4", i))
		if err := os.WriteFile(whole, append(append([]byte(nil), init...), b...), 0o600); err != nil {
			t.Fatal(err)
		}
		pkts := probeVideoPackets(t, whole)
		if i == 1 && len(pkts) > 1 {
			// The time line starts at zero; AAC's priming samples make
			// the first video frame start earlier than the others follow.
			start = pkts[1].PTS - 1.0/30
		}
		if len(pkts) != 60 || !pkts[0].Key || i > 1 && math.Abs(pkts[0].PTS-start-float64(2*(i-1))) > 0.002 {
			t.Errorf("segment %d: %d video packets, first %+v", i, len(pkts), pkts[0])
		}
		pl += fmt.Sprintf("#EXTINF:2.000,\n%d.mp4\n", i)
	}
	pl += "#EXT-X-ENDLIST\n"
	playlist := filepath.Join(dir, "playlist.m3u8")
	if err := os.WriteFile(playlist, []byte(pl), 0o600); err != nil {
		t.Fatal(err)
	}
	p := probeFile(t, playlist)
	var codecs []string
	for _, s := range p.Streams {
		codecs = append(codecs, s.CodecName+"/"+s.Profile)
	}
	if strings.Join(codecs, ",") != "h264/Constrained Baseline,aac/LC" {
		t.Errorf("streams %v", codecs)
	}
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err != nil || math.Abs(d-6) > 0.1 {
		t.Errorf("duration %q, want 6 s", p.Format.Duration)
	}
}

// topBoxes lists the types of the top-level ISO BMFF boxes in b.
func topBoxes(b []byte) []string {
	var types []string
	for len(b) >= 8 {
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n < 8 || n > len(b) {
			return append(types, "truncated")
		}
		types = append(types, string(b[4:8]))
		b = b[n:]
	}
	return types
}

// TestMuxNextFileErrors: a file that cannot be opened ends the Muxer,
// which still closes cleanly; NextFile after Close is ErrClosed.
func TestMuxNextFileErrors(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 500_000})
	dir := t.TempDir()
	m, err := NewMuxer("mp4", filepath.Join(dir, "init.mp4"), MuxOptions{FormatOptions: FragmentedMP4(time.Second)}, ve.Stream())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.NextFile(filepath.Join(dir, "missing", "1.mp4")); err == nil {
		t.Fatal("NextFile into a missing folder succeeded")
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close after a failed NextFile: %v", err)
	}
	if err := m.NextFile(filepath.Join(dir, "2.mp4")); !errors.Is(err, ErrClosed) {
		t.Errorf("NextFile after Close: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "init.mp4")); err != nil || strings.Join(topBoxes(b), ",") != "ftyp,moov" {
		t.Errorf("initialization section: %v %v", topBoxes(b), err)
	}
}
