package control

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/ingest"
)

// After a crash, a composition that was running is FAILED and ended at the
// server's last liveness mark (not at the restart), and the stage session the crash
// left open is ended (its end, Timeouts.SessionEnd after, has passed): its
// participant DISCONNECTED with a LEFT event at the server's last liveness
// mark.
func TestRecoverAfterCrash(t *testing.T) {
	dir := t.TempDir()
	env := startAPI(t, dir, nil)
	ctx := context.Background()
	stage, _, _ := fixtures(t, env.client)
	comp, err := env.client.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage),
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, env.client, *comp.Composition.Arn, types.CompositionStateActive)
	env.srv.participantEvent(stage, ingest.Event{Name: ingest.EventJoined, ParticipantID: "p1", Time: time.Now().UTC()})
	g, err := env.client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stage)})
	if err != nil || g.Stage.ActiveSessionId == nil {
		t.Fatalf("stage before the crash: %v %+v", err, g)
	}
	session := *g.Stage.ActiveSessionId
	time.Sleep(2*aliveInterval + aliveInterval/2) // a few liveness marks

	// The crash: the store goes first, nothing is written after it.
	crash := time.Now()
	_ = env.st.Close()
	env.srv.cancel()

	c := startAPI(t, dir, func(c *Config) { c.Timeouts.SessionEnd = time.Millisecond }).client
	got, err := c.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if cs := got.Composition; cs.State != types.CompositionStateFailed || cs.EndTime == nil ||
		cs.EndTime.After(crash) || crash.Sub(*cs.EndTime) > aliveInterval+aliveInterval/2 {
		t.Errorf("composition %s ended %v; the crash was at %v", cs.State, cs.EndTime, crash)
	}
	g, err = c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stage)})
	if err != nil || g.Stage.ActiveSessionId != nil {
		t.Errorf("stage after the restart: %v, active session %v", err, aws.ToString(g.Stage.ActiveSessionId))
	}
	p, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: aws.String(stage), SessionId: aws.String(session), ParticipantId: aws.String("p1")})
	if err != nil || p.Participant.State != types.ParticipantStateDisconnected {
		t.Fatalf("participant after the restart: %v %+v", err, p)
	}
	ev, err := c.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: aws.String(stage), SessionId: aws.String(session), ParticipantId: aws.String("p1")})
	if err != nil {
		t.Fatal(err)
	}
	var names []types.EventName
	for _, e := range ev.Events {
		names = append(names, e.Name)
	}
	if len(names) != 2 || names[0] != types.EventNameJoined || names[1] != types.EventNameLeft {
		t.Fatalf("events %v, want JOINED, LEFT", names)
	}
	if left := *ev.Events[1].EventTime; left.After(crash) || crash.Sub(left) > aliveInterval+aliveInterval/2 {
		t.Errorf("LEFT at %v; the crash was at %v", left, crash)
	}
}
