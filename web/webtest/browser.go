// Package webtest drives the operator map in a headless Chromium for
// tests (github.com/chromedp/chromedp): a fresh profile per Browser,
// console errors and exceptions recorded, screenshots saved.
package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath returns the path of Chromium or Chrome, "" if none.
func ChromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RequireChromium returns Chromium's path, skipping the test without it,
// except with CI=true, where a missing Chromium fails the test.
func RequireChromium(t testing.TB) string {
	t.Helper()
	p := ChromiumPath()
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is required in CI (apt-get install chromium)")
		}
		t.Skip("no Chromium: install Debian's chromium to run the browser tests")
	}
	return p
}

// ArtifactDir is where screenshots go: $CENTINELA_ARTIFACTS if set, else a
// temporary directory of the test.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("CENTINELA_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Browser is one headless Chromium with a fresh profile in lang ("en",
// "es"), recording console errors and exceptions.
type Browser struct {
	t     testing.TB
	ctx   context.Context
	Shots string

	mu     sync.Mutex
	errors []string
}

// New starts Chromium at path; it is stopped at the test's cleanup.
func New(t testing.TB, path, lang string) *Browser {
	t.Helper()
	// Chromium may still write to its profile as it exits: the test's own
	// TempDir cleanup would race with it, so the profile is removed here,
	// after the browser has been stopped, retrying for a moment.
	profile, err := os.MkdirTemp("", "centinela-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", lang), chromedp.Flag("accept-lang", lang),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1400, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel()
		for i := 0; ; i++ {
			err := os.RemoveAll(profile)
			if err == nil {
				return
			}
			if i == 50 {
				t.Logf("remove the browser profile: %v", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	b := &Browser{t: t, ctx: ctx, Shots: ArtifactDir(t)}
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				msg = "log: " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.errors = append(b.errors, msg)
			b.mu.Unlock()
		}
	})
	locale := map[string]string{"en": "en-US", "es": "es-MX"}[lang]
	if locale == "" {
		locale = lang
	}
	if err := chromedp.Run(ctx, cdplog.Enable(), runtime.Enable(), emulation.SetLocaleOverride().WithLocale(locale)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// Run runs actions, failing the test (with a screenshot) on error.
func (b *Browser) Run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.Shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression into out (nil to ignore it).
func (b *Browser) Eval(expr string, out any) {
	b.t.Helper()
	b.Run("evaluate "+expr, chromedp.Evaluate(expr, out))
}

// Poll waits until a JavaScript expression is truthy.
func (b *Browser) Poll(what, expr string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		err := chromedp.Run(ctx, chromedp.Evaluate("!!("+expr+")", &ok))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.Shot("timeout-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("timed out waiting for %s (%s): %v", what, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Shot saves a screenshot as Shots/name.png.
func (b *Browser) Shot(name string) {
	var buf []byte
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&buf)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.Shots, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// ClickMap clicks the map canvas at a geographic position.
func (b *Browser) ClickMap(lat, lon float64) {
	b.t.Helper()
	var xy []float64
	b.Eval(fmt.Sprintf(`(() => { const r = document.getElementById('map').getBoundingClientRect();
		const p = centinela.screen(%v, %v); return [p[0] + r.left, p[1] + r.top]; })()`, lon, lat), &xy)
	b.Run("click the map", chromedp.MouseClickXY(xy[0], xy[1]))
}

// ConsoleErrors returns the console errors and exceptions seen so far.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}
