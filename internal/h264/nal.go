package h264

// NALType is nal_unit_type: the low five bits of a NAL unit's header byte.
type NALType uint8

// The NAL unit types Tessera looks at (ITU-T H.264 Table 7-1).
const (
	Slice        NALType = 1  // coded slice of a non-IDR picture
	IDR          NALType = 5  // coded slice of an IDR picture: a keyframe
	SEI          NALType = 6  // supplemental enhancement information
	SPS          NALType = 7  // sequence parameter set
	PPS          NALType = 8  // picture parameter set
	AUD          NALType = 9  // access unit delimiter
	SPSExtension NALType = 13 // sequence parameter set extension
)

// TypeOf returns the type of the NAL unit nal (header byte first); 0
// (unspecified) when nal is empty.
func TypeOf(nal []byte) NALType {
	if len(nal) == 0 {
		return 0
	}
	return NALType(nal[0] & 0x1f)
}

// VCL reports whether t is a coded slice or slice data partition (types
// 1–5), the units that carry a picture.
func (t NALType) VCL() bool { return t >= Slice && t <= IDR }
