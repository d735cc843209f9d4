package output

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// segment is one uploaded HLS segment.
type segment struct {
	seq      int
	duration time.Duration
	disc     bool // it follows a gap: EXT-X-DISCONTINUITY
}

// mediaPlaylist is a rendition's playlist. While recording it is an EVENT
// playlist listing only segments that storage has confirmed; when the
// recording ends it becomes VOD with #EXT-X-ENDLIST.
type mediaPlaylist struct {
	container SegmentContainer
	target    time.Duration // targetSegmentDurationSeconds
	segments  []segment
	ended     bool
}

// render writes the playlist. EXT-X-TARGETDURATION is the target or, if a
// segment ran longer, that segment's duration rounded up, as RFC 8216
// requires.
func (p *mediaPlaylist) render() []byte {
	target := int(math.Ceil(p.target.Seconds()))
	for _, s := range p.segments {
		target = max(target, int(math.Ceil(s.duration.Seconds()-1e-9)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n", p.container.version())
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", target)
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:0\n")
	if p.ended {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	} else {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
	}
	if p.container.fmp4() {
		b.WriteString("#EXT-X-MAP:URI=\"" + initSegment + "\"\n")
	}
	for _, s := range p.segments {
		if s.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s\n", s.duration.Seconds(), p.container.segmentName(s.seq))
	}
	if p.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String())
}

// duration is the recorded duration: the sum of the listed segments.
func (p *mediaPlaylist) duration() time.Duration {
	var d time.Duration
	for _, s := range p.segments {
		d += s.duration
	}
	return d
}

// rendition describes the one rendition of a recording.
type rendition struct {
	width, height int
	frameRate     float64
	bandwidth     int    // bits per second, video + audio
	codecs        string // RFC 6381, e.g. "avc1.64001f,mp4a.40.2"
	container     SegmentContainer
	individual    bool // a participant's recording: IVS names its rendition "high"
}

// individualRendition is the folder of an individual participant
// recording's one rendition (playlists and thumbnails), as IVS names it.
const individualRendition = "high"

// dir is the rendition's folder name under media/hls: "high" for a
// participant's recording, else <height>p<fps>-<id>, with id derived from
// the size so that it is stable for a recording.
func (r rendition) dir() string {
	if r.individual {
		return individualRendition
	}
	return fmt.Sprintf("%dp%d-%s", r.height, int(math.Round(r.frameRate)), renditionID(r))
}

// thumbDir is the thumbnails' folder: "high", or the picture's size.
func (r rendition) thumbDir() string {
	if r.individual {
		return individualRendition
	}
	return fmt.Sprintf("%dx%d", r.width, r.height)
}

// renditionID is a short stable identifier of the rendition's parameters.
func renditionID(r rendition) string {
	h := uint32(2166136261) // FNV-1a over the parameters
	for _, v := range []int{r.width, r.height, int(r.frameRate * 1000), r.bandwidth} {
		for range 4 {
			h = (h ^ uint32(v&0xFF)) * 16777619
			v >>= 8
		}
	}
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	var id [6]byte
	for i := range id {
		id[i] = digits[h%36]
		h /= 36
	}
	return string(id[:])
}

// multivariant renders the multivariant playlist pointing at the rendition.
// An audio-only rendition has no RESOLUTION and FRAME-RATE.
func multivariant(r rendition) []byte {
	picture := ""
	if r.width > 0 {
		picture = fmt.Sprintf(",RESOLUTION=%dx%d,FRAME-RATE=%.3f", r.width, r.height, r.frameRate)
	}
	return fmt.Appendf(nil, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n"+
		"#EXT-X-STREAM-INF:BANDWIDTH=%d%s,CODECS=\"%s\"\n%s/playlist.m3u8\n",
		r.container.version(), r.bandwidth, picture, r.codecs, r.dir())
}

// recordingKeys are the object keys of a recording under its prefix
// (<stageId>/<compositionId>/<destinationId>/composite, or
// <stageId>/<sessionId>/<participantId>/<timestamp> for a participant).
type recordingKeys struct {
	prefix string
	r      rendition
}

func (k recordingKeys) started() string      { return k.prefix + "/events/recording-started.json" }
func (k recordingKeys) ended() string        { return k.prefix + "/events/recording-ended.json" }
func (k recordingKeys) failed() string       { return k.prefix + "/events/recording-failed.json" }
func (k recordingKeys) hlsDir() string       { return k.prefix + "/media/hls" }
func (k recordingKeys) multivariant() string { return k.hlsDir() + "/multivariant.m3u8" }
func (k recordingKeys) renditionDir() string { return k.hlsDir() + "/" + k.r.dir() }
func (k recordingKeys) playlist() string     { return k.renditionDir() + "/playlist.m3u8" }
func (k recordingKeys) segment(seq int) string {
	return k.renditionDir() + "/" + k.r.container.segmentName(seq)
}
func (k recordingKeys) init() string { return k.renditionDir() + "/" + initSegment }
func (k recordingKeys) thumbnail(n int) string {
	return fmt.Sprintf("%s/media/thumbnails/%s/%d.jpg", k.prefix, k.r.thumbDir(), n)
}
func (k recordingKeys) latestThumbnail() string {
	return fmt.Sprintf("%s/media/latest_thumbnail/%s/thumb.jpg", k.prefix, k.r.thumbDir())
}
