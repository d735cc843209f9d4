package e2e

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

// callExtension calls one of Tessera's own operations with a signed
// request (testsrv.CallExtension) and decodes the answer into out; it
// returns the HTTP status.
func (s *server) callExtension(ctx context.Context, t *testing.T, op string, in, out any) int {
	t.Helper()
	status, body, err := testsrv.CallExtension(ctx, s.URL, devAccessKeyID, devSecretAccessKey, op, in, out)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK {
		t.Logf("%s: %d %s", op, status, body)
	}
	return status
}

// viewerToken is CreateViewerToken's answer.
type viewerToken struct {
	ViewerToken struct {
		Token, CompositionArn, WhepUrl, ExpirationTime string
	}
}

// A running composition watched live in headless Chromium by WHEP: the
// viewer token comes from CreateViewerToken (SigV4, like the rest of the
// API); the page decodes the composition's H.264 (Main, as the encoder
// makes it for browsers) at the canvas size and shows the publisher's
// colour. Without a token, with another composition's, or for a stopped
// composition, nothing is watchable.
func TestLiveView(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startServer(t, t.TempDir(), nil)
	api := srv.API
	blue := media.RGBToYUV(40, 60, 230)
	setup := newSolo(ctx, t, api, "live", blue)
	comp, err := api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: setup.stage.Arn,
		Destinations: []types.DestinationConfiguration{setup.recording()}})
	if err != nil {
		t.Fatal(err)
	}
	arn := *comp.Composition.Arn
	waitState(ctx, t, api, arn, types.CompositionStateActive)

	var tok viewerToken
	if st := srv.callExtension(ctx, t, "CreateViewerToken", map[string]any{"compositionArn": arn, "duration": 5}, &tok); st != http.StatusOK {
		t.Fatalf("CreateViewerToken: %d", st)
	}
	vt := tok.ViewerToken
	if vt.CompositionArn != arn || !strings.HasPrefix(vt.WhepUrl, srv.URL+"/view/") || vt.Token == "" {
		t.Fatalf("viewer token %+v", vt)
	}
	if exp, err := time.Parse(time.RFC3339, vt.ExpirationTime); err != nil || time.Until(exp).Round(time.Minute) != 5*time.Minute {
		t.Errorf("expirationTime %q (%v)", vt.ExpirationTime, err)
	}

	viewers := testsrv.StartWHEPViewers(t)
	view := viewers.Watch(t, vt.WhepUrl, vt.Token)
	start := time.Now()
	st, err := view.Wait(ctx, func(s testsrv.ViewState) bool {
		return s.FramesDecoded >= 60 || s.State == "refused" || s.State == "failed"
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("viewer after %v: %s", time.Since(start).Round(time.Millisecond), st)
	if st.Width != 320 || st.Height != 180 || !strings.Contains(st.Codec, "H264") || !strings.Contains(st.Codec, "profile-level-id=4d") {
		t.Errorf("the viewer shows %dx%d %q, want 320x180 H.264 Main", st.Width, st.Height, st.Codec)
	}
	if len(st.Colours) != 1 || math.Abs(float64(st.Colours[0][0])-float64(blue.Y)) > 12 ||
		math.Abs(float64(st.Colours[0][1])-float64(blue.U)) > 12 || math.Abs(float64(st.Colours[0][2])-float64(blue.V)) > 12 {
		t.Errorf("the viewer shows %v at the centre, want about %+v", st.Colours, blue)
	}
	if m := srv.metrics(t); metricValue(m, "tessera_whep_viewers", `composition="`+arn[strings.LastIndex(arn, "/")+1:]+`"`) != 1 {
		t.Errorf("tessera_whep_viewers:\n%s", grepLines(m, "tessera_whep_viewers"))
	}

	// Refused: no token, another composition's, and after the stop.
	post := func(token string) int {
		req, _ := http.NewRequestWithContext(ctx, "POST", vt.WhepUrl, strings.NewReader("v=0\r\n"))
		req.Header.Set("Content-Type", "application/sdp")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(""); st != http.StatusUnauthorized {
		t.Errorf("no token: %d", st)
	}
	if st := post(vt.Token + "x"); st != http.StatusUnauthorized {
		t.Errorf("a bad token: %d", st)
	}
	if _, err := api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the composition stopped", func() bool {
		c, err := api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		return err == nil && c.Composition.State == types.CompositionStateStopped
	})
	if st := post(vt.Token); st != http.StatusNotFound {
		t.Errorf("a stopped composition: %d", st)
	}
	if st := srv.callExtension(ctx, t, "CreateViewerToken", map[string]any{"compositionArn": arn}, nil); st != http.StatusConflict {
		t.Errorf("CreateViewerToken of a stopped composition: %d", st)
	}
}
