package output

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// StorageFinalized is what FinalizeFromStorage made of a recording.
type StorageFinalized struct {
	// Done: the recording already had its end event; nothing was written.
	Done bool
	// Segments and Duration are what the VOD playlist lists.
	Segments int
	Duration time.Duration
	// Adopted are segments in storage that no stored playlist listed (the
	// server died between uploading a segment and its playlist), read back
	// and listed after the others.
	Adopted []string
	// Unlisted are stored segments that could not be adopted (unreadable,
	// or numbered before the last listed one): kept, not played, named in
	// the failure message.
	Unlisted []string
}

// ListingStorage is a Storage that can list and read back (Lister).
type ListingStorage interface {
	Storage
	Lister
}

// maxEventObject bounds an events file or a media playlist read back.
const maxEventObject = 4 << 20

// FinalizeFromStorage ends, from what storage holds, a recording whose
// work folder is gone (its server's data directory was lost, or it was
// another server's): the recording under prefix in bucket that has a
// recording-started.json and no end event gets its media playlists
// rewritten as VOD with #EXT-X-ENDLIST, listing the segments the stored
// playlists listed (uploaded playlists name only stored segments) and
// after them the stored segments they did not list yet (read back through
// files in scratch to learn their durations: adoptUnlisted), and
// recording-failed.json in IVS's shape with reason, ended at ended. A
// recording with an end event is left alone (Done), so finalizing twice
// writes once. What the lost folder held and storage did not (the segment
// being written, segments waiting in that server's spool) is gone.
func FinalizeFromStorage(ctx context.Context, st ListingStorage, bucket, prefix, reason string, ended time.Time, scratch string, log *slog.Logger) (StorageFinalized, error) {
	if log == nil {
		log = slog.Default()
	}
	var res StorageFinalized
	keys := recordingKeys{prefix: prefix}
	events, _, err := st.List(ctx, bucket, prefix+"/events/", "", 10)
	if err != nil && !errors.Is(err, ErrNoObject) {
		return res, fmt.Errorf("output: finalizing %s/%s: %w", bucket, prefix, err)
	}
	for _, o := range events {
		if o.Key == keys.ended() || o.Key == keys.failed() {
			res.Done = true
			return res, nil
		}
	}
	raw, err := readObject(ctx, st, bucket, keys.started())
	if err != nil {
		return res, fmt.Errorf("output: finalizing %s/%s: %w", bucket, prefix, err)
	}
	var ev recordingEvent
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Media == nil {
		return res, fmt.Errorf("output: finalizing %s/%s: %s is not a recording-started event: %v", bucket, prefix, keys.started(), err)
	}
	hlsDir := prefix + "/" + ev.Media.HLS.Path
	for _, rd := range ev.Media.HLS.Renditions {
		dir := hlsDir + "/" + rd.Path
		pl, found, err := readPlaylist(ctx, st, bucket, dir+"/"+rd.Playlist)
		if err != nil {
			return res, fmt.Errorf("output: finalizing %s/%s: %w", bucket, prefix, err)
		}
		listed := map[string]bool{}
		for _, s := range pl.segments {
			listed[pl.container.segmentName(s.seq)] = true
		}
		stored, _, err := st.List(ctx, bucket, dir+"/", "", MaxList)
		if err != nil && !errors.Is(err, ErrNoObject) {
			return res, fmt.Errorf("output: finalizing %s/%s: %w", bucket, prefix, err)
		}
		var unlisted []string
		for _, o := range stored {
			name := path.Base(o.Key)
			if ext := path.Ext(name); (ext == ".ts" || ext == ".mp4") && name != initSegment && !listed[name] {
				unlisted = append(unlisted, name)
				if !found && ext == SegmentsFMP4.ext() {
					pl.container = SegmentsFMP4
				}
			}
		}
		if !found {
			pl.target = pl.container.defaultTarget()
		}
		adopted, left := adoptUnlisted(ctx, st, bucket, dir, &pl, unlisted, scratch)
		for _, name := range adopted {
			res.Adopted = append(res.Adopted, rd.Path+"/"+name)
		}
		for _, name := range left {
			res.Unlisted = append(res.Unlisted, rd.Path+"/"+name)
		}
		if len(pl.segments) == 0 {
			continue
		}
		pl.ended = true
		if err := st.Put(ctx, bucket, dir+"/"+rd.Playlist, bytes.NewReader(pl.render()), -1, ""); err != nil {
			return res, fmt.Errorf("output: finalizing %s/%s: %w", bucket, prefix, err)
		}
		res.Segments += len(pl.segments)
		res.Duration = max(res.Duration, pl.duration())
	}
	msg := reason
	if len(res.Adopted) > 0 {
		msg += fmt.Sprintf("; %d segments stored but not yet listed were added: %s", len(res.Adopted), strings.Join(res.Adopted, ", "))
	}
	if len(res.Unlisted) > 0 {
		msg += "; segments stored but never listed: " + strings.Join(res.Unlisted, ", ")
	}
	ev.Status, ev.StatusMessage = RecordingEndedWithFailure, msg
	ev.EndedAt = ended.UTC().Format(recordingTimeFormat)
	ev.Media.HLS.DurationMS = res.Duration.Milliseconds()
	failed, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return res, err
	}
	if err := st.Put(ctx, bucket, keys.failed(), bytes.NewReader(failed), int64(len(failed)), ""); err != nil {
		return res, fmt.Errorf("output: finalizing %s/%s: %w", bucket, prefix, err)
	}
	log.Warn("recording finalized from storage (its work folder is gone)", "bucket", bucket, "prefix", prefix,
		"segments", res.Segments, "adopted", len(res.Adopted), "unlisted", len(res.Unlisted), "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// readObject reads a small object whole.
func readObject(ctx context.Context, st Lister, bucket, key string) ([]byte, error) {
	body, _, err := st.Open(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxEventObject+1))
	if err == nil && len(b) > maxEventObject {
		err = fmt.Errorf("%s: larger than %d bytes", key, maxEventObject)
	}
	return b, err
}

// readPlaylist reads back a media playlist this package wrote (see
// mediaPlaylist.render); found is false when there is none.
func readPlaylist(ctx context.Context, st Lister, bucket, key string) (pl mediaPlaylist, found bool, err error) {
	raw, err := readObject(ctx, st, bucket, key)
	if errors.Is(err, ErrNoObject) {
		return pl, false, nil
	}
	if err != nil {
		return pl, false, err
	}
	pl, err = parsePlaylist(raw)
	if err != nil {
		return pl, false, fmt.Errorf("%s: %w", key, err)
	}
	return pl, true, nil
}

// parsePlaylist parses a media playlist as render writes it: the target,
// the container (EXT-X-MAP: fragmented MP4), and each segment's duration,
// sequence number (from its name) and discontinuity.
func parsePlaylist(raw []byte) (mediaPlaylist, error) {
	var pl mediaPlaylist
	var dur time.Duration
	var disc, inf bool
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			n, err := strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"))
			if err != nil {
				return pl, fmt.Errorf("bad %q", line)
			}
			pl.target = time.Duration(n) * time.Second
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			pl.container = SegmentsFMP4
		case line == "#EXT-X-DISCONTINUITY":
			disc = true
		case line == "#EXT-X-ENDLIST":
			pl.ended = true
		case strings.HasPrefix(line, "#EXTINF:"):
			v := strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(line, "#EXTINF:"), ",", 2)[0], ",")
			s, err := strconv.ParseFloat(v, 64)
			if err != nil || s < 0 || math.IsInf(s, 0) {
				return pl, fmt.Errorf("bad %q", line)
			}
			dur, inf = time.Duration(math.Round(s*1000))*time.Millisecond, true
		case line != "" && !strings.HasPrefix(line, "#"):
			if !inf {
				return pl, fmt.Errorf("segment %q without #EXTINF", line)
			}
			seq, err := strconv.Atoi(strings.TrimSuffix(line, path.Ext(line)))
			if err != nil || seq < 0 {
				return pl, fmt.Errorf("segment %q is not named by its number", line)
			}
			pl.segments = append(pl.segments, segment{seq: seq, duration: dur, disc: disc})
			disc, inf = false, false
		}
	}
	if err := sc.Err(); err != nil {
		return pl, err
	}
	return pl, nil
}
