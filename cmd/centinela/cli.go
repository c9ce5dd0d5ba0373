package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// cmdLine is the command line of one subcommand (all but ctl, which has
// its own): its flag set, with --lang, and its help in the reader's
// language (--lang, else LC_ALL, LC_MESSAGES, LANG). The English help is
// the command's own; the Spanish comes from helpES and flagsES
// (help_es.go).
type cmdLine struct {
	name   string
	fs     *flag.FlagSet
	lang   i18n.Lang
	stderr io.Writer
	// langFlag is --lang as given.
	langFlag string
	// synopsis and text are the English help (usage).
	synopsis, text string
}

// testHookFlagSet, when set (by tests), sees every command's flag set as
// it is parsed, with all its flags registered.
var testHookFlagSet func(name string, fs *flag.FlagSet)

// newCmdLine starts the command line of the subcommand name ("serve",
// "token create"): a flag set printing to stderr, with --lang, in the
// language of args' --lang or of the environment.
func newCmdLine(name string, args []string, stderr io.Writer) *cmdLine {
	c := &cmdLine{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), stderr: stderr}
	c.fs.SetOutput(stderr)
	c.fs.StringVar(&c.langFlag, "lang", "", "language of the help and messages: en or es (default from LC_ALL, LC_MESSAGES, LANG)")
	c.lang = langOf(args, os.Getenv)
	c.fs.Usage = c.printUsage
	return c
}

// langOf is the language args ask for with --lang, else the
// environment's.
func langOf(args []string, getenv func(string) string) i18n.Lang {
	if l, ok := langFlag(args); ok {
		return l
	}
	return i18n.FromEnv(getenv)
}

// langFlag is the language of args' --lang, looked for before a "--"
// (past flag values and arguments: "serve --sim 1 --lang es" asks for
// Spanish); false without one.
func langFlag(args []string) (i18n.Lang, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "lang" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		return i18n.Parse(value)
	}
	return i18n.En, false
}

// usage sets the command's English help: the synopsis after
// "centinela NAME" and what the command does.
func (c *cmdLine) usage(synopsis, text string) {
	c.synopsis, c.text = synopsis, text
}

// t translates a message in the command line's language.
func (c *cmdLine) t(key string, kv ...string) string { return i18n.T(c.lang, key, kv...) }

// printUsage writes the help in the command line's language.
func (c *cmdLine) printUsage() {
	synopsis, text := c.synopsis, c.text
	if es, ok := helpES[c.name]; ok && c.lang == i18n.Es {
		synopsis, text = es.synopsis, es.text
	}
	w := c.fs.Output()
	fmt.Fprintln(w, strings.TrimSpace(c.t("cli.usage", "command", c.name, "synopsis", synopsis)))
	if text != "" {
		fmt.Fprintf(w, "\n%s\n", text)
	}
	if hasFlags(c.fs) {
		fmt.Fprintf(w, "\n%s\n", c.t("cli.flags"))
		printFlags(w, c.fs, c.lang, func(f *flag.Flag) string { return flagUsageES(c.name, f) })
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses args; then, unless help was asked for, checks them with
// validate (nil: nothing to check) and builds the logger of log (nil: none,
// and the logger returned is nil). Errors of the command line are printed
// with the help and returned as errUsage; -h and --help return
// flag.ErrHelp.
func (c *cmdLine) parse(args []string, validate func() error, log *logOptions) (*slog.Logger, error) {
	if testHookFlagSet != nil {
		testHookFlagSet(c.name, c.fs)
	}
	// The flag package's own error line is English: it is discarded and
	// printed translated, before the help.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	err := c.fs.Parse(args)
	c.fs.SetOutput(c.stderr)
	c.fs.Usage = c.printUsage
	if l, ok := i18n.Parse(c.langFlag); ok {
		c.lang = l
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printUsage()
		return nil, err
	case err != nil:
		fmt.Fprintln(c.stderr, c.flagError(err))
		c.printUsage()
		return nil, errUsage
	case c.langFlag != "" && !validLang(c.langFlag):
		fmt.Fprintln(c.stderr, c.t("cli.bad_lang", "value", strconv.Quote(c.langFlag)))
		return nil, errUsage
	case c.fs.NArg() > 0:
		fmt.Fprintln(c.stderr, c.t("cli.unexpected_args", "args", fmt.Sprint(c.fs.Args())))
		return nil, errUsage
	}
	if validate != nil {
		if err := validate(); err != nil {
			return nil, err
		}
	}
	if log == nil {
		return nil, nil
	}
	return log.newLogger(c.stderr)
}

func validLang(s string) bool {
	_, ok := i18n.Parse(s)
	return ok
}

// flagErrors match the errors of the flag package, with the key of their
// translation and the names of their parts.
var flagErrors = []struct {
	re    *regexp.Regexp
	key   string
	names []string
}{
	{regexp.MustCompile(`^flag provided but not defined: -(.*)$`), "cli.flag.undefined", []string{"flag"}},
	{regexp.MustCompile(`^flag needs an argument: -(.*)$`), "cli.flag.needs_value", []string{"flag"}},
	{regexp.MustCompile(`^invalid value ("(?:[^"\\]|\\.)*") for flag -([^:]*): (.*)$`), "cli.flag.invalid", []string{"value", "flag", "err"}},
	{regexp.MustCompile(`^invalid boolean value ("(?:[^"\\]|\\.)*") for -([^:]*): (.*)$`), "cli.flag.invalid", []string{"value", "flag", "err"}},
	{regexp.MustCompile(`^invalid boolean flag ([^:]*): (.*)$`), "cli.flag.invalid_bool", []string{"flag", "err"}},
	{regexp.MustCompile(`^bad flag syntax: (.*)$`), "cli.flag.syntax", []string{"arg"}},
}

// flagErrorCauses are the flag package's reasons for refusing a value.
var flagErrorCauses = map[string]string{"parse error": "cli.flag.parse_error", "value out of range": "cli.flag.out_of_range"}

// flagError is a flag package error in the command line's language.
func (c *cmdLine) flagError(err error) string {
	msg := err.Error()
	for _, fe := range flagErrors {
		m := fe.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		var kv []string
		for i, n := range fe.names {
			v := m[i+1]
			if k, ok := flagErrorCauses[v]; n == "err" && ok {
				v = c.t(k)
			} else if n == "err" && fe.key == "cli.flag.invalid" {
				v = c.valueError(m[2], m[1], v)
			}
			kv = append(kv, n, v)
		}
		return c.t(fe.key, kv...)
	}
	return msg
}

// valueError is the reason the value quoted of flag name was refused, in
// the command line's language: the flag package keeps only the English
// text of its Value's error (english), so the value is set again (the
// command line is refused anyway) to get a catalogue message.
func (c *cmdLine) valueError(name, quoted, english string) string {
	f := c.fs.Lookup(name)
	value, err := strconv.Unquote(quoted)
	if f == nil || err != nil || c.lang == i18n.En {
		return english
	}
	if err := f.Value.Set(value); err != nil && err.Error() == english {
		return localizeError(err, c.lang)
	}
	return english
}

// printFlags writes the flags of fs the way flag.PrintDefaults does, in
// lang: each flag's description from describe (lang's; "" keeps the
// English), its value's type name and the "(default …)" in lang. A default
// is shown unless it is the zero value of its flag's type, quoted for a
// string flag.
func printFlags(w io.Writer, fs *flag.FlagSet, lang i18n.Lang, describe func(*flag.Flag) string) {
	fs.VisitAll(func(f *flag.Flag) {
		shown := *f
		if lang != i18n.En && describe != nil {
			if s := describe(f); s != "" {
				shown.Usage = s
			}
		}
		name, usage := flag.UnquoteUsage(&shown)
		if name != "" && !strings.Contains(shown.Usage, "`") {
			// The name is the value's type, guessed by flag.
			name = i18n.T(lang, "cli.type."+name)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		if b.Len() <= 4 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if !isZeroDefault(f) {
			v := f.DefValue
			if isStringFlag(f) {
				v = strconv.Quote(v)
			}
			b.WriteString(" " + i18n.T(lang, "cli.default", "value", v))
		}
		fmt.Fprintln(w, b.String())
	})
}

// isStringFlag reports whether f was made by flag.String or StringVar
// (the flag package quotes only their defaults).
func isStringFlag(f *flag.Flag) bool {
	t := reflect.TypeOf(f.Value)
	return t.Kind() == reflect.Pointer && t.Elem().PkgPath() == "flag" && t.Elem().Name() == "stringValue"
}

// isZeroDefault reports whether f's default is the zero value of its
// type: what a new value of the type prints. A String method that panics
// on the zero value counts as zero (flag.PrintDefaults then shows no
// default either).
func isZeroDefault(f *flag.Flag) (zero bool) {
	t := reflect.TypeOf(f.Value)
	var z reflect.Value
	if t.Kind() == reflect.Pointer {
		z = reflect.New(t.Elem())
	} else {
		z = reflect.Zero(t)
	}
	defer func() {
		if recover() != nil {
			zero = true
		}
	}()
	return f.DefValue == z.Interface().(flag.Value).String()
}

// msgError is an error whose text is a catalogue message: English in
// Error(), and in the reader's language where main prints it.
type msgError struct {
	key string
	kv  []string
	// errs are parameters that are errors, said by causeText.
	errs map[string]error
}

// msgErr returns the error of the message key with its parameters as
// alternating names and values.
func msgErr(key string, kv ...string) error { return &msgError{key: key, kv: kv} }

func (e *msgError) Error() string { return e.in(i18n.En) }

// in renders e in lang.
func (e *msgError) in(lang i18n.Lang) string {
	kv := e.kv
	for k, err := range e.errs {
		kv = append(kv[:len(kv):len(kv)], k, causeText(lang, err))
	}
	return i18n.T(lang, e.key, kv...)
}

// fileErr is the error of a file named by flag that could not be read.
func fileErr(name string, err error) error {
	return &msgError{key: "flagerr.file", kv: []string{"flag", name}, errs: map[string]error{"err": err}}
}

// badEndpoint matches the message of mavlink.ParseEndpoint's error
// (Reason "bad_endpoint"): the endpoint and why it was refused.
var badEndpoint = regexp.MustCompile(`^bad MAVLink endpoint ("(?:[^"\\]|\\.)*"): (missing kind|want HOST:PORT|bad port|missing host|port 0 needs a listening endpoint|bad host|missing device|bad baud rate|unknown kind ("(?:[^"\\]|\\.)*")); accepted forms: `)

// endpointWhy are the keys of badEndpoint's reasons.
var endpointWhy = map[string]string{"missing kind": "missing_kind", "want HOST:PORT": "host_port", "bad port": "port",
	"missing host": "missing_host", "port 0 needs a listening endpoint": "port0", "bad host": "host",
	"missing device": "missing_device", "bad baud rate": "baud"}

// causeText says err in lang: a file system error (*fs.PathError) with
// its operation and reason in lang, a refused MAVLink endpoint in lang,
// any other error as it is.
func causeText(lang i18n.Lang, err error) string {
	if lang == i18n.En {
		return err.Error()
	}
	if fe, ok := err.(*fleet.Error); ok && fe.Reason == "bad_endpoint" {
		m := badEndpoint.FindStringSubmatch(fe.Message)
		if m == nil {
			return err.Error()
		}
		why := i18n.T(lang, "flagerr.endpoint.unknown_kind", "kind", m[3])
		if k, ok := endpointWhy[m[2]]; ok {
			why = i18n.T(lang, "flagerr.endpoint."+k)
		}
		return i18n.T(lang, "flagerr.endpoint", "endpoint", m[1], "why", why)
	}
	pe, ok := err.(*fs.PathError)
	if !ok {
		return err.Error()
	}
	op := pe.Op
	if k := "flagerr.op." + op; i18n.Has(lang, k) {
		op = i18n.T(lang, k)
	}
	reason := pe.Err.Error()
	for _, r := range []struct {
		target error
		key    string
	}{{fs.ErrNotExist, "not_exist"}, {fs.ErrPermission, "permission"}, {syscall.EISDIR, "is_dir"}} {
		if errors.Is(pe.Err, r.target) {
			reason = i18n.T(lang, "flagerr.reason."+r.key)
		}
	}
	return i18n.T(lang, "flagerr.path", "op", op, "path", pe.Path, "reason", reason)
}

// localizeError renders err in lang: a msgError in it (its wrappers' text
// around it stays as it is) in lang, any other error as it is.
func localizeError(err error, lang i18n.Lang) string {
	s := err.Error()
	var me *msgError
	if lang == i18n.En || !errors.As(err, &me) {
		return s
	}
	return strings.Replace(s, me.Error(), me.in(lang), 1)
}
