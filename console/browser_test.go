package console

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// driverReport is one step the driver script reports.
type driverReport struct {
	Step, Arn, Row, Detail, Page string
}

// drive serves the console page with testdata/driver.js added to it (at
// /test/console, with the console's own headers, so its Content Security
// Policy applies), and the routes the driver talks to: POST /test/report
// and GET /test/continue, which returns when the test calls resume.
func (e *env) drive(t *testing.T) (reports <-chan driverReport, resume func()) {
	t.Helper()
	e.withScript("/test/console", "testdata/driver.js")
	ch := make(chan driverReport, 16)
	e.mux.HandleFunc("POST /test/report", func(w http.ResponseWriter, r *http.Request) {
		var rep driverReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ch <- rep
	})
	gate := make(chan struct{})
	e.mux.HandleFunc("GET /test/continue", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	})
	return ch, func() {
		t.Helper()
		select {
		case gate <- struct{}{}:
		case <-time.After(60 * time.Second):
			t.Fatal("driver: it did not wait for the test within a minute")
		}
	}
}

// withScript serves the console page at path with the script file added
// to it, under the console's own headers (so its Content Security Policy
// applies).
func (e *env) withScript(path, file string) {
	script, err := os.ReadFile(file)
	e.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		e.con.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		_, _ = w.Write(bytes.Replace(rec.Body.Bytes(), []byte("</head>"), []byte(`<script src="`+path+`.js" defer></script></head>`), 1))
	})
	e.mux.HandleFunc("GET "+path+".js", func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(script)
	})
}

// A user, in headless Chromium, signs in with the development credentials
// the page shows, creates a stage, publishes the fake camera to it by WHIP
// with a user id and an attribute, sees the participant on the stage's
// page, creates an encoder and a storage configuration, starts a
// picture-in-picture composition recording with them, watches it live
// (WHEP), changes its layout to a grid, stops it, plays its recording
// (hls.js, through the console) and stops publishing.
// The signed API confirms each step.
func TestBrowser(t *testing.T) {
	e := startEnv(t, Config{Development: &Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}})
	reports, resume := e.drive(t)
	testsrv.StartChromium(t, e.url+"/test/console")
	var arn, compositionARN string
	defer func() {
		if t.Failed() {
			e.screenshots(t, arn, compositionARN)
		}
	}()
	next := func(want string) driverReport {
		t.Helper()
		select {
		case r := <-reports:
			if r.Step != want {
				t.Fatalf("driver: %s %s, want %s\npage:\n%s", r.Step, r.Detail, want, r.Page)
			}
			return r
		case <-time.After(60 * time.Second):
			t.Fatalf("driver: no %s report within a minute", want)
		}
		return driverReport{}
	}
	next("signed-in")
	arn = next("listed").Arn
	_, _, body := e.signed(t, "ListStages", `{}`)
	if !strings.Contains(string(body), arn) || !strings.Contains(string(body), `"name":"browser-stage"`) {
		t.Fatalf("ListStages: %s, want the stage the page created (%s)", body, arn)
	}
	next("connected")
	row := next("participant").Row
	t.Logf("participant row: %q", row)
	var got struct {
		Stage struct{ ActiveSessionID string }
	}
	_, _, body = e.signed(t, "GetStage", `{"arn":"`+arn+`"}`)
	if err := json.Unmarshal(body, &got); err != nil || got.Stage.ActiveSessionID == "" {
		t.Fatalf("GetStage: %s", body)
	}
	_, _, body = e.signed(t, "ListParticipants", `{"stageArn":"`+arn+`","sessionId":"`+got.Stage.ActiveSessionID+`"}`)
	var list struct {
		Participants []struct {
			ParticipantID, UserID, State string
			Published                    bool
		}
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Participants) != 1 {
		t.Fatalf("ListParticipants: %s", body)
	}
	p := list.Participants[0]
	if p.UserID != "alice" || p.State != "CONNECTED" || !p.Published {
		t.Errorf("participant %+v, want alice CONNECTED and published", p)
	}
	_, _, body = e.signed(t, "GetParticipant", `{"stageArn":"`+arn+`","sessionId":"`+got.Stage.ActiveSessionID+`","participantId":"`+p.ParticipantID+`"}`)
	if !strings.Contains(string(body), `"attributes":{"featured":"true"}`) {
		t.Errorf("GetParticipant: %s, want the attribute typed in the page", body)
	}
	// The console's stats name the publisher's codec and picture size.
	b := e.browser(t).mustSignIn()
	testsrv.WaitFor(t, 15*time.Second, "alice's video in /console/stats", func() bool {
		_, _, body := b.do("GET", "/console/stats?stageArn="+url.QueryEscape(arn), nil)
		var st struct{ Publishers []publisherStats }
		if err := json.Unmarshal(body, &st); err != nil || len(st.Publishers) != 1 {
			t.Fatalf("stats: %s", body)
		}
		s := st.Publishers[0]
		return s.ParticipantID == p.ParticipantID && s.Protocol == "WHIP" && s.VideoCodec != "" && s.Width > 0 && s.FramesDecoded > 0
	})
	resume()

	next("configured")
	_, _, body = e.signed(t, "ListEncoderConfigurations", `{}`)
	var encoders struct{ EncoderConfigurations []struct{ Arn, Name string } }
	if err := json.Unmarshal(body, &encoders); err != nil || len(encoders.EncoderConfigurations) != 1 || encoders.EncoderConfigurations[0].Name != "small" {
		t.Fatalf("ListEncoderConfigurations: %s", body)
	}
	encoderARN := encoders.EncoderConfigurations[0].Arn
	_, _, body = e.signed(t, "GetEncoderConfiguration", `{"arn":"`+encoderARN+`"}`)
	if !strings.Contains(string(body), `"video":{"width":640,"height":360,"framerate":15,"bitrate":800000}`) {
		t.Errorf("GetEncoderConfiguration: %s, want what the page's form said", body)
	}
	_, _, body = e.signed(t, "ListStorageConfigurations", `{}`)
	var storages struct {
		StorageConfigurations []struct {
			Arn, Name string
			S3        struct{ BucketName string }
		}
	}
	if err := json.Unmarshal(body, &storages); err != nil || len(storages.StorageConfigurations) != 1 ||
		storages.StorageConfigurations[0].S3.BucketName != "console-recordings" {
		t.Fatalf("ListStorageConfigurations: %s", body)
	}
	storageARN := storages.StorageConfigurations[0].Arn

	t.Logf("composition row: %q", next("composition").Row)
	_, _, body = e.signed(t, "ListCompositions", `{}`)
	var comps struct{ Compositions []struct{ Arn string } }
	if err := json.Unmarshal(body, &comps); err != nil || len(comps.Compositions) != 1 {
		t.Fatalf("ListCompositions: %s", body)
	}
	compositionARN = comps.Compositions[0].Arn
	_, _, body = e.signed(t, "GetComposition", `{"arn":"`+compositionARN+`"}`)
	var comp struct {
		Composition struct {
			StageArn string
			Layout   struct {
				Pip map[string]any
			}
			Destinations []struct {
				Configuration struct {
					S3 struct {
						StorageConfigurationArn  string
						EncoderConfigurationArns []string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(body, &comp); err != nil {
		t.Fatal(err)
	}
	c := comp.Composition
	pip := c.Layout.Pip
	if c.StageArn != arn || pip["pipPosition"] != "TOP_LEFT" || pip["featuredParticipantAttribute"] != "featured" || pip["gridGap"] != 4.0 ||
		pip["omitStoppedVideo"] != true || len(c.Destinations) != 1 || c.Destinations[0].Configuration.S3.StorageConfigurationArn != storageARN ||
		!slices.Equal(c.Destinations[0].Configuration.S3.EncoderConfigurationArns, []string{encoderARN}) {
		t.Errorf("GetComposition: %s, want the stage, layout and destination the page's form said", body)
	}
	if artifacts() {
		e.screenshots(t, arn, compositionARN) // with alice publishing and the composition running
	}
	resume()

	t.Logf("watched live: %s", next("watched").Detail)
	next("relaid")
	_, _, body = e.signed(t, "GetComposition", `{"arn":"`+compositionARN+`"}`)
	var relaid struct {
		Composition struct{ Layout map[string]map[string]any }
	}
	if err := json.Unmarshal(body, &relaid); err != nil {
		t.Fatal(err)
	}
	grid, ok := relaid.Composition.Layout["grid"]
	if !ok || len(relaid.Composition.Layout) != 1 || grid["featuredParticipantAttribute"] != "featured" || grid["gridGap"] != 8.0 || grid["omitStoppedVideo"] != true {
		t.Errorf("GetComposition after Change layout: %s, want a grid with the page's fields", body)
	}
	next("stopped")
	played := next("played")
	t.Logf("played the recording: %s (row %q)", played.Detail, played.Row)
	if !strings.Contains(played.Detail, "640x360") {
		t.Errorf("the recording played at %s, want the encoder configuration's 640x360", played.Detail)
	}
	next("done")
	testsrv.WaitFor(t, 15*time.Second, "alice to leave", func() bool {
		_, _, body := e.signed(t, "ListParticipants", `{"stageArn":"`+arn+`","sessionId":"`+got.Stage.ActiveSessionID+`"}`)
		return strings.Contains(string(body), `"state":"DISCONNECTED"`)
	})
}

// artifacts reports whether the test runs with -artifacts: then the
// browser test keeps screenshots of every page (while alice publishes and
// the composition runs), as it does when it fails.
func artifacts() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

// screenshots saves a 1280×800 screenshot of each page of the console,
// signed in, into the test's artifact directory; with a running
// composition, also of its Watch live and Change layout dialogs.
func (e *env) screenshots(t *testing.T, stageARN, compositionARN string) {
	id, _ := e.con.sessions.open(testKeyID)
	login := "/test/login/" + id
	e.mux.HandleFunc("GET "+login, func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	e.withScript("/test/"+id+"/click", "testdata/click.js")
	dir := t.ArtifactDir()
	pages := map[string]string{"signin": "", "stages": "/#/stages", "join": "/#/join", "compositions": "/#/compositions",
		"configurations": "/#/configurations", "recordings": "/#/recordings", "recording": "/test/" + id + "/click?button=play#/recordings"}
	if stageARN != "" {
		pages["stage"] = "/#/stage/" + stageARN
	}
	if compositionARN != "" {
		pages["watch"] = "/test/" + id + "/click?button=watch#/compositions"
		pages["layout"] = "/test/" + id + "/click?button=relayout#/compositions"
	}
	// Each page is captured once its content (or its playing video) shows.
	ready := map[string]string{
		"signin":    `document.querySelector("form")`,
		"watch":     `document.querySelector("#liveVideo") && document.querySelector("#liveVideo").currentTime > 1`,
		"layout":    `document.querySelector("#newLayoutKind")`,
		"recording": `document.querySelector("#recVideo") && document.querySelector("#recVideo").currentTime > 1`,
	}
	for name, to := range pages {
		target := e.url + login + "?to=" + url.QueryEscape(to)
		if name == "signin" {
			target = e.url + "/"
		}
		cond := ready[name]
		if cond == "" {
			cond = `document.querySelector("main h1")`
		}
		out := filepath.Join(dir, name+".png")
		if err := testsrv.Screenshot(t, target, 1280, 800, cond, time.Second, out); err != nil {
			t.Logf("screenshot of %s: %v", name, err)
			continue
		}
		t.Logf("screenshot of the %s page: %s", name, out)
	}
}
