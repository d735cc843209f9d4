package av

/*
#include <libavcodec/avcodec.h>
*/
import "C"

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// receivePackets passes every packet the encoder has ready to emit, each
// converted by convert (which reads pkt) before pkt is unreferenced. what
// names the encoder in errors ("video", "audio").
func receivePackets(ctx *C.AVCodecContext, pkt *C.AVPacket, what string, convert func() Packet, emit func(Packet)) error {
	for {
		ret := C.avcodec_receive_packet(ctx, pkt)
		if err := astiav.Error(ret); err == astiav.ErrEagain || err == astiav.ErrEof {
			return nil
		}
		if ret < 0 {
			return fmt.Errorf("av: encode %s: receiving packet: %w", what, astiav.Error(ret))
		}
		p := convert()
		C.av_packet_unref(pkt)
		if emit != nil {
			emit(p)
		}
	}
}

// packetData copies a packet's payload into Go memory.
func packetData(k *C.AVPacket) []byte {
	data := make([]byte, int(k.size))
	copy(data, unsafe.Slice((*byte)(unsafe.Pointer(k.data)), int(k.size)))
	return data
}

// codec is what both encoders hold: the codec context, the frame and packet
// reused for every call, the stream description, and the lifecycle.
type codec struct {
	ctx     *C.AVCodecContext
	frame   *astiav.Frame
	pkt     *C.AVPacket
	info    StreamInfo
	flushed bool
	closed  bool
}

// Stream describes the encoder's output for a Muxer. Its Extradata is a
// copy: the StreamInfo stays valid after Close.
func (c *codec) Stream() StreamInfo {
	s := c.info
	s.Extradata = slices.Clone(s.Extradata)
	return s
}

// free releases the FFmpeg objects and marks the encoder closed.
func (c *codec) free() {
	c.closed = true
	if c.ctx != nil {
		C.avcodec_free_context(&c.ctx)
	}
	if c.pkt != nil {
		C.av_packet_free(&c.pkt)
	}
	if c.frame != nil {
		c.frame.Free()
		c.frame = nil
	}
}
