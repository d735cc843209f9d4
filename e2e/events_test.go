package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/media"
)

// The documented IVS way to record a stage, against tessera serve: a
// webhook receiver verifies each event's signature and, on the IVS Stage
// Update "Participant Published", starts a composition through the SDK;
// the composition records the publisher into a folder bucket. The
// receiver sees the stage and composition events in order.
func TestStartCompositionOnParticipantPublished(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	secret := []byte("e2e-webhook-secret")
	var (
		mu     sync.Mutex
		events []string // detail-type: event_name, in arrival order
		dest   types.DestinationConfiguration
		api    *ivsrealtime.Client
	)
	started := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifyWebhook(secret, r.Header, body); err != nil {
			t.Errorf("webhook: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e struct {
			DetailType string   `json:"detail-type"`
			Source     string   `json:"source"`
			Resources  []string `json:"resources"`
			Detail     struct {
				EventName string `json:"event_name"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Source != "aws.ivs" || len(e.Resources) != 1 {
			t.Errorf("webhook body %s: %v", body, err)
			return
		}
		mu.Lock()
		events = append(events, e.DetailType+": "+e.Detail.EventName)
		d := dest
		mu.Unlock()
		if e.DetailType == "IVS Stage Update" && e.Detail.EventName == "Participant Published" {
			out, err := api.StartComposition(r.Context(), &ivsrealtime.StartCompositionInput{StageArn: aws.String(e.Resources[0]),
				Destinations: []types.DestinationConfiguration{d}})
			if err != nil {
				t.Errorf("StartComposition on Participant Published: %v", err)
				return
			}
			started <- *out.Composition.Arn
		}
	}))
	defer hook.Close()

	data := t.TempDir()
	srv := startServer(t, data, []string{"TESSERA_WEBHOOK_SECRET=" + string(secret)}, "--webhook", hook.URL)
	api = srv.API
	// The configurations first: the composition starts as soon as the
	// publisher publishes.
	configs := soloConfigurations(ctx, t, api)
	mu.Lock()
	dest = configs.recording()
	mu.Unlock()
	stage, err := api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("hooked")})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: stage.Stage.Arn, UserId: aws.String("guest")})
	if err != nil {
		t.Fatal(err)
	}
	c := media.RGBToYUV(40, 200, 90)
	pub, err := publisher.Start(ctx, publisher.Config{WHIP: *stage.Stage.Endpoints.Whip, Token: *tok.ParticipantToken.Token,
		Color: &c, ToneHz: publisher.DefaultToneHz, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(context.Background())

	var arn string
	select {
	case arn = <-started:
	case <-ctx.Done():
		t.Fatal("no composition started on Participant Published")
	}
	comp := waitState(ctx, t, api, arn, types.CompositionStateActive)
	dir := filepath.Join(data, "buckets", bucket, *comp.Destinations[0].Detail.S3.RecordingPrefix)
	waitFor(ctx, t, "three segments", func() bool { return countFiles(dir, ".ts") >= 3 })
	if _, err := api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitState(ctx, t, api, arn, types.CompositionStateStopped)
	checkS3Recording(t, dir)
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}

	stageUpdate, composition := "IVS Stage Update: ", "IVS Composition State Change: "
	want := []string{stageUpdate + "Participant Published", composition + "Session Start", composition + "Destination Start",
		composition + "Destination End", composition + "Session End", stageUpdate + "Participant Unpublished"}
	waitFor(ctx, t, "Participant Unpublished", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(events, want[len(want)-1])
	})
	mu.Lock()
	defer mu.Unlock()
	// Destination Start may come before or after Session Start.
	got := slices.Clone(events)
	if i, j := slices.Index(got, want[1]), slices.Index(got, want[2]); i > j && j >= 0 {
		got[i], got[j] = got[j], got[i]
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", events, want)
	}
}

// verifyWebhook checks a webhook request as README tells a receiver to,
// independently of the server's code: X-Tessera-Signature is "v1=" and the
// hex HMAC-SHA256 of X-Tessera-Timestamp + "." + the body, and the
// timestamp is within five minutes of now.
func verifyWebhook(secret []byte, h http.Header, body []byte) error {
	ts := h.Get("X-Tessera-Timestamp")
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	if d := time.Since(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %v from now", ts, d)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Tessera-Signature")), []byte(want)) {
		return fmt.Errorf("signature %q, want %q", h.Get("X-Tessera-Signature"), want)
	}
	return nil
}
