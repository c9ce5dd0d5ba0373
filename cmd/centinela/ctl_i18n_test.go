package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// Every message key ctl names literally exists in the catalogue (in every
// language, which fleet/i18n's own test checks).
func TestCtlMessageKeysExist(t *testing.T) {
	files, err := filepath.Glob("ctl*.go")
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`\bt\("([a-z_.]+)"`)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllSubmatch(data, -1) {
			k := string(m[1])
			if k[len(k)-1] == '.' {
				continue // a prefix completed at run time: checked below
			}
			n++
			if !i18n.Has(i18n.En, k) {
				t.Errorf("%s: key %q is not in the catalogue", f, k)
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d keys: the pattern no longer matches the code", n)
	}
	// The keys completed at run time.
	for _, k := range []string{"drone", "agency", "link", "mode", "armed", "lat", "lon", "alt", "speed", "battery", "mission"} {
		if !i18n.Has(i18n.En, "ctl.col."+k) {
			t.Errorf("no ctl.col.%s", k)
		}
	}
	for _, k := range []string{"ok", "failed", "skipped"} {
		if !i18n.Has(i18n.En, "ctl.outcome."+k) {
			t.Errorf("no ctl.outcome.%s", k)
		}
	}
	for _, prefix := range []string{"ctl.col.", "ctl.outcome.", "ctl.state."} {
		found := false
		for _, k := range i18n.Keys(i18n.En) {
			found = found || len(k) > len(prefix) && k[:len(prefix)] == prefix
		}
		if !found {
			t.Errorf("no keys %s*", prefix)
		}
	}
}

// Every ctl command has Spanish help, and every Spanish help names a
// command.
func TestCtlHelpSpanish(t *testing.T) {
	paths := map[string]bool{}
	for _, c := range ctlCommands() {
		paths[c.path] = true
		if ctlHelpES[c.path] == "" {
			t.Errorf("ctl %s has no Spanish help", c.path)
		}
	}
	for p := range ctlHelpES {
		if !paths[p] {
			t.Errorf("Spanish help for %q, which is no ctl command", p)
		}
	}
}

// Every flag of every ctl command has a Spanish description.
func TestCtlFlagsSpanish(t *testing.T) {
	var cfg ctlConfig
	for _, c := range append(ctlCommands(), ctlCommand{path: "(common)"}) {
		fs := flag.NewFlagSet(c.path, flag.ContinueOnError)
		cfg.register(fs)
		if c.flags != nil {
			c.flags(fs)
		}
		fs.VisitAll(func(f *flag.Flag) {
			if ctlFlagsES[f.Usage] == "" {
				t.Errorf("ctl %s --%s: no Spanish description for %q", c.path, f.Name, f.Usage)
			}
		})
	}
}
