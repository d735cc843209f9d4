package output

import (
	"errors"
	"os"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/durable"
)

// SalvageSegment rewrites the MPEG-TS segment at path, which a crash cut
// short, as a complete segment of its complete frames: the packets the
// demuxer reads, from the first video keyframe on, except each stream's
// last one (nothing tells whether it was written whole), remuxed with the
// same timestamps into a file that then replaces path. It returns the
// salvaged segment's duration, or ok false (path left as it was) when no
// complete video frame is left — the segment is lost. streams are the
// recording's, video first.
func SalvageSegment(path string, streams []av.StreamInfo) (duration time.Duration, ok bool, err error) {
	if len(streams) == 0 || streams[0].Kind != av.Video {
		return 0, false, errors.New("output: salvage needs the recording's streams, video first")
	}
	var pkts []av.Packet
	last := [2]int{-1, -1} // index of each kind's last packet
	keyed := false
	err = av.ReadPackets(path, func(p av.Packet) error {
		if p.Kind == av.Video && p.Keyframe {
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
	v := streams[0]
	frame := time.Second / 30
	if v.FrameRateNum > 0 && v.FrameRateDen > 0 {
		frame = time.Duration(float64(time.Second) * float64(v.FrameRateDen) / float64(v.FrameRateNum))
	}
	var keep []av.Packet
	var start, end time.Duration
	video := 0
	for i, p := range pkts {
		if i == last[p.Kind] {
			continue
		}
		if p.Kind == av.Video {
			if video == 0 {
				start = p.PTS
			}
			video++
			end = max(end, p.PTS+max(p.Duration, frame))
		}
		keep = append(keep, p)
	}
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
	return end - start, true, nil
}
