package control

import (
	"slices"

	"github.com/tessera-media/tessera/control/wire"
)

// AutoParticipantRecordingConfiguration is the API's stage field that
// records every publisher individually into a storage configuration's
// bucket. An empty StorageConfigurationARN disables it and resets the
// other fields to their defaults (IVS).
type AutoParticipantRecordingConfiguration struct {
	StorageConfigurationARN         string                             `json:"storageConfigurationArn"`
	MediaTypes                      []string                           `json:"mediaTypes"`
	ThumbnailConfiguration          *ParticipantThumbnailConfiguration `json:"thumbnailConfiguration"`
	RecordingReconnectWindowSeconds *int                               `json:"recordingReconnectWindowSeconds"`
	HLSConfiguration                *ParticipantRecordingHLS           `json:"hlsConfiguration"`
	RecordParticipantReplicas       *bool                              `json:"recordParticipantReplicas"`
}

// ParticipantThumbnailConfiguration is the API's shape of that name.
type ParticipantThumbnailConfiguration struct {
	TargetIntervalSeconds *int     `json:"targetIntervalSeconds"`
	Storage               []string `json:"storage"`
	RecordingMode         string   `json:"recordingMode"`
}

// ParticipantRecordingHLS is the API's ParticipantRecordingHlsConfiguration.
type ParticipantRecordingHLS struct {
	TargetSegmentDurationSeconds *int `json:"targetSegmentDurationSeconds"`
}

// Individual participant recording's defaults (IVS's, echoed).
const (
	defaultIPRMediaType       = "AUDIO_VIDEO"
	defaultIPRThumbnailMode   = "DISABLED"
	defaultIPRThumbnailSecs   = 60
	defaultIPRThumbnailStore  = "SEQUENTIAL"
	defaultIPRSegmentSeconds  = 6
	defaultIPRReconnectWindow = 0
)

// withDefaults returns c with every unset field at its default; with an
// empty StorageConfigurationARN every other field is reset.
func (c AutoParticipantRecordingConfiguration) withDefaults() AutoParticipantRecordingConfiguration {
	if c.StorageConfigurationARN == "" {
		c = AutoParticipantRecordingConfiguration{}
	}
	if len(c.MediaTypes) == 0 {
		c.MediaTypes = []string{defaultIPRMediaType}
	}
	t := ParticipantThumbnailConfiguration{}
	if c.ThumbnailConfiguration != nil {
		t = *c.ThumbnailConfiguration
	}
	if t.RecordingMode == "" {
		t.RecordingMode = defaultIPRThumbnailMode
	}
	if t.TargetIntervalSeconds == nil {
		t.TargetIntervalSeconds = new(defaultIPRThumbnailSecs)
	}
	if len(t.Storage) == 0 {
		t.Storage = []string{defaultIPRThumbnailStore}
	}
	c.ThumbnailConfiguration = &t
	if c.RecordingReconnectWindowSeconds == nil {
		c.RecordingReconnectWindowSeconds = new(defaultIPRReconnectWindow)
	}
	h := ParticipantRecordingHLS{}
	if c.HLSConfiguration != nil {
		h = *c.HLSConfiguration
	}
	if h.TargetSegmentDurationSeconds == nil {
		h.TargetSegmentDurationSeconds = new(defaultIPRSegmentSeconds)
	}
	c.HLSConfiguration = &h
	if c.RecordParticipantReplicas == nil {
		c.RecordParticipantReplicas = new(true)
	}
	return c
}

// check refuses what the model's ranges (checked by the wire layer) let
// through: a target interval with recording mode DISABLED, repeated
// thumbnail storage types.
func (c AutoParticipantRecordingConfiguration) check() *wire.Error {
	t := c.ThumbnailConfiguration
	if t == nil {
		return nil
	}
	if t.TargetIntervalSeconds != nil && t.RecordingMode != "INTERVAL" {
		return wire.ValidationError("thumbnailConfiguration.targetIntervalSeconds is configurable only when recordingMode is INTERVAL")
	}
	s := slices.Clone(t.Storage)
	slices.Sort(s)
	if len(slices.Compact(s)) != len(t.Storage) {
		return wire.ValidationError("thumbnailConfiguration.storage lists a storage type twice")
	}
	return nil
}
