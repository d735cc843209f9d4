package output

import (
	"fmt"
	"time"
)

// SegmentContainer is the container of a recording's HLS segments.
type SegmentContainer string

const (
	// SegmentsMPEGTS (the default) writes self-contained MPEG-TS segments
	// 0.ts, 1.ts …, listed by playlists of version 3.
	SegmentsMPEGTS SegmentContainer = ""
	// SegmentsFMP4 writes fragmented MP4: an initialization section
	// init.mp4 (ftyp and moov, the streams' parameters) and media segments
	// 1.mp4, 2.mp4 … of whole fragments (moof and mdat) on one time line,
	// listed by playlists of version 7 with #EXT-X-MAP:URI="init.mp4".
	SegmentsFMP4 SegmentContainer = "fmp4"
)

// initSegment is the file name (and, in the rendition's folder, the object
// name) of an fMP4 recording's initialization section.
const initSegment = "init.mp4"

// fragmentDuration bounds an fMP4 segment's fragments: a fragment reaches
// the file when it is complete, so it is the most a crash loses of the
// segment being written.
const fragmentDuration = time.Second

func (c SegmentContainer) fmp4() bool { return c == SegmentsFMP4 }

// ext is the segments' file name extension.
func (c SegmentContainer) ext() string {
	if c.fmp4() {
		return ".mp4"
	}
	return ".ts"
}

// segmentName is segment seq's file (and object) name.
func (c SegmentContainer) segmentName(seq int) string { return fmt.Sprintf("%d%s", seq, c.ext()) }

// firstSeq is the first segment's number.
func (c SegmentContainer) firstSeq() int {
	if c.fmp4() {
		return 1
	}
	return 0
}

// version is the playlists' #EXT-X-VERSION: 7 where media playlists carry
// EXT-X-MAP for fragmented MP4 segments (RFC 8216, section 7).
func (c SegmentContainer) version() int {
	if c.fmp4() {
		return 7
	}
	return 3
}

// defaultTarget is the target segment duration when none is configured:
// IVS's for composite recordings (MPEG-TS) and for individual participant
// recordings (fragmented MP4).
func (c SegmentContainer) defaultTarget() time.Duration {
	if c.fmp4() {
		return 6 * time.Second
	}
	return 2 * time.Second
}

// valid reports whether c is a known container.
func (c SegmentContainer) valid() bool { return c == SegmentsMPEGTS || c == SegmentsFMP4 }
