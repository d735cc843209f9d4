package control

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// stageUpdate is an Event with a stage update's detail.
type stageUpdate struct {
	Event
	Detail StageUpdateDetail `json:"detail"`
}

// The documented IVS flow: a webhook receives the signed IVS Stage Update
// Participant Published and starts a composition on the stage through the
// SDK; a token exchange sends Token Exchanged, the publisher's leave
// Participant Unpublished, a publish refused Participant Publish Error
// with its code; each event names the stage, the session, the participant
// and its user, in the order they happened.
func TestStageUpdateEvents(t *testing.T) {
	secret := []byte("hook-secret")
	var mu sync.Mutex
	var got []stageUpdate
	var client *ivsrealtime.Client
	started := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := VerifyWebhook(secret, r.Header, b, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e stageUpdate
		if err := json.Unmarshal(b, &e); err != nil {
			t.Error(err)
		}
		if e.DetailType != DetailStageUpdate {
			return
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		if e.Detail.EventName == EventParticipantPublished {
			out, err := client.StartComposition(r.Context(), &ivsrealtime.StartCompositionInput{StageArn: aws.String(e.Resources[0]),
				Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{ChannelArn: aws.String(testChan)}}}})
			if err != nil {
				t.Errorf("StartComposition on Participant Published: %v", err)
				return
			}
			started <- *out.Composition.Arn
		}
	}))
	defer hook.Close()
	env := startAPI(t, t.TempDir(), func(c *Config) { c.Webhooks, c.WebhookSecret = []string{hook.URL}, secret })
	client = env.client
	ctx := context.Background()
	st, err := env.client.CreateStage(ctx, &ivsrealtime.CreateStageInput{})
	if err != nil {
		t.Fatal(err)
	}
	stage := *st.Stage.Arn
	pub, session := join(t, env, stage)
	var comp string
	select {
	case comp = <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no composition started on Participant Published")
	}
	waitState(t, env.client, comp, types.CompositionStateActive)
	next, err := env.client.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stage), UserId: aws.String("alice"),
		Attributes: map[string]string{"seat": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.ExchangeToken(ctx, *next.ParticipantToken.Token); err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	testsrv.WaitFor(t, 10*time.Second, "Token Exchanged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	})
	leave(t, pub)
	testsrv.WaitFor(t, 10*time.Second, "Participant Unpublished", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})
	// A token without the publish capability: Participant Publish Error.
	tok, err := env.client.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stage),
		Capabilities: []types.ParticipantTokenCapability{types.ParticipantTokenCapabilitySubscribe}})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if p, err := publisher.Start(pctx, publisher.Config{WHIP: env.whipURL, Token: *tok.ParticipantToken.Token, NoAudio: true, Logger: quietLogger()}); err == nil {
		leave(t, p)
		t.Fatal("a subscribe-only token published")
	}
	testsrv.WaitFor(t, 10*time.Second, "Participant Publish Error", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 4
	})
	if e := got[3]; e.Detail.EventName != EventParticipantPublishError || e.Detail.ErrorCode != "INSUFFICIENT_CAPABILITIES" ||
		e.Detail.ParticipantID != *tok.ParticipantToken.ParticipantId || e.Detail.SessionID != session {
		t.Errorf("event %+v, want Participant Publish Error INSUFFICIENT_CAPABILITIES", e)
	}

	l, err := env.client.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stage), SessionId: aws.String(session), FilterByUserId: aws.String("alice")})
	if err != nil || len(l.Participants) != 1 {
		t.Fatalf("participants: %v %+v", err, l)
	}
	pid := *l.Participants[0].ParticipantId
	mu.Lock()
	defer mu.Unlock()
	for i, want := range []string{EventParticipantPublished, EventTokenExchanged, EventParticipantUnpublished} {
		e := got[i]
		if e.Source != "aws.ivs" || e.Version != "0" || !uuidRE.MatchString(e.ID) || e.Account != "123456789012" || e.Region != "us-east-1" ||
			len(e.Resources) != 1 || e.Resources[0] != stage || e.Detail.EventName != want || e.Detail.SessionID != session ||
			e.Detail.ParticipantID != pid || e.Detail.UserID != "alice" || e.Detail.EventTime == "" {
			t.Errorf("event %d: %+v, want %s", i, e, want)
		}
		if _, err := time.Parse(time.RFC3339, e.Time); err != nil {
			t.Errorf("event time %q: %v", e.Time, err)
		}
	}
}
