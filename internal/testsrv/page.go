package testsrv

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ScreenshotTimeout bounds one Screenshot: starting the browser, loading
// the page, waiting for it to be ready and capturing it.
const ScreenshotTimeout = 60 * time.Second

// Screenshot opens url in a fresh headless Chromium (OpenPage), waits
// until the JavaScript expression ready is true in the page ("" waits for
// the load to complete), then for settle more, and writes a PNG of the
// page to out. Unlike Chromium's --screenshot, it captures the page as it
// runs in real time, so video that is playing shows.
func Screenshot(t testing.TB, url string, width, height int, ready string, settle time.Duration, out string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ScreenshotTimeout)
	defer cancel()
	p, err := OpenPage(t, url, width, height)
	if err != nil {
		return err
	}
	defer p.Close()
	if ready == "" {
		ready = `document.readyState === "complete"`
	}
	if err := p.Wait(ctx, ready); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settle):
	}
	return p.Screenshot(ctx, out)
}

// Page is one page in a headless Chromium of its own, driven over the
// DevTools protocol on a pipe (--remote-debugging-pipe: file descriptors
// 3 and 4), so no port is opened. Tests evaluate JavaScript in it, wait
// for conditions and capture it.
type Page struct {
	t        testing.TB
	c        *devtools
	proc     *process
	unshared bool
	session  string
	close    func()
	once     sync.Once
}

// OpenPage starts headless Chromium (chromiumFlags: the fake camera and
// microphone, loopback WebRTC) with a width×height viewport showing url.
// It is closed by Close or t.Cleanup. With -short it skips the test.
func OpenPage(t testing.TB, url string, width, height int) (*Page, error) {
	t.Helper()
	skipShort(t, "Chromium")
	if err := fileExists(ChromiumBinary, "chromium"); err != nil {
		return nil, err
	}
	toChrome, ours, err := os.Pipe() // Chromium reads commands on fd 3
	if err != nil {
		return nil, err
	}
	fromChrome, theirs, err := os.Pipe() // and writes answers on fd 4
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	args := append([]string{}, chromiumFlags...)
	args = append(args, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), "--hide-scrollbars",
		"--remote-debugging-pipe", "--user-data-dir="+filepath.Join(dir, "profile"), "about:blank")
	unshared := canUnshare()
	proc, err := startChromium(dir, args, unshared, toChrome, theirs)
	toChrome.Close() // the browser's ends
	theirs.Close()
	if err != nil {
		ours.Close()
		fromChrome.Close()
		return nil, fmt.Errorf("testsrv: starting %s: %w", ChromiumBinary, err)
	}
	p := &Page{t: t, c: &devtools{w: ours, answers: map[int]chan devtoolsAnswer{}}, proc: proc, unshared: unshared}
	go p.c.read(fromChrome)
	p.close = func() {
		ours.Close()
		if err := stopGroup(proc, unshared); err != nil {
			t.Errorf("testsrv: page: %v", err)
		}
		fromChrome.Close()
	}
	t.Cleanup(p.Close)
	ctx, cancel := context.WithTimeout(context.Background(), ScreenshotTimeout)
	defer cancel()
	var target struct{ TargetID string }
	if err := p.c.call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		p.Close()
		return nil, err
	}
	var attached struct{ SessionID string }
	if err := p.c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		p.Close()
		return nil, err
	}
	p.session = attached.SessionID
	if err := p.c.call(ctx, p.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, &struct{}{}); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close stops the browser; it may be called more than once.
func (p *Page) Close() { p.once.Do(p.close) }

// Output returns the browser's last output lines.
func (p *Page) Output() string {
	return (&Chromium{proc: p.proc}).Output()
}

// Eval evaluates a JavaScript expression in the page, awaiting it if it
// is a promise, and decodes its value (JSON) into out (nil: dropped). A
// thrown exception is an error with its text.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage
		}
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	if err := p.c.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res); err != nil {
		return err
	}
	if e := res.ExceptionDetails; e != nil {
		msg := e.Exception.Description
		if msg == "" {
			msg = e.Text
		}
		return fmt.Errorf("testsrv: page: %s", msg)
	}
	if out == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// Wait polls the JavaScript expression cond every 100 ms until it is
// truthy, or ctx ends. An exception counts as false (the page may not be
// there yet); the last one is reported if the wait fails.
func (p *Page) Wait(ctx context.Context, cond string) error {
	var last error
	for {
		var ok bool
		err := p.Eval(ctx, "!!("+cond+")", &ok)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testsrv: page: waiting for %s: %w (last error: %v)", cond, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Screenshot writes a PNG of the page as it shows now to out.
func (p *Page) Screenshot(ctx context.Context, out string) error {
	var shot struct{ Data string }
	if err := p.c.call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return fmt.Errorf("testsrv: screenshot: %w", err)
	}
	return os.WriteFile(out, png, 0o644)
}

// devtools is a DevTools protocol client on Chromium's debugging pipe:
// JSON messages, each ended by a NUL byte.
type devtools struct {
	mu      sync.Mutex
	w       *os.File
	next    int
	answers map[int]chan devtoolsAnswer
}

type devtoolsAnswer struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// read hands every answer to the call waiting for it until the pipe
// closes; events are dropped.
func (c *devtools) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var a devtoolsAnswer
		if json.Unmarshal(msg[:len(msg)-1], &a) != nil || a.ID == 0 {
			continue
		}
		c.mu.Lock()
		ch := c.answers[a.ID]
		delete(c.answers, a.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
}

// call sends one command (to a page's session, or the browser with
// session "") and decodes its result into out.
func (c *devtools) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan devtoolsAnswer, 1)
	c.mu.Lock()
	c.next++
	id := c.next
	c.answers[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	_, err := c.w.Write(append(b, 0))
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("testsrv: devtools %s: %w", method, err)
	}
	select {
	case a := <-ch:
		if a.Error != nil {
			return fmt.Errorf("testsrv: devtools %s: %s", method, a.Error.Message)
		}
		return json.Unmarshal(a.Result, out)
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.answers, id)
		c.mu.Unlock()
		return fmt.Errorf("testsrv: devtools %s: %w", method, ctx.Err())
	}
}
