// Package browsertest drives pages in a real headless Chromium from Go tests
// and checks them with axe-core, the accessibility engine, against the WCAG
// 2.1 A and AA rules. The pages of the service and the SCORM player are
// tested through it.
//
//	b := browsertest.Start(t)          // one Chromium for the test
//	tab := b.NewTab(t)                 // its own cookies and cache
//	tab.SetLanguage("nb-NO", "nb")     // Accept-Language (default en-US)
//	tab.Open(srv.URL + "/login")       // fails the test on a navigation error
//	tab.SetValue("#username", "kari")
//	tab.Click("button[type=submit]")   // waits for the page it leads to
//	tab.CheckAccessibility()           // fails on any WCAG 2.1 A/AA violation
//	if p := tab.Problems(); len(p) > 0 { t.Errorf(...) } // console errors, CSP refusals
//
// Chromium is the Debian package (/usr/bin/chromium, or the binary that
// LRS_CHROMIUM names), started with a fresh profile and with every
// background service off (no network but the pages'), so that it runs on a
// closed machine. axe-core comes from npm: the version pinned in this
// directory's package-lock.json, installed with `npm ci` into node_modules
// here on first use (node_modules is not committed).
//
// Without Chromium, Node.js or npm, a test calling Start fails when the
// environment variable CI is set (CI must run these tests) and is skipped
// otherwise, with a message saying what to install.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ActionTimeout bounds each step a Tab takes (a navigation, a click and the
// page it leads to, an accessibility check).
const ActionTimeout = 30 * time.Second

// WCAGTags are the axe-core rule tags CheckAccessibility runs: WCAG 2.0
// and 2.1, levels A and AA.
var WCAGTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// need stops the test for want of a tool: a failure on CI, a skip elsewhere.
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so the browser tests must run)", msg)
	}
	t.Skipf("%s; skipping the browser test (it fails instead when CI is set)", msg)
}

// ChromiumPath returns the Chromium binary: LRS_CHROMIUM if set, else
// chromium (or chromium-browser) on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("LRS_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	var err error
	for _, name := range []string{"chromium", "chromium-browser"} {
		var p string
		if p, err = exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", err
}

// Browser is a headless Chromium running for a test.
type Browser struct {
	ctx context.Context // the first tab's: it owns the browser
}

// Start starts Chromium; it stops when the test ends. Without Chromium,
// Node.js or npm (axe-core is installed with npm) the test is skipped, or
// fails when CI is set.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := ChromiumPath()
	if err != nil {
		need(t, "Chromium is not installed (apt-get install chromium, or set LRS_CHROMIUM): %v", err)
	}
	axeSource(t) // installs axe-core before the browser starts, or skips
	var output lockedBuffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&output),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium (%s): %v\n--- its output ---\n%s", path, err, output.String())
	}
	return &Browser{ctx: ctx}
}

// Tab is a browser tab with a browser context of its own (its own cookies,
// storage and cache, like a private window), whose steps fail the test
// that opened it.
type Tab struct {
	t         testing.TB
	ctx       context.Context
	downloads string

	mu       sync.Mutex
	problems []string
	flushes  int                      // markers written so far
	waiting  map[string]chan struct{} // marker text → closed when seen
}

// flushMarker starts the console messages that Problems writes to know that
// every message before it has arrived.
const flushMarker = "browsertest-flush-"

// NewTab opens a tab in a new browser context; it closes when the test
// ends.
func (b *Browser) NewTab(t testing.TB) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	p := &Tab{t: t, ctx: ctx, downloads: t.TempDir(), waiting: map[string]chan struct{}{}}
	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		DownloadPath: p.downloads, EventsEnabled: &yes}); err != nil {
		t.Fatalf("allowing downloads: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// The browser asks for /favicon.ico of its own accord; a page
			// need not have one.
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			if strings.HasPrefix(m.Text, flushMarker) {
				p.mu.Lock()
				if c, ok := p.waiting[m.Text]; ok {
					close(c)
					delete(p.waiting, m.Text)
				}
				p.mu.Unlock()
				continue
			}
			if m.Type == "error" || m.IsException() || m.Source == "security" {
				p.mu.Lock()
				p.problems = append(p.problems, fmt.Sprintf("%s %s (%s)", m.Type, m.Text, m.URL))
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// SetLanguage makes the tab ask for pages in the languages given, most
// wanted first ("nb-NO", "nb", "en"): Chromium sends them in
// Accept-Language with falling q-values. Headless Chromium asks for en-US
// otherwise.
func (p *Tab) SetLanguage(langs ...string) {
	acceptLanguage := strings.Join(langs, ",")
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err == nil {
		_, err = chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: v.UserAgent, AcceptLanguage: acceptLanguage})
	}
	if err != nil {
		p.t.Fatalf("setting the language: %v", err)
	}
}

// Context returns the tab's chromedp context, for actions the Tab has no
// method for (chromedp.Run(tab.Context(), ...)).
func (p *Tab) Context() context.Context { return p.ctx }

// step runs a with the ActionTimeout, failing the test on an error.
func step[T any](p *Tab, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v (page %s)", what, err, p.URL())
	}
	return v
}

// Open navigates to url and returns the HTTP status of the page (after
// redirects).
func (p *Tab) Open(url string) int {
	p.t.Helper()
	return p.respond("opening "+url, chromedp.Navigate(url))
}

// respond runs an action that leads to a page and returns its status.
func (p *Tab) respond(what string, a chromedp.Action[chromedp.Void]) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	if res == nil {
		p.t.Fatalf("%s: no page loaded", what)
	}
	return int(res.Status)
}

// Click clicks the first element sel (CSS) matches and waits for the page
// it leads to; it returns that page's HTTP status.
func (p *Tab) Click(sel string) int {
	p.t.Helper()
	return p.respond("clicking "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Press clicks the first element sel (CSS) matches, for what changes the
// page without loading another (a details element's summary).
func (p *Tab) Press(sel string) {
	p.t.Helper()
	step(p, "pressing "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// SetValue sets the value of the form field sel (CSS) matches.
func (p *Tab) SetValue(sel, value string) {
	p.t.Helper()
	step(p, "setting "+sel, chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeReady))
}

// Text returns the text of the first element sel (CSS) matches, as shown.
func (p *Tab) Text(sel string) string {
	p.t.Helper()
	return step(p, "reading "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
}

// Count returns how many elements sel (CSS) matches now.
func (p *Tab) Count(sel string) int {
	p.t.Helper()
	b, _ := json.Marshal(sel)
	return step(p, "counting "+sel, chromedp.Evaluate[int]("document.querySelectorAll("+string(b)+").length"))
}

// Eval returns the value of the JavaScript expression expr in the tab's
// page.
func Eval[T any](p *Tab, expr string) T {
	p.t.Helper()
	return step(p, "evaluating "+expr, chromedp.Evaluate[T](expr))
}

// Screenshot returns a PNG of the whole page, laid out width CSS pixels
// wide.
func (p *Tab) Screenshot(width int64) []byte {
	p.t.Helper()
	step(p, "sizing the window", chromedp.EmulateViewport(width, 800))
	return step(p, "taking a screenshot", chromedp.FullScreenshot(100))
}

// Attr returns the value of attribute name of the first element sel (CSS)
// matches ("" when it has none).
func (p *Tab) Attr(sel, name string) string {
	p.t.Helper()
	r := step(p, "reading "+sel+"["+name+"]", chromedp.AttributeValue(chromedp.CSS(sel), name, chromedp.NodeReady))
	return r.Value
}

// URL returns the address of the page shown ("" if it cannot be read).
func (p *Tab) URL() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Location())
	return u
}

// Cookies returns the cookies the tab holds for url.
func (p *Tab) Cookies(url string) []*network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		p.t.Fatalf("reading cookies: %v", err)
	}
	return res.Cookies
}

// Problems returns what the pages opened so far reported on the console:
// errors, uncaught exceptions, and the browser's security messages (a
// style or script the Content-Security-Policy refused). The browser reports
// them asynchronously, so Problems first writes a marker to the console
// from a task queued after the page's own and waits until the marker has
// come through: every message the page wrote before it has then arrived.
func (p *Tab) Problems() []string {
	p.t.Helper()
	p.mu.Lock()
	p.flushes++
	marker := fmt.Sprintf("%s%d", flushMarker, p.flushes)
	seen := make(chan struct{})
	p.waiting[marker] = seen
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	js := fmt.Sprintf(`new Promise(r => setTimeout(() => { console.debug(%q); r(true) }, 0))`, marker)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil {
		p.t.Fatalf("flushing the console: %v", err)
	}
	select {
	case <-seen:
	case <-ctx.Done():
		p.t.Fatalf("the console marker %s did not come through", marker)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// ResetProblems forgets the problems reported so far (after a page that
// was meant to fail, such as a 403, which the console notes as an error).
func (p *Tab) ResetProblems() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = nil
}

// Download clicks the link or button sel (CSS) matches, waits for the file
// it downloads, and returns the file's suggested name and content.
func (p *Tab) Download(sel string) (name string, data []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, ActionTimeout)
	defer cancel()
	begins := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("clicking %s: %v", sel, err)
	}
	var guid string
	for ev, err := range begins {
		if err != nil {
			p.t.Fatalf("clicking %s started no download: %v", sel, err)
		}
		guid, name = ev.GUID, ev.SuggestedFilename
		break
	}
	for ev, err := range progress {
		if err != nil {
			p.t.Fatalf("downloading %s: %v", name, err)
		}
		if ev.GUID != guid {
			continue
		}
		switch ev.State {
		case browser.DownloadProgressStateCanceled:
			p.t.Fatalf("the download of %s was canceled", name)
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(p.downloads, guid))
			if err != nil {
				p.t.Fatalf("reading the download %s: %v", name, err)
			}
			return name, b
		}
	}
	panic("unreachable")
}

// Violation is one axe-core rule a page breaks, with the elements that
// break it.
type Violation struct {
	ID          string   `json:"id"`
	Impact      string   `json:"impact"`
	Description string   `json:"description"`
	HelpURL     string   `json:"helpUrl"`
	Tags        []string `json:"tags"`
	Nodes       []struct {
		Target         []any  `json:"target"`
		HTML           string `json:"html"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n  %s", v.ID, v.Impact, v.Description, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n  - %v %s\n    %s", n.Target, n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", "\n    "))
	}
	return b.String()
}

// Axe runs axe-core on the page shown with the rules tagged tags (WCAGTags
// when none are given) and returns the violations.
func (p *Tab) Axe(tags ...string) []Violation {
	p.t.Helper()
	if len(tags) == 0 {
		tags = WCAGTags
	}
	src := axeSource(p.t)
	opts, _ := json.Marshal(map[string]any{"runOnly": map[string]any{"type": "tag", "values": tags},
		"resultTypes": []string{"violations"}})
	// Runtime.evaluate is not subject to the page's Content-Security-Policy,
	// so axe runs on pages that allow no script at all.
	step(p, "loading axe-core", chromedp.Evaluate[chromedp.Void](src))
	raw := step(p, "running axe-core", chromedp.Evaluate[[]byte](
		"axe.run(document, "+string(opts)+").then(r => JSON.stringify(r.violations))", chromedp.EvalAwaitPromise))
	var s string
	var vs []Violation
	if err := json.Unmarshal(raw, &s); err != nil {
		p.t.Fatalf("reading axe-core's result: %v", err)
	}
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		p.t.Fatalf("reading axe-core's violations: %v", err)
	}
	return vs
}

// CheckAccessibility fails the test when the page shown breaks any WCAG
// 2.1 A or AA rule axe-core checks, listing each violation.
func (p *Tab) CheckAccessibility() {
	p.t.Helper()
	vs := p.Axe()
	if len(vs) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("\n" + v.String())
	}
	p.t.Errorf("%s breaks %d WCAG 2.1 A/AA rules:%s", p.URL(), len(vs), b.String())
}

var axe struct {
	once sync.Once
	src  string
	err  error
	skip string // why the tools are missing
}

// axeSource returns the source of axe.min.js, installing the pinned
// axe-core with npm ci on first use.
func axeSource(t testing.TB) string {
	t.Helper()
	axe.once.Do(func() {
		if _, err := exec.LookPath("npm"); err != nil {
			axe.skip = "npm is not installed (axe-core, which checks accessibility, comes from npm): " + err.Error()
			return
		}
		dir, err := moduleDir()
		if err == nil {
			err = install(dir)
		}
		if err == nil {
			var b []byte
			b, err = os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
			axe.src = string(b)
		}
		axe.err = err
	})
	if axe.skip != "" {
		need(t, "%s", axe.skip)
	}
	if axe.err != nil {
		t.Fatalf("installing axe-core: %v", axe.err)
	}
	return axe.src
}

// moduleDir returns the directory of this package's source, which holds
// package.json and package-lock.json.
func moduleDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot find the source of package browsertest")
	}
	return filepath.Dir(file), nil
}

// install runs `npm ci` when node_modules in dir is missing or older than
// package-lock.json. It installs into a directory of its own and renames
// it into place, so that test binaries of several packages starting at
// once never see a half-made node_modules.
func install(dir string) error {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	target := filepath.Join(dir, "node_modules")
	fresh := func() bool {
		inst, err := os.Stat(filepath.Join(target, ".package-lock.json"))
		return err == nil && !inst.ModTime().Before(lock.ModTime())
	}
	if fresh() {
		return nil
	}
	tmp, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, f), b, 0o644)
		}
		if err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
	}
	if fresh() { // another test binary was quicker
		return nil
	}
	os.RemoveAll(target)
	if err := os.Rename(filepath.Join(tmp, "node_modules"), target); err != nil && !fresh() {
		return err
	}
	return nil
}

// lockedBuffer collects the browser's output, written from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
