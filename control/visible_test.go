package control

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
)

// What an operation changes is visible to the next call as soon as the
// operation answered.

// Once StopComposition answered, Get and List show the composition
// STOPPING or STOPPED, however soon after the start it came, and its
// storage configuration can be deleted.
func TestStopVisibleAtOnce(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	stage, enc, storage := fixtures(t, c)
	for range 20 {
		out, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage),
			Destinations: []types.DestinationConfiguration{{S3: &types.S3DestinationConfiguration{
				StorageConfigurationArn: aws.String(storage), EncoderConfigurationArns: []string{enc}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: out.Composition.Arn}); err != nil {
			t.Fatal(err)
		}
		wantStopping(t, c, *out.Composition.Arn, "StopComposition")
		list, err := c.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{FilterByStageArn: aws.String(stage)})
		for try := 0; err != nil && status(err) == http.StatusOK && try < 3; try++ {
			// A 200 whose body the client failed to read (seen under
			// heavy load: the client's connection closed mid-body): ask
			// again; a state, once STOPPING, never goes back.
			t.Logf("ListCompositions: %v; asking again", err)
			list, err = c.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{FilterByStageArn: aws.String(stage)})
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, cs := range list.Compositions {
			if *cs.Arn == *out.Composition.Arn && !stopping(cs.State) {
				t.Fatalf("ListCompositions right after StopComposition: %s", cs.State)
			}
		}
	}
	if _, err := c.DeleteStorageConfiguration(ctx, &ivsrealtime.DeleteStorageConfigurationInput{Arn: aws.String(storage)}); err != nil {
		t.Fatalf("deleting the storage configuration of stopped compositions: %v", err)
	}
}

// Once DisconnectParticipant answered, the participant reads DISCONNECTED;
// once DeleteStage answered, the stage's compositions read STOPPING or
// STOPPED.
func TestDisconnectAndDeleteVisibleAtOnce(t *testing.T) {
	env := startAPI(t, t.TempDir(), nil)
	ctx := context.Background()
	c := env.client
	stage, _, _ := fixtures(t, c)
	_, session := join(t, env, stage)
	l, err := c.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stage), SessionId: aws.String(session)})
	if err != nil || len(l.Participants) != 1 {
		t.Fatalf("participants: %v %+v", err, l)
	}
	pid := l.Participants[0].ParticipantId
	if _, err := c.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{StageArn: aws.String(stage), ParticipantId: pid}); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: aws.String(stage), SessionId: aws.String(session), ParticipantId: pid})
	if err != nil || p.Participant.State != types.ParticipantStateDisconnected {
		t.Fatalf("participant right after DisconnectParticipant: %v %+v", err, p)
	}

	comp, err := c.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stage),
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStage(ctx, &ivsrealtime.DeleteStageInput{Arn: aws.String(stage)}); err != nil {
		t.Fatal(err)
	}
	wantStopping(t, c, *comp.Composition.Arn, "DeleteStage")
}

func stopping(s types.CompositionState) bool {
	return s == types.CompositionStateStopping || s == types.CompositionStateStopped
}

// wantStopping checks that GetComposition shows a composition STOPPING or
// STOPPED right after the operation op.
func wantStopping(t *testing.T, c *ivsrealtime.Client, arn, op string) {
	t.Helper()
	got, err := c.GetComposition(context.Background(), &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Composition.State; !stopping(s) {
		t.Fatalf("GetComposition right after %s: %s", op, s)
	}
}
