package control

import (
	"encoding/json"
	"testing"
)

// Unset fields take IVS's defaults; an empty storage configuration ARN
// resets everything; a target interval needs INTERVAL mode.
func TestParticipantRecordingDefaults(t *testing.T) {
	got, _ := json.Marshal(AutoParticipantRecordingConfiguration{StorageConfigurationARN: "arn:x"}.withDefaults())
	want := `{"storageConfigurationArn":"arn:x","mediaTypes":["AUDIO_VIDEO"],"thumbnailConfiguration":{"targetIntervalSeconds":60,"storage":["SEQUENTIAL"],"recordingMode":"DISABLED"},"recordingReconnectWindowSeconds":0,"hlsConfiguration":{"targetSegmentDurationSeconds":6},"recordParticipantReplicas":true}`
	if string(got) != want {
		t.Errorf("defaults:\n%s\nwant\n%s", got, want)
	}
	set := AutoParticipantRecordingConfiguration{MediaTypes: []string{"AUDIO_ONLY"}, RecordingReconnectWindowSeconds: new(30)}.withDefaults()
	if set.MediaTypes[0] != "AUDIO_VIDEO" || *set.RecordingReconnectWindowSeconds != 0 {
		t.Errorf("an empty storage ARN did not reset the rest: %+v", set)
	}
	kept := AutoParticipantRecordingConfiguration{StorageConfigurationARN: "arn:x", MediaTypes: []string{"AUDIO_ONLY"},
		HLSConfiguration: &ParticipantRecordingHLS{TargetSegmentDurationSeconds: new(2)}}.withDefaults()
	if kept.MediaTypes[0] != "AUDIO_ONLY" || *kept.HLSConfiguration.TargetSegmentDurationSeconds != 2 {
		t.Errorf("set fields not kept: %+v", kept)
	}
	bad := AutoParticipantRecordingConfiguration{ThumbnailConfiguration: &ParticipantThumbnailConfiguration{TargetIntervalSeconds: new(10)}}
	if bad.check() == nil {
		t.Error("a target interval without INTERVAL mode accepted")
	}
	twice := AutoParticipantRecordingConfiguration{ThumbnailConfiguration: &ParticipantThumbnailConfiguration{Storage: []string{"LATEST", "LATEST"}}}
	if twice.check() == nil {
		t.Error("LATEST twice accepted")
	}
}
