package server

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// Every ConfigError code has its message in every language.
func TestConfigCodesTranslated(t *testing.T) {
	for _, code := range configCodes {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, "config."+code) {
				t.Errorf("config.%s has no %s message", code, l)
			}
		}
	}
}

// A ConfigError keeps the English text and fleet.Error semantics, and
// its code renders in Spanish.
func TestConfigErrorValidate(t *testing.T) {
	c := DefaultConfig()
	c.Sim = 1
	c.SysID = 0
	err := c.Validate()
	var ce *ConfigError
	var fe *fleet.Error
	if !errors.As(err, &ce) || !errors.As(err, &fe) || fleet.ErrorCode(err) != fleet.Invalid {
		t.Fatalf("Validate: %#v", err)
	}
	if want := "invalid: SysID 0: want 1..255 (SysID)"; err.Error() != want || fe.Message != "SysID 0: want 1..255" {
		t.Errorf("English: %q, want %q", err.Error(), want)
	}
	if !contains(configCodes, ce.Code) || ce.Params["value"] != "0" {
		t.Errorf("code %q params %v", ce.Code, ce.Params)
	}
	p := map[string]string{"field": ce.Field}
	for k, v := range ce.Params {
		p[k] = v
	}
	if got, want := i18n.Msg(i18n.Es, "config."+ce.Code, p), "SysID 0: se espera 1..255"; got != want {
		t.Errorf("Spanish %q, want %q", got, want)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// configCodes lists every code the package's sources give invalid and
// invalidErr, so TestConfigCodesTranslated sees them all.
func TestConfigCodesListed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`invalid(?:Err)?\([^,()]+, "([a-z0-9_]+)"`)
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
			if !contains(configCodes, m[1]) {
				t.Errorf("%s: code %q is not in configCodes", f, m[1])
			}
		}
	}
	if n < 30 {
		t.Errorf("found only %d invalid calls", n)
	}
}
