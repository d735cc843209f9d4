package publisher

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/av"
)

// TestClipFiles writes a clip's video as Annex B and its sound as Ogg Opus
// and reads both back with FFmpeg (ffprobe decoding the video, the Ogg
// demuxer): every frame and every audio packet is there, the first frame
// the only keyframe; a VP8 clip has no Annex B form.
func TestClipFiles(t *testing.T) {
	clip, err := NewClip(Config{Name: "Files", Width: 320, Height: 180, FPS: 30, ToneHz: DefaultToneHz}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, fn func(*os.File) error) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	video := write("clip.h264", func(f *os.File) error { return clip.WriteAnnexB(f) })
	audio := write("clip.opus", func(f *os.File) error { return clip.WriteOgg(f) })

	// FFmpeg's H.264 decoder reads every frame, at the clip's size, the
	// first the only keyframe, without a complaint.
	out, err := exec.Command("ffprobe", "-v", "error", "-f", "h264", "-show_entries", "frame=key_frame,width,height", "-of", "json", video).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var probe struct {
		Frames []struct {
			KeyFrame      int `json:"key_frame"`
			Width, Height int
		}
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	if len(probe.Frames) != clip.Frames() {
		t.Fatalf("ffprobe decoded %d frames, want %d", len(probe.Frames), clip.Frames())
	}
	for i, f := range probe.Frames {
		if f.KeyFrame != map[bool]int{true: 1}[i == 0] || f.Width != 320 || f.Height != 180 {
			t.Fatalf("frame %d: %+v", i, f)
		}
	}
	var pkts []av.Packet
	if err := av.ReadPackets(audio, func(p av.Packet) error { pkts = append(pkts, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(pkts) != len(clip.audio) {
		t.Fatalf("%d audio packets read back, want %d", len(pkts), len(clip.audio))
	}
	for i, p := range pkts {
		if string(p.Data) != string(clip.audio[i]) || p.Kind != av.Audio {
			t.Fatalf("audio packet %d differs from the clip's (%d bytes, kind %v)", i, len(p.Data), p.Kind)
		}
	}

	vp8, err := NewClip(Config{Name: "VP8", Codec: "vp8", Width: 320, Height: 180, FPS: 30}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := vp8.WriteAnnexB(io.Discard); err == nil {
		t.Error("a VP8 clip written as Annex B")
	}
}
