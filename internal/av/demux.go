package av

import (
	"errors"
	"fmt"
	"time"

	"github.com/asticode/go-astiav"
)

// ReadPackets reads a media file (any container FFmpeg knows, MPEG-TS for
// recordings) and calls fn with each of its audio and video packets in file
// order, timestamps in the file's own time line converted to
// nanoseconds (a missing DTS is the PTS; a missing duration is 0). Packets
// the demuxer flags corrupt and those of other streams are skipped. A
// file cut short ends with the last packet the demuxer could read, which
// may itself be incomplete: the caller decides what to keep. fn's error
// stops the reading and is returned as it is.
func ReadPackets(path string, fn func(Packet) error) error {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return errors.New("av: read: allocation failed")
	}
	defer fc.Free()
	if err := fc.OpenInput(path, nil, nil); err != nil {
		return fmt.Errorf("av: read %s: %w", path, err)
	}
	defer fc.CloseInput()
	if err := fc.FindStreamInfo(nil); err != nil {
		return fmt.Errorf("av: read %s: %w", path, err)
	}
	streams := fc.Streams()
	pkt := astiav.AllocPacket()
	if pkt == nil {
		return errors.New("av: read: allocation failed")
	}
	defer pkt.Free()
	ns := astiav.NewRational(1, int(time.Second))
	toNS := func(v int64, tb astiav.Rational) time.Duration {
		return time.Duration(astiav.RescaleQ(v, tb, ns))
	}
	for {
		if err := fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return nil
			}
			return fmt.Errorf("av: read %s: %w", path, err)
		}
		i := pkt.StreamIndex()
		if i < 0 || i >= len(streams) || pkt.Flags().Has(astiav.PacketFlagCorrupt) {
			pkt.Unref()
			continue
		}
		var kind Kind
		switch streams[i].CodecParameters().MediaType() {
		case astiav.MediaTypeVideo:
			kind = Video
		case astiav.MediaTypeAudio:
			kind = Audio
		default:
			pkt.Unref()
			continue
		}
		tb := streams[i].TimeBase()
		p := Packet{Kind: kind, Data: append([]byte(nil), pkt.Data()...), Keyframe: pkt.Flags().Has(astiav.PacketFlagKey)}
		pts, dts := pkt.Pts(), pkt.Dts()
		if pts == astiav.NoPtsValue {
			pts = dts
		}
		if dts == astiav.NoPtsValue {
			dts = pts
		}
		if pts == astiav.NoPtsValue {
			pkt.Unref()
			continue // no time: nothing to place it by
		}
		p.PTS, p.DTS = toNS(pts, tb), toNS(dts, tb)
		if d := pkt.Duration(); d > 0 {
			p.Duration = toNS(d, tb)
		}
		pkt.Unref()
		if err := fn(p); err != nil {
			return err
		}
	}
}
