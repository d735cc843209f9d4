package av

/*
#include <stdlib.h>
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

// alloc finds FFmpeg's encoder lib and allocates the context, frame and
// packet; what names the encoder in errors ("video", "audio").
func (c *codec) alloc(lib, what string) (*C.AVCodec, error) {
	name := C.CString(lib)
	defer C.free(unsafe.Pointer(name))
	enc := C.avcodec_find_encoder_by_name(name)
	if enc == nil {
		return nil, fmt.Errorf("av: new %s encoder: FFmpeg has no %s encoder", what, lib)
	}
	c.ctx = C.avcodec_alloc_context3(enc)
	c.frame = astiav.AllocFrame()
	c.pkt = C.av_packet_alloc()
	if c.ctx == nil || c.frame == nil || c.pkt == nil {
		return nil, fmt.Errorf("av: new %s encoder: allocation failed", what)
	}
	return enc, nil
}

// open opens the configured context with the private options opts, all
// of which the encoder must take; describe says what was asked in errors.
func (c *codec) open(enc *C.AVCodec, lib, what string, opts [][2]string, describe string) error {
	var dict *C.AVDictionary
	defer C.av_dict_free(&dict)
	for _, kv := range opts {
		if err := dictSet(&dict, kv[0], kv[1]); err != nil {
			return fmt.Errorf("av: new %s encoder: %w", what, err)
		}
	}
	if ret := C.avcodec_open2(c.ctx, enc, &dict); ret < 0 {
		return fmt.Errorf("av: new %s encoder: opening %s (%s): %w", what, lib, describe, astiav.Error(ret))
	}
	if left := dictKeys(dict); left != "" {
		return fmt.Errorf("av: new %s encoder: %s ignored options %s", what, lib, left)
	}
	return nil
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
