package integration

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// A real browser, driven through the DevTools protocol over a pipe
// (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4), so that a test sees
// every request a page makes (Network.requestWillBeSent), what the page shows (the
// computed style of its elements) and a screenshot, with no port of its own.

// needChromium returns the path of Debian's chromium (MATRIX_CHROMIUM overrides), or
// skips the test; in CI (CI or MATRIX_REQUIRE_CHROMIUM set) a missing browser fails it.
// scripts/setup.sh installs it.
func needChromium(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser"}
	if p := os.Getenv("MATRIX_CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("MATRIX_REQUIRE_CHROMIUM") != "" {
		t.Fatalf("chromium needed (scripts/setup.sh installs Debian's chromium): none of %v on PATH", names)
	}
	t.Skipf("no chromium on PATH (%v); scripts/setup.sh installs it", names)
	return ""
}

// cdpMessage is a DevTools protocol message: a call's answer (ID) or an event (Method).
type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// browser is one headless chromium process.
type browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpMessage
	events  chan cdpMessage
	ended   chan struct{}
}

// startBrowser starts chromium headless as root can run it (no sandbox, no GPU, no
// background networking, a fresh profile), every proxy request sent to a closed port
// and every host name unresolvable: nothing the page might ask for can reach a network.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	cmdIn, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, cmdOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe",
		"--proxy-server=http://"+closed, "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND",
		"about:blank")
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut} // fds 3 and 4
	stderr, err := os.CreateTemp(t.TempDir(), "chromium-stderr")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	cmdIn.Close()
	cmdOut.Close()
	b := &browser{cmd: cmd, in: in, pending: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 100000), ended: make(chan struct{})}
	go b.read(out)
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			data, _ := os.ReadFile(stderr.Name())
			t.Logf("chromium's stderr:\n%s", data)
		}
	})
	return b
}

func (b *browser) read(out io.ReadCloser) {
	defer close(b.ended)
	defer out.Close()
	r := bufio.NewReaderSize(out, 1<<20)
	for {
		data, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(data[:len(data)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.pending[m.ID]
			delete(b.pending, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case b.events <- m:
		default: // a test that needs an event waits for it long before 100,000
		}
	}
}

// call sends method to the session ("" for the browser) and decodes its result.
func (b *browser) call(ctx context.Context, session, method string, params, result any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-b.ended:
		return fmt.Errorf("%s: chromium ended", method)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// renderedCell is a grid cell as the browser shows it.
type renderedCell struct {
	State      string `json:"state"`
	Cell       string `json:"cell"`
	Background string `json:"background"`
	Visible    bool   `json:"visible"`
}

// rendered is what loading one page gave.
type rendered struct {
	requests []string // every request the page made, the page itself first
	cells    []renderedCell
	png      []byte
	load     time.Duration // from navigating to the load event
	shown    time.Duration // to the screenshot taken (the page laid out and painted)
	// metrics are the renderer's own (Performance.getMetrics), in seconds for the
	// durations: TaskDuration, LayoutDuration, RecalcStyleDuration; less bent by a busy
	// machine than the wall-clock times above.
	metrics map[string]float64
}

// cellsScript lists the report's cells with their computed background. DevTools
// evaluates it; the page itself has no script.
const cellsScript = `JSON.stringify(Array.from(document.querySelectorAll("[data-state]"), e => {
  const r = e.getBoundingClientRect();
  return {state: e.dataset.state, cell: e.dataset.cell, background: getComputedStyle(e).backgroundColor, visible: r.width > 0 && r.height > 0};
}))`

// render loads the file at path in a new tab of width x height and returns what the
// browser saw.
func (b *browser) render(ctx context.Context, path string, width, height int) (*rendered, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	defer b.call(context.WithoutCancel(ctx), "", "Target.closeTarget", map[string]any{"targetId": target.TargetID}, nil)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	s := attached.SessionID
	for _, m := range []string{"Network.enable", "Page.enable", "Performance.enable"} {
		if err := b.call(ctx, s, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := b.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}
	r := &rendered{}
	start := time.Now()
	if err := b.call(ctx, s, "Page.navigate", map[string]any{"url": "file://" + path}, nil); err != nil {
		return nil, err
	}
	collect := func(m cdpMessage) {
		if m.SessionID == s && m.Method == "Network.requestWillBeSent" {
			var p struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			json.Unmarshal(m.Params, &p)
			r.requests = append(r.requests, p.Request.URL)
		}
	}
	for loaded := false; !loaded; {
		select {
		case m := <-b.events:
			collect(m)
			loaded = m.SessionID == s && m.Method == "Page.loadEventFired"
		case <-b.ended:
			return nil, errors.New("chromium ended before the page loaded")
		case <-ctx.Done():
			return nil, fmt.Errorf("loading %s: %w", path, ctx.Err())
		}
	}
	r.load = time.Since(start)
	var shot struct {
		Data string `json:"data"`
	}
	if err := b.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		return nil, err
	}
	r.shown = time.Since(start)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return nil, err
	}
	r.png = png
	var eval struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	if err := b.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": cellsScript, "returnByValue": true}, &eval); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(eval.Result.Value), &r.cells); err != nil {
		return nil, fmt.Errorf("the cells: %w: %q", err, eval.Result.Value)
	}
	var perf struct {
		Metrics []struct {
			Name  string  `json:"name"`
			Value float64 `json:"value"`
		} `json:"metrics"`
	}
	if err := b.call(ctx, s, "Performance.getMetrics", nil, &perf); err != nil {
		return nil, err
	}
	r.metrics = map[string]float64{}
	for _, m := range perf.Metrics {
		r.metrics[m.Name] = m.Value
	}
	// Whatever else arrived for the page by now counts too.
	for {
		select {
		case m := <-b.events:
			collect(m)
		default:
			return r, nil
		}
	}
}
