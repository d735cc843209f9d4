package control

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// sessionEnd sets Timeouts.SessionEnd.
func sessionEnd(d time.Duration) func(*Config) { return func(c *Config) { c.Timeouts.SessionEnd = d } }

// join publishes to a stage with a new token (user "alice") until the participant is
// recorded as publishing, and returns the publisher and the stage's
// active session.
func join(t *testing.T, env *apiEnv, stage string) (*publisher.Publisher, string) {
	t.Helper()
	ctx := context.Background()
	tok, err := env.client.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stage), UserId: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pub, err := publisher.Start(pctx, publisher.Config{WHIP: env.whipURL, Token: *tok.ParticipantToken.Token, NoAudio: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { leave(t, pub) })
	var session string
	testsrv.WaitFor(t, 10*time.Second, "the participant in the stage session", func() bool {
		g, err := env.client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stage)})
		if err != nil || g.Stage.ActiveSessionId == nil {
			return false
		}
		session = *g.Stage.ActiveSessionId
		p, err := env.client.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: aws.String(stage), SessionId: aws.String(session),
			ParticipantId: tok.ParticipantToken.ParticipantId})
		return err == nil && p.Participant.Published
	})
	return pub, session
}

// leave ends a publisher's session and waits until it is gone.
func leave(t *testing.T, pub *publisher.Publisher) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = pub.Close(ctx)
	<-pub.Done()
}

func getSession(t *testing.T, c *ivsrealtime.Client, stage, id string) types.StageSession {
	t.Helper()
	out, err := c.GetStageSession(context.Background(), &ivsrealtime.GetStageSessionInput{StageArn: aws.String(stage), SessionId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.StageSession
}

func activeSession(t *testing.T, c *ivsrealtime.Client, stage string) string {
	t.Helper()
	g, err := c.GetStage(context.Background(), &ivsrealtime.GetStageInput{Arn: aws.String(stage)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(g.Stage.ActiveSessionId)
}

// A stage session outlives its last participant by Timeouts.SessionEnd: a
// rejoin before then continues it, a restart keeps it (and a rejoin after
// the restart continues it), a restart after
// its end ends it at the time it should have ended, the next join opens
// a new one, and a session ends on its own once the time is up.
// ListStageSessions pages through them, oldest first.
func TestStageSessions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	env := startAPI(t, dir, sessionEnd(time.Hour))
	st, err := env.client.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	stage := *st.Stage.Arn

	pub, first := join(t, env, stage)
	ss := getSession(t, env.client, stage, first)
	if *ss.SessionId != first || ss.StartTime == nil || ss.EndTime != nil {
		t.Fatalf("active session %+v", ss)
	}
	leave(t, pub)
	if got := activeSession(t, env.client, stage); got != first {
		t.Fatalf("active session after the last participant left: %q, want %s until the session end", got, first)
	}
	rejoin := func(what string) {
		t.Helper()
		pub, again := join(t, env, stage)
		if again != first {
			t.Fatalf("a join %s opened %s, want %s continued", what, again, first)
		}
		leave(t, pub)
	}
	rejoin("within the session end")

	// A restart within the session end keeps the session, and a join
	// continues it.
	env.close()
	env = startAPI(t, dir, sessionEnd(time.Hour))
	if got := activeSession(t, env.client, stage); got != first {
		t.Fatalf("active session after a restart: %q, want %s", got, first)
	}
	if ss := getSession(t, env.client, stage, first); ss.EndTime != nil {
		t.Fatalf("session ended by a restart within its end: %+v", ss)
	}
	rejoin("after a restart within the session end")
	testsrv.WaitFor(t, 10*time.Second, "the participant to leave", func() bool {
		l, err := env.client.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stage), SessionId: aws.String(first),
			FilterByState: types.ParticipantStateConnected})
		return err == nil && len(l.Participants) == 0
	})
	left := time.Now()

	// A restart after it ends it, when it should have ended.
	env.close()
	env = startAPI(t, dir, sessionEnd(time.Millisecond))
	if got := activeSession(t, env.client, stage); got != "" {
		t.Fatalf("active session %s after a restart past its end", got)
	}
	ss = getSession(t, env.client, stage, first)
	if ss.EndTime == nil || ss.EndTime.After(left.Add(time.Millisecond)) || ss.EndTime.Before(*ss.StartTime) {
		t.Fatalf("session %+v: want it ended by %v, when its last participant left", ss, left)
	}

	// The next join opens a new session, which ends on its own.
	env.close()
	env = startAPI(t, dir, sessionEnd(500*time.Millisecond))
	pub, second := join(t, env, stage)
	if second == first {
		t.Fatal("a join after the session ended continued it")
	}
	leave(t, pub)
	testsrv.WaitFor(t, 10*time.Second, "the second session to end", func() bool {
		return getSession(t, env.client, stage, second).EndTime != nil && activeSession(t, env.client, stage) == ""
	})

	var ids []string
	var next *string
	for {
		out, err := env.client.ListStageSessions(ctx, &ivsrealtime.ListStageSessionsInput{StageArn: aws.String(stage), MaxResults: aws.Int32(1), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.StageSessions {
			if s.StartTime == nil || s.EndTime == nil {
				t.Errorf("session summary %+v", s)
			}
			ids = append(ids, *s.SessionId)
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if len(ids) != 2 || ids[0] != first || ids[1] != second {
		t.Errorf("ListStageSessions %v, want [%s %s]", ids, first, second)
	}

	_, err = env.client.GetStageSession(ctx, &ivsrealtime.GetStageSessionInput{StageArn: aws.String(stage), SessionId: aws.String("st-nosuchsession")})
	wantErr[*types.ResourceNotFoundException](t, err, 404, "st-nosuchsession")
}
