package output

import (
	"encoding/json"
	"time"
)

// Recording statuses of the events JSON files.
const (
	RecordingStarted            = "RECORDING_STARTED"
	RecordingEnded              = "RECORDING_ENDED"
	RecordingStartFailed        = "RECORDING_START_FAILED"
	RecordingEndedWithFailure   = "RECORDING_ENDED_WITH_FAILURE"
	recordingEventsVersion      = "v1"
	recordingTimeFormat         = "2006-01-02T15:04:05.000Z"
	recordingHLSPath            = "media/hls"
	recordingThumbnailsPath     = "media/thumbnails"
	recordingLatestThumbnailDir = "media/latest_thumbnail"
)

// recordingEvent is the content of events/recording-*.json, as IVS writes
// it for composite recordings (paths relative to the recording prefix).
type recordingEvent struct {
	Version       string          `json:"version"`
	StageARN      string          `json:"stage_arn"`
	SessionID     string          `json:"session_id,omitempty"`     // a participant's recording
	ParticipantID string          `json:"participant_id,omitempty"` // a participant's recording
	StartedAt     string          `json:"recording_started_at"`
	EndedAt       string          `json:"recording_ended_at,omitempty"`
	Status        string          `json:"recording_status"`
	StatusMessage string          `json:"recording_status_message"`
	Media         *recordingMedia `json:"media,omitempty"`
}

type recordingMedia struct {
	HLS             recordingHLS       `json:"hls"`
	Thumbnails      *recordingThumbSet `json:"thumbnails,omitempty"`
	LatestThumbnail *recordingThumbSet `json:"latest_thumbnail,omitempty"`
}

type recordingHLS struct {
	DurationMS int64                `json:"duration_ms"`
	Path       string               `json:"path"`
	Playlist   string               `json:"playlist"`
	Renditions []recordingRendition `json:"renditions"`
}

type recordingRendition struct {
	Path             string `json:"path"`
	Playlist         string `json:"playlist,omitempty"`
	ResolutionWidth  int    `json:"resolution_width,omitempty"` // composite recordings only
	ResolutionHeight int    `json:"resolution_height,omitempty"`
}

type recordingThumbSet struct {
	Path       string               `json:"path"`
	Renditions []recordingRendition `json:"renditions"`
}

// recordingInfo is what the events describe.
type recordingInfo struct {
	stageARN    string
	sessionID   string // a participant's recording: its stage session
	participant string // and participant
	r           rendition
	sequential  bool // SEQUENTIAL thumbnails
	latest      bool // LATEST thumbnail
}

// event renders an events JSON file. ended is zero for recording-started.
func (ri recordingInfo) event(status, message string, started, ended time.Time, duration time.Duration) []byte {
	e := recordingEvent{
		Version:       recordingEventsVersion,
		StageARN:      ri.stageARN,
		SessionID:     ri.sessionID,
		ParticipantID: ri.participant,
		StartedAt:     started.UTC().Format(recordingTimeFormat),
		Status:        status,
		StatusMessage: message,
	}
	if !ended.IsZero() {
		e.EndedAt = ended.UTC().Format(recordingTimeFormat)
	}
	if status != RecordingStartFailed {
		w, h := ri.r.width, ri.r.height
		if ri.r.individual {
			w, h = 0, 0 // IVS gives no resolution for a participant's recording
		}
		m := &recordingMedia{HLS: recordingHLS{
			DurationMS: duration.Milliseconds(),
			Path:       recordingHLSPath,
			Playlist:   "multivariant.m3u8",
			Renditions: []recordingRendition{{Path: ri.r.dir(), Playlist: "playlist.m3u8", ResolutionWidth: w, ResolutionHeight: h}},
		}}
		if ri.sequential {
			m.Thumbnails = &recordingThumbSet{Path: recordingThumbnailsPath, Renditions: []recordingRendition{{Path: ri.r.thumbDir(), ResolutionWidth: w, ResolutionHeight: h}}}
		}
		if ri.latest {
			m.LatestThumbnail = &recordingThumbSet{Path: recordingLatestThumbnailDir, Renditions: []recordingRendition{{Path: ri.r.thumbDir(), ResolutionWidth: w, ResolutionHeight: h}}}
		}
		e.Media = m
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		panic(err) // plain structs of strings and numbers always marshal
	}
	return b
}
