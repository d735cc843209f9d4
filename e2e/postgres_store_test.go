package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// tessera serve keeps its resources in PostgreSQL with TESSERA_STORE: a
// stage created through one server is there for the next one started on
// another data directory, and a second server on the same store while the
// first runs joins it as another node.
func TestPostgresStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _, env, _ := sharedBackends(t, false)
	first := startServer(t, t.TempDir(), env)
	stage, err := first.API.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("in-postgres"),
		Tags: map[string]string{"team": "video"}})
	if err != nil {
		t.Fatal(err)
	}

	// A second server on the same store joins it as another node and
	// answers for the same resources.
	second := startServer(t, t.TempDir(), env)
	got, err := second.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: stage.Stage.Arn})
	if err != nil || aws.ToString(got.Stage.Name) != "in-postgres" {
		t.Errorf("the stage through a second node: %v %+v", err, got)
	}
	if err := second.stop(t); err != nil {
		t.Fatalf("the second server's exit: %v", err)
	}

	if err := first.stop(t); err != nil {
		t.Fatalf("the first server's exit: %v", err)
	}
	third := startServer(t, t.TempDir(), env)
	got, err = third.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: stage.Stage.Arn})
	if err != nil || aws.ToString(got.Stage.Name) != "in-postgres" || got.Stage.Tags["team"] != "video" {
		t.Errorf("the stage through a server on another data directory: %v %+v", err, got)
	}
	list, err := third.API.ListStages(ctx, &ivsrealtime.ListStagesInput{})
	if err != nil || len(list.Stages) != 1 {
		t.Errorf("ListStages: %v %+v", err, list)
	}
}

// sharedBackends starts PostgreSQL 15 (a new database) and, with withS3,
// versitygw holding the test bucket, and returns the environment and flags
// that make a tessera serve use them.
func sharedBackends(t *testing.T, withS3 bool) (pg *testsrv.Postgres, s3 *testsrv.S3, env, args []string) {
	t.Helper()
	pg = testsrv.StartPostgres(t)
	url, err := pg.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	env = []string{"TESSERA_STORE=" + url}
	if withS3 {
		s3 = testsrv.StartVersityGW(t, "")
		s3.CreateBucket(bucket)
		env = append(env, "TESSERA_S3_ACCESS_KEY_ID="+s3.AccessKey, "TESSERA_S3_SECRET_ACCESS_KEY="+s3.SecretKey)
		args = []string{"--s3-endpoint", s3.Endpoint(), "--s3-region", s3.Region}
	}
	return pg, s3, env, args
}

// A server on PostgreSQL killed mid-recording and started again on a new,
// empty data directory (the old one lost): the composition is FAILED and
// its recording is finalized from what storage holds — the stored
// playlist as VOD with #EXT-X-ENDLIST, every listed segment in storage and
// decoding, recording-failed.json ended when the server was last alive.
func TestPostgresStoreLostDataDirectory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, s3, env, args := sharedBackends(t, true)
	srv := startServer(t, t.TempDir(), env, args...)
	setup := newSolo(ctx, t, srv.API, "lost-data", media.RGBToYUV(40, 60, 230))
	comp, err := srv.API.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{setup.recording()}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *comp.Composition.Arn
	waitState(ctx, t, srv.API, arn, types.CompositionStateActive)
	prefix := *comp.Composition.Destinations[0].Detail.S3.RecordingPrefix
	dir := filepath.Join(s3.Dir(), bucket, prefix)
	waitFor(ctx, t, "two segments in storage", func() bool { return countFiles(dir, ".ts") >= 2 })
	crash := time.Now()
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited

	srv2 := startServer(t, t.TempDir(), env, args...)
	failedJSON := filepath.Join(dir, "events", "recording-failed.json")
	waitFor(ctx, t, "recording-failed.json", func() bool { _, err := os.Stat(failedJSON); return err == nil })
	c, err := srv2.API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
	if err != nil || c.Composition.State != types.CompositionStateFailed {
		t.Errorf("GetComposition after the restart: %v %+v", err, c)
	}
	failed := readFailedRecording(t, failedJSON, "work files are not on this server", time.Second, crash)
	r := failed.Media.HLS.Renditions[0]
	pl, err := os.ReadFile(filepath.Join(dir, "media", "hls", r.Path, r.Playlist))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pl), "#EXT-X-PLAYLIST-TYPE:VOD") || !strings.HasSuffix(string(pl), "#EXT-X-ENDLIST\n") {
		t.Errorf("playlist not finalized:\n%s", pl)
	}
	listed := 0
	for line := range strings.Lines(string(pl)) {
		line = strings.TrimSpace(line)
		if strings.HasSuffix(line, ".ts") {
			listed++
			if err := decodes(filepath.Join(dir, "media", "hls", r.Path, line)); err != nil {
				t.Errorf("%s: %v", line, err)
			}
		}
	}
	if listed < 2 {
		t.Errorf("%d segments listed, want the ≥ 2 stored before the kill:\n%s", listed, pl)
	}
	t.Logf("finalized from storage: %d segments, %d ms; %s", listed, failed.Media.HLS.DurationMS, failed.Message)
}
