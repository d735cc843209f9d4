package av

/*
#include <libavcodec/avcodec.h>
*/
import "C"

import (
	"fmt"
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
