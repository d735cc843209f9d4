package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for sessions and the sign-in limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Every console endpoint but the page, its assets and sign-in needs a
// session: 401 with a JSON message.
func TestEndpointsNeedSession(t *testing.T) {
	e := startEnv(t, Config{})
	b := e.browser(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/console/session"}, {"POST", "/console/signout"}, {"POST", "/console/api/ListStages"},
		{"POST", "/console/api/CreateStage"}, {"GET", "/console/api/ListStages"}, {"GET", "/console/stats?stageArn=x"},
		{"GET", "/console/other"}, {"DELETE", "/console/session"},
	} {
		code, h, body := b.do(r.method, r.path, map[string]any{})
		var msg struct{ Message string }
		if code != http.StatusUnauthorized || h.Get("Content-Type") != "application/json" || json.Unmarshal(body, &msg) != nil || msg.Message == "" {
			t.Errorf("%s %s: %d %s %s, want 401 with a JSON message", r.method, r.path, code, h.Get("Content-Type"), body)
		}
	}
	for _, path := range []string{"/", "/console/assets/console.js", "/console/assets/console.css", "/console/signin"} {
		if code, _, _ := b.do("GET", path, nil); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, code)
		}
	}
	// The page names its icon, which is also where browsers look without
	// one.
	if _, _, page := b.do("GET", "/", nil); !strings.Contains(string(page), `<link rel="icon" href="/console/assets/icon.svg"`) {
		t.Error("the page names no icon")
	}
	for _, path := range []string{"/console/assets/icon.svg", "/favicon.ico"} {
		if code, h, body := b.do("GET", path, nil); code != http.StatusOK || h.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(body), "<svg") {
			t.Errorf("GET %s: %d %s, want the SVG icon", path, code, h.Get("Content-Type"))
		}
	}
	// The API keeps its own routes: an unsigned call is the API's 403.
	if code, h, _ := b.do("POST", "/ListStages", map[string]any{}); code != http.StatusForbidden || h.Get("X-Amzn-Errortype") == "" {
		t.Errorf("POST /ListStages unsigned: %d %v, want the API's refusal", code, h)
	}
}

// A POST needs the session's CSRF token in X-CSRF-Token.
func TestCSRF(t *testing.T) {
	e := startEnv(t, Config{})
	b := e.browser(t).mustSignIn()
	token := b.csrf
	for _, bad := range []string{"", "x", strings.ToUpper(token), token + "x"} {
		b.csrf = bad
		for _, path := range []string{"/console/api/ListStages", "/console/signout"} {
			if code, _, body := b.do("POST", path, map[string]any{}); code != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d %s, want 403", path, bad, code, body)
			}
		}
	}
	// Another session's token does not do either.
	other := e.browser(t).mustSignIn()
	b.csrf = other.csrf
	if code, _, _ := b.do("POST", "/console/api/ListStages", map[string]any{}); code != http.StatusForbidden {
		t.Errorf("another session's token: %d, want 403", code)
	}
	b.csrf = token
	if code, _, body := b.do("POST", "/console/api/ListStages", map[string]any{}); code != http.StatusOK {
		t.Errorf("with the token: %d %s", code, body)
	}
}

func TestSignInRefused(t *testing.T) {
	e := startEnv(t, Config{})
	b := e.browser(t)
	for _, c := range [][2]string{{testKeyID, "wrong"}, {testKeyID, ""}, {"AKIAUNKNOWN000000000", testSecret}, {"", ""}, {testKeyID, testSecret + "x"}} {
		code, h, _ := b.do("POST", "/console/signin", map[string]string{"accessKeyId": c[0], "secretAccessKey": c[1]})
		if code != http.StatusUnauthorized || h.Get("Set-Cookie") != "" {
			t.Errorf("%q: %d (cookie %q), want 401 and no cookie", c, code, h.Get("Set-Cookie"))
		}
	}
	// Not JSON (what a cross-site form posts) is refused before checking.
	resp, err := http.Post(e.url+"/console/signin", "application/x-www-form-urlencoded", strings.NewReader(`{"accessKeyId":"`+testKeyID+`","secretAccessKey":"`+testSecret+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("form post: %d, want 400", resp.StatusCode)
	}
}

func TestSignInRateLimited(t *testing.T) {
	e := startEnv(t, Config{SignInAttempts: 3})
	clk := &clock{t: time.Unix(1e9, 0)}
	e.con.limiter.now = clk.now
	b := e.browser(t)
	for i := range 3 {
		if code := b.signIn(testKeyID, "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, code)
		}
	}
	code, h, _ := b.do("POST", "/console/signin", map[string]string{"accessKeyId": testKeyID, "secretAccessKey": testSecret})
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "60" {
		t.Fatalf("fourth attempt (right secret): %d Retry-After %q, want 429 and 60", code, h.Get("Retry-After"))
	}
	clk.add(59 * time.Second)
	if code := b.signIn(testKeyID, testSecret); code != http.StatusTooManyRequests {
		t.Fatalf("59 s later: %d, want 429", code)
	}
	clk.add(time.Second)
	if code := b.signIn(testKeyID, testSecret); code != http.StatusOK {
		t.Fatalf("a minute later: %d, want 200", code)
	}
}

func TestSessionExpires(t *testing.T) {
	e := startEnv(t, Config{SessionTTL: time.Hour})
	clk := &clock{t: time.Unix(1e9, 0)}
	e.con.sessions.now = clk.now
	b := e.browser(t).mustSignIn()
	clk.add(time.Hour - time.Second)
	if code, _, _ := b.do("GET", "/console/session", nil); code != http.StatusOK {
		t.Fatalf("before expiry: %d", code)
	}
	clk.add(time.Second)
	if code, _, _ := b.do("POST", "/console/api/ListStages", map[string]any{}); code != http.StatusUnauthorized {
		t.Fatalf("at expiry: %d, want 401", code)
	}
}

// The oldest session gives way when MaxSessions are open.
func TestSessionCap(t *testing.T) {
	e := startEnv(t, Config{MaxSessions: 2})
	clk := &clock{t: time.Unix(1e9, 0)}
	e.con.sessions.now = clk.now
	var bs []*browser
	for range 3 {
		bs = append(bs, e.browser(t).mustSignIn())
		clk.add(time.Second)
	}
	for i, want := range []int{401, 200, 200} {
		if code, _, _ := bs[i].do("GET", "/console/session", nil); code != want {
			t.Errorf("session %d: %d, want %d", i, code, want)
		}
	}
	if n := len(e.con.sessions.m); n != 2 {
		t.Errorf("%d sessions held, want 2", n)
	}
}

func TestSignOut(t *testing.T) {
	e := startEnv(t, Config{})
	b := e.browser(t).mustSignIn()
	code, h, _ := b.do("POST", "/console/signout", nil)
	if code != http.StatusOK || !strings.Contains(h.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign-out: %d %q", code, h.Get("Set-Cookie"))
	}
	if code, _, _ := b.do("GET", "/console/session", nil); code != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", code)
	}
}

// The session cookie: HttpOnly, SameSite=Strict, a 256-bit id, Secure when
// the request came over TLS or with SecureCookies.
func TestCookieFlags(t *testing.T) {
	e := startEnv(t, Config{})
	behindProxy := New(Config{API: e.api, SecureCookies: true, Logger: quietLogger()})
	for _, tc := range []struct {
		con             *Console
		tls, wantSecure bool
	}{{e.con, false, false}, {e.con, true, true}, {behindProxy, false, true}} {
		tls := tc.tls
		target := "http://127.0.0.1/console/signin"
		if tls {
			target = "https://127.0.0.1/console/signin" // httptest sets the request's TLS state
		}
		req := httptest.NewRequest("POST", target, strings.NewReader(`{"accessKeyId":"`+testKeyID+`","secretAccessKey":"`+testSecret+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		tc.con.ServeHTTP(rec, req)
		cookies := rec.Result().Cookies()
		if rec.Code != http.StatusOK || len(cookies) != 1 {
			t.Fatalf("tls %v: %d, cookies %v", tls, rec.Code, cookies)
		}
		c := cookies[0]
		if c.Name != cookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != tc.wantSecure || len(c.Value) != 43 {
			t.Errorf("tls %v: cookie %s", tls, rec.Header().Get("Set-Cookie"))
		}
	}
}

// GET /console/signin names the development credentials only when the
// server runs with them.
func TestDevelopmentHint(t *testing.T) {
	for _, dev := range []*Credentials{nil, {AccessKeyID: testKeyID, SecretAccessKey: testSecret}} {
		e := startEnv(t, Config{Development: dev})
		_, _, body := e.browser(t).do("GET", "/console/signin", nil)
		var info struct{ Development *Credentials }
		if err := json.Unmarshal(body, &info); err != nil {
			t.Fatal(err)
		}
		if (info.Development == nil) != (dev == nil) || dev != nil && *info.Development != *dev {
			t.Errorf("development %v: answered %s", dev, body)
		}
	}
}
