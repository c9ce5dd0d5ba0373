package main

import (
	"bytes"
	"context"
	"encoding"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// commandFlagSets runs every command but ctl with --help and returns the
// flag sets they parse, by name ("token create" for token).
func commandFlagSets(t *testing.T) map[string]*flag.FlagSet {
	t.Helper()
	sets := map[string]*flag.FlagSet{}
	testHookFlagSet = func(name string, fs *flag.FlagSet) { sets[name] = fs }
	defer func() { testHookFlagSet = nil }()
	for _, c := range commands() {
		if c.name == "ctl" {
			continue // its own catalogue: TestCtlFlagsSpanish
		}
		args := []string{"--help"}
		if c.name == "token" {
			args = []string{"create", "--help"}
		}
		if err := c.run(context.Background(), args, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s --help: %v, want flag.ErrHelp", c.name, err)
		}
	}
	if len(sets) != len(commands())-1 {
		t.Fatalf("saw the flag sets of %d commands, want %d", len(sets), len(commands())-1)
	}
	return sets
}

// Every command has Spanish help and a Spanish summary; every flag of
// every command's real flag set has a Spanish description (so a flag added
// without one fails here); every Spanish entry names a command or a flag.
func TestHelpSpanishComplete(t *testing.T) {
	sets := commandFlagSets(t)
	for _, c := range commands() {
		if summariesES[c.name] == "" {
			t.Errorf("%s: no Spanish summary", c.name)
		}
	}
	for name := range summariesES {
		if !commandExists(name) {
			t.Errorf("Spanish summary of %q, which is no command", name)
		}
	}
	used := map[string]map[string]bool{}
	for name, fs := range sets {
		if h, ok := helpES[name]; !ok || h.text == "" {
			t.Errorf("%s: no Spanish help", name)
		}
		fs.VisitAll(func(f *flag.Flag) {
			es := flagUsageES(name, f)
			switch {
			case es == "":
				t.Errorf("%s --%s: no Spanish description for %q", name, f.Name, f.Usage)
			case es == f.Usage:
				t.Errorf("%s --%s: the Spanish description is the English one", name, f.Name)
			case strings.Count(es, "`") != strings.Count(f.Usage, "`"):
				t.Errorf("%s --%s: the English and the Spanish name the value differently: %q, %q", name, f.Name, f.Usage, es)
			}
			for c := name; c != ""; c = helpInherits[c] {
				if _, ok := flagsES[c][f.Name]; ok {
					markUsed(used, c, f.Name)
					return
				}
			}
			markUsed(used, "", f.Name)
		})
	}
	for name := range helpES {
		if sets[name] == nil {
			t.Errorf("Spanish help of %q, which is no command", name)
		}
	}
	for c, flags := range flagsES {
		for f := range flags {
			if !used[c][f] {
				t.Errorf("Spanish description of %s --%s, which no command has", c, f)
			}
		}
	}
}

func markUsed(used map[string]map[string]bool, c, f string) {
	if used[c] == nil {
		used[c] = map[string]bool{}
	}
	used[c][f] = true
}

func commandExists(name string) bool {
	for _, c := range commands() {
		if c.name == name {
			return true
		}
	}
	return false
}

// upper is a flag.Value whose zero value prints "" (like most).
type upper struct{ s string }

func (u *upper) String() string     { return u.s }
func (u *upper) Set(s string) error { u.s = strings.ToUpper(s); return nil }

// panicky panics on a zero value's String, which flag tolerates.
type panicky struct{ p *string }

func (v panicky) String() string     { return *v.p }
func (v panicky) Set(s string) error { *v.p = s; return nil }

// level is a TextVar value.
type level struct{ n int }

func (l *level) MarshalText() ([]byte, error) { return []byte(strings.Repeat("*", l.n)), nil }
func (l *level) UnmarshalText(b []byte) error { l.n = len(b); return nil }

var _ encoding.TextUnmarshaler = (*level)(nil)

// The English usage printer prints exactly what flag.PrintDefaults does,
// for every command's flag set and for a flag set of every kind of flag
// and default (zero values, quoted strings, one-letter booleans, back-quoted
// names, multi-line descriptions, Func, TextVar); a value whose zero
// String panics shows no default, as with flag (which then also prints the
// panic for the programmer).
func TestUsagePrinterMatchesFlag(t *testing.T) {
	all := flag.NewFlagSet("all", flag.ContinueOnError)
	all.Bool("v", false, "a one-letter bool")
	all.Bool("x", true, "a one-letter bool, default true")
	all.Bool("force", false, "a bool")
	all.Bool("on", true, "a bool on by default")
	all.Int("n", 0, "an int, zero")
	all.Int("count", 7, "an int")
	all.Int64("big", -3, "an int64")
	all.Uint("u", 0, "a uint")
	all.Uint64("u64", 9, "a uint64")
	all.Float64("f", 0, "a float, zero")
	all.Float64("ratio", 0.25, "a `fraction` with a name")
	all.String("s", "", "a string, empty")
	all.String("name", "it's \"quoted\"", "a string")
	all.Duration("d", 0, "a duration, zero")
	all.Duration("timeout", 90*time.Second, "a duration\non two lines")
	all.Var(&upper{}, "up", "a custom `VALUE`")
	all.Var(&upper{s: "X"}, "up2", "a custom value with a default")
	all.Func("func", "a func flag", func(string) error { return nil })
	all.TextVar(&level{n: 2}, "level", &level{}, "a text value")
	all.TextVar(&level{}, "level0", &level{}, "a text value, zero")
	sets := commandFlagSets(t)
	sets["(all kinds)"] = all
	for name, fs := range sets {
		var want, got bytes.Buffer
		fs.SetOutput(&want)
		fs.PrintDefaults()
		printFlags(&got, fs, i18n.En, nil)
		if got.String() != want.String() {
			t.Errorf("%s: the usage printer differs from flag.PrintDefaults:\n got:\n%s\nwant:\n%s", name, got.String(), want.String())
		}
		// In Spanish, the same defaults as "(predeterminado: …)" and the
		// value types' names in Spanish; with the descriptions neutral.
		neutral := flag.NewFlagSet(name, flag.ContinueOnError)
		fs.VisitAll(func(f *flag.Flag) {
			neutral.Var(f.Value, f.Name, "description")
			neutral.Lookup(f.Name).DefValue = f.DefValue
		})
		var en, es bytes.Buffer
		printFlags(&en, neutral, i18n.En, nil)
		printFlags(&es, neutral, i18n.Es, nil)
		wantES := defaultRE.ReplaceAllString(en.String(), "(predeterminado: $1)")
		wantES = typeRE.ReplaceAllStringFunc(wantES, func(m string) string {
			sub := typeRE.FindStringSubmatch(m)
			return sub[1] + " " + i18n.T(i18n.Es, "cli.type."+sub[2])
		})
		if es.String() != wantES {
			t.Errorf("%s: Spanish flags\n%s\nwant\n%s", name, es.String(), wantES)
		}
		es.Reset()
		printFlags(&es, fs, i18n.Es, func(f *flag.Flag) string { return flagUsageES(name, f) })
		if strings.Contains(es.String(), "(default") {
			t.Errorf("%s: English default in the Spanish flags:\n%s", name, es.String())
		}
	}
	p := "set"
	all.Var(panicky{&p}, "panicky", "a value whose zero String panics")
	var es bytes.Buffer
	printFlags(&es, all, i18n.Es, nil)
	for _, want := range []string{
		"  -count entero\n    \tan int (predeterminado: 7)\n",
		"  -name texto\n    \ta string (predeterminado: \"it's \\\"quoted\\\"\")\n",
		"  -timeout duración\n    \ta duration\n    \ton two lines (predeterminado: 1m30s)\n",
		"  -x\ta one-letter bool, default true (predeterminado: true)\n",
		"  -ratio fraction\n",
		"  -panicky valor\n    \ta value whose zero String panics\n",
	} {
		if !strings.Contains(es.String(), want) {
			t.Errorf("Spanish flags lack %q:\n%s", want, es.String())
		}
	}
}

var (
	defaultRE = regexp.MustCompile(`(?m)\(default (.*)\)$`)
	typeRE    = regexp.MustCompile(`(?m)^(  -\S+) (int|uint|float|string|duration|value)$`)
)

// runCentinela runs the test executable as "centinela ARGS" (see TestMain)
// with only env's locale variables set, and returns its output and exit
// status.
func runCentinela(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CENTINELA_TEST_MAIN=1", "CENTINELA_TEST_ARGS="+strings.Join(args, " "), "LC_ALL=", "LC_MESSAGES=", "LANG=")
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// The binary's help, flag errors and validation errors follow LANG,
// LC_MESSAGES, LC_ALL and --lang.
func TestHelpLangBinary(t *testing.T) {
	es := []string{"LANG=es_MX.UTF-8"}
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want []string
		not  []string
	}{
		{"serve Spanish", es, []string{"serve", "--help"}, 0,
			[]string{"Uso: centinela serve [opciones]", "Opciones:", "  -mavlink destino\n    \tdestino MAVLink", "(predeterminado: 3s)", "  -status duración\n", "-lang texto"},
			[]string{"Usage:", "(default", "Runs the ground-control server"}},
		{"serve English", []string{"LANG=en_US.UTF-8"}, []string{"serve", "--help"}, 0,
			[]string{"Usage: centinela serve [flags]", "Flags:", "(default 3s)", "  -status duration\n"},
			[]string{"Uso:", "predeterminado"}},
		{"--lang wins over LANG", es, []string{"sim", "-h", "--lang", "en"}, 0,
			[]string{"Usage: centinela sim [flags]", "number of simulated drones"}, []string{"Uso:"}},
		{"LC_MESSAGES over LANG", []string{"LANG=en_US.UTF-8", "LC_MESSAGES=es_ES.UTF-8"}, []string{"plan", "--help"}, 0,
			[]string{"Uso: centinela plan --kind TIPO --home LAT,LON [opciones]", "(predeterminado: \"text\")"}, nil},
		{"LC_ALL over all", []string{"LANG=es_MX.UTF-8", "LC_ALL=C"}, []string{"bench", "--help"}, 0,
			[]string{"Usage: centinela bench [flags]"}, []string{"Uso:"}},
		{"demo Spanish", es, []string{"demo", "--help"}, 0,
			[]string{"Uso: centinela demo", "  -mx entero\n    \tdrones de la agencia mexicana", "  -sim N\n    \tinicia además N drones simulados"}, []string{"(default"}},
		{"token Spanish", es, []string{"token", "create", "--help"}, 0,
			[]string{"Uso: centinela token create --db RUTA --role ROL", "  -role texto\n    \tsupervisor, operator o admin"}, nil},
		{"version Spanish", es, []string{"version", "--help"}, 0, []string{"Uso: centinela version", "Imprime la versión"}, nil},
		{"commands Spanish", es, []string{"--help"}, 0,
			[]string{"Uso: centinela COMANDO [opciones]", "Comandos:", "  serve    ejecuta el servidor de control en tierra"}, []string{"Usage"}},
		{"ctl defaults Spanish", es, []string{"ctl", "watch", "--help"}, 0,
			[]string{"Uso: centinela ctl watch", "  -timeout duración\n    \ttiempo límite de cada llamada (predeterminado: 30s)"}, []string{"(default"}},
		{"commands --lang es", nil, []string{"--lang", "es", "--help"}, 0, []string{"Comandos:"}, nil},
		{"unknown command Spanish", es, []string{"nosuch"}, 2, []string{"centinela: comando desconocido \"nosuch\"", "Comandos:"}, nil},
		{"unknown flag Spanish", es, []string{"sim", "--nope"}, 2,
			[]string{"opción no definida: -nope\nUso: centinela sim"}, []string{"flag provided"}},
		{"bad value Spanish", es, []string{"sim", "--drones", "many"}, 2,
			[]string{"valor \"many\" no válido para la opción -drones: no se pudo interpretar"}, nil},
		{"bad value English", nil, []string{"sim", "--drones", "many"}, 2,
			[]string{"invalid value \"many\" for flag -drones: parse error\nUsage: centinela sim"}, nil},
		{"bad --lang", nil, []string{"version", "--lang", "fr"}, 2, []string{"--lang \"fr\": want en or es"}, nil},
		{"validation Spanish", es, []string{"demo", "--sim", "0"}, 1,
			[]string{"centinela demo: --sim 0: la demostración necesita al menos un drone simulado"}, nil},
		{"validation English", nil, []string{"demo", "--sim", "0"}, 1,
			[]string{"centinela demo: --sim 0: the demo needs at least one simulated drone"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := runCentinela(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("no %q in:\n%s", w, errs)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(errs, n) {
					t.Errorf("%q in:\n%s", n, errs)
				}
			}
		})
	}
}

// The status table serve prints on the terminal is in the reader's
// language; the codes it shows (modes, ids) stay as they are.
func TestStatusTableLang(t *testing.T) {
	drones := []fleet.DroneState{{ID: "halcon-1", LinkState: fleet.LinkStateUp, Mode: "AUTO", Armed: true, HasPosition: true,
		Position: fleet.Position{Lat: 32.54801, Lon: -117.02932, RelAlt: 40}, Battery: fleet.Battery{RemainingPct: 87},
		Mission: fleet.MissionStatus{State: fleet.MissionStateRunning, Items: 8, CurrentSeq: 3, Percent: 41.6, ETA: 95 * time.Second}},
		{ID: "sysid-2", LinkState: fleet.LinkStateLost, Mode: "RTL", Mission: fleet.MissionStatus{State: fleet.MissionStateFinished}}}
	for lang, want := range map[i18n.Lang][]string{
		i18n.En: {"DRONE", "LINK", "BATT %", "MISSION", "up", "true", "running item 3/7 42% eta 1m35s", "lost", "false", "finished"},
		i18n.Es: {"DRON", "ENLACE", "MISIÓN", "activo", "sí", "en curso elemento 3/7 42% llega en 1m35s", "perdido", "terminada"},
	} {
		var b strings.Builder
		server.PrintStatus(&b, lang, slices.Clone(drones))
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", lang, w, b.String())
			}
		}
	}
}

// demo's tokens and map addresses are printed in the reader's language,
// the tokens and commands as they are.
func TestDemoTokensLang(t *testing.T) {
	cfg := testServeConfig("udp:127.0.0.1:0")
	cfg.GRPC.Addr, cfg.HTTP.Addr, cfg.Lang = "127.0.0.1:0", "127.0.0.1:0", i18n.Es
	srv := mustServer(t, cfg)
	var b strings.Builder
	if err := printDemoTokens(srv, &b); err != nil {
		t.Fatal(err)
	}
	if err := demoTokens(context.Background(), srv, &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{"API gRPC en 127.0.0.1:", "Tokens (se muestran una sola vez):", "  operador (joint-task-force): export CENTINELA_TOKEN=cnt_",
		"Pruebe, como el operador:", " drones ls\n", "y como el administrador: centinela ctl --server 127.0.0.1:", "Mapa del operador: http://127.0.0.1:",
		"  operador (joint-task-force): http://127.0.0.1:", "#token=cnt_", "  supervisor (solo lectura): http://"} {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
	if strings.Contains(out, "Try") || strings.Contains(out, "Operator map") {
		t.Errorf("English in\n%s", out)
	}
}

// plan's text output and its usage errors are in the reader's language;
// the planner's codes and check details stay as they are.
func TestPlanOutputLang(t *testing.T) {
	area := squareFile(t, 32.55, -117.06, 0.006)
	args := []string{"plan", "--kind", "perimeter", "--area", area, "--home", "32.548,-117.0293", "--agency", "us-agency"}
	out, errs, code := runCentinela(t, []string{"LANG=es_MX.UTF-8"}, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"patrullaje perimeter de la agencia us-agency: 1 ruta(s)", "drone-1 salida 1:", "puntos de ruta", "batería", "llegada", "fase",
		"comprobación allowed space  cumple: los ", "comprobación endurance      cumple: ", " de vuelo = "} {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
	out, _, _ = runCentinela(t, nil, args...)
	if !strings.Contains(out, "perimeter patrol for agency us-agency: 1 route(s)") || !strings.Contains(out, "check allowed space  passed: ") {
		t.Errorf("English output\n%s", out)
	}
	_, errs, code = runCentinela(t, []string{"LANG=es_MX.UTF-8"}, "plan", "--kind", "perimeter")
	if code != 2 || !strings.Contains(errs, "centinela plan: --home LAT,LON es obligatorio") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
