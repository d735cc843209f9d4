package h264

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// collect returns the NAL units of b, copied.
func collect(b []byte) [][]byte {
	var out [][]byte
	for nal := range NALs(b) {
		out = append(out, bytes.Clone(nal))
	}
	return out
}

// reference splits b the obvious way, one byte at a time: the contract of
// NALs written without cleverness.
func reference(b []byte) [][]byte {
	var out [][]byte
	start := -1
	emit := func(end int) {
		for end > start && b[end-1] == 0 {
			end--
		}
		if end > start {
			out = append(out, bytes.Clone(b[start:end]))
		}
	}
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				emit(i)
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 {
		emit(len(b))
	}
	return out
}

func TestNALs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{0x67, 0x42, 0, 0, 2, 0x1e}, nil},
		{"start code only", []byte{0, 0, 0, 1}, nil},
		{"three-byte", []byte{0, 0, 1, 0x67, 0x42}, [][]byte{{0x67, 0x42}}},
		{"four-byte", []byte{0, 0, 0, 1, 0x67, 0x42}, [][]byte{{0x67, 0x42}}},
		{"mixed", []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5},
			[][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5}}},
		{"start code at an offset", []byte{7, 8, 9, 0, 0, 1, 0x09, 0xf0}, [][]byte{{0x09, 0xf0}}},
		{"four-byte at an offset", []byte{0xff, 0, 0, 0, 1, 0x41, 0x9a}, [][]byte{{0x41, 0x9a}}},
		{"emulation prevention left alone", []byte{0, 0, 1, 0x06, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3},
			[][]byte{{0x06, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3}}},
		{"zero-length units", []byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1}, [][]byte{{0x09, 0xf0}}},
		{"zeros only after a start code", []byte{0, 0, 1, 0, 0, 0, 0}, nil},
		{"trailing zeros", []byte{0, 0, 1, 0x68, 0xce, 0, 0, 0, 0, 0, 0, 1, 0x65, 0x88, 0, 0}, [][]byte{{0x68, 0xce}, {0x65, 0x88}}},
		{"header byte zero", []byte{0, 0, 1, 0, 5, 0, 0, 1, 0x41}, [][]byte{{0, 5}, {0x41}}},
		{"start code split at the end", []byte{0, 0, 1, 0x41, 0x9a, 0, 0}, [][]byte{{0x41, 0x9a}}},
	} {
		got := collect(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("%s: % x: got %x, want %x", tc.name, tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], tc.want[i]) {
				t.Errorf("%s: % x: unit %d = % x, want % x", tc.name, tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestNALsStop(t *testing.T) {
	n := 0
	for range NALs([]byte{0, 0, 1, 0x67, 0, 0, 1, 0x68, 0, 0, 1, 0x65}) {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("%d units seen, want to stop after 2", n)
	}
}

// A unit's capacity ends with it: appending to it leaves the input alone.
func TestNALsCapacity(t *testing.T) {
	in := []byte{0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68}
	want := bytes.Clone(in)
	for nal := range NALs(in) {
		_ = append(nal, 0xff, 0xff, 0xff)
	}
	if !bytes.Equal(in, want) {
		t.Errorf("input changed to % x", in)
	}
}

func TestIsAnnexB(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want bool
	}{
		{[]byte{0, 0, 1, 0x67}, true},
		{[]byte{0, 0, 0, 1, 0x67}, true},
		{[]byte{0, 0, 1}, true},
		{[]byte{0, 0, 0, 1}, true},
		{[]byte{0, 0, 0, 0, 1, 0x67}, false},
		{[]byte{7, 0, 0, 1, 0x67}, false},
		{[]byte{0, 0, 2}, false},
		{[]byte{0, 0}, false},
		{nil, false},
	} {
		if got := IsAnnexB(tc.in); got != tc.want {
			t.Errorf("IsAnnexB(% x) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTypes(t *testing.T) {
	for _, tc := range []struct {
		header byte
		want   NALType
		vcl    bool
	}{
		{0x67, SPS, false},
		{0x68, PPS, false},
		{0x65, IDR, true},
		{0x41, Slice, true},
		{0x01, Slice, true},
		{0x22, 2, true}, // slice data partition A
		{0x06, SEI, false},
		{0x09, AUD, false},
		{0x0d, SPSExtension, false},
		{0xe5, IDR, true}, // forbidden bit and nal_ref_idc are not the type
		{0x00, 0, false},
		{0x14, 20, false},
	} {
		got := TypeOf([]byte{tc.header})
		if got != tc.want || got.VCL() != tc.vcl {
			t.Errorf("header %#02x: type %d (VCL %v), want %d (VCL %v)", tc.header, got, got.VCL(), tc.want, tc.vcl)
		}
	}
	if got := TypeOf(nil); got != 0 {
		t.Errorf("TypeOf(nil) = %d, want 0", got)
	}
}

// accessUnit returns a synthetic access unit: SPS, PPS and an IDR slice of
// size random bytes made valid the way an encoder does (an emulation
// prevention byte after every two zeros).
func accessUnit(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	au := []byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0xc0, 0x44, 0, 0, 3, 0, 0x04, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 0, 1, 0x65}
	zeros := 0
	for range size {
		c := byte(r.Uint32())
		if r.IntN(8) == 0 {
			c = 0 // more zeros than chance gives, for emulation prevention
		}
		if zeros >= 2 && c <= 3 {
			au = append(au, 3)
			zeros = 0
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		au = append(au, c)
	}
	return append(au, 0x80)
}

func TestNALsAccessUnit(t *testing.T) {
	au := accessUnit(100_000)
	var types []NALType
	for nal := range NALs(au) {
		types = append(types, TypeOf(nal))
	}
	if want := []NALType{SPS, PPS, IDR}; !bytes.Equal(asBytes(types), asBytes(want)) {
		t.Fatalf("types %v, want %v", types, want)
	}
	if got, want := collect(au), reference(au); len(got) != len(want) || !bytes.Equal(got[2], want[2]) {
		t.Fatal("differs from the reference")
	}
}

func asBytes(ts []NALType) []byte {
	b := make([]byte, len(ts))
	for i, t := range ts {
		b[i] = byte(t)
	}
	return b
}

func TestNALsAllocations(t *testing.T) {
	au := accessUnit(10_000)
	n := 0
	if a := testing.AllocsPerRun(100, func() {
		for nal := range NALs(au) {
			n += len(nal)
		}
	}); a != 0 {
		t.Errorf("%.1f allocations per access unit, want 0", a)
	}
}

// FuzzNALs checks NALs against the byte-at-a-time reference, and that
// every unit is a non-empty subslice of the input, in order, without a
// start code inside or a zero at its end.
func FuzzNALs(f *testing.F) {
	f.Add(accessUnit(200))
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0})
	f.Add([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1})
	f.Add([]byte{0, 0, 1, 0x06, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		want := reference(b)
		i, pos := 0, 0
		for nal := range NALs(b) {
			if len(nal) == 0 || nal[len(nal)-1] == 0 || bytes.Contains(nal, startCode) {
				t.Fatalf("unit % x", nal)
			}
			if i >= len(want) || !bytes.Equal(nal, want[i]) {
				t.Fatalf("unit %d = % x; reference %x", i, nal, want)
			}
			at := int(uintptr(unsafe.Pointer(unsafe.SliceData(nal))) - uintptr(unsafe.Pointer(unsafe.SliceData(b))))
			if at < pos+len(startCode) || at+len(nal) > len(b) || !bytes.Equal(b[at-3:at], startCode) || cap(nal) != len(nal) {
				t.Fatalf("unit %d at offset %d (cap %d): not a subslice of the input after a start code, after offset %d", i, at, cap(nal), pos)
			}
			pos = at + len(nal)
			i++
		}
		if i != len(want) {
			t.Fatalf("%d units, reference %d", i, len(want))
		}
	})
}

func BenchmarkNALs(b *testing.B) {
	au := accessUnit(200_000)
	b.SetBytes(int64(len(au)))
	for b.Loop() {
		for nal := range NALs(au) {
			_ = nal
		}
	}
}
