package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/media"
)

// SIGTERM with a composition running and a participant recorded on its
// own: the server stops both, finalizes their recordings (into a folder
// bucket: no S3 endpoint configured) and exits 0.
func TestShutdownFinalizes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	srv := startServer(t, data, nil)
	api := srv.API
	setup := newSolo(ctx, t, api, "shutdown", media.RGBToYUV(230, 210, 40))
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{setup.recording()}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, *comp.Composition.Arn, types.CompositionStateActive)
	ipr := recordedSolo(ctx, t, api, setup.storage)
	prefix := *comp.Composition.Destinations[0].Detail.S3.RecordingPrefix
	dir := filepath.Join(data, "buckets", bucket, prefix)
	// Running long enough for a few segments.
	waitFor(ctx, t, "three segments", func() bool { return countFiles(dir, ".ts") >= 3 })
	if _, err := os.Stat(filepath.Join(dir, "events", "recording-ended.json")); err == nil {
		t.Fatal("recording-ended.json before the shutdown")
	}
	if err := srv.stop(t); err != nil {
		t.Fatalf("tessera serve exit after SIGTERM: %v\n%s", err, srv.log)
	}
	checkS3Recording(t, dir)
	checkParticipantRecording(t, filepath.Join(data, "buckets", bucket, ipr), "RECORDING_ENDED", 0)
}

// recordedSolo creates a stage that records its publishers into storage
// (thumbnails every second), starts a Go publisher on it, waits until
// storage has two of its segments and returns the recording's prefix.
func recordedSolo(ctx context.Context, t *testing.T, api *ivsrealtime.Client, storage string) string {
	t.Helper()
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("recorded"),
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{StorageConfigurationArn: aws.String(storage),
			ThumbnailConfiguration: &types.ParticipantThumbnailConfiguration{RecordingMode: types.ThumbnailRecordingModeInterval, TargetIntervalSeconds: aws.Int32(1)},
			HlsConfiguration:       &types.ParticipantRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn, UserId: aws.String("recorded")})
	if err != nil {
		t.Fatal(err)
	}
	c := media.RGBToYUV(200, 40, 200)
	pub, err := publisher.Start(ctx, publisher.Config{WHIP: *stage.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token,
		Width: 320, Height: 180, Color: &c, ToneHz: publisher.DefaultToneHz, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	session := activeSession(ctx, t, api, *stage.Stage.Arn)
	prefix := ""
	waitFor(ctx, t, "the participant recorded", func() bool {
		out, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session),
			ParticipantId: tok.ParticipantToken.ParticipantId})
		if err != nil {
			t.Fatal(err)
		}
		prefix = aws.ToString(out.Participant.RecordingS3Prefix)
		return out.Participant.RecordingState == types.ParticipantRecordingStateActive
	})
	return prefix
}
