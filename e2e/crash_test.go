package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// failedRecording is recording-failed.json, as the tests read it.
type failedRecording struct {
	Status  string `json:"recording_status"`
	Message string `json:"recording_status_message"`
	Ended   string `json:"recording_ended_at"`
	Media   struct {
		HLS struct {
			DurationMS int64 `json:"duration_ms"`
			Path       string
			Playlist   string
			Renditions []struct{ Path, Playlist string }
		} `json:"hls"`
	}
}

// readFailedRecording reads the recording-failed.json at path and checks
// it: RECORDING_ENDED_WITH_FAILURE with a message containing reason, one
// rendition, at least minDuration recorded, ended within 2 s of crash.
func readFailedRecording(t *testing.T, path, reason string, minDuration time.Duration, crash time.Time) failedRecording {
	t.Helper()
	var failed failedRecording
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &failed); err != nil || failed.Status != "RECORDING_ENDED_WITH_FAILURE" || !strings.Contains(failed.Message, reason) ||
		len(failed.Media.HLS.Renditions) != 1 || failed.Media.HLS.DurationMS < minDuration.Milliseconds() {
		t.Fatalf("recording-failed.json (%v):\n%s", err, b)
	}
	if ended, err := time.Parse("2006-01-02T15:04:05.000Z", failed.Ended); err != nil || ended.Sub(crash).Abs() > 2*time.Second {
		t.Errorf("recording_ended_at %s, the server died at %s (%v)", failed.Ended, crash.UTC().Format(time.RFC3339Nano), err)
	}
	return failed
}

// kill -9 of tessera serve mid-recording, after storage has been down long
// enough for segments to pile up in the spool; then a restart on the same
// data, storage coming back a little later. Every segment cut is in storage or listed as
// lost (none but the one being written), the playlists are VOD and list
// exactly what is stored, every segment decodes, recording-failed.json
// says why, the spool and work folders are empty, the composition is
// FAILED and ended when the process died, and the participants of the
// session the crash left open are DISCONNECTED.
func TestCrashRecovery(t *testing.T) {
	s3 := testsrv.StartVersityGW(t, "")
	s3.CreateBucket(bucket)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	env := []string{"TESSERA_S3_ACCESS_KEY_ID=" + s3.AccessKey, "TESSERA_S3_SECRET_ACCESS_KEY=" + s3.SecretKey}
	// The session the crash left open ends at the restart: its end (a
	// millisecond after its participants left) has passed.
	args := []string{"--s3-endpoint", s3.Endpoint(), "--s3-region", s3.Region, "--stage-session-end", "1ms"}
	srv := startServer(t, data, env, args...)
	api := srv.API
	setup := newSolo(ctx, t, api, "crash", media.RGBToYUV(40, 60, 230))
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{setup.recording()}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *comp.Composition.Arn
	waitState(ctx, t, api, arn, types.CompositionStateActive)
	session := activeSession(ctx, t, api, *setup.stage.Arn)
	prefix := *comp.Composition.Destinations[0].Detail.S3.RecordingPrefix
	dir := filepath.Join(s3.Dir(), bucket, prefix)
	waitFor(ctx, t, "two segments in storage", func() bool { return countFiles(dir, ".ts") >= 2 })

	// Storage goes down: segments pile up in the spool.
	s3.Stop()
	spool := filepath.Join(data, "spool")
	waitFor(ctx, t, "three segments spooled", func() bool { return countSpooled(spool, ".ts") >= 3 })
	time.Sleep(time.Second) // into the next segment
	crash := time.Now()
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	spooled := countSpooled(spool, ".ts")

	// The restart finalizes the recording into the spool while storage is
	// still down, and uploads it all once storage is back.
	srv2 := startServer(t, data, env, args...)
	if !emptyDir(filepath.Join(data, "recordings")) {
		t.Error("recording work folders left after the start-up")
	}
	time.Sleep(2 * time.Second)
	if n := countSpooled(spool, ".json"); n == 0 {
		t.Errorf("no recording-failed.json spooled while storage is down")
	}
	s3.Restart()
	failedJSON := filepath.Join(dir, "events", "recording-failed.json")
	waitFor(ctx, t, "recording-failed.json", func() bool { _, err := os.Stat(failedJSON); return err == nil })
	waitFor(ctx, t, "the spool drained and its folders removed", func() bool { return emptyDir(spool) })
	if _, err := os.Stat(filepath.Join(dir, "events", "recording-ended.json")); err == nil {
		t.Error("recording-ended.json after a crash")
	}

	// Finished from the server's own work files, not from storage alone.
	failed := readFailedRecording(t, failedJSON, "recovered at start-up", 5*time.Second, crash)
	var lost []int
	if _, list, ok := strings.Cut(failed.Message, "segments lost: "); ok {
		for _, name := range strings.Split(list, ", ") {
			n, err := strconv.Atoi(strings.TrimSuffix(name, ".ts"))
			if err != nil {
				t.Fatalf("recording_status_message %q", failed.Message)
			}
			lost = append(lost, n)
		}
	}

	hls := filepath.Join(dir, failed.Media.HLS.Path)
	mv, err := os.ReadFile(filepath.Join(hls, failed.Media.HLS.Playlist))
	r := failed.Media.HLS.Renditions[0]
	if err != nil || !bytes.Contains(mv, []byte(r.Path+"/"+r.Playlist)) {
		t.Errorf("multivariant playlist (%v):\n%s", err, mv)
	}
	rendition := filepath.Join(hls, r.Path)
	pl, err := os.ReadFile(filepath.Join(rendition, r.Playlist))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pl, []byte("#EXT-X-PLAYLIST-TYPE:VOD")) || !bytes.HasSuffix(pl, []byte("#EXT-X-ENDLIST\n")) {
		t.Errorf("playlist is not VOD:\n%s", pl)
	}
	var listed []int
	for line := range strings.Lines(string(pl)) {
		if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(line), ".ts")); err == nil {
			listed = append(listed, n)
		}
	}
	var stored []int
	entries, _ := os.ReadDir(rendition)
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".ts")); err == nil && strings.HasSuffix(e.Name(), ".ts") {
			stored = append(stored, n)
		}
	}
	slices.Sort(stored)
	if !slices.Equal(listed, stored) {
		t.Errorf("playlist lists %v, storage holds %v", listed, stored)
	}
	// Every segment cut, 0 to the last, is stored or lost; only the one
	// being written may be lost.
	all := slices.Sorted(slices.Values(append(slices.Clone(listed), lost...)))
	for i, n := range all {
		if n != i {
			t.Fatalf("segments listed %v and lost %v: not every segment accounted for", listed, lost)
		}
	}
	if len(lost) > 1 || len(lost) == 1 && lost[0] != len(all)-1 {
		t.Errorf("segments lost %v of %d: only the one being written may be", lost, len(all))
	}
	if len(listed) < spooled+2 {
		t.Errorf("%d segments listed, %d were stored before the outage and %d spooled", len(listed), 2, spooled)
	}
	for _, n := range listed {
		if err := decodes(filepath.Join(rendition, strconv.Itoa(n)+".ts")); err != nil {
			t.Errorf("segment %d: %v", n, err)
		}
	}
	t.Logf("recovered: %d segments listed (%d spooled at the crash), lost %v, %d ms; %s", len(listed), spooled, lost, failed.Media.HLS.DurationMS, failed.Message)

	got, err := srv2.API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Composition
	if c.State != types.CompositionStateFailed || c.EndTime == nil || c.EndTime.Sub(crash).Abs() > 2*time.Second {
		t.Errorf("composition %s, ended %v; the crash was at %v", c.State, c.EndTime, crash)
	}
	for _, d := range c.Destinations {
		if d.State != types.DestinationStateFailed {
			t.Errorf("destination %s: %s", *d.Id, d.State)
		}
	}
	checkDisconnected(ctx, t, srv2.API, *setup.stage.Arn, session)
	if v := metricValue(srv2.metrics(t), "tessera_upload_recovered_total", `bucket="`+bucket+`"`); v < float64(spooled) {
		t.Errorf("tessera_upload_recovered_total %v, %d segments were spooled", v, spooled)
	}
}

// SIGTERM with participants connected (WHIP and RTMP) and a composition
// recording: the server saves the LEFT events without an error, and leaves no spool or
// work folder; after a restart past the session's end the participant is
// DISCONNECTED and the session ended.
func TestShutdownEndsSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := t.TempDir()
	srv := startServer(t, data, nil)
	setup := newSolo(ctx, t, srv.API, "sigterm", media.RGBToYUV(230, 210, 40))
	// And an RTMP publisher.
	ic, err := srv.API.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{StageArn: setup.stage.Arn,
		IngestProtocol: types.IngestProtocolRtmp, InsecureIngest: true, UserId: aws.String("rtmp")})
	if err != nil {
		t.Fatal(err)
	}
	testsrv.StartPush(t, *setup.stage.Endpoints.Rtmp+*ic.IngestConfiguration.StreamKey, 2*time.Minute, testsrv.PushOptions{})
	participantIDs(ctx, t, srv.API, *setup.stage.Arn, 2)
	session := activeSession(ctx, t, srv.API, *setup.stage.Arn)
	comp, err := srv.API.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{setup.recording()}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, srv.API, *comp.Composition.Arn, types.CompositionStateActive)
	if err := srv.stop(t); err != nil {
		t.Fatalf("tessera serve exit after SIGTERM: %v\n%s", err, srv.log)
	}
	if errs := grepLines(srv.log.String(), "level=ERROR"); errs != "" {
		t.Errorf("errors during the shutdown:\n%s", errs)
	}
	for _, d := range []string{"spool", "recordings"} {
		if !emptyDir(filepath.Join(data, d)) {
			t.Errorf("%s folder not empty after the shutdown", d)
		}
	}
	srv2 := startServer(t, data, nil, "--stage-session-end", "1ms")
	checkDisconnected(ctx, t, srv2.API, *setup.stage.Arn, session)
	if strings.Contains(srv2.log.String(), "stage session was open with participants when the server stopped") {
		t.Error("the shutdown left participants of the stage session connected")
	}
}

// activeSession waits for the stage's active session and returns its id.
func activeSession(ctx context.Context, t *testing.T, api *ivsrealtime.Client, stageARN string) string {
	t.Helper()
	var id string
	waitFor(ctx, t, "an active stage session", func() bool {
		st, err := api.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)})
		if err != nil {
			t.Fatal(err)
		}
		id = aws.ToString(st.Stage.ActiveSessionId)
		return id != ""
	})
	return id
}

// checkDisconnected checks that the stage has no active session and that
// every participant of session is DISCONNECTED with a LEFT event.
func checkDisconnected(ctx context.Context, t *testing.T, api *ivsrealtime.Client, stageARN, session string) {
	t.Helper()
	st, err := api.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)})
	if err != nil {
		t.Fatal(err)
	}
	if id := aws.ToString(st.Stage.ActiveSessionId); id == session {
		t.Errorf("stage session %s still active", session)
	}
	out, err := api.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stageARN), SessionId: aws.String(session)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Participants) == 0 {
		t.Fatal("no participants in the session")
	}
	for _, p := range out.Participants {
		got, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: aws.String(stageARN), SessionId: aws.String(session), ParticipantId: p.ParticipantId})
		if err != nil {
			t.Fatal(err)
		}
		if p.State != types.ParticipantStateDisconnected || got.Participant.State != types.ParticipantStateDisconnected {
			t.Errorf("participant %s: %s (GetParticipant %s)", *p.ParticipantId, p.State, got.Participant.State)
		}
		ev, err := api.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: aws.String(stageARN), SessionId: aws.String(session), ParticipantId: p.ParticipantId})
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, e := range ev.Events {
			if e.Name == types.EventNameLeft {
				left++
			}
		}
		if left != 1 {
			t.Errorf("participant %s: %d LEFT events", *p.ParticipantId, left)
		}
	}
}

// countSpooled counts the objects under spool whose key ends in ext.
func countSpooled(spool, ext string) int {
	n := 0
	_ = filepath.WalkDir(spool, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".meta") {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(ext+`"`)) {
				n++
			}
		}
		return nil
	})
	return n
}

// emptyDir reports whether dir holds nothing (it may not exist).
func emptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return len(entries) == 0 && (err == nil || os.IsNotExist(err))
}
