package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// consolePage is the console open in headless Chromium with the steps of
// testdata/console_steps.js loaded.
type consolePage struct {
	t    *testing.T
	ctx  context.Context
	page *testsrv.Page
}

// step runs window.steps.<name>(args…) in the page and decodes what it
// returns into out (nil: dropped).
func (c *consolePage) step(out any, name string, args ...string) {
	c.t.Helper()
	if err := c.page.Eval(c.ctx, "steps."+name+"("+strings.Join(args, ", ")+")", out); err != nil {
		c.t.Fatalf("console step %s: %v", name, err)
	}
}

// screenshot keeps the page as it shows now in the test's artifacts when
// the test runs with -artifacts.
func (c *consolePage) screenshot(name string) {
	c.t.Helper()
	if !artifacts() {
		return
	}
	out := filepath.Join(c.t.ArtifactDir(), name+".png")
	if err := c.page.Screenshot(c.ctx, out); err != nil {
		c.t.Logf("screenshot %s: %v", name, err)
		return
	}
	c.t.Logf("screenshot: %s", out)
}

func artifacts() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// isRed and isGreen tell the Go publisher's red from Chromium's fake
// camera (green on dark green) in a sampled [r, g, b].
func isRed(c [3]int) bool   { return c[0] > 150 && c[0] > c[1]+80 && c[0] > c[2]+80 }
func isGreen(c [3]int) bool { return c[1] > 60 && c[1] > c[0]+40 && c[1] > c[2]+40 }

// centre is a slot's middle point.
func centre(r layout.Rect) string { return fmt.Sprintf("[%d, %d]", r.X+r.W/2, r.Y+r.H/2) }

// The console of the built server in headless Chromium, as a user drives
// it: sign in with the development credentials the page shows, create a
// stage, publish the fake camera to it (featured=true) beside a Go
// publisher, start a picture-in-picture composition recording, watch it
// live (the Go publisher's red in the PiP window, the camera's green
// filling the canvas), change the layout to a grid and watch the red tile
// move to its grid slot, stop, and play the recording. Without a session
// or with a wrong CSRF token the console refuses; a WHEP viewer with a
// wrong token is refused.
func TestConsole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	data := t.TempDir()
	srv := startServer(t, data, nil)
	steps, err := os.ReadFile("testdata/console_steps.js")
	if err != nil {
		t.Fatal(err)
	}
	page, err := testsrv.OpenPage(t, srv.URL+"/", 1280, 800)
	if err != nil {
		t.Fatal(err)
	}
	c := &consolePage{t: t, ctx: ctx, page: page}
	defer func() {
		if t.Failed() {
			c.screenshot("failed")
			t.Logf("chromium output:\n%s", page.Output())
		}
	}()
	if err := page.Wait(ctx, `document.querySelector("#signIn")`); err != nil {
		t.Fatal(err)
	}
	if err := page.Eval(ctx, string(steps), nil); err != nil {
		t.Fatal(err)
	}
	c.step(nil, "signIn")
	var stageARN string
	c.step(&stageARN, "createStage", quote("console-stage"))
	if _, err := srv.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)}); err != nil {
		t.Fatalf("the stage the page created: %v", err)
	}

	// bob, a Go publisher in red, joins first; alice, the browser, second.
	tok, err := srv.API.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stageARN), UserId: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	red := media.RGBToYUV(220, 20, 20)
	bob, err := publisher.Start(ctx, publisher.Config{WHIP: srv.URL + "/whip", Token: *tok.ParticipantToken.Token, Name: "bob", Color: &red,
		Width: 320, Height: 180, ToneHz: publisher.DefaultToneHz, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close(context.Background())
	waitFor(ctx, t, "bob on the stage", func() bool {
		var rows []string
		c.step(&rows, "participants", quote(stageARN))
		return len(rows) == 1 && strings.Contains(rows[0], "bob") && strings.Contains(rows[0], "CONNECTED")
	})
	c.step(nil, "join", quote(stageARN), quote("alice"), quote("featured=true"))
	var rows []string
	// The stage page shows both with their codec, size and A/V offset
	// (the console's stats of ingest).
	waitFor(ctx, t, "alice and bob on the stage page, with their codecs, sizes and A/V offsets", func() bool {
		c.step(&rows, "participants", quote(stageARN))
		return len(rows) == 2 && strings.Contains(strings.Join(rows, "\n"), "alice") &&
			strings.Contains(rows[0], "×") && strings.Contains(rows[1], "×") && strings.Contains(rows[0], " ms") && strings.Contains(rows[1], " ms")
	})
	t.Logf("participants: %q", rows)
	st, err := srv.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)})
	if err != nil {
		t.Fatal(err)
	}
	session := st.Stage.ActiveSessionId
	alice, err := srv.API.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stageARN), SessionId: session,
		FilterByUserId: aws.String("alice")})
	if err != nil || len(alice.Participants) != 1 {
		t.Fatalf("ListParticipants alice: %v %+v", err, alice)
	}
	p, err := srv.API.GetParticipant(ctx, &ivsrealtime.GetParticipantInput{StageArn: aws.String(stageARN), SessionId: session,
		ParticipantId: alice.Participants[0].ParticipantId})
	if err != nil || p.Participant.Attributes["featured"] != "true" || !p.Participant.Published || aws.ToString(p.Participant.BrowserName) == "" {
		t.Errorf("GetParticipant alice: %v %+v, want published with the attribute typed in the page, from a browser", err, p)
	}
	c.screenshot("stage")

	c.step(nil, "configure")
	var row string
	c.step(&row, "startComposition", quote(stageARN))
	t.Logf("composition: %q", row)
	list, err := srv.API.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{})
	if err != nil || len(list.Compositions) != 1 {
		t.Fatalf("ListCompositions: %v %+v", err, list)
	}
	compositionARN := *list.Compositions[0].Arn
	// The API has what the page's forms said.
	comp, err := srv.API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(compositionARN)})
	if err != nil {
		t.Fatal(err)
	}
	if l := comp.Composition.Layout.Pip; l == nil || aws.ToString(l.FeaturedParticipantAttribute) != "featured" || l.PipPosition != "TOP_LEFT" ||
		l.GridGap != 4 || !l.OmitStoppedVideo || *comp.Composition.StageArn != stageARN {
		t.Errorf("the composition's layout: %+v, want the PiP the page's form said", comp.Composition.Layout)
	}
	d := comp.Composition.Destinations
	if len(d) != 1 || d[0].Configuration.S3 == nil || len(d[0].Configuration.S3.EncoderConfigurationArns) != 1 {
		t.Fatalf("the composition's destinations: %+v", d)
	}
	enc, err := srv.API.GetEncoderConfiguration(ctx, &ivsrealtime.GetEncoderConfigurationInput{Arn: aws.String(d[0].Configuration.S3.EncoderConfigurationArns[0])})
	if v := enc.EncoderConfiguration.Video; err != nil || *enc.EncoderConfiguration.Name != "small" || *v.Width != 640 || *v.Height != 360 || *v.Framerate != 15 || *v.Bitrate != 800_000 {
		t.Errorf("the encoder configuration: %v %+v", err, enc.EncoderConfiguration.Video)
	}
	sto, err := srv.API.GetStorageConfiguration(ctx, &ivsrealtime.GetStorageConfigurationInput{Arn: d[0].Configuration.S3.StorageConfigurationArn})
	if err != nil || *sto.StorageConfiguration.S3.BucketName != "console-recordings" {
		t.Errorf("the storage configuration: %v %+v", err, sto)
	}

	// Where the tiles are: as the layout package arranges them, on the
	// 640×360 canvas of the encoder configuration the page created.
	canvas := layout.Size{W: 640, H: 360}
	ps := []layout.Participant{{ID: "bob", Arrival: 1, Video: layout.Size{W: 320, H: 180}},
		{ID: "alice", Arrival: 2, Video: layout.Size{W: 640, H: 360}, Attributes: map[string]string{"featured": "true"}}}
	slots := func(cfg layout.Config) map[string]layout.Rect {
		m := map[string]layout.Rect{}
		for _, s := range layout.Arrange(canvas, cfg, ps) {
			m[s.Participant] = s.Rect
		}
		return m
	}
	pip := slots(layout.Config{Pip: &layout.PipConfig{FeaturedParticipantAttribute: "featured", GridGap: new(4), PipPosition: "TOP_LEFT", OmitStoppedVideo: true}})
	grid := slots(layout.Config{Grid: &layout.GridConfig{FeaturedParticipantAttribute: "featured", GridGap: new(8), OmitStoppedVideo: true}})
	// A point of the canvas that alice fills in PiP, outside bob's window.
	aliceAt := fmt.Sprintf("[%d, %d]", pip["alice"].X+pip["alice"].W*3/4, pip["alice"].Y+pip["alice"].H*3/4)
	var watched struct {
		Width, Height int
		Muted         bool
		Played        float64
	}
	c.step(&watched, "watch")
	t.Logf("watching live: %+v", watched)
	if watched.Width != 640 || watched.Height != 360 || !watched.Muted {
		t.Errorf("the live view plays %dx%d (muted %v), want 640x360, muted", watched.Width, watched.Height, watched.Muted)
	}
	sample := func(video string, points ...string) [][3]int {
		var got [][3]int
		c.step(&got, "sample", quote(video), "640", "360", "["+strings.Join(points, ", ")+"]")
		return got
	}
	var got [][3]int
	waitFor(ctx, t, "bob's red in the PiP window and alice's green around it", func() bool {
		got = sample("#liveVideo", centre(pip["bob"]), aliceAt)
		return isRed(got[0]) && isGreen(got[1])
	})
	t.Logf("PiP: bob %v at %s, alice %v at %s", got[0], centre(pip["bob"]), got[1], aliceAt)
	c.screenshot("live-view")

	// A WHEP viewer with a wrong token is refused.
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/view/"+compositionARN[strings.LastIndex(compositionARN, "/")+1:], strings.NewReader("v=0\r\n"))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer not-a-viewer-token")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a WHEP viewer with a wrong token: %v %v, want 401", err, resp)
	} else {
		resp.Body.Close()
	}

	c.step(nil, "stopWatching")
	c.step(nil, "relayout")
	if comp, err := srv.API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(compositionARN)}); err != nil ||
		comp.Composition.Layout.Grid == nil || comp.Composition.Layout.Pip != nil || comp.Composition.Layout.Grid.GridGap != 8 ||
		aws.ToString(comp.Composition.Layout.Grid.FeaturedParticipantAttribute) != "featured" || !comp.Composition.Layout.Grid.OmitStoppedVideo {
		t.Errorf("the layout after Change layout: %v %+v, want the grid the form said", err, comp)
	}
	c.step(&watched, "watch")
	waitFor(ctx, t, "bob's red at his grid tile, not in the PiP window any more", func() bool {
		got = sample("#liveVideo", centre(grid["bob"]), centre(grid["alice"]), centre(pip["bob"]))
		return isRed(got[0]) && isGreen(got[1]) && !isRed(got[2])
	})
	t.Logf("grid: bob %v at %s, alice %v at %s, the old PiP window %v at %s", got[0], centre(grid["bob"]), got[1], centre(grid["alice"]), got[2], centre(pip["bob"]))
	c.screenshot("live-view-grid")
	c.step(nil, "stopWatching")

	// Recorded long enough to play for several seconds: two 2 s segments
	// stored (a quick run gets here after about 3 s).
	recorded, err := srv.API.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(compositionARN)})
	if err != nil || recorded.Composition.Destinations[0].Detail == nil || recorded.Composition.Destinations[0].Detail.S3 == nil {
		t.Fatalf("GetComposition: %v %+v", err, recorded)
	}
	dir := filepath.Join(data, "buckets", "console-recordings", *recorded.Composition.Destinations[0].Detail.S3.RecordingPrefix)
	waitFor(ctx, t, "two segments stored", func() bool { return countFiles(dir, ".ts") >= 2 })
	c.step(nil, "stopComposition")
	var played struct {
		Row, Detail   string
		Width, Height int
		Duration      float64
	}
	c.step(&played, "playRecording")
	t.Logf("recording: %+v", played)
	if !strings.Contains(played.Row, "stage console-stage (") {
		t.Errorf("the recording's row does not name its stage: %q", played.Row)
	}
	if played.Width != 640 || played.Height != 360 || played.Duration < 3 {
		t.Errorf("the recording plays %dx%d, %.1f s; want 640x360, several seconds", played.Width, played.Height, played.Duration)
	}
	if got := sample("#recVideo", centre(grid["bob"]), aliceAt); got[0] == [3]int{} && got[1] == [3]int{} {
		t.Errorf("the recording shows black at %v", got)
	}
	c.screenshot("recording")
	c.step(nil, "closeDialog")
	c.step(nil, "stopPublishing")
	waitFor(ctx, t, "alice to leave", func() bool {
		ps, err := srv.API.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stageARN), SessionId: session,
			FilterByUserId: aws.String("alice")})
		return err == nil && len(ps.Participants) == 1 && ps.Participants[0].State == "DISCONNECTED"
	})

	// A publication the server ends (DisconnectParticipant) ends in the
	// page too, which says so; signing out ends this browser's publication
	// (the sign-in page shows nothing of it).
	leaves := func(user string) {
		waitFor(ctx, t, user+" to leave", func() bool {
			ps, err := srv.API.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stageARN), SessionId: session,
				FilterByUserId: aws.String(user)})
			return err == nil && len(ps.Participants) == 1 && ps.Participants[0].State == "DISCONNECTED"
		})
	}
	c.step(nil, "join", quote(stageARN), quote("carol"), quote(""))
	carol, err := srv.API.ListParticipants(ctx, &ivsrealtime.ListParticipantsInput{StageArn: aws.String(stageARN), SessionId: session,
		FilterByUserId: aws.String("carol")})
	if err != nil || len(carol.Participants) != 1 {
		t.Fatalf("ListParticipants carol: %v %+v", err, carol)
	}
	if _, err := srv.API.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{StageArn: aws.String(stageARN),
		ParticipantId: carol.Participants[0].ParticipantId}); err != nil {
		t.Fatal(err)
	}
	var ended string
	c.step(&ended, "publishEnded")
	if !strings.Contains(ended, "disconnected by the server") {
		t.Errorf("the join page after the server disconnected the publisher: %q", ended)
	}
	c.step(nil, "join", quote(stageARN), quote("dave"), quote(""))
	var out struct{ Live bool }
	c.step(&out, "signOut")
	if out.Live {
		t.Error("the sign-in page shows this browser publishing")
	}
	leaves("dave")

	// Refusals: nothing without a session, no change without the CSRF token.
	do := func(cl *http.Client, method, path, body string, header map[string]string) int {
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	anon := &http.Client{}
	for _, p := range []string{"/console/session", "/console/recordings?storage=x"} {
		if st := do(anon, "GET", p, "", nil); st != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", p, st)
		}
	}
	if st := do(anon, "POST", "/console/api/ListStages", "{}", nil); st != http.StatusUnauthorized {
		t.Errorf("ListStages without a session: %d, want 401", st)
	}
	jar, _ := cookiejar.New(nil)
	user := &http.Client{Jar: jar}
	if st := do(user, "POST", "/console/signin", `{"accessKeyId":"`+devAccessKeyID+`","secretAccessKey":"`+devSecretAccessKey+`"}`, nil); st != http.StatusOK {
		t.Fatalf("sign-in: %d", st)
	}
	for _, h := range []map[string]string{nil, {"X-CSRF-Token": "wrong"}} {
		if st := do(user, "POST", "/console/api/DeleteStage", `{"arn":"`+stageARN+`"}`, h); st != http.StatusForbidden {
			t.Errorf("DeleteStage with CSRF token %q: %d, want 403", h["X-CSRF-Token"], st)
		}
	}
	if _, err := srv.API.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: aws.String(stageARN)}); err != nil {
		t.Errorf("the stage after the refused deletes: %v", err)
	}
}
