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

// SIGTERM with a composition running: the server stops it, finalizes its
// recording (into a folder bucket: no S3 endpoint configured) and exits 0.
func TestShutdownFinalizes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	srv := startServer(t, data, nil)
	api := srv.API
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("shutdown")})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn})
	if err != nil {
		t.Fatal(err)
	}
	c := media.RGBToYUV(230, 210, 40)
	pub, err := publisher.Start(ctx, publisher.Config{WHIP: *stage.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token,
		Color: &c, ToneHz: publisher.DefaultToneHz, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(context.Background())
	enc, err := api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{
		Video: &types.Video{Width: aws.Int32(320), Height: aws.Int32(180), Framerate: aws.Float32(30), Bitrate: aws.Int32(400_000)}})
	if err != nil {
		t.Fatal(err)
	}
	storage, err := api.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{
		S3: &types.S3StorageConfiguration{BucketName: aws.String(bucket)}})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: stage.Stage.Arn,
		Destinations: []types.DestinationConfiguration{{S3: &types.S3DestinationConfiguration{
			StorageConfigurationArn: storage.StorageConfiguration.Arn, EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn}}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, *comp.Composition.Arn, types.CompositionStateActive)
	prefix := *comp.Composition.Destinations[0].Detail.S3.RecordingPrefix
	dir := filepath.Join(data, "buckets", bucket, prefix)
	// Running long enough for a few segments.
	waitFor(ctx, t, "three segments", func() bool { return countSegments(dir) >= 3 })
	if _, err := os.Stat(filepath.Join(dir, "events", "recording-ended.json")); err == nil {
		t.Fatal("recording-ended.json before the shutdown")
	}
	if err := srv.stop(t); err != nil {
		t.Fatalf("tessera serve exit after SIGTERM: %v\n%s", err, srv.log)
	}
	checkS3Recording(t, dir)
}
