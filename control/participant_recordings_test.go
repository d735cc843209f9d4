package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// On a stage with autoParticipantRecordingConfiguration, a publisher is
// recorded from PUBLISH_STARTED: the recorder gets the storage's bucket and
// the prefix <stageId>/<sessionId>/<participantId>/<time>, and
// GetParticipant shows the recording's state, bucket and prefix.
func TestParticipantRecordingStarts(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	sto, err := c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("ipr-bucket")}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
		StorageConfigurationArn: sto.StorageConfiguration.Arn}})
	if err != nil {
		t.Fatal(err)
	}
	if a := st.Stage.AutoParticipantRecordingConfiguration; a == nil || aws.ToString(a.StorageConfigurationArn) != *sto.StorageConfiguration.Arn ||
		len(a.MediaTypes) != 1 || a.MediaTypes[0] != types.ParticipantRecordingMediaTypeAudioVideo || aws.ToInt32(a.HlsConfiguration.TargetSegmentDurationSeconds) != 6 {
		t.Errorf("echoed configuration %+v", a)
	}
	tok, err := c.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String("rec"),
		Capabilities: []types.ParticipantTokenCapability{types.ParticipantTokenCapabilityPublish}})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pub, err := publisher.Start(pctx, publisher.Config{WHIP: *st.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token, NoAudio: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(context.Background())
	pid := *tok.ParticipantToken.ParticipantId
	var p *types.Participant
	testsrv.WaitFor(t, 10*time.Second, "the participant's recording", func() bool {
		g, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		out, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: st.Stage.Arn, SessionId: g.Stage.ActiveSessionId, ParticipantId: aws.String(pid)})
		if err != nil {
			return false
		}
		p = out.Participant
		return p.RecordingState == types.ParticipantRecordingStateActive
	})
	prefix := regexp.MustCompile(`^[A-Za-z0-9]{12}/st-[A-Za-z0-9]{13}/` + pid + `/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$`)
	if aws.ToString(p.RecordingS3BucketName) != "ipr-bucket" || !prefix.MatchString(aws.ToString(p.RecordingS3Prefix)) {
		t.Errorf("participant recording fields: bucket %q prefix %q", aws.ToString(p.RecordingS3BucketName), aws.ToString(p.RecordingS3Prefix))
	}
	env.pipes.mu.Lock()
	recs := env.pipes.recordings
	env.pipes.mu.Unlock()
	if len(recs) != 1 || recs[0].Bucket != "ipr-bucket" || recs[0].Prefix != aws.ToString(p.RecordingS3Prefix) || recs[0].TargetSegment != 6*time.Second {
		t.Errorf("recordings started: %+v", recs)
	}
}

// recordingEvent is an Event with a participant recording's detail.
type recordingEvent struct {
	Event
	Detail ParticipantRecordingDetail `json:"detail"`
}

// recordingHook is a webhook that keeps the participant recording events.
type recordingHook struct {
	url    string
	mu     sync.Mutex
	events []recordingEvent
}

func newRecordingHook(t *testing.T) *recordingHook {
	h := &recordingHook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e recordingEvent
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &e); err != nil {
			t.Error(err)
		}
		if e.DetailType == DetailParticipantRecordingStateChange {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// wait waits for the event with that name and returns it.
func (h *recordingHook) wait(t *testing.T, name string) recordingEvent {
	t.Helper()
	var got recordingEvent
	testsrv.WaitFor(t, 10*time.Second, name, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, e := range h.events {
			if e.Detail.EventName == name {
				got = e
				return true
			}
		}
		return false
	})
	return got
}

// recordingStage makes a storage configuration and a stage that records
// its participants with that reconnect window.
func recordingStage(t *testing.T, c *ivsrealtime.Client, window int32) (stage, storage string) {
	t.Helper()
	ctx := context.Background()
	sto, err := c.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("ipr-bucket")}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
		StorageConfigurationArn: sto.StorageConfiguration.Arn, RecordingReconnectWindowSeconds: window}})
	if err != nil {
		t.Fatal(err)
	}
	return *st.Stage.Arn, *sto.StorageConfiguration.Arn
}

// waitRecording waits until a participant's recordingState is want.
func waitRecording(t *testing.T, c *ivsrealtime.Client, stage, session, pid string, want types.ParticipantRecordingState) *types.Participant {
	t.Helper()
	var p *types.Participant
	testsrv.WaitFor(t, 10*time.Second, "recordingState "+string(want), func() bool {
		out, err := c.GetParticipant(context.Background(), &ivsrealtime.GetParticipantInput{StageArn: aws.String(stage), SessionId: aws.String(session), ParticipantId: aws.String(pid)})
		if err != nil {
			return false
		}
		p = out.Participant
		return p.RecordingState == want
	})
	return p
}

// onlyParticipant is the id of a session's one participant.
func onlyParticipant(t *testing.T, c *ivsrealtime.Client, stage, session string) string {
	t.Helper()
	l, err := c.ListParticipants(context.Background(), &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stage), SessionId: aws.String(session)})
	if err != nil || len(l.Participants) != 1 {
		t.Fatalf("participants: %v %+v", err, l)
	}
	return *l.Participants[0].ParticipantId
}

// A recording from publish to end, as the API and the webhooks show it:
// ACTIVE with Recording Start, ListParticipants filtering by recording
// state, ConflictException for changing the stage's configuration or
// deleting its storage configuration while it records, STOPPED with
// Recording End once the publisher left; the recorder is stopped.
func TestParticipantRecordingLifecycle(t *testing.T) {
	hook := newRecordingHook(t)
	env := startAPI(t, t.TempDir(), func(c *Config) { c.Webhooks = []string{hook.url} })
	ctx := context.Background()
	c := env.client
	stage, storage := recordingStage(t, c, 0)
	pub, session := join(t, env, stage)
	pid := onlyParticipant(t, c, stage, session)
	p := waitRecording(t, c, stage, session, pid, types.ParticipantRecordingStateActive)
	prefix := aws.ToString(p.RecordingS3Prefix)
	start := hook.wait(t, EventRecordingStart)
	if start.Source != "aws.ivs" || len(start.Resources) != 1 || start.Resources[0] != stage ||
		start.Detail != (ParticipantRecordingDetail{SessionID: session, EventName: EventRecordingStart, ParticipantID: pid, BucketName: "ipr-bucket", KeyPrefix: prefix}) {
		t.Errorf("Recording Start: %+v", start)
	}

	for state, n := range map[types.ParticipantRecordingFilterByRecordingState]int{"ACTIVE": 1, "STOPPED": 0} {
		l, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stage), SessionId: aws.String(session), FilterByRecordingState: state})
		if err != nil || len(l.Participants) != n || (n == 1 && l.Participants[0].RecordingState != types.ParticipantRecordingStateActive) {
			t.Errorf("filterByRecordingState %s: %v %+v, want %d", state, err, l, n)
		}
	}
	_, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stage), SessionId: aws.String(session),
		FilterByRecordingState: "ACTIVE", FilterByPublished: true})
	wantErr[*types.ValidationException](t, err, 400, "only one filter")

	_, err = c.UpdateStage(ctx, &ivsrealtime.UpdateStageInput{Arn: aws.String(stage), AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{
		StorageConfigurationArn: aws.String(storage), MediaTypes: []types.ParticipantRecordingMediaType{types.ParticipantRecordingMediaTypeAudioOnly}}})
	wantErr[*types.ConflictException](t, err, 409, "autoParticipantRecordingConfiguration")
	if _, err := c.UpdateStage(ctx, &ivsrealtime.UpdateStageInput{Arn: aws.String(stage), Name: aws.String("renamed"),
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{StorageConfigurationArn: aws.String(storage)}}); err != nil {
		t.Errorf("UpdateStage keeping the configuration while recording: %v", err)
	}
	_, err = c.DeleteStorageConfiguration(ctx, &ivsrealtime.DeleteStorageConfigurationInput{Arn: aws.String(storage)})
	wantErr[*types.ConflictException](t, err, 409, stage)

	leave(t, pub)
	p = waitRecording(t, c, stage, session, pid, types.ParticipantRecordingStateStopped)
	if aws.ToString(p.RecordingS3Prefix) != prefix || aws.ToString(p.RecordingS3BucketName) != "ipr-bucket" {
		t.Errorf("stopped recording: bucket %q prefix %q", aws.ToString(p.RecordingS3BucketName), aws.ToString(p.RecordingS3Prefix))
	}
	if end := hook.wait(t, EventRecordingEnd); end.Detail.KeyPrefix != prefix || end.Detail.SessionID != session {
		t.Errorf("Recording End: %+v", end)
	}
	env.pipes.mu.Lock()
	recs := slices.Clone(env.pipes.recorders)
	env.pipes.mu.Unlock()
	if len(recs) != 1 {
		t.Fatalf("%d recordings started", len(recs))
	}
	if stopped, _ := recs[0].state(); !stopped {
		t.Error("the recorder was not stopped")
	}

	// Nobody recorded: the configuration can change, then the storage
	// configuration, named by no stage, can go.
	if _, err := c.UpdateStage(ctx, &ivsrealtime.UpdateStageInput{Arn: aws.String(stage),
		AutoParticipantRecordingConfiguration: &types.AutoParticipantRecordingConfiguration{StorageConfigurationArn: aws.String("")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStorageConfiguration(ctx, &ivsrealtime.DeleteStorageConfigurationInput{Arn: aws.String(storage)}); err != nil {
		t.Errorf("deleting the storage configuration no stage names: %v", err)
	}
}

// A participant of a stage that records nobody shows recordingState
// DISABLED and "" as bucket and prefix (IVS's documented values).
func TestParticipantRecordingDisabled(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	st, err := env.client.CreateStage(context.Background(), &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	_, session := join(t, env, *st.Stage.Arn)
	pid := onlyParticipant(t, env.client, *st.Stage.Arn, session)
	p := waitRecording(t, env.client, *st.Stage.Arn, session, pid, types.ParticipantRecordingStateDisabled)
	if p.RecordingS3BucketName == nil || *p.RecordingS3BucketName != "" || p.RecordingS3Prefix == nil || *p.RecordingS3Prefix != "" {
		t.Errorf("bucket %v prefix %v, want both \"\"", p.RecordingS3BucketName, p.RecordingS3Prefix)
	}
}

// A recorder that does not start: FAILED and Recording Start Failure.
func TestParticipantRecordingStartFailureEvent(t *testing.T) {
	hook := newRecordingHook(t)
	env := startAPI(t, t.TempDir(), func(c *Config) {
		c.Webhooks = []string{hook.url}
		c.ParticipantRecorders = func(context.Context, contract.ParticipantRecordingSpec, contract.Reporter) (contract.ParticipantRecording, error) {
			return nil, errors.New("bucket in another region")
		}
	})
	stage, _ := recordingStage(t, env.client, 0)
	_, session := join(t, env, stage)
	pid := onlyParticipant(t, env.client, stage, session)
	p := waitRecording(t, env.client, stage, session, pid, types.ParticipantRecordingStateFailed)
	if e := hook.wait(t, EventRecordingStartFailure); e.Detail.ParticipantID != pid || e.Detail.KeyPrefix != aws.ToString(p.RecordingS3Prefix) {
		t.Errorf("Recording Start Failure: %+v", e)
	}
}

// DeleteStage and Close finalize recordings at once, even in their
// reconnect window.
func TestParticipantRecordingFinalizedOnDeleteAndClose(t *testing.T) {
	for _, close := range []bool{false, true} {
		t.Run(fmt.Sprint("close=", close), func(t *testing.T) {
			env := startAPI(t, t.TempDir(), nil)
			stage, _ := recordingStage(t, env.client, 300)
			pub, session := join(t, env, stage)
			pid := onlyParticipant(t, env.client, stage, session)
			waitRecording(t, env.client, stage, session, pid, types.ParticipantRecordingStateActive)
			if close {
				env.close()
			} else {
				leave(t, pub)
				waitRecording(t, env.client, stage, session, pid, types.ParticipantRecordingStateStopping)
				if _, err := env.client.DeleteStage(context.Background(), &ivsrealtime.DeleteStageInput{Arn: aws.String(stage)}); err != nil {
					t.Fatal(err)
				}
			}
			testsrv.WaitFor(t, 10*time.Second, "the recording stopped", func() bool {
				env.pipes.mu.Lock()
				defer env.pipes.mu.Unlock()
				stopped, _ := env.pipes.recorders[0].state()
				return stopped
			})
		})
	}
}

// After a crash, a participant recording that was running is FAILED (the
// worker's recovery finalizes it as ended with failure).
func TestParticipantRecordingFailedAfterCrash(t *testing.T) {
	dir := t.TempDir()
	env := startAPI(t, dir, nil)
	stage, _ := recordingStage(t, env.client, 0)
	now := time.Now().UTC()
	env.srv.participantEvent(stage, ingest.Event{Name: ingest.EventJoined, ParticipantID: "p1", Time: now})
	env.srv.participantEvent(stage, ingest.Event{Name: ingest.EventPublishStarted, ParticipantID: "p1", Time: now})
	g, err := env.client.GetStage(context.Background(), &ivsrealtime.GetStageInput{Arn: aws.String(stage)})
	if err != nil || g.Stage.ActiveSessionId == nil {
		t.Fatalf("stage before the crash: %v %+v", err, g)
	}
	session := *g.Stage.ActiveSessionId
	waitRecording(t, env.client, stage, session, "p1", types.ParticipantRecordingStateActive)

	_ = env.st.Close() // the crash: nothing is written after it
	env.srv.cancel()
	c := startAPI(t, dir, nil).client
	waitRecording(t, c, stage, session, "p1", types.ParticipantRecordingStateFailed)
}
