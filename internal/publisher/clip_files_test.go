package publisher

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/av"
)

// TestClipFiles writes a clip's video as Annex B and its sound as Ogg Opus
// (WriteFiles) and reads both back with FFmpeg (ffprobe decoding the
// video, the Ogg demuxer): every frame and every audio packet is there,
// the first frame the only keyframe; a VP8 clip has no Annex B form.
func TestClipFiles(t *testing.T) {
	clip, err := NewClip(Config{Name: "Files", Width: 320, Height: 180, FPS: 30, ToneHz: DefaultToneHz}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	video, audio, err := clip.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	// FFmpeg's H.264 decoder reads every frame, at the clip's size, the
	// first the only keyframe, without a complaint.
	var stderr strings.Builder
	cmd := exec.Command("ffprobe", "-v", "error", "-f", "h264", "-show_entries", "frame=key_frame,width,height", "-of", "json", video)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe: %v\n%s", err, stderr.String())
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
	if _, _, err := vp8.WriteFiles(t.TempDir()); err == nil {
		t.Error("a VP8 clip written as Annex B")
	}
}
