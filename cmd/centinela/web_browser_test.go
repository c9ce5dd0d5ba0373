package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/web/webtest"
	"github.com/chromedp/chromedp"
)

// demoURLs runs the demo with the map on a free port and returns the map
// URLs it prints (tokens in the fragment) by who they sign in:
// "operator us-agency", …, "supervisor".
func demoURLs(t *testing.T) map[string]string {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--http", "127.0.0.1:0", "--sim", "3", "--sim-speedup", "8",
			"--sim-boot-delay", "0", "--radius", "150", "--altitude", "30", "--laps", "50", "--status", "0", "--mx", "1",
			"--log-level", "error"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	})
	found := make(chan map[string]string, 1)
	go func() {
		urls := map[string]string{}
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 || !strings.HasPrefix(f[len(f)-1], "http://") {
				continue // not a map URL (the gRPC API's tokens, the patrols)
			}
			who := f[0]
			if who == "operator" {
				who += " " + strings.Trim(f[1], "():")
			}
			urls[strings.TrimSuffix(who, ":")] = f[len(f)-1]
			if urls["supervisor"] != "" {
				found <- urls
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no map URL")
	}
	return nil
}

// catalogue reads a language's messages.
func catalogue(t *testing.T, lang string) map[string]string {
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "ui", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// apiDrone reads a drone through the HTTP API.
func apiDrone(t *testing.T, base, token, id string) map[string]any {
	req, _ := http.NewRequest("GET", base+"api/drones/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	d, _ := m["drone"].(map[string]any)
	return d
}

func splitURL(u string) (base, token string) {
	base, frag, _ := strings.Cut(u, "#")
	return base, strings.TrimPrefix(frag, "token=")
}

// distM is the equirectangular distance between two points, metres.
func distM(lat1, lon1, lat2, lon2 float64) float64 {
	dy := (lat2 - lat1) * 111195
	dx := (lon2 - lon1) * 111195 * math.Cos(lat1*math.Pi/180)
	return math.Hypot(dx, dy)
}

// TestBrowserMap drives the demo's map in Chromium, once in English and
// once in Spanish: drones appear and move, zones are drawn, an operator
// draws an area and dispatches a patrol that starts, sends a drone to a
// clicked point and it flies there; a supervisor sees no controls and a
// forged command with its token is refused with 403; the console stays
// clean. Screenshots are saved (CENTINELA_ARTIFACTS or a temporary dir).
func TestBrowserMap(t *testing.T) {
	path := webtest.RequireChromium(t)
	if testing.Short() {
		t.Skip("drives Chromium against the demo: skipped with -short")
	}
	urls := demoURLs(t)
	opURL, supURL := urls["operator us-agency"], urls["supervisor"]
	for _, who := range []string{"operator us-agency", "operator joint-task-force", "operator mx-agency", "supervisor"} {
		if urls[who] == "" {
			t.Fatalf("the demo printed no map URL for %s: %v", who, urls)
		}
	}
	base, opToken := splitURL(opURL)
	if res, err := http.Get(base + "metrics"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), "centinela_ws_clients") || !strings.Contains(string(b), "centinela_drones") {
			t.Errorf("the map's /metrics: %d, without the map's or the fleet's counters", res.StatusCode)
		}
	}
	_, supToken := splitURL(supURL)

	for i, lang := range []string{"en", "es"} {
		t.Run(lang, func(t *testing.T) {
			cat := catalogue(t, lang)
			b := webtest.New(t, path, lang)
			pre := lang + "-"
			b.Run("open the map", chromedp.Navigate(opURL))
			b.Poll("the socket", `document.getElementById('conn').classList.contains('up')`, 30*time.Second)
			var label string
			b.Eval(`document.getElementById('signout').textContent`, &label)
			if label != cat["signin.out"] {
				t.Errorf("sign-out button %q, want the %s catalogue's %q", label, lang, cat["signin.out"])
			}
			// Drones appear, zones are drawn.
			// Three joint drones and one of the Mexican agency (sysid-101).
			b.Poll("four drones in the list", `document.querySelectorAll('#fleet tbody tr:not(.spacer)').length === 4`, 30*time.Second)
			b.Poll("zones", `centinela.state.zones.length >= 20 && centinela.state.boundary.length === 1`, 10*time.Second)
			// Drones move.
			b.Poll("drones with a position", `[...centinela.state.drones.values()].filter(d => d.has_position).length === 4`, 30*time.Second)
			// Drones move (in the second language's run, sysid-1 hovers where
			// the first run sent it; the others patrol).
			b.Eval(`window.p0 = Object.fromEntries([...centinela.state.drones.values()].map(d => [d.id, [d.lat, d.lon]]))`, nil)
			b.Poll("drones to move", `[...centinela.state.drones.values()].filter(d =>
				Math.abs(d.lat - p0[d.id][0]) + Math.abs(d.lon - p0[d.id][1]) > 0.0002).length >= 2`, 60*time.Second)
			b.Eval(`centinela.map.fit([...centinela.state.drones.values()].map(d => [d.lon, d.lat]), 80, 14)`, nil)
			b.Shot(pre + "1-fleet")

			// Plan: draw an area around drone sysid-3's home, preview a
			// perimeter patrol and dispatch it.
			drone := "sysid-3"
			if i == 1 {
				drone = "sysid-1"
			}
			var home []float64
			b.Eval(fmt.Sprintf(`(() => { const d = centinela.drone('%s'); return [d.home.lat, d.home.lon]; })()`, drone), &home)
			b.Eval(fmt.Sprintf(`centinela.map.setView(%v, %v, 15)`, home[1], home[0]), nil)
			b.Run("draw area", chromedp.Click("#tool-polygon", chromedp.ByQuery))
			const d = 0.002 // about 200 m
			for _, c := range [][2]float64{{d, -d}, {d, d}, {-d, d}, {-d, -d}} {
				b.ClickMap(home[0]+c[0], home[1]+c[1])
			}
			b.Run("finish", chromedp.Click("#tool-finish", chromedp.ByQuery))
			b.Poll("the plan tab", `document.getElementById('pane-plan').classList.contains('active')`, 5*time.Second)
			b.Run("choose the drone", chromedp.Click(fmt.Sprintf(`#p-drones input[value="%s"]`, drone), chromedp.ByQuery),
				chromedp.SetValue("#p-pattern", "perimeter", chromedp.ByQuery),
				chromedp.Click("#p-preview", chromedp.ByQuery))
			b.Poll("a preview", `!document.getElementById('p-dispatch').disabled && centinela.state.preview && centinela.state.preview.length === 1`, 20*time.Second)
			b.Shot(pre + "2-preview")
			b.Run("dispatch", chromedp.Click("#p-dispatch", chromedp.ByQuery))
			started := strings.Split(cat["plan.started"], "{")[0]
			b.Poll("the dispatch result", fmt.Sprintf(`document.getElementById('p-result').textContent.includes(%q)`, started), 90*time.Second)
			var missionID string
			deadline := time.Now().Add(60 * time.Second)
			for {
				dr := apiDrone(t, base, opToken, drone)
				m, _ := dr["mission"].(map[string]any)
				if m["state"] == "running" && m["items"].(float64) >= 6 && m["id"] != "" { // home, takeoff, speed, corners…, RTL
					missionID = m["id"].(string)
					break
				}
				if time.Now().After(deadline) {
					b.Shot(pre + "failed-mission")
					t.Fatalf("%s's mission after dispatch: %v", drone, m)
				}
				time.Sleep(200 * time.Millisecond)
			}
			var shown string
			b.Eval(`document.getElementById('p-result').textContent`, &shown)
			if !strings.Contains(shown, missionID) {
				t.Errorf("the page shows %q, the drone flies mission %s", shown, missionID)
			}
			b.Poll("the dispatched route on the map", fmt.Sprintf(`(centinela.state.routes.get('%s') || []).length >= 4`, drone), 20*time.Second)
			b.Shot(pre + "3-dispatched")

			// Go-to: select a flying drone, click Go to, click the map.
			target := "sysid-1"
			if i == 1 {
				target = "sysid-3"
			}
			b.Poll(target+" flying", fmt.Sprintf(`centinela.drone('%s').flying && centinela.drone('%s').alt_m > 20`, target, target), 90*time.Second)
			var pos []float64
			b.Eval(fmt.Sprintf(`(() => { const d = centinela.drone('%s'); return [d.lat, d.lon]; })()`, target), &pos)
			b.Run("select "+target, chromedp.Click(`.tab[data-tab="fleet"]`, chromedp.ByQuery), chromedp.Click(fmt.Sprintf(`#fleet tbody tr[data-id="%s"]`, target), chromedp.ByQuery))
			b.Poll("controls", `!document.getElementById('d-controls').hidden`, 10*time.Second)
			b.Eval(fmt.Sprintf(`centinela.map.setView(%v, %v, 15)`, pos[1], pos[0]), nil)
			b.Run("go to", chromedp.Click("#d-goto", chromedp.ByQuery))
			goLat, goLon := pos[0]+0.0015, pos[1]-0.0015
			b.ClickMap(goLat, goLon)
			deadline = time.Now().Add(90 * time.Second)
			for {
				dr := apiDrone(t, base, opToken, target)
				lat, _ := dr["lat"].(float64)
				lon, _ := dr["lon"].(float64)
				if dr["mode"] == "GUIDED" && distM(lat, lon, goLat, goLon) < 15 {
					break
				}
				if time.Now().After(deadline) {
					b.Shot(pre + "failed-goto")
					t.Fatalf("%s did not reach the clicked point: mode %v at %v,%v (%.0f m away)", target, dr["mode"], lat, lon, distM(lat, lon, goLat, goLon))
				}
				time.Sleep(200 * time.Millisecond)
			}
			b.Shot(pre + "4-goto")
			// Drones of other agencies (the joint task force's sysid-2, the
			// Mexican agency's sysid-101): the US operator sees them and may
			// not command them, so their controls are absent, in the plan too.
			for _, other := range []string{"sysid-2", "sysid-101"} {
				b.Run("select "+other, chromedp.Click(`.tab[data-tab="fleet"]`, chromedp.ByQuery),
					chromedp.Click(fmt.Sprintf(`#fleet tbody tr[data-id="%s"]`, other), chromedp.ByQuery))
				b.Poll("its detail", fmt.Sprintf(`!document.getElementById('detail').hidden && document.getElementById('d-name').textContent === '%s'`, other), 10*time.Second)
				var ctlHidden, inPlan bool
				b.Eval(`document.getElementById('d-controls').hidden`, &ctlHidden)
				b.Eval(fmt.Sprintf(`!!document.querySelector('#p-drones input[value="%s"]')`, other), &inPlan)
				if !ctlHidden || inPlan {
					t.Errorf("controls for %s of another agency: detail controls shown %v, in the plan's list %v", other, !ctlHidden, inPlan)
				}
			}

			// Units: feet and mph on request.
			b.Run("imperial units", chromedp.SetValue("#units", "imperial", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('units').dispatchEvent(new Event('change'))`, nil))
			ft := strings.TrimSpace(strings.ReplaceAll(cat["unit.ft"], "{v}", ""))
			b.Poll("altitudes in feet", fmt.Sprintf(`[...document.querySelectorAll('#fleet tbody td')].some(td => td.textContent.endsWith(%q))`, ft), 10*time.Second)
			b.Run("metric units", chromedp.SetValue("#units", "metric", chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('units').dispatchEvent(new Event('change'))`, nil))

			// Alerts: the operator acknowledges one; it stays acknowledged
			// for everyone (the supervisor sees it below).
			b.Run("alerts tab", chromedp.Click(`.tab[data-tab="alerts"]`, chromedp.ByQuery))
			b.Poll("an alert to acknowledge", `document.querySelector('#alerts li.unacked button')`, 60*time.Second)
			var ackID string
			b.Eval(`document.querySelector('#alerts li.unacked').dataset.id`, &ackID)
			b.Run("acknowledge", chromedp.Click(`#alerts li.unacked button`, chromedp.ByQuery))
			b.Poll("the acknowledgement", fmt.Sprintf(`centinela.state.alerts.get(%q).acked`, ackID), 20*time.Second)
			b.Shot(pre + "5-alerts")

			// The language switch is remembered across a reload.
			other := map[string]string{"en": "es", "es": "en"}[lang]
			b.Run("switch language", chromedp.SetValue("#lang", other, chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('lang').dispatchEvent(new Event('change'))`, nil))
			otherOut := catalogue(t, other)["signin.out"]
			b.Poll("the other language", fmt.Sprintf(`document.getElementById('signout').textContent === %q`, otherOut), 10*time.Second)
			b.Run("reload", chromedp.Reload())
			b.Poll("the socket after reload", `document.getElementById('conn').classList.contains('up')`, 30*time.Second)
			b.Poll("the remembered language", fmt.Sprintf(`document.getElementById('signout').textContent === %q`, otherOut), 10*time.Second)
			b.Run("switch back", chromedp.SetValue("#lang", lang, chromedp.ByQuery),
				chromedp.Evaluate(`document.getElementById('lang').dispatchEvent(new Event('change'))`, nil))
			b.Poll("the test's language", fmt.Sprintf(`document.getElementById('signout').textContent === %q`, cat["signin.out"]), 10*time.Second)

			// The supervisor: no controls anywhere, and the server refuses
			// a forged command with its token.
			b.Run("open as supervisor", chromedp.Navigate("about:blank"), chromedp.Navigate(supURL))
			b.Poll("the supervisor's socket", `document.getElementById('conn').classList.contains('up')`, 30*time.Second)
			b.Poll("drones", `document.querySelectorAll('#fleet tbody tr:not(.spacer)').length === 4`, 30*time.Second)
			b.Run("select a drone", chromedp.Click(`#fleet tbody tr[data-id="sysid-1"]`, chromedp.ByQuery))
			b.Poll("the detail", `!document.getElementById('detail').hidden`, 10*time.Second)
			var visible []string
			b.Eval(`['#tools', '#tool-polygon', '#tool-emergency', '.tab[data-tab="plan"]', '#d-controls', '#alerts button']
				.filter(s => [...document.querySelectorAll(s)].some(e => e.offsetParent !== null))`, &visible)
			if len(visible) > 0 {
				t.Errorf("the supervisor sees controls: %v", visible)
			}
			b.Run("supervisor's alerts", chromedp.Click(`.tab[data-tab="alerts"]`, chromedp.ByQuery))
			b.Poll("the acknowledged alert", fmt.Sprintf(`document.querySelector('#alerts li.acked[data-id=%q]')`, ackID), 20*time.Second)
			var ackButtons int
			b.Eval(`document.querySelectorAll('#alerts button').length`, &ackButtons)
			if ackButtons != 0 {
				t.Errorf("the supervisor has %d acknowledge buttons", ackButtons)
			}
			b.Shot(pre + "6-supervisor")
			req, _ := http.NewRequest("POST", base+"api/drones/sysid-1/rtl", nil)
			req.Header.Set("Authorization", "Bearer "+supToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || body.Error.Code != "forbidden" || body.Error.Message == "" {
				t.Errorf("forged supervisor command: %d %+v", res.StatusCode, body)
			}
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Errorf("console errors: %q", errs)
			}
		})
	}
}
