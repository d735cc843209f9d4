package ingest

import (
	"errors"

	"github.com/tessera-media/tessera/internal/h264"
)

// This file holds the little bitstream parsing ingest needs before it
// decodes anything: H.264 NAL units (found by internal/h264; sizes from
// the SPS, slice types to refuse B-frames, IDR detection) and VP8 frame
// headers (keyframes, sizes).
// All of it reads untrusted bytes and is fuzzed (FuzzBitstream).

var errBitstream = errors.New("truncated or invalid bitstream")

// bitReader reads bits from an RBSP (emulation prevention already
// removed); reads past the end set err.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) bit() uint32 {
	if r.pos >= len(r.b)*8 {
		r.err = errBitstream
		return 0
	}
	v := uint32(r.b[r.pos>>3]>>(7-uint(r.pos&7))) & 1
	r.pos++
	return v
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// ue reads an unsigned Exp-Golomb code (values above 2^31 are refused).
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 {
		if r.err != nil {
			return 0
		}
		zeros++
		if zeros > 31 {
			r.err = errBitstream
			return 0
		}
	}
	return (1<<zeros - 1) + r.bits(zeros)
}

func (r *bitReader) se() int32 {
	v := r.ue()
	if v&1 == 1 {
		return int32((v + 1) / 2)
	}
	return -int32(v / 2)
}

// unescapeRBSP removes emulation prevention bytes (00 00 03 → 00 00) from
// at most limit bytes of a NAL unit, appending to dst.
func unescapeRBSP(dst, nal []byte, limit int) []byte {
	zeros := 0
	for i, c := range nal {
		if i >= limit {
			break
		}
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		dst = append(dst, c)
	}
	return dst
}

// spsSize returns the picture size an H.264 SPS NAL unit (header byte
// included) declares, cropping applied.
func spsSize(nal []byte, scratch []byte) (w, h int, err error) {
	if len(nal) < 4 || h264.TypeOf(nal) != h264.SPS {
		return 0, 0, errBitstream
	}
	r := bitReader{b: unescapeRBSP(scratch[:0], nal[1:], 256)}
	profile := r.bits(8)
	r.bits(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := uint32(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = r.ue()
		if chroma > 3 {
			return 0, 0, errBitstream
		}
		if chroma == 3 {
			r.bit() // separate_colour_plane_flag
		}
		r.ue()            // bit_depth_luma_minus8
		r.ue()            // bit_depth_chroma_minus8
		r.bit()           // qpprime_y_zero_transform_bypass_flag
		if r.bit() == 1 { // seq_scaling_matrix_present_flag
			n := 8
			if chroma == 3 {
				n = 12
			}
			for i := range n {
				if r.bit() == 1 {
					size := 16
					if i >= 6 {
						size = 64
					}
					last, next := int32(8), int32(8)
					for range size {
						if next != 0 {
							next = (last + r.se() + 256) % 256
						}
						if next != 0 {
							last = next
						}
						if r.err != nil {
							return 0, 0, r.err
						}
					}
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.bit()
		r.se()
		r.se()
		n := r.ue()
		if n > 255 {
			return 0, 0, errBitstream
		}
		for range n {
			r.se()
		}
	}
	r.ue()  // max_num_ref_frames
	r.bit() // gaps_in_frame_num_value_allowed_flag
	mbw := r.ue() + 1
	mbh := r.ue() + 1
	frameMBsOnly := r.bit()
	if frameMBsOnly == 0 {
		r.bit() // mb_adaptive_frame_field_flag
	}
	r.bit() // direct_8x8_inference_flag
	var cl, cr, ct, cb uint32
	if r.bit() == 1 {
		cl, cr, ct, cb = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.err != nil {
		return 0, 0, r.err
	}
	if mbw > 1024 || mbh > 1024 {
		return 0, 0, errBitstream
	}
	unitX, unitY := uint32(1), 2-frameMBsOnly
	switch chroma {
	case 1:
		unitX, unitY = 2, 2*(2-frameMBsOnly)
	case 2:
		unitX = 2
	}
	width := mbw * 16
	height := (2 - frameMBsOnly) * mbh * 16
	if (cl+cr)*unitX >= width || (ct+cb)*unitY >= height {
		return 0, 0, errBitstream
	}
	return int(width - (cl+cr)*unitX), int(height - (ct+cb)*unitY), nil
}

// sliceType returns slice_type mod 5 of a coded slice NAL unit (0 P, 1 B,
// 2 I, 3 SP, 4 SI).
func sliceType(nal []byte, scratch []byte) (int, error) {
	if len(nal) < 2 {
		return 0, errBitstream
	}
	r := bitReader{b: unescapeRBSP(scratch[:0], nal[1:], 16)}
	r.ue() // first_mb_in_slice
	t := r.ue()
	if r.err != nil || t > 9 {
		return 0, errBitstream
	}
	return int(t % 5), nil
}

// h264AU is what ingest learns from an access unit before decoding it.
type h264AU struct {
	keyframe bool // holds an IDR slice
	bframe   bool // holds a B slice
	width    int  // from an SPS in the unit, 0 without one
	height   int
	slices   int
}

// parseH264 inspects an Annex-B access unit.
func parseH264(au []byte, scratch []byte) (h264AU, error) {
	var info h264AU
	for nal := range h264.NALs(au) {
		var err error
		switch t := h264.TypeOf(nal); t {
		case h264.SPS:
			info.width, info.height, err = spsSize(nal, scratch)
		case h264.IDR, h264.Slice:
			info.slices++
			if t == h264.IDR {
				info.keyframe = true
			}
			var st int
			if st, err = sliceType(nal, scratch); err == nil && st == 1 {
				info.bframe = true
			}
		}
		if err != nil {
			return info, err
		}
	}
	if info.slices == 0 {
		return info, errBitstream
	}
	return info, nil
}

// vp8Frame is what ingest learns from a VP8 frame header.
type vp8Frame struct {
	keyframe      bool
	width, height int // keyframes only
}

// parseVP8 inspects the header of a VP8 frame (RFC 6386 §9.1).
func parseVP8(f []byte) (vp8Frame, error) {
	if len(f) < 3 {
		return vp8Frame{}, errBitstream
	}
	if f[0]&1 != 0 {
		return vp8Frame{}, nil
	}
	if len(f) < 10 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return vp8Frame{}, errBitstream
	}
	w := int(f[6]) | int(f[7]&0x3f)<<8
	h := int(f[8]) | int(f[9]&0x3f)<<8
	if w == 0 || h == 0 {
		return vp8Frame{}, errBitstream
	}
	return vp8Frame{keyframe: true, width: w, height: h}, nil
}
