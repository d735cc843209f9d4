package contract

import (
	"time"

	"github.com/tessera-media/tessera/layout"
)

// CompositionSpec is everything a pipeline needs to run a composition, as
// validated and resolved by the control plane (encoder configurations and
// storage looked up, defaults applied).
type CompositionSpec struct {
	// ARN and ID name the composition (the ID is the ARN's last part).
	ARN, ID string
	// StageARN names the stage whose participants are composed; the
	// pipeline finds the stage's live roster by it.
	StageARN string
	// Layout is the request's layout with the API's defaults applied.
	Layout layout.Config
	// Destinations are in request order, each with its own ID.
	Destinations []DestinationSpec
}

// EncoderSpec is an encoder configuration as a pipeline needs it, defaults
// applied. Destinations with equal EncoderSpecs share one encoder.
type EncoderSpec struct {
	ARN       string
	Width     int
	Height    int
	Framerate float64
	Bitrate   int
}

// DestinationSpec is one destination of a composition: a channel (live
// push to ChannelURL) or an S3 recording (Bucket non-empty), never both.
type DestinationSpec struct {
	ID      string
	Encoder EncoderSpec

	// Channel destinations: the channel and its rtmp:// or rtmps:// URL
	// with the stream key.
	ChannelARN string
	ChannelURL string

	// S3 destinations: the storage configuration, its bucket and the
	// recording's key prefix (<stageId>/<compositionId>/<destinationId>/composite).
	StorageARN      string
	Bucket          string
	RecordingPrefix string
	// TargetSegment is the HLS target segment duration.
	TargetSegment time.Duration
	// ThumbnailsRecorded turns thumbnails on; ThumbnailInterval is their
	// period and ThumbnailStorage holds SEQUENTIAL and/or LATEST.
	ThumbnailsRecorded bool
	ThumbnailInterval  time.Duration
	ThumbnailStorage   []string
}
