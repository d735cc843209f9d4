package control

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

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
