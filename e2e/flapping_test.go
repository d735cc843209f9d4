package e2e

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
)

const flapChannel = "arn:aws:ivs:us-east-1:123456789012:channel/e2eFlapChannel"

// A publisher in its own process is killed (SIGKILL: no DELETE, no
// goodbye) and publishes again with the same token at once, five times,
// between two Go publishers in a grid composition to an rtmps channel;
// then it is killed for good. Read back from nginx: every picture shows
// the other two in their tiles and the flapping one's stamped picture only
// in its own tile (the grid never reorders or reflows); its tile never
// shows one picture over 90 stream frames (3 s: a frozen tile), and after
// the last kill its picture is gone (its placeholder) within as many. The
// composition stays ACTIVE throughout.
func TestFlappingPublisher(t *testing.T) {
	rtmp := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	killable := testsrv.BuildKillablePublisher(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := startServer(t, t.TempDir(), nil, "--ca-file", rtmp.CertFile(),
		"--channel", flapChannel+"="+rtmp.TLSURL("live", "flap"), "--idle-timeout", "1m", "--no-publisher-timeout", "1m")
	api := srv.API
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("flapping")})
	if err != nil {
		t.Fatal(err)
	}
	whip := *stage.Stage.Endpoints.Whip
	token := func(user string) string {
		t.Helper()
		out, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn, UserId: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ParticipantToken.Token
	}
	red, blue := newColour("red", 220, 40, 40), newColour("blue", 40, 60, 230)
	solid := func(user string, c colour) {
		yuv := c.yuv
		pub, err := publisher.Start(ctx, publisher.Config{WHIP: whip, Token: token(user), Color: &yuv, NoAudio: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pub.Close(context.Background()) })
	}
	// Arrival order: red, the flapping one, blue.
	solid("red", red)
	participantIDs(ctx, t, api, *stage.Stage.Arn, 1)
	flapToken := token("flapping")
	flapping := killable.Start(t, whip, flapToken)
	participantIDs(ctx, t, api, *stage.Stage.Arn, 2)
	solid("blue", blue)
	ids := participantIDs(ctx, t, api, *stage.Stage.Arn, 3)

	// The tiles.
	var ps []layout.Participant
	for i, user := range []string{"red", "flapping", "blue"} {
		ps = append(ps, layout.Participant{ID: ids[user], UserID: user, Arrival: uint64(i), Video: layout.Size{W: 320, H: 180}})
	}
	var others []probe
	var stampX, stampY, stampScale float64
	for _, s := range layout.Arrange(canvas, layout.Config{}.WithDefaults(), ps) {
		switch s.Participant {
		case ids["red"], ids["blue"]:
			c := red
			if s.Participant == ids["blue"] {
				c = blue
			}
			others = append(others, probe{x: s.Rect.X + s.Rect.W/2, y: s.Rect.Y + s.Rect.H/2, want: c})
		default:
			crop, dst := layout.Fit(s.Rect, ps[s.Index].Video, s.Fill)
			stampScale = float64(crop.W) / float64(dst.W)
			stampX, stampY = float64(dst.X)-float64(crop.X)/stampScale, float64(dst.Y)-float64(crop.Y)/stampScale
		}
	}

	arn := startChannelComposition(ctx, t, api, stage.Stage.Arn, "flapping", flapChannel)
	r := readRTMP(t, rtmp.URL("live", "flap"), canvas.W, canvas.H)
	palette := []colour{red, blue}

	// watch samples the stream until it has read n more frames, and
	// reports whether the flapping participant's picture was on the last.
	var misplaced, samples int
	var stamp uint32
	var stampFrom int // the stream frame from which the same stamp shows
	haveStamp, longest := false, 0
	watch := func(n int) bool {
		_, start := r.Latest()
		for {
			f, at := r.Latest()
			if f != nil {
				samples++
				if bad := check(f, others, palette); bad != "" {
					misplaced++
					if misplaced == 1 {
						savePNG(t, "misplaced", f)
						t.Errorf("frame %d: %s", at, bad)
					}
				}
				s, ok := publisher.ReadStamp(f, stampX, stampY, stampScale)
				switch {
				case !ok:
					haveStamp = false
				case haveStamp && s == stamp:
					longest = max(longest, at-stampFrom)
				default:
					stamp, stampFrom, haveStamp = s, at, true
				}
			}
			if at >= start+n {
				return haveStamp
			}
			select {
			case <-ctx.Done():
				t.Fatalf("reading the channel: %v after %d of %d frames", ctx.Err(), at-start, n)
			case <-time.After(15 * time.Millisecond):
			}
		}
	}
	if !watch(2 * frameRate) {
		t.Fatal("the flapping participant's picture is not in its tile")
	}
	for i := range 5 {
		if err := flapping.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		flapping = killable.Start(t, whip, flapToken)
		t.Logf("flap %d: publishing again %v after the kill", i+1, time.Since(killed).Round(time.Millisecond))
		watch(2 * frameRate)
	}
	if !haveStamp {
		t.Error("the flapping participant's picture is not in its tile after its last return")
	}
	if err := flapping.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if watch(4 * frameRate) {
		t.Error("the flapping participant's picture still shows 4 s of stream after it was killed")
	}
	waitState(ctx, t, api, arn, types.CompositionStateActive)
	t.Logf("%d pictures sampled; the longest run of one picture in the flapping tile: %d stream frames", samples, longest)
	if misplaced != 0 {
		t.Errorf("%d of %d pictures show red or blue out of their tiles", misplaced, samples)
	}
	if longest >= 3*frameRate {
		t.Errorf("the flapping participant's tile showed one picture for %d stream frames (≥ 3 s)", longest)
	}
	if _, err := api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

// startChannelComposition starts a grid composition of stage at the
// tests' canvas size and frame rate to channel (an ARN configured with
// --channel), under an encoder configuration called name, and waits until
// it is ACTIVE; it returns the composition's ARN.
func startChannelComposition(ctx context.Context, t *testing.T, api *ivsrealtime.Client, stageARN *string, name, channel string) string {
	t.Helper()
	enc, err := api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String(name),
		Video: &types.Video{Width: aws.Int32(int32(canvas.W)), Height: aws.Int32(int32(canvas.H)),
			Framerate: aws.Float32(float32(frameRate)), Bitrate: aws.Int32(1_000_000)}})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: stageARN,
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{
			ChannelArn: aws.String(channel), EncoderConfigurationArn: enc.EncoderConfiguration.Arn}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *comp.Composition.Arn
	waitState(ctx, t, api, arn, types.CompositionStateActive)
	return arn
}
