package control

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// A token from CreateParticipantToken publishes by WHIP to the stage's
// endpoint; the participant, its session and its events are visible
// through the API; DisconnectParticipant ends it; DeleteStage stops the
// stage's compositions.
func TestAPIParticipants(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	st, err := c.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn,
		UserId: aws.String("alice"), Attributes: map[string]string{"featured": "true"}, Capabilities: []types.ParticipantTokenCapability{types.ParticipantTokenCapabilityPublish}})
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

	var session string
	testsrv.WaitFor(t, 10*time.Second, "the participant to be recorded in the stage session", func() bool {
		g, err := c.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		session = *g.Stage.ActiveSessionId
		p, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: st.Stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String(pid)})
		return err == nil && p.Participant.Published
	})
	p, _ := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: st.Stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String(pid)})
	if p.Participant.State != types.ParticipantStateConnected || *p.Participant.UserId != "alice" || p.Participant.Attributes["featured"] != "true" || p.Participant.FirstJoinTime == nil {
		t.Errorf("participant %+v", p.Participant)
	}
	l, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Stage.Arn, SessionId: aws.String(session)})
	if err != nil || len(l.Participants) != 1 || *l.Participants[0].ParticipantId != pid {
		t.Fatalf("ListParticipants: %v %+v", err, l)
	}

	// A composition on the stage, then DisconnectParticipant.
	comp, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{StageArn: st.Stage.Arn, ParticipantId: aws.String(pid), Reason: aws.String("bye")}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pub.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("publisher still connected after DisconnectParticipant")
	}
	var names []string
	testsrv.WaitFor(t, 10*time.Second, "the participant events", func() bool {
		ev, err := c.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: st.Stage.Arn, SessionId: aws.String(session), ParticipantId: aws.String(pid)})
		if err != nil {
			return false
		}
		names = names[:0]
		for _, e := range ev.Events {
			names = append(names, string(e.Name))
		}
		return slices.Contains(names, "LEFT")
	})
	if want := []string{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}; !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}
	l, _ = c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: st.Stage.Arn, SessionId: aws.String(session), FilterByState: types.ParticipantStateDisconnected})
	if len(l.Participants) != 1 {
		t.Errorf("disconnected participants %+v", l.Participants)
	}

	// DeleteStage stops its compositions.
	if _, err := c.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: st.Stage.Arn}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, *comp.Composition.Arn, types.CompositionStateStopped)
}
