package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
)

const relayoutChannel = "arn:aws:ivs:us-east-1:123456789012:channel/e2eRelayoutChan"

// updateComposition calls UpdateComposition (a Tessera extension the
// SDKs do not know) with a SigV4-signed request and fails the test unless
// it answers 200.
func updateComposition(ctx context.Context, t *testing.T, srv *server, arn string, cfg layout.Config) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"arn": arn, "layout": cfg})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/UpdateComposition", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: devAccessKeyID, SecretAccessKey: devSecretAccessKey},
		req, hex.EncodeToString(sum[:]), "ivs", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK {
		t.Fatalf("UpdateComposition: %d %s", resp.StatusCode, b)
	}
}

// A composition of two Go publishers pushed to nginx over RTMPS changes
// its layout while it runs (UpdateComposition): grid → PiP → grid, each
// read back from the channel at every tile, the stream never pausing
// (frames keep arriving across each switch) and GetComposition showing the
// layout in force.
func TestUpdateCompositionLayout(t *testing.T) {
	rtmp := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startServer(t, t.TempDir(), nil, "--ca-file", rtmp.CertFile(),
		"--channel", relayoutChannel+"="+rtmp.TLSURL("live", "relayout"), "--idle-timeout", "1m", "--no-publisher-timeout", "1m")
	api := srv.API
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("relayout")})
	if err != nil {
		t.Fatal(err)
	}
	red, blue := newColour("red", 220, 40, 40), newColour("blue", 40, 60, 230)
	for i, c := range []colour{red, blue} {
		tok, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn, UserId: aws.String(c.name)})
		if err != nil {
			t.Fatal(err)
		}
		yuv := c.yuv
		pub, err := publisher.Start(ctx, publisher.Config{WHIP: *stage.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token, Color: &yuv,
			NoAudio: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pub.Close(context.Background()) })
		participantIDs(ctx, t, api, *stage.Stage.Arn, i+1) // one arrival after the other
	}
	ids := participantIDs(ctx, t, api, *stage.Stage.Arn, 2)
	colours := map[string]colour{ids["red"]: red, ids["blue"]: blue}
	var ps []layout.Participant
	for i, user := range []string{"red", "blue"} {
		ps = append(ps, layout.Participant{ID: ids[user], UserID: user, Arrival: uint64(i), Video: layout.Size{W: 320, H: 180}})
	}

	arn := startChannelComposition(ctx, t, api, stage.Stage.Arn, "relayout", relayoutChannel)
	r := readRTMP(t, rtmp.URL("live", "relayout"), canvas.W, canvas.H)
	palette := []colour{red, blue}

	grid := layout.Config{}.WithDefaults()
	pip := layout.Config{Pip: &layout.PipConfig{PipPosition: layout.TopLeft}}.WithDefaults()
	waitLayout(t, "grid", r, probes(t, canvas, grid, ps, colours), palette, 30*time.Second)
	for _, step := range []struct {
		name string
		cfg  layout.Config
	}{{"pip", pip}, {"grid again", grid}} {
		_, before := r.Latest()
		updateComposition(ctx, t, srv, arn, step.cfg)
		waitLayout(t, step.name, r, probes(t, canvas, step.cfg, ps, colours), palette, 15*time.Second)
		if err := r.waitFrames(ctx, frameRate); err != nil {
			t.Fatalf("%s: the stream stopped after the switch: %v", step.name, err)
		}
		_, after := r.Latest()
		t.Logf("%s: %d frames read from the switch to one second after the new layout showed", step.name, after-before)
		got, err := api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if l := got.Composition.Layout; (l.Pip != nil) != (step.cfg.Pip != nil) || (l.Grid != nil) != (step.cfg.Grid != nil) {
			t.Errorf("%s: GetComposition shows the layout %+v", step.name, l)
		}
	}
	if got := waitState(ctx, t, api, arn, types.CompositionStateActive); got.State != types.CompositionStateActive {
		t.Errorf("composition %s", got.State)
	}
}
