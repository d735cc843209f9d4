package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-media/tessera/internal/av"
)

// maxAdoptedSegment bounds a stored segment read back to be adopted.
const maxAdoptedSegment = 1 << 30

// adoptPattern names the files a segment is read back into, in scratch.
const adoptPattern = "adopt-*"

// RemoveAdoptScratch removes from dir the files FinalizeFromStorage reads
// segments back into, left there by a server that stopped while it
// finalized (start-up calls it on the work folder).
func RemoveAdoptScratch(dir string) error {
	left, err := filepath.Glob(filepath.Join(dir, adoptPattern))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range left {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// adoptUnlisted appends to pl the segments stored in dir (names, the
// rendition folder's object names) that pl does not list and that come
// after its last one: a server that died between uploading a segment and
// the playlist listing it left them. Each is read back into a file in
// scratch and demuxed; its duration is its packets' span (the video's; the
// sound's if it has none), and it follows a discontinuity when its number
// does not follow the one before. It returns the names it adopted and those
// it could not (unreadable, no packets), which stay unlisted.
func adoptUnlisted(ctx context.Context, st Lister, bucket, dir string, pl *mediaPlaylist, names []string, scratch string) (adopted, left []string) {
	last := -1
	if n := len(pl.segments); n > 0 {
		last = pl.segments[n-1].seq
	}
	type cand struct {
		seq  int
		name string
	}
	var cands []cand
	for _, name := range names {
		seq, err := strconv.Atoi(strings.TrimSuffix(name, path.Ext(name)))
		if err != nil || seq <= last || path.Ext(name) != pl.container.ext() {
			left = append(left, name)
			continue
		}
		cands = append(cands, cand{seq, name})
	}
	if len(cands) == 0 {
		return nil, left
	}
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		for _, c := range cands {
			left = append(left, c.name)
		}
		return nil, left
	}
	slices.SortFunc(cands, func(a, b cand) int { return a.seq - b.seq })
	for _, c := range cands {
		d, err := storedSegmentDuration(ctx, st, bucket, dir, c.name, pl.container.fmp4(), scratch)
		if err != nil {
			left = append(left, c.name)
			continue
		}
		disc := len(pl.segments) > 0 && c.seq != pl.segments[len(pl.segments)-1].seq+1
		pl.segments = append(pl.segments, segment{seq: c.seq, duration: d, disc: disc})
		adopted = append(adopted, c.name)
	}
	return adopted, left
}

// storedSegmentDuration reads segment name of dir back from storage (after
// the rendition's init.mp4 when fmp4) into a file in scratch and returns
// how long its packets last.
func storedSegmentDuration(ctx context.Context, st Lister, bucket, dir, name string, fmp4 bool, scratch string) (time.Duration, error) {
	f, err := os.CreateTemp(scratch, adoptPattern+path.Ext(name))
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	parts := []string{name}
	if fmp4 {
		parts = []string{initSegment, name}
	}
	for _, p := range parts {
		body, _, err := st.Open(ctx, bucket, dir+"/"+p)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(f, io.LimitReader(body, maxAdoptedSegment+1))
		body.Close()
		if err == nil && n > maxAdoptedSegment {
			err = fmt.Errorf("%s: larger than %d bytes", p, maxAdoptedSegment)
		}
		if err != nil {
			return 0, err
		}
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	var pkts []av.Packet
	if err := av.ReadPackets(f.Name(), func(p av.Packet) error {
		p.Data = nil
		pkts = append(pkts, p)
		return nil
	}); err != nil {
		return 0, err
	}
	return packetSpan(pkts)
}

// packetSpan is how long pkts last: the video's (the sound's when there is
// no video) from the first packet to the end of the latest, a packet
// lasting at least the usual spacing of its stream's packets.
func packetSpan(pkts []av.Packet) (time.Duration, error) {
	lead := av.Audio
	if slices.ContainsFunc(pkts, func(p av.Packet) bool { return p.Kind == av.Video }) {
		lead = av.Video
	}
	var pts []time.Duration
	for _, p := range pkts {
		if p.Kind == lead {
			pts = append(pts, p.PTS)
		}
	}
	if len(pts) == 0 {
		return 0, errors.New("no packets")
	}
	slices.Sort(pts)
	frame := time.Second / 30
	if len(pts) > 1 {
		gaps := make([]time.Duration, len(pts)-1)
		for i := range gaps {
			gaps[i] = pts[i+1] - pts[i]
		}
		slices.Sort(gaps)
		frame = gaps[len(gaps)/2]
	}
	d, _ := kindSpan(pkts, lead, frame)
	return d, nil
}
