package av

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ReadPackets gives back what a Muxer wrote to MPEG-TS: every packet of
// each kind, keyframes flagged, on the written time line (shifted by the
// muxer's constant offset); a file cut short reads up to the cut.
func TestReadPackets(t *testing.T) {
	ve := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 500_000})
	ae := newAudioEncoder(t)
	path := filepath.Join(t.TempDir(), "seg.ts")
	m, err := NewMuxer("mpegts", path, MuxOptions{}, ve.Stream(), ae.Stream())
	if err != nil {
		t.Fatal(err)
	}
	var written []Packet
	newAVSource(t, 320, 180, 30).run(2*time.Second, ve, ae, func(p Packet) {
		written = append(written, p)
		if err := m.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(path string) (video, audio []Packet) {
		t.Helper()
		if err := ReadPackets(path, func(p Packet) error {
			if p.Kind == Video {
				video = append(video, p)
			} else {
				audio = append(audio, p)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return video, audio
	}
	video, audio := read(path)
	var wv, wa []Packet
	for _, p := range written {
		if p.Kind == Video {
			wv = append(wv, p)
		} else {
			wa = append(wa, p)
		}
	}
	if len(video) != len(wv) || len(audio) != len(wa) {
		t.Fatalf("read %d video and %d audio packets, wrote %d and %d", len(video), len(audio), len(wv), len(wa))
	}
	offset := video[0].PTS - wv[0].PTS
	for i, p := range video {
		if p.Keyframe != wv[i].Keyframe || (p.PTS-offset-wv[i].PTS).Abs() > 20*time.Microsecond || p.DTS > p.PTS {
			t.Fatalf("video packet %d: read %v key %v, wrote %v key %v", i, p.PTS-offset, p.Keyframe, wv[i].PTS, wv[i].Keyframe)
		}
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.ts")
	if err := os.WriteFile(cut, b[:len(b)/2+33], 0o600); err != nil {
		t.Fatal(err)
	}
	if v, _ := read(cut); len(v) == 0 || len(v) >= len(video) {
		t.Errorf("cut file: %d video packets of %d", len(v), len(video))
	}
	if err := ReadPackets(filepath.Join(t.TempDir(), "missing.ts"), func(Packet) error { return nil }); err == nil {
		t.Error("a missing file reads")
	}
}
