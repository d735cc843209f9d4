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

// One composition to a channel and a recording: while the RTMP server is
// down the channel reconnects and the recording goes on; while the S3
// server is down the channel goes on and the recording spools; both come
// back, and the finished recording has every segment.
func TestDestinationIsolation(t *testing.T) {
	rtmp := testsrv.StartRTMP(t, testsrv.RTMPOptions{RecordUnique: true})
	s3 := testsrv.StartVersityGW(t, "")
	s3.CreateBucket(bucket)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // after the servers: versitygw may be built on first use
	defer cancel()
	srv := startServer(t, t.TempDir(),
		[]string{"TESSERA_S3_ACCESS_KEY_ID=" + s3.AccessKey, "TESSERA_S3_SECRET_ACCESS_KEY=" + s3.SecretKey},
		"--s3-endpoint", s3.Endpoint(), "--s3-region", s3.Region, "--ca-file", rtmp.CertFile(),
		"--channel", gridChannel+"="+rtmp.TLSURL("live", "grid"))
	api := srv.API

	setup := newSolo(ctx, t, api, "isolation", media.RGBToYUV(40, 60, 230))
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{
			{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(gridChannel), EncoderConfigurationArn: aws.String(setup.encoder)}},
			setup.recording(),
		}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *comp.Composition.Arn
	waitState(ctx, t, api, arn, types.CompositionStateActive)
	var channelID, recordingID, prefix string
	for _, d := range comp.Composition.Destinations {
		if d.Configuration.Channel != nil {
			channelID = *d.Id
		} else {
			recordingID, prefix = *d.Id, *d.Detail.S3.RecordingPrefix
		}
	}
	waitDestinations(ctx, t, api, arn, map[string]types.DestinationState{channelID: types.DestinationStateActive, recordingID: types.DestinationStateActive})
	segments := func() int { return countFiles(filepath.Join(s3.Dir(), bucket, prefix), ".ts") }

	// The RTMP server goes away: the channel reconnects, the recording
	// keeps storing segments, the composition stays ACTIVE.
	rtmp.Stop()
	waitDestinations(ctx, t, api, arn, map[string]types.DestinationState{channelID: types.DestinationStateReconnecting, recordingID: types.DestinationStateActive})
	before := segments()
	waitFor(ctx, t, "a segment stored while the channel is down", func() bool { return segments() >= before+2 })
	waitState(ctx, t, api, arn, types.CompositionStateActive)
	rtmp.Restart()
	waitDestinations(ctx, t, api, arn, map[string]types.DestinationState{channelID: types.DestinationStateActive, recordingID: types.DestinationStateActive})
	r := readRTMP(t, rtmp.URL("live", "grid"), 320, 180)
	if err := r.waitFrames(ctx, 30); err != nil {
		t.Fatalf("channel after the RTMP server came back: %v", err)
	}

	// The S3 server goes away: the channel keeps delivering; the segments
	// wait in the spool and are stored once it is back.
	s3.Stop()
	waitFor(ctx, t, "a segment spooled while S3 is down", func() bool {
		m, dest := srv.metrics(t), `destination="`+recordingID+`"`
		return metricValue(m, "tessera_destination_upload_queue_depth", dest) >= 1 &&
			metricValue(m, "tessera_destination_upload_failing_attempts", dest) >= 1
	})
	if err := r.waitFrames(ctx, 60); err != nil {
		t.Fatalf("channel while S3 is down: %v", err)
	}
	waitDestinations(ctx, t, api, arn, map[string]types.DestinationState{channelID: types.DestinationStateActive})
	s3.Restart()

	// The outages are counted: the channel's reconnect, the failed uploads.
	m := srv.metrics(t)
	if v := metricValue(m, "tessera_destination_reconnects_total", `destination="`+channelID+`"`); v < 1 {
		t.Errorf("channel reconnects counted: %v\n%s", v, grepLines(m, "reconnects"))
	}
	if v := metricValue(m, "tessera_upload_failures_total", `bucket="`+bucket+`"`); v < 1 {
		t.Errorf("upload failures counted: %v\n%s", v, grepLines(m, "tessera_upload"))
	}
	stopped := time.Now()
	if _, err := api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	ended := waitState(ctx, t, api, arn, types.CompositionStateStopped)
	// Nothing was lost: the playlist covers the composition's run, from
	// its first canvas (after STARTING) to the stop.
	recorded := checkS3Recording(t, filepath.Join(s3.Dir(), bucket, prefix))
	if ran := stopped.Sub(*ended.StartTime); recorded < ran-2*time.Second || recorded > ran+time.Second {
		t.Errorf("the recording lasts %v, the composition ran %v", recorded, ran)
	}
}

// waitDestinations polls GetComposition until every destination named in
// want is in its state.
func waitDestinations(ctx context.Context, t *testing.T, api *ivsrealtime.Client, arn string, want map[string]types.DestinationState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		out, err := api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]types.DestinationState{}
		ok := true
		for _, d := range out.Composition.Destinations {
			got[*d.Id] = d.State
			if w, named := want[*d.Id]; named && d.State != w {
				ok = false
			}
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("destinations %v, waited for %v", got, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitFor polls cond every 100 ms until it holds or ctx (at most a
// minute) ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// countFiles counts the files under dir whose names end in ext.
func countFiles(dir, ext string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ext) {
			n++
		}
		return nil
	})
	return n
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(out, "\n")
}
