package i18n

import (
	"maps"
	"sort"
	"strconv"
	"strings"
)

// Lang is a language of the catalogue.
type Lang string

// Languages.
const (
	En Lang = "en"
	Es Lang = "es"
)

// Langs lists every language.
var Langs = []Lang{En, Es}

// catalog holds every message by language and key.
var catalog = map[Lang]map[string]string{En: en, Es: es}

// Parse returns the language a locale name asks for ("es", "es_MX.UTF-8",
// "es-MX", "en_US"), and false when it names no language of the catalogue
// ("C", "POSIX", "", "fr_FR").
func Parse(locale string) (Lang, bool) {
	l := strings.ToLower(strings.TrimSpace(locale))
	if i := strings.IndexAny(l, "_-.@"); i >= 0 {
		l = l[:i]
	}
	for _, lang := range Langs {
		if string(lang) == l {
			return lang, true
		}
	}
	return En, false
}

// FromEnv picks a language the way gettext does: from the first of
// LC_ALL, LC_MESSAGES and LANG that is set (a colon-separated LANGUAGE list
// is not read), English when none names a language of the catalogue.
// getenv is os.Getenv in programs; tests pass their own.
func FromEnv(getenv func(string) string) Lang {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := getenv(v); s != "" {
			l, _ := Parse(s)
			return l
		}
	}
	return En
}

// Has reports whether key exists in lang.
func Has(lang Lang, key string) bool {
	_, ok := catalog[lang][key]
	return ok
}

// Keys returns every key of lang, sorted.
func Keys(lang Lang) []string {
	out := make([]string, 0, len(catalog[lang]))
	for k := range catalog[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Msg returns the message key in lang with its {placeholders} filled from
// params. Missing in lang, it falls back to English, then to key; a
// placeholder without a parameter is left as it is.
func Msg(lang Lang, key string, params map[string]string) string {
	m, ok := catalog[lang][key]
	if !ok {
		if m, ok = catalog[En][key]; !ok {
			return key
		}
	}
	return fill(m, params)
}

// T is Msg with parameters as alternating names and values:
// T(Es, "ctl.armed", "drone", id).
func T(lang Lang, key string, kv ...string) string {
	var p map[string]string
	if len(kv) > 0 {
		p = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
	}
	return Msg(lang, key, p)
}

func fill(m string, params map[string]string) string {
	if !strings.Contains(m, "{") {
		return m
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(m, '{')
		if i < 0 {
			b.WriteString(m)
			return b.String()
		}
		j := strings.IndexByte(m[i:], '}')
		if j < 0 {
			b.WriteString(m)
			return b.String()
		}
		name := m[i+1 : i+j]
		b.WriteString(m[:i])
		if v, ok := params[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(m[i : i+j+1])
		}
		m = m[i+j+1:]
	}
}

// placeholders returns the {names} of a message, sorted.
func placeholders(m string) []string {
	var out []string
	for {
		i := strings.IndexByte(m, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(m[i:], '}')
		if j < 0 {
			break
		}
		out = append(out, m[i+1:i+j])
		m = m[i+j+1:]
	}
	sort.Strings(out)
	return out
}

// Event renders an event of kind with its params in lang: "event."+kind,
// then, for a vehicle text with a known explanation, the explanation. An
// unknown kind renders as the kind and its parameters.
func Event(lang Lang, kind string, params map[string]string) string {
	key := "event." + kind
	if !Has(En, key) {
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(kind)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + params[k])
		}
		return b.String()
	}
	if v := variant(kind, params); v != "" && Has(En, key+"."+v) {
		key += "." + v
	}
	s := Msg(lang, key, described(lang, rounded(params)))
	if text := params["text"]; text != "" {
		if ex := Explain(lang, text); ex != "" {
			s += " (" + ex + ")"
		}
	}
	return s
}

// roundedParams are the event parameters shown to people with fewer
// decimals (the records keep every digit).
var roundedParams = map[string]int{"percent": 0, "boundary_m": 0, "down_s": 1, "time_to_breach_s": 0, "rel_alt_m": 0}

// rounded returns params with the numbers of roundedParams rounded.
func rounded(params map[string]string) map[string]string {
	var out map[string]string
	for k, prec := range roundedParams {
		v, ok := params[k]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		if out == nil {
			out = maps.Clone(params)
		}
		out[k] = strconv.FormatFloat(f, 'f', prec, 64)
	}
	if out == nil {
		return params
	}
	return out
}

// described returns params with "detail" said in lang when they carry a
// mission difference's code ("diff", with "seq", "want", "got" and, for a
// param, "param"; see fleet.MissionDiff). Records from before the code
// carry an English "detail", shown as it is.
func described(lang Lang, params map[string]string) map[string]string {
	diff := params["diff"]
	if diff == "" || !Has(En, "mission_diff."+diff) {
		return params
	}
	out := maps.Clone(params)
	out["detail"] = Msg(lang, "mission_diff."+diff, params)
	return out
}

// variant picks the form of a kind's message that fits its parameters:
// "failed" for a command result or operator action with an error code,
// "differs" for a re-synced mission that is not the stored plan.
func variant(kind string, params map[string]string) string {
	switch kind {
	case "command_result", "operator_action":
		if params["code"] != "" {
			return "failed"
		}
	case "mission_resynced":
		if params["same"] == "false" {
			return "differs"
		}
	}
	return ""
}

// Code renders an error code ("not_found", "denied", …) in lang.
func Code(lang Lang, code string) string {
	if key := "code." + code; Has(En, key) {
		return Msg(lang, key, nil)
	}
	return code
}

// explanations maps known vehicle texts (ArduPilot speaks English) to the
// key of their explanation, matched by prefix, case-insensitively.
var explanations = []struct{ prefix, key string }{
	{"arm: need position estimate", "explain.need_position"},
	{"prearm: need position estimate", "explain.need_position"},
	{"prearm: gps", "explain.gps"},
	{"arm: gps", "explain.gps"},
	{"prearm: ekf", "explain.ekf"},
	{"prearm: compass", "explain.compass"},
	{"prearm: battery", "explain.battery"},
	{"arm: battery", "explain.battery"},
	{"prearm: rc not calibrated", "explain.rc"},
	{"prearm: throttle", "explain.throttle"},
	{"prearm: fence", "explain.fence"},
	{"arm: fence", "explain.fence"},
	{"gcs failsafe", "explain.gcs_failsafe"},
	{"battery failsafe", "explain.battery_failsafe"},
	{"fence breached", "explain.fence_breached"},
}

// Explain returns an explanation of a known vehicle text in lang, "" when
// none is known. The text itself is always shown as it came.
func Explain(lang Lang, text string) string {
	t := strings.ToLower(strings.TrimSpace(text))
	for _, e := range explanations {
		if strings.HasPrefix(t, e.prefix) || (strings.Contains(e.prefix, "failsafe") || strings.Contains(e.prefix, "breached")) && strings.Contains(t, e.prefix) {
			return Msg(lang, e.key, nil)
		}
	}
	return ""
}
