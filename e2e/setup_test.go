package e2e

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/media"
)

// solo is a stage with one Go publisher sending a solid colour and a tone,
// a 320×180 30 fps encoder configuration and a storage configuration for
// bucket: what a composition needs.
type solo struct {
	stage   *types.Stage
	encoder string // encoder configuration ARN
	storage string // storage configuration ARN
}

// newSolo creates the stage and configurations through the API and starts
// the publisher, which is closed by t.Cleanup.
func newSolo(ctx context.Context, t *testing.T, api *ivsrealtime.Client, name string, c media.YUV) solo {
	t.Helper()
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn, UserId: aws.String("solo")})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publisher.Start(ctx, publisher.Config{WHIP: *stage.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token,
		Color: &c, ToneHz: publisher.DefaultToneHz, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	s := soloConfigurations(ctx, t, api)
	s.stage = stage.Stage
	return s
}

// soloConfigurations creates a solo's encoder and storage configurations.
func soloConfigurations(ctx context.Context, t *testing.T, api *ivsrealtime.Client) solo {
	t.Helper()
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
	return solo{encoder: *enc.EncoderConfiguration.Arn, storage: *storage.StorageConfiguration.Arn}
}

// recording is an s3 destination into the solo's storage configuration.
func (s solo) recording() types.DestinationConfiguration {
	return types.DestinationConfiguration{S3: &types.S3DestinationConfiguration{
		StorageConfigurationArn: aws.String(s.storage), EncoderConfigurationArns: []string{s.encoder}}}
}
