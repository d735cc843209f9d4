package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
)

const rtmpChannel = "arn:aws:ivs:us-east-1:123456789012:channel/e2eRTMPIngest"

// An ffmpeg RTMP publisher (red, 440 Hz), created with
// CreateIngestConfiguration, and two Go WHIP publishers (blue 330 Hz,
// yellow 660 Hz) on one stage; a grid composition to a channel read back
// with FFmpeg: the RTMP publisher's tile is red, first in the grid (it
// joined first), and its tone is in the mix; GetParticipant says RTMP and
// published, and a webhook gets its Stage Update "Participant Published". The publisher crashes and comes back within the reconnect
// window: its tile stays first. Over RTMPS with the server's certificate
// trusted a second configuration publishes; plain RTMP to it is refused
// (PUBLISH_ERROR INVALID_PROTOCOL).
func TestRTMPIngest(t *testing.T) {
	rtmp := testsrv.StartRTMP(t, testsrv.RTMPOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Stage Update events, as EventBridge would deliver them.
	var mu sync.Mutex
	var published []string // participant ids of "Participant Published"
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				EventName     string `json:"event_name"`
				ParticipantID string `json:"participant_id"`
			} `json:"detail"`
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err == nil && e.DetailType == "IVS Stage Update" && e.Detail.EventName == "Participant Published" {
			mu.Lock()
			published = append(published, e.Detail.ParticipantID)
			mu.Unlock()
		}
	}))
	defer hook.Close()
	data := t.TempDir()
	// A fixed A/V delay: the tones of the mix are what this test reads, and
	// on a machine short of CPU (the whole suite at once) the ffmpeg
	// publisher's sound comes in bursts later than an adaptive delay has
	// seen yet.
	srv := startServer(t, data, nil, "--webhook", hook.URL, "--ca-file", rtmp.CertFile(),
		"--channel", rtmpChannel+"="+rtmp.TLSURL("live", "rtmpingest"), "--idle-timeout", "1m", "--av-delay", "100ms")
	api := srv.API

	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("rtmp")})
	if err != nil {
		t.Fatal(err)
	}
	ep := stage.Stage.Endpoints
	if aws.ToString(ep.Rtmp) == "" || aws.ToString(ep.Rtmps) == "" {
		t.Fatalf("stage endpoints %+v: no rtmp/rtmps", ep)
	}
	cfg, err := api.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{
		Name: aws.String("obs"), StageArn: stage.Stage.Arn, IngestProtocol: types.IngestProtocolRtmp, InsecureIngest: true,
		UserId: aws.String("obs-user"), Attributes: map[string]string{"source": "obs"}})
	if err != nil {
		t.Fatal(err)
	}
	ic := cfg.IngestConfiguration
	red, blue, yellow := newColour("red", 220, 40, 40), newColour("blue", 40, 60, 230), newColour("yellow", 230, 210, 40)
	palette := []colour{red, blue, yellow}
	publishURL := aws.ToString(ep.Rtmp) + aws.ToString(ic.StreamKey)
	push := testsrv.StartPush(t, publishURL, 3*time.Minute, testsrv.PushOptions{Color: red.hex, ToneHz: 440})
	session := activeSession(ctx, t, api, *stage.Stage.Arn)
	waitFor(ctx, t, "the RTMP participant publishing", func() bool {
		p, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session), ParticipantId: ic.ParticipantId})
		return err == nil && p.Participant.Published && p.Participant.State == types.ParticipantStateConnected
	})
	p, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session), ParticipantId: ic.ParticipantId})
	if err != nil {
		t.Fatal(err)
	}
	if p.Participant.Protocol != types.ParticipantProtocolRtmp || aws.ToString(p.Participant.IngestConfigurationArn) != *ic.Arn ||
		aws.ToString(p.Participant.UserId) != "obs-user" || p.Participant.Attributes["source"] != "obs" {
		t.Errorf("RTMP participant %+v", p.Participant)
	}
	waitFor(ctx, t, "the Stage Update event Participant Published of the RTMP participant", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(published, *ic.ParticipantId)
	})
	got, err := api.GetIngestConfiguration(ctx, &ivsrealtime.GetIngestConfigurationInput{Arn: ic.Arn})
	if err != nil || got.IngestConfiguration.State != types.IngestConfigurationStateActive {
		t.Errorf("ingest configuration while publishing: %+v, %v", got, err)
	}

	token := func(user string) string {
		out, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn, UserId: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ParticipantToken.Token
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, g := range []struct {
		c  colour
		hz float64
	}{{blue, 330}, {yellow, 660}} {
		c := g.c.yuv
		pub, err := publisher.Start(ctx, publisher.Config{WHIP: *ep.Whip, Token: token("go-" + g.c.name), Name: g.c.name,
			Codec: "h264", Width: 320, Height: 180, FPS: 30, Color: &c, ToneHz: g.hz, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pub.Close(context.Background()) })
	}
	ids := participantIDs(ctx, t, api, *stage.Stage.Arn, 3)
	colours := map[string]colour{*ic.ParticipantId: red, ids["go-blue"]: blue, ids["go-yellow"]: yellow}
	ps := []layout.Participant{
		{ID: *ic.ParticipantId, Arrival: 0, Video: layout.Size{W: testsrv.PatternWidth, H: testsrv.PatternHeight}},
		{ID: ids["go-blue"], Arrival: 1, Video: layout.Size{W: 320, H: 180}},
		{ID: ids["go-yellow"], Arrival: 2, Video: layout.Size{W: 320, H: 180}},
	}

	enc, err := api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String("rtmp"),
		Video: &types.Video{Width: aws.Int32(int32(canvas.W)), Height: aws.Int32(int32(canvas.H)), Framerate: aws.Float32(30), Bitrate: aws.Int32(1_000_000)}})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: stage.Stage.Arn,
		Destinations: []types.DestinationConfiguration{{Channel: &types.ChannelDestinationConfiguration{
			ChannelArn: aws.String(rtmpChannel), EncoderConfigurationArn: enc.EncoderConfiguration.Arn}}}})
	if err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, *comp.Composition.Arn, types.CompositionStateActive)
	gridCfg := layout.Config{Grid: &layout.GridConfig{}}
	read := readRTMP(t, rtmp.URL("live", "rtmpingest"), canvas.W, canvas.H)
	waitLayout(t, "grid with the RTMP publisher first", read, probes(t, canvas, gridCfg, ps, colours), palette, 30*time.Second)

	// The mix carries the RTMP publisher's 440 Hz beside the others' tones.
	levels := toneLevels(t, rtmp.URL("live", "rtmpingest"), 3*time.Second, 440, 330, 660, 550)
	t.Logf("tone levels in the mix: 440 Hz %.4f, 330 Hz %.4f, 660 Hz %.4f, 550 Hz (none) %.4f", levels[0], levels[1], levels[2], levels[3])
	if levels[0] < 10*levels[3] || levels[1] < 10*levels[3] {
		t.Errorf("the mix lacks a publisher's tone: 440 Hz %.4f, 330 Hz %.4f against 550 Hz %.4f", levels[0], levels[1], levels[3])
	}

	// The encoder crashes and comes back within the reconnect window: same
	// participant, same place.
	push.Stop()
	waitFor(ctx, t, "the RTMP participant gone", func() bool {
		p, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session), ParticipantId: ic.ParticipantId})
		return err == nil && p.Participant.State == types.ParticipantStateDisconnected
	})
	testsrv.StartPush(t, publishURL, 3*time.Minute, testsrv.PushOptions{Color: red.hex, ToneHz: 440})
	waitFor(ctx, t, "the RTMP participant back", func() bool {
		p, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session), ParticipantId: ic.ParticipantId})
		return err == nil && p.Participant.State == types.ParticipantStateConnected
	})
	waitLayout(t, "grid after the RTMP publisher reconnected", read, probes(t, canvas, gridCfg, ps, colours), palette, 30*time.Second)

	// RTMPS: a configuration without insecureIngest takes RTMPS with the
	// server's certificate, and refuses plain RTMP.
	secure, err := api.CreateIngestConfiguration(ctx, &ivsrealtime.CreateIngestConfigurationInput{
		StageArn: stage.Stage.Arn, IngestProtocol: types.IngestProtocolRtmps, UserId: aws.String("encoder")})
	if err != nil {
		t.Fatal(err)
	}
	sc := secure.IngestConfiguration
	if err := testsrv.PushTestPattern(aws.ToString(ep.Rtmp)+*sc.StreamKey, 3*time.Second); err == nil {
		t.Error("plain RTMP accepted for an RTMPS configuration")
	}
	waitFor(ctx, t, "PUBLISH_ERROR INVALID_PROTOCOL", func() bool {
		ev, err := api.ListParticipantEvents(ctx, &ivsrealtime.ListParticipantEventsInput{StageArn: stage.Stage.Arn,
			SessionId: aws.String(session), ParticipantId: sc.ParticipantId})
		if err != nil {
			return false
		}
		for _, e := range ev.Events {
			if e.Name == types.EventNamePublishError && e.ErrorCode == types.EventErrorCode("INVALID_PROTOCOL") {
				return true
			}
		}
		return false
	})
	testsrv.StartPush(t, aws.ToString(ep.Rtmps)+*sc.StreamKey, 3*time.Minute,
		testsrv.PushOptions{Extra: []string{"-tls_verify", "1", "-ca_file", filepath.Join(data, "rtmps", "cert.pem")}})
	waitFor(ctx, t, "the RTMPS participant publishing", func() bool {
		p, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session), ParticipantId: sc.ParticipantId})
		return err == nil && p.Participant.Published && p.Participant.Protocol == types.ParticipantProtocolRtmps
	})

	// Deleting the configurations (forced: they publish) ends the publishes.
	for _, arn := range []*string{ic.Arn, sc.Arn} {
		if _, err := api.DeleteIngestConfiguration(ctx, &ivsrealtime.DeleteIngestConfigurationInput{Arn: arn, Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []*string{ic.ParticipantId, sc.ParticipantId} {
		p, err := api.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: stage.Stage.Arn, SessionId: aws.String(session), ParticipantId: id})
		if err != nil || p.Participant.State != types.ParticipantStateDisconnected {
			t.Errorf("participant %s after DeleteIngestConfiguration: %+v, %v", *id, p, err)
		}
	}
}

// toneLevels plays url's audio for d and returns the amplitude of each
// frequency in it (Goertzel over the mono mix at 48 kHz).
func toneLevels(t *testing.T, url string, d time.Duration, freqs ...float64) []float64 {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-rw_timeout", "15000000",
		"-i", url, "-t", d.String(), "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "f32le", "pipe:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading the audio of %s: %v: %s", url, err, stderr.String())
	}
	samples := make([]float32, len(out)/4)
	if err := binary.Read(bytes.NewReader(out[:4*len(samples)]), binary.LittleEndian, samples); err != nil {
		t.Fatal(err)
	}
	if len(samples) < 48000 {
		t.Fatalf("%d samples of audio in %v", len(samples), d)
	}
	levels := make([]float64, len(freqs))
	for i, f := range freqs {
		k := 2 * math.Cos(2*math.Pi*f/48000)
		var s1, s2 float64
		for _, x := range samples {
			s1, s2 = float64(x)+k*s1-s2, s1
		}
		levels[i] = math.Sqrt(s1*s1+s2*s2-k*s1*s2) / float64(len(samples)) * 2
	}
	return levels
}
