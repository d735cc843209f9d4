package av

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// adtsFrames splits an ADTS stream into its raw AAC frames.
func adtsFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= 7 {
		if b[0] != 0xFF || b[1]&0xF0 != 0xF0 {
			t.Fatalf("not an ADTS header: % x", b[:2])
		}
		hdr := 7
		if b[1]&1 == 0 { // CRC present
			hdr = 9
		}
		n := int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5])>>5
		if n < hdr || n > len(b) {
			t.Fatalf("ADTS frame of %d bytes", n)
		}
		out = append(out, b[hdr:n])
		b = b[n:]
	}
	return out
}

// An AAC stream at 44.1 kHz mono, as OBS and ffmpeg publish over RTMP,
// decodes to 48 kHz stereo: the samples of its duration, the tone at its
// frequency on both channels, PTS advancing.
func TestAACDecode441(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tone.aac")
	ffmpegCLI(t, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "1", "-c:a", "aac", "-b:a", "96k", "-f", "adts", path)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames := adtsFrames(t, raw)
	// AudioSpecificConfig: AAC-LC (2), 44.1 kHz (index 4), 1 channel.
	d, err := NewAACDecoder([]byte{0x12, 0x08}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var samples []float32
	var last time.Duration = -1
	for i, f := range frames {
		pts := time.Duration(i) * 1024 * time.Second / 44100
		out, err := d.Decode(f, pts, newAudio)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if out == nil {
			continue
		}
		if out.Channels != 2 || out.PTS <= last {
			t.Fatalf("frame %d: %d channels, PTS %v after %v", i, out.Channels, out.PTS, last)
		}
		last = out.PTS
		samples = append(samples, out.Samples...)
	}
	n := len(samples) / 2
	if want := 2 * 48000; n < want-4096 || n > want+4096 {
		t.Fatalf("%d samples per channel at 48 kHz for 2 s, want about %d", n, want)
	}
	// Count the zero crossings of the middle second on each channel.
	for ch := range 2 {
		crossings := 0
		for i := 48000/2 + 1; i < 48000*3/2; i++ {
			if (samples[2*(i-1)+ch] < 0) != (samples[2*i+ch] < 0) {
				crossings++
			}
		}
		if hz := float64(crossings) / 2; math.Abs(hz-440) > 5 {
			t.Errorf("channel %d: %.0f Hz, want 440", ch, hz)
		}
	}
}

func TestAACDecoderErrors(t *testing.T) {
	if _, err := NewAACDecoder([]byte{0x12}, 2); err == nil {
		t.Error("a one-byte AudioSpecificConfig accepted")
	}
	if _, err := NewAudioDecoder("aac", 2); err == nil {
		t.Error(`NewAudioDecoder("aac") without a config accepted`)
	}
	d, err := NewAACDecoder([]byte{0x11, 0x90}, 1) // 48 kHz stereo
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Decode([]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3}, 0, newAudio); err == nil {
		t.Error("garbage decoded without error")
	}
}
