package output

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/durable"
)

// SalvageSegment rewrites the segment at path, which a crash cut short, as
// a complete segment. An MPEG-TS segment (N.ts) keeps its complete frames:
// the packets the demuxer reads, from the first video keyframe on, except
// each stream's last one (nothing tells whether it was written whole),
// remuxed with the same timestamps into a file that then replaces path. A
// fragmented MP4 segment (N.mp4, read with the init.mp4 beside it) keeps
// its whole fragments, byte for byte. It returns the salvaged segment's
// duration, or ok false (path left as it was) when no complete video frame
// is left — the segment is lost. streams are the recording's, video first.
func SalvageSegment(path string, streams []av.StreamInfo) (duration time.Duration, ok bool, err error) {
	if len(streams) == 0 {
		return 0, false, errors.New("output: salvage needs the recording's streams, video first")
	}
	if filepath.Ext(path) == SegmentsFMP4.ext() {
		return salvageFragments(path, streams[0])
	}
	var pkts []av.Packet
	last := [2]int{-1, -1} // index of each kind's last packet
	keyed := false
	err = av.ReadPackets(path, func(p av.Packet) error {
		if p.Kind == streams[0].Kind && (p.Keyframe || p.Kind == av.Audio) {
			keyed = true
		}
		if !keyed || int(p.Kind) >= len(last) {
			return nil
		}
		last[p.Kind] = len(pkts)
		pkts = append(pkts, p)
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	var keep []av.Packet
	for i, p := range pkts {
		if i != last[p.Kind] {
			keep = append(keep, p)
		}
	}
	d, video := leadSpan(keep, streams[0])
	if video == 0 {
		return 0, false, nil
	}
	tmp := path + ".salvage"
	mux, err := av.NewMuxer("mpegts", tmp, av.MuxOptions{FormatOptions: map[string]string{"mpegts_copyts": "1"}}, streams...)
	if err != nil {
		return 0, false, err
	}
	for _, p := range keep {
		if err = mux.WritePacket(p); err != nil {
			break
		}
	}
	if cerr := mux.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = durable.Sync(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, false, err
	}
	return d, true, nil
}

// frameDuration is one frame of stream v: a video frame (1/30 s if it
// does not say), or an AAC frame of 1024 samples.
func frameDuration(v av.StreamInfo) time.Duration {
	switch {
	case v.Kind == av.Audio && v.SampleRate > 0:
		return time.Duration(1024 * float64(time.Second) / float64(v.SampleRate))
	case v.FrameRateNum > 0 && v.FrameRateDen > 0:
		return time.Duration(float64(time.Second) * float64(v.FrameRateDen) / float64(v.FrameRateNum))
	}
	return time.Second / 30
}

// leadSpan is how long the lead stream's packets of pkts last (the video;
// the sound of an audio-only recording), from the first to the end of the
// latest (a packet without a duration lasts a frame), and how many there
// are.
func leadSpan(pkts []av.Packet, lead av.StreamInfo) (time.Duration, int) {
	return kindSpan(pkts, lead.Kind, frameDuration(lead))
}

// kindSpan is how long the packets of kind in pkts last, from the first to
// the end of the latest (one lasts its duration, at least frame), and how
// many there are.
func kindSpan(pkts []av.Packet, kind av.Kind, frame time.Duration) (time.Duration, int) {
	var start, end time.Duration
	n := 0
	for _, p := range pkts {
		if p.Kind != kind {
			continue
		}
		if n == 0 {
			start = p.PTS
		}
		n++
		end = max(end, p.PTS+max(p.Duration, frame))
	}
	return end - start, n
}

// salvageFragments cuts the fragmented MP4 segment at path after its last
// whole fragment (a moof box followed by a whole mdat box). Its duration
// comes from reading the kept fragments after the initialization section.
func salvageFragments(path string, lead av.StreamInfo) (time.Duration, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	init, err := os.ReadFile(filepath.Join(filepath.Dir(path), initSegment))
	if err != nil {
		return 0, false, err
	}
	n := wholeFragments(b)
	if n == 0 {
		return 0, false, nil
	}
	tmp := path + ".salvage"
	var pkts []av.Packet
	err = os.WriteFile(tmp, append(init, b[:n]...), 0o600)
	if err == nil {
		err = av.ReadPackets(tmp, func(p av.Packet) error {
			pkts = append(pkts, p)
			return nil
		})
	}
	os.Remove(tmp)
	if err != nil {
		return 0, false, err
	}
	d, video := leadSpan(pkts, lead)
	if video == 0 {
		return 0, false, nil
	}
	if n < len(b) {
		if err := durable.WriteFile(path, b[:n], 0o600); err != nil {
			return 0, false, err
		}
	}
	return d, true, nil
}

// wholeFragments returns the length of the run of whole fragments (a moof
// box, then an mdat box) that b begins with.
func wholeFragments(b []byte) int {
	n, moof := 0, false
	for off := 0; off+8 <= len(b); {
		size := uint64(binary.BigEndian.Uint32(b[off:]))
		typ := string(b[off+4 : off+8])
		if size == 1 && off+16 <= len(b) { // a 64-bit size follows the type
			size = binary.BigEndian.Uint64(b[off+8:])
		}
		if size < 8 || size > uint64(len(b)-off) {
			break // cut short (or a size of 0: up to the end, unknown)
		}
		off += int(size)
		switch {
		case typ == "moof":
			moof = true
		case typ == "mdat" && moof:
			moof, n = false, off
		default:
			return n
		}
	}
	return n
}
