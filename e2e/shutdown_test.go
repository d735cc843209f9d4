package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

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
	setup := newSolo(ctx, t, api, "shutdown", media.RGBToYUV(230, 210, 40))
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{setup.recording()}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, *comp.Composition.Arn, types.CompositionStateActive)
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
}
