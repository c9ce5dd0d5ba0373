package web

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/fleet/fleettest"
	"github.com/centinela-gcs/centinela/web/webtest"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestBrowserThousandDrones: the page keeps drawing smoothly with 1,000
// drones moving at 5 Hz, and its console stays clean.
func TestBrowserThousandDrones(t *testing.T) {
	path := webtest.RequireChromium(t)
	if testing.Short() {
		t.Skip("1,000 drones in Chromium: skipped with -short")
	}
	h := newHarness(t, nil)
	var vs []*fleettest.Vehicle
	for link := 0; link < 4; link++ {
		for sys := 1; sys <= 250; sys++ {
			v := fleettest.NewVehicle(fmt.Sprintf("l%d", link), uint8(sys))
			vs = append(vs, v)
			fleettest.Feed(h.Fleet, v, fleettest.Copter(fleettest.Auto, true, fleettest.StatusActive))
		}
	}
	pos := func(i int, step int) (float64, float64) {
		// 1,000 drones on a 40 × 25 grid over the San Diego–Tijuana corridor.
		return 32.45 + float64(i/40)*0.006 + float64(step)*1e-5, -117.15 + float64(i%40)*0.006
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for step := 0; ; step++ {
			for i, v := range vs {
				lat, lon := pos(i, step)
				p := fleettest.Position(time.Duration(step+1)*time.Second, lat, lon, 50)
				p.VN, p.HeadingDeg = 5, float64((i*37+step)%360)
				fleettest.Feed(h.Fleet, v, p)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)

	b := webtest.New(t, path, "en")
	b.Run("open the map", chromedp.Navigate(h.Srv.URL()+"#token="+h.Supervisor))
	b.Poll("1,000 drones", `window.centinela && centinela.state.drones.size === 1000 &&
		[...centinela.state.drones.values()].every(d => d.has_position)`, 60*time.Second)
	b.Eval(`centinela.map.fit([...centinela.state.drones.values()].map(d => [d.lon, d.lat]), 40, 14)`, nil)
	var res struct {
		Frames   int     `json:"frames"`
		P95      float64 `json:"p95"`
		Max      float64 `json:"max"`
		Draws    int     `json:"draws"`
		MeanDraw float64 `json:"mean_draw"`
		MaxDraw  float64 `json:"max_draw"`
		Messages int     `json:"msgs"`
		MsgMs    float64 `json:"msg_ms"`
		ListRows int     `json:"rows"`
		Listed   string  `json:"listed"`
		PanelMs  float64 `json:"panel_ms"`
		PanelMax float64 `json:"panel_max"`
	}
	b.Run("measure frames", chromedp.Evaluate(`new Promise((resolve) => {
		const gaps = []; const s0 = {...centinela.map.stats}; const m0 = {...centinela.msgStats};
		let last = performance.now(); const end = last + 4000;
		const f = (ts) => {
			gaps.push(ts - last); last = ts;
			if (ts < end) { requestAnimationFrame(f); return; }
			gaps.sort((a, b) => a - b);
			const s = centinela.map.stats, draws = s.draws - s0.draws;
			resolve({frames: gaps.length, p95: gaps[Math.floor(gaps.length * 0.95)], max: gaps[gaps.length - 1],
				draws, mean_draw: (s.drawMs - s0.drawMs) / Math.max(1, draws), max_draw: s.maxDrawMs,
				rows: document.querySelectorAll('#fleet tbody tr:not(.spacer)').length, listed: document.getElementById('fleetcount').textContent,
				panel_ms: centinela.panelStats.ms / Math.max(1, centinela.panelStats.renders), panel_max: centinela.panelStats.maxMs,
				msgs: centinela.msgStats.n - m0.n, msg_ms: (centinela.msgStats.ms - m0.ms) / Math.max(1, centinela.msgStats.n - m0.n)});
		};
		requestAnimationFrame(f);
	})`, &res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	b.Shot("thousand-drones")
	t.Logf("4 s with 1,000 drones: %d frames, p95 gap %.1f ms, max gap %.1f ms; %d redraws of %.1f ms on average (max %.1f ms); "+
		"%d state messages handled in %.1f ms on average; panels %.1f ms on average (max %.1f ms); %d rows in the DOM",
		res.Frames, res.P95, res.Max, res.Draws, res.MeanDraw, res.MaxDraw, res.Messages, res.MsgMs, res.PanelMs, res.PanelMax, res.ListRows)
	if res.ListRows == 0 || res.ListRows > 100 || res.Listed != "1,000 of 1,000" {
		t.Errorf("the fleet list has %d rows in the DOM and says %q", res.ListRows, res.Listed)
	}
	if res.Draws < 2 {
		t.Errorf("the map redrew %d times in 4 s while 1,000 drones moved", res.Draws)
	}
	// The structure that keeps the page smooth: at most one redraw per
	// animation frame however many messages arrive, and bounded work per
	// redraw, message and panel update. The bounds are loose because the
	// test machine is shared (CPU time is measured in the page, so a busy
	// machine inflates it: on the idle 2-core machine a redraw of 1,000
	// drones takes about 30 ms, five times that under the whole suite with
	// -race); they catch work that grows with drones × messages. The log
	// line has the figures.
	if res.Draws > res.Frames {
		t.Errorf("%d redraws in %d frames: drawing is not batched per frame", res.Draws, res.Frames)
	}
	if res.MeanDraw > 300 || res.MsgMs > 300 || res.PanelMs > 300 {
		t.Errorf("too slow for 1,000 drones: redraw %.1f ms, message %.1f ms, panels %.1f ms", res.MeanDraw, res.MsgMs, res.PanelMs)
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// TestBrowserReplay: a supervisor picks a time range and a drone, and its
// stored track and events play back with the time slider.
func TestBrowserReplay(t *testing.T) {
	path := webtest.RequireChromium(t)
	if testing.Short() {
		t.Skip("Chromium: skipped with -short")
	}
	end := time.Now().Add(-time.Minute).Truncate(time.Second)
	h := newHarnessHistory(t, newFakeHistory("sysid-1", end), nil)
	h.addDrone(1, baseLat, baseLon, true)
	b := webtest.New(t, path, "es")
	b.Run("open the map", chromedp.Navigate(h.Srv.URL()+"#token="+h.Supervisor))
	b.Poll("the drone", `window.centinela && centinela.state.drones.size === 1`, 30*time.Second)
	b.Run("replay", chromedp.Click(`.tab[data-tab="replay"]`, chromedp.ByQuery))
	b.Poll("the drone to choose", `document.querySelector('#r-drones input[value="sysid-1"]')`, 10*time.Second)
	b.Run("choose and load", chromedp.Click(`#r-drones input[value="sysid-1"]`, chromedp.ByQuery),
		chromedp.SetValue("#r-speed", "60", chromedp.ByQuery),
		chromedp.Click("#r-load", chromedp.ByQuery))
	b.Poll("the track", `centinela.state.replay && centinela.state.replay.tracks.get('sysid-1').length === 121`, 20*time.Second)
	b.Run("play", chromedp.Click("#rp-play", chromedp.ByQuery))
	// At 60× the two minutes of the track play in two seconds; the events
	// of the past appear in the list as the time passes them.
	b.Poll("the breach event", `document.getElementById('r-events').children.length === 2`, 30*time.Second)
	var text string
	b.Eval(`document.getElementById('r-events').textContent`, &text)
	if !strings.Contains(text, "Tijuana airport") || !strings.Contains(text, "salió de su espacio permitido") {
		t.Errorf("replayed events %q", text)
	}
	b.Shot("replay-es")
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}
