package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// englishLeaks are words of the English error templates that must not
// appear in a Spanish error.
var englishLeaks = []string{"want", "must", "invalid", "not a number", "is not", "no such", "unknown", "give ",
	"out of range", "go together", "exclude", "taken", "listens", "second key", "at most", "positive", "or more",
	"nothing to serve", "only the links", "directory"}

// errCase is a command line refused by validation: the English line it
// prints today (byte for byte), and the flag and offending value the
// Spanish line must name.
type errCase struct {
	args  []string
	en    string
	flag  string
	value string
}

func validationCases(t *testing.T) []errCase {
	dir := t.TempDir()
	none := filepath.Join(dir, "none")
	db := []string{"--db", filepath.Join(dir, "c.db")}
	key := strings.Repeat("ab", 32)
	long := strings.Repeat("x", 65)
	s := func(args ...string) []string { return append(append([]string{"serve"}, db...), args...) }
	sim := func(args ...string) []string {
		return append([]string{"sim", "--connect", "udpout:127.0.0.1:9"}, args...)
	}
	return []errCase{
		{s(), `centinela serve: nothing to serve: give --mavlink ENDPOINT (repeatable) or --sim N`, "--mavlink", "--sim"},
		{s("--mavlink", "bogus"), `centinela serve: --mavlink: invalid: bad MAVLink endpoint "bogus": missing kind; accepted forms: udp:HOST:PORT (listen), udpout:HOST:PORT (send), tcp:HOST:PORT (connect), tcpin:HOST:PORT (listen), serial:DEVICE[:BAUD] (bad_endpoint)`, "--mavlink", `"bogus"`},
		{s("--mavlink", "ftp:1.2.3.4:5"), `centinela serve: --mavlink: invalid: bad MAVLink endpoint "ftp:1.2.3.4:5": unknown kind "ftp"; accepted forms: udp:HOST:PORT (listen), udpout:HOST:PORT (send), tcp:HOST:PORT (connect), tcpin:HOST:PORT (listen), serial:DEVICE[:BAUD] (bad_endpoint)`, "--mavlink", `"ftp"`},
		{s("--mavlink", "tcp:1.2.3.4:x"), `centinela serve: --mavlink: invalid: bad MAVLink endpoint "tcp:1.2.3.4:x": bad port; accepted forms: udp:HOST:PORT (listen), udpout:HOST:PORT (send), tcp:HOST:PORT (connect), tcpin:HOST:PORT (listen), serial:DEVICE[:BAUD] (bad_endpoint)`, "--mavlink", `"tcp:1.2.3.4:x"`},
		{s("--sim", "1", "--sysid", "0"), `centinela serve: --sysid 0: want 1..255`, "--sysid", "0"},
		{s("--sim", "1", "--compid", "256"), `centinela serve: --compid 256: want 1..255`, "--compid", "256"},
		{s("--sim", "1", "--link-timeout", "0s"), `centinela serve: --link-timeout 0s: want a positive duration`, "--link-timeout", "0s"},
		{s("--sim", "1", "--mission-retries", "101"), `centinela serve: --mission-retries 101: want 0..100`, "--mission-retries", "101"},
		{s("--sim", "1", "--stream-hz", "51"), `centinela serve: --stream-hz 51: want 0..50`, "--stream-hz", "51"},
		{s("--sim", "251"), `centinela serve: --sim 251: want 0..250`, "--sim", "251"},
		{s("--sim", "1", "--sim-speedup", "0"), `centinela serve: --sim-speedup 0: want more than 0, at most 1000`, "--sim-speedup", "0"},
		{s("--sim", "1", "--sim-boot-delay", "-1s"), `centinela serve: --sim-boot-delay -1s: want 0 or more`, "--sim-boot-delay", "-1s"},
		{s("--sim", "1", "--status", "-1s"), `centinela serve: --status -1s: want 0 or more`, "--status", "-1s"},
		{s("--sim", "1", "--breach-action", "boom"), `centinela serve: --breach-action "boom": want warn, hold, rtl or land`, "--breach-action", `"boom"`},
		{s("--sim", "1", "--default-agency", "nope"), `centinela serve: --default-agency "nope": no such agency`, "--default-agency", `"nope"`},
		{s("--sim", "1", "--drone-agency", "1=nope"), `centinela serve: --drone-agency "1=nope": no such agency "nope"`, "--drone-agency", `"1=nope"`},
		{s("--sim", "1", "--drone-name", "1="+long), `centinela serve: --drone-name "1=` + long + `": want a name of 1 to 64 characters without surrounding spaces`, "--drone-name", long},
		{s("--sim", "1", "--drone-name", "1=a", "--drone-name", "2=a"), `centinela serve: --drone-name "2=a": name "a" is taken`, "--drone-name", `"2=a"`},
		{s("--sim", "1", "--drone-name", "1=sysid-4"), `centinela serve: --drone-name "1=sysid-4": name "sysid-4" is taken`, "--drone-name", `"sysid-4"`},
		{s("--sim", "1", "--grpc", "nohost"), `centinela serve: --grpc "nohost": want HOST:PORT`, "--grpc", `"nohost"`},
		{s("--sim", "1", "--grpc", "127.0.0.1:0", "--tls-cert", "a"), `centinela serve: --tls-cert and --tls-key go together`, "--tls-cert", "--tls-key"},
		{s("--sim", "1", "--grpc", "127.0.0.1:0", "--tls-cert", "a", "--tls-key", "b", "--tls-self-signed"), `centinela serve: --tls-self-signed and --tls-cert exclude each other`, "--tls-self-signed", "--tls-cert"},
		{s("--sim", "1", "--retention-age", "0s"), `centinela serve: --retention-age 0: want a positive duration, or negative to keep history forever`, "--retention-age", "0"},
		{s("--sim", "1", "--retention-size", "1KB"), `centinela serve: --retention-size: "1KB": want at least 1MiB (or 0 for unbounded)`, "--retention-size", `"1KB"`},
		{s("--sim", "1", "--retention-size", "lots"), `centinela serve: --retention-size: "lots": want a size such as 500MB, 2GiB or 0`, "--retention-size", `"lots"`},
		{s("--sim", "1", "--sim-home", "1,2"), `centinela serve: --sim-home: "1,2": want LAT,LON,ALT`, "--sim-home", `"1,2"`},
		{s("--sim", "1", "--sim-home", "a,2,3"), `centinela serve: --sim-home: "a,2,3": "a" is not a number`, "--sim-home", `"a"`},
		{s("--sim", "1", "--sim-home", "91,0,0"), `centinela serve: --sim-home: "91,0,0": latitude or longitude out of range`, "--sim-home", `"91,0,0"`},
		{s("--sim", "1", "--agency", "x"), `centinela serve: --agency "x": want ID=JURISDICTION[,JURISDICTION…] with US, MX or JOINT`, "--agency", `"x"`},
		{s("--sim", "1", "--agency", "x=FR"), `centinela serve: --agency "x=FR": unknown jurisdiction "FR" (want US, MX or JOINT)`, "--agency", `"FR"`},
		{s("--sim", "1", "--drone-name", "1="), `centinela serve: --drone-name "1=": want KEY=NAME with KEY SYSID (1..255), LINK/SYSID or uid:HEX`, "--drone-name", `"1="`},
		{s("--sim", "1", "--drone-agency", "0=us-agency"), `centinela serve: --drone-agency "0=us-agency": want KEY=AGENCY with KEY SYSID (1..255), LINK/SYSID or uid:HEX`, "--drone-agency", `"0=us-agency"`},
		{s("--sim", "1", "--drone-name", "uid:0=a"), `centinela serve: --drone-name "uid:0=a": want uid:HEX with the non-zero AUTOPILOT_VERSION uid in 1 to 16 hex digits`, "--drone-name", `"uid:0=a"`},
		{s("--sim", "1", "--drone-name", "tcp:1.2.3.4:5/0=a"), `centinela serve: --drone-name "tcp:1.2.3.4:5/0=a": want LINK/SYSID with SYSID 1..255`, "--drone-name", `"tcp:1.2.3.4:5/0=a"`},
		{s("--sim", "1", "--drone-name", "udp:0.0.0.0:14550/1=a"), `centinela serve: --drone-name "udp:0.0.0.0:14550/1=a": link udp:0.0.0.0:14550 listens: name one of its peers as udp:0.0.0.0:14550/HOST:PORT`, "--drone-name", `"udp:0.0.0.0:14550/1=a"`},
		{s("--sim", "1", "--drone-name", "bogus/1=a"), `centinela serve: --drone-name "bogus/1=a": link "bogus": want an endpoint (tcp:HOST:PORT, udpout:HOST:PORT, serial:DEVICE:BAUD) or a listening endpoint's peer (udp:HOST:PORT/HOST:PORT)`, "--drone-name", `"bogus"`},
		{s("--sim", "1", "--drone-name", "tcp:1.2.3.4:5/1.2.3.4:6/1=a"), `centinela serve: --drone-name "tcp:1.2.3.4:5/1.2.3.4:6/1=a": link "tcp:1.2.3.4:5/1.2.3.4:6": only the links of a listening endpoint (udp:, tcpin:) name a peer after a "/"`, "--drone-name", `"tcp:1.2.3.4:5/1.2.3.4:6"`},
		{s("--sim", "1", "--drone-name", "udp:0.0.0.0:14550/peer/1=a"), `centinela serve: --drone-name "udp:0.0.0.0:14550/peer/1=a": link "udp:0.0.0.0:14550/peer": want the peer as HOST:PORT after the "/"`, "--drone-name", `"udp:0.0.0.0:14550/peer"`},
		{s("--sim", "1", "--signing-key", "zz"), `centinela serve: --signing-key #1: want SYSID=HEX`, "--signing-key", "#1"},
		{s("--sim", "1", "--signing-key", "1=zz"), `centinela serve: --signing-key #1: invalid: a signing key is 64 hexadecimal digits`, "--signing-key", "#1"},
		{sim("--signing-key", "abc"), `centinela sim: --signing-key #1: invalid: a signing key is 64 hexadecimal digits`, "--signing-key", "#1"},
		{s("--sim", "1", "--signing-key", "0="+key), `centinela serve: --signing-key #1: want SYSID=HEX with SYSID 1..254`, "--signing-key", "#1"},
		{s("--sim", "1", "--signing-key", "1="+key, "--signing-key", "1="+key), `centinela serve: --signing-key #2: a second key for system id 1`, "--signing-key", "#2"},
		{s("--sim", "1", "--signing-key-file", none), `centinela serve: --signing-key-file: open ` + none + `: no such file or directory`, "--signing-key-file", none},
		{s("--sim", "1", "--zones", none), `centinela serve: --zones: open ` + none + `: no such file or directory`, "--zones", none},
		{s("--sim", "1", "--log-level", "loud"), `centinela serve: --log-level "loud": want debug, info, warn or error`, "--log-level", `"loud"`},
		{s("--sim", "1", "--log-format", "xml"), `centinela serve: --log-format "xml": want text or json`, "--log-format", `"xml"`},
		{append([]string{"demo"}, append(db, "--sysid", "0")...), `centinela demo: --sysid 0: want 1..255`, "--sysid", "0"},
		{[]string{"bench", "--drones", "0"}, `centinela bench: --drones 0: want 1..10000`, "--drones", "0"},
		{[]string{"bench", "--rate", "0"}, `centinela bench: --rate 0: want more than 0, at most 50 Hz`, "--rate", "0"},
		{[]string{"bench", "--stream-hz", "51"}, `centinela bench: --stream-hz 51: want 0..50`, "--stream-hz", "51"},
		{[]string{"bench", "--duration", "0s"}, `centinela bench: --duration 0s: want a positive duration`, "--duration", "0s"},
		{[]string{"bench", "--warmup", "0s"}, `centinela bench: --warmup 0s: want a positive duration`, "--warmup", "0s"},
		{[]string{"bench", "--ws-clients", "1001"}, `centinela bench: --ws-clients 1001: want 0..1000`, "--ws-clients", "1001"},
		{[]string{"bench", "--sweep", "0"}, `centinela bench: --sweep [0]: want drone counts 1..10000`, "--sweep", "[0]"},
		{[]string{"bench", "--json", "--markdown"}, `centinela bench: give at most one of --json and --markdown`, "--json", "--markdown"},
		{[]string{"bench", "--sweep", "x"}, `invalid value "x" for flag -sweep: "x" is not a drone count`, "-sweep", `"x"`},
		{sim("--fault", "x"), `centinela sim: --fault "x": want SYSID:KEY=VALUE,… with SYSID 1..254`, "--fault", `"x"`},
		{sim("--fault", "1:loss"), `centinela sim: --fault "1:loss": "loss" is not KEY=VALUE`, "--fault", `"loss"`},
		{sim("--fault", "1:loss-out=200"), `centinela sim: --fault "1:loss-out=200": loss-out=200: want a number in [0, 100]`, "--fault", "loss-out=200"},
		{sim("--fault", "1:latency=soon"), `centinela sim: --fault "1:latency=soon": latency=soon: want a duration such as 1.5s`, "--fault", "latency=soon"},
		{sim("--fault", "1:gps-lost=maybe"), `centinela sim: --fault "1:gps-lost=maybe": gps-lost=maybe: want true or false`, "--fault", "gps-lost=maybe"},
		{sim("--fault", "1:color=red"), `centinela sim: --fault "1:color=red": unknown key "color"`, "--fault", `"color"`},
		{sim("--fault", "1:cut-at=1s"), `centinela sim: --fault "1:cut-at=1s": cut-at and cut-for go together, cut-for more than 0`, "--fault", `"1:cut-at=1s"`},
		{sim("--fault", "5:loss-out=1"), `centinela sim: --fault "5:loss-out=1": no drone with system id 5`, "--fault", "5"},
		{sim("--home", "1,2"), `centinela sim: --home: "1,2": want LAT,LON,ALT`, "--home", `"1,2"`},
	}
}

// runLang runs a command line in-process in lang and returns its first
// stderr line and exit code. The context is already done, so a command
// line that wrongly passes validation stops at once.
func runLang(t *testing.T, args []string, lang string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	full := append(append([]string{args[0]}, args[1:]...), "--lang", lang)
	code := run(ctx, full, &out, &errb)
	line, _, _ := strings.Cut(errb.String(), "\n")
	return line, code
}

// Every validation error of serve (and demo), bench and sim's --fault and
// --home, provoked through the real flag parsing, prints today's English
// byte for byte, and in Spanish a different line that names the flag and
// the offending value with no English template word.
func TestValidationErrorsLang(t *testing.T) {
	for _, tc := range validationCases(t) {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			en, code := runLang(t, tc.args, "en")
			if code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			if en != tc.en {
				t.Errorf("English:\n got %q\nwant %q", en, tc.en)
			}
			es, code := runLang(t, tc.args, "es")
			if code == 0 {
				t.Fatalf("Spanish: exit 0")
			}
			if es == en {
				t.Errorf("Spanish equals English: %q", es)
			}
			if !strings.Contains(es, tc.flag) || !strings.Contains(es, tc.value) {
				t.Errorf("Spanish %q does not name %s and %s", es, tc.flag, tc.value)
			}
			low := strings.ToLower(es)
			for _, w := range englishLeaks {
				if strings.Contains(low, w) && !strings.Contains(strings.ToLower(strings.Join(tc.args, " ")), w) {
					t.Errorf("Spanish %q has the English %q", es, w)
				}
			}
		})
	}
}

// Every catalogue key package main builds an error of (msgErr("KEY", …)
// and the "config."+code of every server.ConfigError code, checked in
// the server package) has its message in English and Spanish.
func TestErrorKeysTranslated(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`msgErr\("([a-z0-9_.]+)"[,)]`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			n++
			for _, l := range i18n.Langs {
				if !i18n.Has(l, m[1]) {
					t.Errorf("%s: %s has no %s message", f, m[1], l)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("found only %d msgErr calls", n)
	}
}

// The built binary says a serve and a bench validation error in the
// language of LANG.
func TestValidationErrorsLangBinary(t *testing.T) {
	es := []string{"LANG=es_MX.UTF-8"}
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{es, []string{"serve", "--sim", "1", "--sysid", "0"}, "centinela serve: --sysid 0: se espera 1..255\n"},
		{es, []string{"bench", "--rate", "0"}, "centinela bench: --rate 0: se espera más de 0, como máximo 50 Hz\n"},
		{[]string{"LANG=en_US.UTF-8"}, []string{"serve", "--sim", "1", "--sysid", "0"}, "centinela serve: --sysid 0: want 1..255\n"},
		{nil, []string{"serve", "--sim", "1", "--sysid", "0", "--lang", "es"}, "centinela serve: --sysid 0: se espera 1..255\n"},
	} {
		_, errs, code := runCentinela(t, tc.env, tc.args...)
		if code != 1 || errs != tc.want {
			t.Errorf("%v %v: exit %d, stderr %q, want 1 and %q", tc.env, tc.args, code, errs, tc.want)
		}
	}
}
