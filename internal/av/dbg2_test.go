package av

import (
	"testing"
	"time"
)

func TestDbg(t *testing.T) {
	pkts, _ := encodeVideo(t, VideoConfig{Codec: "h264-baseline", Width: 96, Height: 64, FrameRate: 30, Bitrate: 150_000}, 4, 3, nil)
	for _, mode := range []string{"noflush-noerr", "flush", "deblockoff"} {
		d := newVideoDecoder(t, "h264", 0)
		if mode == "deblockoff" {
			dbgSkipLoop(d)
		}
		ref, _ := d.Decode(pkts[0].Data, 0, newFrame)
		if mode == "noflush-noerr" {
			d.decode([]byte("\x00\x00\x01A7 \xff0A\x850c"), time.Second)
		} else {
			d.Decode([]byte("\x00\x00\x01A7 \xff0A\x850c"), time.Second, newFrame)
		}
		again, err := d.Decode(pkts[0].Data, 0, newFrame)
		t.Log(mode, again != nil, err)
		if again != nil {
			t.Log(psnr(again, ref))
			for y := 0; y < 16; y++ {
				r1, r2 := ref.Row(0, y), again.Row(0, y)
				diff := ""
				for x := 0; x < 96; x++ {
					if r1[x] != r2[x] {
						diff += "x"
					} else {
						diff += "."
					}
				}
				t.Log(diff)
			}
		}
	}
}
