package web

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/geofence"
)

func catalogues(t *testing.T) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range []string{"en", "es"} {
		b, err := fs.ReadFile(uiFiles, "ui/i18n/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		out[lang] = m
	}
	return out
}

// TestCatalogueKeys fails when a key exists in one language and not the
// other, or a message is empty.
func TestCatalogueKeys(t *testing.T) {
	cats := catalogues(t)
	for a, ca := range cats {
		for b, cb := range cats {
			for k, v := range ca {
				if _, ok := cb[k]; !ok {
					t.Errorf("key %q is in %s.json, not in %s.json", k, a, b)
				}
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s.json: %q is empty", a, k)
				}
			}
		}
	}
	// Parameters match: a message may not lose or invent a {name}.
	param := regexp.MustCompile(`\{\w+\}`)
	for k, en := range cats["en"] {
		want, got := param.FindAllString(en, -1), param.FindAllString(cats["es"][k], -1)
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			t.Errorf("%q: parameters en %v, es %v", k, want, got)
		}
	}
}

// TestCatalogueCoversCodes: every machine code the page renders has a
// message in each language.
func TestCatalogueCoversCodes(t *testing.T) {
	var keys []string
	for _, k := range append(append([]string(nil), app.EventKinds...), app.KindLowBattery) {
		keys = append(keys, "event."+k)
	}
	for _, c := range fleet.Codes {
		keys = append(keys, "error."+string(c))
	}
	for _, r := range app.Roles {
		keys = append(keys, "role."+string(r))
	}
	for s := fleet.MissionStateNone; s <= fleet.MissionStateInterrupted; s++ {
		keys = append(keys, "mission."+s.String())
	}
	for _, s := range []fleet.LinkState{fleet.LinkStateUp, fleet.LinkStateLost} {
		keys = append(keys, "link."+s.String())
	}
	for _, k := range []fleet.FailsafeKind{fleet.FailsafeGCS, fleet.FailsafeBattery, fleet.FailsafeFence, fleet.FailsafeRadio, fleet.FailsafeEKF, fleet.FailsafeOther} {
		keys = append(keys, "failsafe."+string(k))
	}
	for _, r := range []fleet.InterruptReason{fleet.InterruptModeChange, fleet.InterruptLinkLost, fleet.InterruptFailsafe, fleet.InterruptAborted, fleet.InterruptReplaced} {
		keys = append(keys, "reason."+string(r))
	}
	for _, r := range []geofence.Reason{geofence.ReasonOutside, geofence.ReasonUnauthorised, geofence.ReasonExclusion, geofence.ReasonAboveCeiling, geofence.ReasonBelowFloor, geofence.ReasonAltitudeUnknown} {
		keys = append(keys, "reason."+string(r))
	}
	for _, a := range []fleet.ZoneAction{fleet.ZoneWarn, fleet.ZoneHold, fleet.ZoneRTL, fleet.ZoneLand} {
		keys = append(keys, "action."+string(a))
	}
	for _, d := range fleet.MissionDiffCodes {
		keys = append(keys, "mission_diff."+string(d))
	}
	for _, p := range (PatternPlanner{}).Patterns() {
		keys = append(keys, "pattern."+p)
	}
	for _, j := range []geofence.Jurisdiction{geofence.US, geofence.MX, geofence.Joint} {
		keys = append(keys, "zone.jur."+string(j))
	}
	for _, k := range []geofence.Kind{geofence.Inclusion, geofence.Exclusion} {
		keys = append(keys, "zone.kind."+string(k))
	}
	for _, r := range []geofence.AltRef{geofence.AltHome, geofence.AltAMSL} {
		keys = append(keys, "zone.ref."+string(r))
	}
	for i := 0; i <= 7; i++ {
		keys = append(keys, "sev."+strconv.Itoa(i))
	}
	for i := 0; i <= 6; i++ {
		keys = append(keys, "gps."+strconv.Itoa(i))
	}
	for _, s := range []string{"idle", "flying", "mission", "returning", "lost", "breached", "failsafe"} {
		keys = append(keys, "state."+s)
	}
	js, _ := fs.ReadFile(uiFiles, "ui/js/data.js")
	for _, m := range regexp.MustCompile(`id: '([a-z-]+)'`).FindAllStringSubmatch(string(js), -1) {
		keys = append(keys, "corridor."+m[1])
	}
	for _, m := range regexp.MustCompile(`'(explain\.[a-z_]+)'`).FindAllStringSubmatch(string(js), -1) {
		keys = append(keys, m[1])
	}
	for lang, cat := range catalogues(t) {
		for _, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s.json has no %q", lang, k)
			}
		}
	}
}

// TestNoTextOutsideCatalogue: the markup holds no words (only data-i18n
// keys), every key the markup and the code name exists, and the code sets
// no literal words as text.
func TestNoTextOutsideCatalogue(t *testing.T) {
	cat := catalogues(t)["en"]
	html, err := fs.ReadFile(uiFiles, "ui/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`data-i18n(?:-[a-z]+)?="([^"]+)"`).FindAllStringSubmatch(string(html), -1) {
		if _, ok := cat[m[1]]; !ok {
			t.Errorf("index.html names key %q, not in the catalogue", m[1])
		}
	}
	text := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(string(html), " ")
	text = regexp.MustCompile(`&#?\w+;`).ReplaceAllString(text, " ")
	if w := regexp.MustCompile(`\p{L}+`).FindAllString(text, -1); len(w) > 0 {
		t.Errorf("index.html has words outside the catalogue: %q", w)
	}
	for _, attr := range []string{"title", "placeholder", "aria-label", "alt"} {
		if m := regexp.MustCompile(` ` + attr + `="[^"]*\p{L}`).FindString(string(html)); m != "" {
			t.Errorf("index.html: literal %s: %s", attr, m)
		}
	}

	prefixes := map[string]bool{}
	for k := range cat {
		prefixes[strings.SplitN(k, ".", 2)[0]] = true
	}
	lit := regexp.MustCompile(`'([a-z_]+\.[A-Za-z0-9_.-]*)'`)
	set := regexp.MustCompile(`(?:textContent|innerText|title|placeholder|nodeValue)\s*=\s*['"` + "`" + `][^'"` + "`" + `]*\p{L}`)
	files, _ := fs.Glob(uiFiles, "ui/js/*.js")
	if len(files) == 0 {
		t.Fatal("no scripts")
	}
	for _, f := range files {
		src, _ := fs.ReadFile(uiFiles, f)
		if strings.Contains(string(src), "innerHTML") {
			t.Errorf("%s uses innerHTML", f)
		}
		if m := set.FindString(string(src)); m != "" {
			t.Errorf("%s sets literal text: %s", f, m)
		}
		for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
			k := m[1]
			if !prefixes[strings.SplitN(k, ".", 2)[0]] || strings.HasSuffix(k, ".js") || strings.HasSuffix(k, ".json") {
				continue // not a message key
			}
			if strings.HasSuffix(k, ".") {
				found := false
				for ck := range cat {
					found = found || strings.HasPrefix(ck, k)
				}
				if !found {
					t.Errorf("%s: no key starts with %q", f, k)
				}
				continue
			}
			if _, ok := cat[k]; !ok {
				t.Errorf("%s names key %q, not in the catalogue", f, k)
			}
		}
	}
}
