package testsrv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The FFmpeg command-line tools (Debian package ffmpeg).
const (
	FFmpegBinary  = "ffmpeg"
	FFprobeBinary = "ffprobe"
)

// ProbeTimeout bounds one ffprobe run.
const ProbeTimeout = 30 * time.Second

// Probe is what ffprobe tells about a media file.
type Probe struct {
	Streams []ProbeStream
	Format  ProbeFormat
}

// ProbeStream is one stream of a probed file. Numbers ffprobe leaves out
// (a video stream has no sample rate, a stream may have no duration) are 0.
type ProbeStream struct {
	Index     int
	CodecName string // "h264", "aac", …
	CodecType string // "video", "audio", "data", …
	// Video.
	Width, Height int
	AvgFrameRate  string  // as ffprobe prints it, "25/1"
	FrameRate     float64 // AvgFrameRate evaluated; 0 for "0/0"
	// Audio.
	SampleRate int
	Channels   int
	// Duration in seconds.
	Duration float64
}

// ProbeFormat is the container of a probed file.
type ProbeFormat struct {
	FormatName string  // "flv", "mov,mp4,m4a,3gp,3g2,mj2", …
	Duration   float64 // seconds
}

// Stream returns the first stream of codecType ("video", "audio").
func (p Probe) Stream(codecType string) (ProbeStream, bool) {
	for _, s := range p.Streams {
		if s.CodecType == codecType {
			return s, true
		}
	}
	return ProbeStream{}, false
}

// FFprobe runs `ffprobe -show_format -show_streams` on path and fails the
// test if ffprobe fails, cannot read the file or takes longer than
// ProbeTimeout.
func FFprobe(t testing.TB, path string) Probe {
	t.Helper()
	p, err := ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ProbeFile is FFprobe returning the error instead of failing a test, for
// polling a file that is still being written.
func ProbeFile(path string) (Probe, error) {
	out, err := runFFprobe(path, "-show_format", "-show_streams")
	if err != nil {
		return Probe{}, err
	}
	var raw struct {
		Streams []struct {
			Index        int    `json:"index"`
			CodecName    string `json:"codec_name"`
			CodecType    string `json:"codec_type"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			AvgFrameRate string `json:"avg_frame_rate"`
			SampleRate   string `json:"sample_rate"`
			Channels     int    `json:"channels"`
			Duration     string `json:"duration"`
		} `json:"streams"`
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return Probe{}, fmt.Errorf("testsrv: ffprobe %s: parsing its JSON: %w", path, err)
	}
	p := Probe{Format: ProbeFormat{FormatName: raw.Format.FormatName, Duration: parseFloat(raw.Format.Duration)}}
	for _, s := range raw.Streams {
		sr, _ := strconv.Atoi(s.SampleRate)
		p.Streams = append(p.Streams, ProbeStream{
			Index:        s.Index,
			CodecName:    s.CodecName,
			CodecType:    s.CodecType,
			Width:        s.Width,
			Height:       s.Height,
			AvgFrameRate: s.AvgFrameRate,
			FrameRate:    parseRational(s.AvgFrameRate),
			SampleRate:   sr,
			Channels:     s.Channels,
			Duration:     parseFloat(s.Duration),
		})
	}
	return p, nil
}

// VideoPacket is one packet of a probed file's first video stream.
type VideoPacket struct {
	// Time is its presentation time in seconds (its decoding time when
	// the file gives none).
	Time float64
	Key  bool
}

// VideoPackets returns the packets of path's first video stream, in file
// order. It fails the test if ffprobe fails or takes longer than
// ProbeTimeout.
func VideoPackets(t testing.TB, path string) []VideoPacket {
	t.Helper()
	out, err := runFFprobe(path, "-select_streams", "v:0", "-show_entries", "packet=pts_time,dts_time,flags")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Packets []struct {
			PTSTime string `json:"pts_time"`
			DTSTime string `json:"dts_time"`
			Flags   string `json:"flags"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("testsrv: ffprobe %s: parsing its JSON: %v", path, err)
	}
	pkts := make([]VideoPacket, 0, len(raw.Packets))
	for _, p := range raw.Packets {
		ts := p.PTSTime
		if ts == "" || ts == "N/A" {
			ts = p.DTSTime
		}
		pkts = append(pkts, VideoPacket{Time: parseFloat(ts), Key: strings.Contains(p.Flags, "K")})
	}
	return pkts
}

// Keyframes returns the presentation times, in seconds, of the key frames
// of path's first video stream, in file order. It fails the test if
// ffprobe fails or takes longer than ProbeTimeout.
func Keyframes(t testing.TB, path string) []float64 {
	t.Helper()
	var kf []float64
	for _, p := range VideoPackets(t, path) {
		if p.Key {
			kf = append(kf, p.Time)
		}
	}
	return kf
}

func runFFprobe(path string, args ...string) ([]byte, error) {
	if err := lookBinary(FFprobeBinary, "ffmpeg"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	args = append(append([]string{"-v", "error", "-of", "json"}, args...), path)
	cmd := exec.CommandContext(ctx, FFprobeBinary, args...)
	var stderr SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("testsrv: ffprobe %s: no answer within %v", path, ProbeTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("testsrv: ffprobe %s: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}

// parseRational evaluates "num/den"; 0 when den is 0 or s is malformed.
func parseRational(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return parseFloat(s)
	}
	d := parseFloat(den)
	if d == 0 {
		return 0
	}
	return parseFloat(num) / d
}
