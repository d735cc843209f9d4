package console

import (
	"errors"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-media/tessera/output"
)

// Recordings are found by the objects every recording writes under its
// prefix (see output): its events and its HLS multivariant playlist.
const (
	startedSuffix      = "/events/recording-started.json"
	endedSuffix        = "/events/recording-ended.json"
	failedSuffix       = "/events/recording-failed.json"
	multivariantSuffix = "/media/hls/multivariant.m3u8"
	thumbnailsInfix    = "/media/thumbnails/"
	compositeSuffix    = "/composite"
)

// recordingScan bounds the objects one GET /console/recordings reads
// (List pages of output.MaxList): a larger bucket is browsed page by
// page with "after".
const recordingScan = 10 * output.MaxList

// recording is one recording as the recordings page lists it.
type recording struct {
	Prefix string `json:"prefix"`
	// Kind is "composite" or "participant".
	Kind    string `json:"kind"`
	StageID string `json:"stageId"`
	// CompositionID and DestinationID name a composite recording;
	// SessionID and ParticipantID a participant's.
	CompositionID string `json:"compositionId,omitempty"`
	DestinationID string `json:"destinationId,omitempty"`
	SessionID     string `json:"sessionId,omitempty"`
	ParticipantID string `json:"participantId,omitempty"`
	// State is "RECORDING" (no end event yet), "ENDED" or "FAILED".
	State     string     `json:"state"`
	StartedAt time.Time  `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	// Playlist is the multivariant playlist's key ("" before the first
	// segment); Thumbnail the first thumbnail's ("" without).
	Playlist  string `json:"playlist,omitempty"`
	Thumbnail string `json:"thumbnail,omitempty"`
}

// storageConfiguration is what the page's storage parameter names.
type storageConfiguration struct {
	StorageConfiguration struct {
		ARN string `json:"arn"`
		S3  struct {
			BucketName string `json:"bucketName"`
		} `json:"s3"`
	} `json:"storageConfiguration"`
}

// recordings lists the recordings in the bucket of a storage configuration
// (GET /console/recordings?storage=<arn>[&after=<key>]), newest first
// within the objects read; "after" continues where "next" said.
func (c *Console) recordings(w http.ResponseWriter, r *http.Request, s *session) {
	if c.cfg.Recordings == nil {
		writeError(w, http.StatusNotImplemented, "this server cannot read its storage back")
		return
	}
	q := r.URL.Query()
	var sc storageConfiguration
	if err := c.call(r.Context(), s, "GetStorageConfiguration", map[string]string{"arn": q.Get("storage")}, &sc); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			writeError(w, ae.status, ae.message)
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	bucket := sc.StorageConfiguration.S3.BucketName
	s.allowBucket(path.Base(sc.StorageConfiguration.ARN), bucket)
	found := map[string]*recording{}
	after, next := q.Get("after"), ""
	for read := 0; read < c.scan; read += output.MaxList {
		objs, more, err := c.cfg.Recordings.List(r.Context(), bucket, "", after, output.MaxList)
		if errors.Is(err, output.ErrNoObject) {
			break // no bucket yet: nothing recorded
		}
		if err != nil {
			c.log.Warn("console: listing recordings failed", "bucket", bucket, "err", err)
			writeError(w, http.StatusBadGateway, "listing the bucket failed: "+err.Error())
			return
		}
		for _, o := range objs {
			note(found, o)
		}
		if !more || len(objs) == 0 {
			next = ""
			break
		}
		after = objs[len(objs)-1].Key
		next = after
	}
	out := make([]recording, 0, len(found))
	for _, rec := range found {
		if !rec.StartedAt.IsZero() {
			out = append(out, *rec)
		}
	}
	slices.SortFunc(out, func(a, b recording) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Prefix, b.Prefix)
	})
	writeJSON(w, http.StatusOK, map[string]any{"bucket": bucket, "recordings": out, "next": next})
}

// note adds what object o says of its recording to found.
func note(found map[string]*recording, o output.Object) {
	key := o.Key
	get := func(prefix string) *recording {
		rec := found[prefix]
		if rec == nil {
			rec = newRecording(prefix)
			found[prefix] = rec
		}
		return rec
	}
	switch {
	case strings.HasSuffix(key, startedSuffix):
		rec := get(strings.TrimSuffix(key, startedSuffix))
		rec.StartedAt = o.Modified
		if rec.State == "" {
			rec.State = "RECORDING"
		}
	case strings.HasSuffix(key, endedSuffix), strings.HasSuffix(key, failedSuffix):
		rec := get(key[:strings.LastIndex(key, "/events/")])
		t := o.Modified
		rec.EndedAt = &t
		rec.State = "ENDED"
		if strings.HasSuffix(key, failedSuffix) {
			rec.State = "FAILED"
		}
	case strings.HasSuffix(key, multivariantSuffix):
		get(strings.TrimSuffix(key, multivariantSuffix)).Playlist = key
	case strings.Contains(key, thumbnailsInfix) && strings.HasSuffix(key, ".jpg"):
		rec := get(key[:strings.Index(key, thumbnailsInfix)])
		if rec.Thumbnail == "" {
			rec.Thumbnail = key
		}
	}
}

// newRecording names a recording by its prefix: <stage>/<composition>/
// <destination>/composite, or <stage>/<session>/<participant>/<time>.
func newRecording(prefix string) *recording {
	rec := &recording{Prefix: prefix, Kind: "participant"}
	parts := strings.Split(prefix, "/")
	n := len(parts)
	if strings.HasSuffix(prefix, compositeSuffix) && n >= 4 {
		rec.Kind = "composite"
		rec.StageID, rec.CompositionID, rec.DestinationID = parts[n-4], parts[n-3], parts[n-2]
	} else if n >= 4 {
		rec.StageID, rec.SessionID, rec.ParticipantID = parts[n-4], parts[n-3], parts[n-2]
	}
	return rec
}

// playable are the extensions of a recording's objects the player reads.
var playable = []string{".m3u8", ".ts", ".mp4", ".m4s", ".jpg", ".json"}

// media serves one object of a recording (GET /console/recordings/media/
// <storage configuration id>/<key>) from the bucket of a storage
// configuration the session listed: the page's player and thumbnails
// read recordings through it.
func (c *Console) media(w http.ResponseWriter, r *http.Request, s *session) {
	if c.cfg.Recordings == nil {
		writeError(w, http.StatusNotImplemented, "this server cannot read its storage back")
		return
	}
	bucket, ok := s.bucket(r.PathValue("storage"))
	if !ok {
		writeError(w, http.StatusNotFound, "list the storage configuration's recordings first")
		return
	}
	key := r.PathValue("key")
	if !slices.Contains(playable, path.Ext(key)) {
		writeError(w, http.StatusNotFound, "not a recording's object")
		return
	}
	body, obj, err := c.cfg.Recordings.Open(r.Context(), bucket, key)
	switch {
	case errors.Is(err, output.ErrNoObject), errors.Is(err, output.ErrInvalidName):
		writeError(w, http.StatusNotFound, "no such object")
		return
	case err != nil:
		c.log.Warn("console: reading a recording failed", "bucket", bucket, "key", key, "err", err)
		writeError(w, http.StatusBadGateway, "reading the object failed")
		return
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", output.ContentTypeFor(key))
	if obj.Size > 0 { // S3 may leave the length out
		h.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	}
	if path.Ext(key) == ".m3u8" || path.Ext(key) == ".json" {
		h.Set("Cache-Control", "no-store") // rewritten while recording
	} else {
		h.Set("Cache-Control", "private, max-age=86400")
	}
	if _, err := io.Copy(w, body); err != nil {
		c.log.Debug("console: sending a recording's object ended early", "key", key, "err", err)
	}
}
