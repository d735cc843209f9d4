package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// A stage with autoParticipantRecordingConfiguration records each of its
// publishers on its own into versitygw — a Chromium VP8 publisher
// (transcoded to H.264), a Chromium H.264 one and a Go H.264 one (both
// packaged as received) — with IVS's key layout. GetParticipant names the
// bucket and prefix. The Chromium H.264 publisher stops: its recording
// ends (recording-ended.json, a VOD playlist that plays and decodes at its
// size, thumbnails). Then tessera serve is killed (-9) with the other two
// recording; the restart on the same data finalizes both
// (recording-failed.json, VOD playlists that decode).
func TestParticipantRecording(t *testing.T) {
	s3 := testsrv.StartVersityGW(t, "")
	s3.CreateBucket(bucket)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	page := testsrv.StartWHIPPage(t)
	data := t.TempDir()
	env := []string{"TESSERA_S3_ACCESS_KEY_ID=" + s3.AccessKey, "TESSERA_S3_SECRET_ACCESS_KEY=" + s3.SecretKey}
	args := []string{"--s3-endpoint", s3.Endpoint(), "--s3-region", s3.Region, "--no-publisher-timeout", "1m"}
	srv := startServer(t, data, env, args...)
	api := srv.API

	storage, err := api.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{
		S3: &types.S3StorageConfiguration{BucketName: aws.String(bucket)}})
	if err != nil {
		t.Fatal(err)
	}
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("ipr"),
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
			StorageConfigurationArn: storage.StorageConfiguration.Arn,
			ThumbnailConfiguration: &types.ParticipantThumbnailConfiguration{RecordingMode: types.ThumbnailRecordingModeInterval,
				TargetIntervalSeconds: aws.Int32(1), Storage: []types.ThumbnailStorageType{types.ThumbnailStorageTypeSequential, types.ThumbnailStorageTypeLatest}},
			HlsConfiguration: &types.ParticipantRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := stage.Stage.AutoParticipantRecordingConfiguration; c == nil || aws.ToString(c.StorageConfigurationArn) != *storage.StorageConfiguration.Arn ||
		len(c.MediaTypes) != 1 || c.MediaTypes[0] != types.ParticipantRecordingMediaTypeAudioVideo {
		t.Fatalf("autoParticipantRecordingConfiguration echoed as %+v", c)
	}
	stageARN := *stage.Stage.Arn
	whip := *stage.Stage.Endpoints.Whip
	token := func(user string) string {
		t.Helper()
		out, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stageARN), UserId: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ParticipantToken.Token
	}
	for _, p := range []struct{ id, codec, color string }{{"vp8", "vp8", "#dc2828"}, {"h264", "h264", "#28be3c"}} {
		page.Publish(t, testsrv.PublishParams{WHIP: whip, Token: token("chromium-" + p.id), Codec: p.codec,
			Color: p.color, Width: 320, Height: 180, Audio: true, ID: p.id})
		if _, err := page.WaitStatus(ctx, p.id, "connected"); err != nil {
			t.Fatal(err)
		}
	}
	blue := media.RGBToYUV(40, 60, 230)
	pub, err := publisher.Start(ctx, publisher.Config{WHIP: whip, Token: token("go-h264"), Codec: "h264", Width: 320, Height: 180,
		FPS: 30, Color: &blue, ToneHz: 440, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })

	// Each publisher is recorded under <stageId>/<sessionId>/<participantId>/<timestamp>.
	session := activeSession(ctx, t, api, stageARN)
	ids := participantIDs(ctx, t, api, stageARN, 3)
	prefixes := map[string]string{}
	for user, id := range ids {
		waitFor(ctx, t, user+" recording ACTIVE", func() bool {
			out, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: aws.String(stageARN), SessionId: aws.String(session), ParticipantId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			p := out.Participant
			prefixes[user] = aws.ToString(p.RecordingS3Prefix)
			return p.RecordingState == types.ParticipantRecordingStateActive && aws.ToString(p.RecordingS3BucketName) == bucket
		})
		want := filepath.Base(stageARN) + "/" + session + "/" + id + "/"
		if !strings.HasPrefix(prefixes[user], want) {
			t.Errorf("%s: recordingS3Prefix %q, want %s<timestamp>", user, prefixes[user], want)
		}
	}
	for user, prefix := range prefixes {
		dir := filepath.Join(s3.Dir(), bucket, prefix, "media", "hls", "high")
		waitFor(ctx, t, user+": three segments in storage", func() bool { return countFiles(dir, ".mp4") >= 4 }) // init.mp4 and 3 segments
	}

	// The Chromium H.264 publisher stops: its recording ends.
	if _, err := page.Unpublish("h264"); err != nil {
		t.Fatal(err)
	}
	h264 := filepath.Join(s3.Dir(), bucket, prefixes["chromium-h264"])
	waitFor(ctx, t, "recording-ended.json", func() bool {
		_, err := os.Stat(filepath.Join(h264, "events", "recording-ended.json"))
		return err == nil
	})
	checkParticipantRecording(t, h264, "RECORDING_ENDED", true)

	// kill -9 with the other two recording; the restart finalizes them.
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	startServer(t, data, env, args...)
	for _, user := range []string{"chromium-vp8", "go-h264"} {
		dir := filepath.Join(s3.Dir(), bucket, prefixes[user])
		waitFor(ctx, t, user+": recording-failed.json", func() bool {
			_, err := os.Stat(filepath.Join(dir, "events", "recording-failed.json"))
			return err == nil
		})
		checkParticipantRecording(t, dir, "RECORDING_ENDED_WITH_FAILURE", false)
	}
	waitFor(ctx, t, "the spool drained", func() bool { return emptyDir(filepath.Join(data, "spool")) })
}

// checkParticipantRecording checks an individual recording in dir: the
// events file with its status, a VOD playlist under media/hls/high that
// ffprobe reads as H.264 320x180 and AAC, lasting what the events file
// says, and that decodes without an error; and, if thumbs, the first
// sequential and the latest thumbnail.
func checkParticipantRecording(t *testing.T, dir, status string, thumbs bool) {
	t.Helper()
	name := map[string]string{"RECORDING_ENDED": "recording-ended.json", "RECORDING_ENDED_WITH_FAILURE": "recording-failed.json"}[status]
	b, err := os.ReadFile(filepath.Join(dir, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Status        string `json:"recording_status"`
		ParticipantID string `json:"participant_id"`
		Media         struct {
			HLS struct {
				DurationMS int64 `json:"duration_ms"`
				Renditions []struct{ Path, Playlist string }
			} `json:"hls"`
		}
	}
	if err := json.Unmarshal(b, &ev); err != nil || ev.Status != status || ev.ParticipantID == "" || ev.Media.HLS.DurationMS < 5000 ||
		len(ev.Media.HLS.Renditions) != 1 || ev.Media.HLS.Renditions[0].Path != "high" || strings.Contains(string(b), "resolution") {
		t.Fatalf("%s (%v):\n%s", name, err, b)
	}
	playlist := filepath.Join(dir, "media", "hls", "high", "playlist.m3u8")
	pl, err := os.ReadFile(playlist)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pl), "#EXT-X-PLAYLIST-TYPE:VOD") || !strings.Contains(string(pl), `#EXT-X-MAP:URI="init.mp4"`) {
		t.Errorf("playlist:\n%s", pl)
	}
	p := testsrv.FFprobe(t, playlist)
	if v, ok := p.Stream("video"); !ok || v.CodecName != "h264" || v.Width != 320 || v.Height != 180 {
		t.Errorf("%s: video %+v", dir, v)
	}
	if a, ok := p.Stream("audio"); !ok || a.CodecName != "aac" {
		t.Errorf("%s: audio %+v", dir, a)
	}
	if d := time.Duration(p.Format.Duration * float64(time.Second)); (d - time.Duration(ev.Media.HLS.DurationMS)*time.Millisecond).Abs() > time.Second {
		t.Errorf("%s: plays %v, %s says %d ms", dir, d, name, ev.Media.HLS.DurationMS)
	}
	if err := decodes(playlist); err != nil {
		t.Errorf("%s: %v", dir, err)
	}
	if thumbs {
		for _, f := range []string{"media/thumbnails/high/1.jpg", "media/latest_thumbnail/high/thumb.jpg"} {
			if err := decodes(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	t.Logf("%s: %s, %d ms", dir, status, ev.Media.HLS.DurationMS)
}
