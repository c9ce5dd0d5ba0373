package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/centinela-gcs/centinela/fleet"
	"github.com/centinela-gcs/centinela/fleet/i18n"
	"github.com/centinela-gcs/centinela/proto"
)

// ctlConfig is the configuration of "centinela ctl": how to reach the
// server and how to print.
type ctlConfig struct {
	// Server is the gRPC address of serve.
	Server string
	// Token is the bearer token (default $CENTINELA_TOKEN).
	Token string
	// TLSCA is a PEM file of the CA to trust; TLSFingerprint pins a
	// self-signed server's certificate; Plaintext forces no TLS.
	TLSCA, TLSFingerprint string
	Plaintext             bool
	// JSON prints read commands' results as JSON (language-neutral).
	JSON bool
	// Lang is the language of messages ("": from LC_ALL/LC_MESSAGES/LANG).
	Lang string
	// Timeout bounds each call (streams that follow: none).
	Timeout time.Duration

	lang   i18n.Lang
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func defaultCtlConfig() ctlConfig {
	return ctlConfig{Server: proto.DefaultAddr, Timeout: 30 * time.Second}
}

// register adds the flags every ctl command takes.
func (c *ctlConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Server, "server", c.Server, "gRPC `address` of centinela serve")
	fs.StringVar(&c.Token, "token", c.Token, "bearer `token` (default $CENTINELA_TOKEN)")
	fs.StringVar(&c.TLSCA, "tls-ca", c.TLSCA, "PEM `file` of the CA (or certificate) to trust: speak TLS")
	fs.StringVar(&c.TLSFingerprint, "tls-fingerprint", c.TLSFingerprint, "SHA-256 `fingerprint` of a --tls-self-signed server's certificate: speak TLS and trust exactly it")
	fs.BoolVar(&c.Plaintext, "plaintext", c.Plaintext, "speak without TLS to a server that is not on loopback (it must allow it)")
	fs.BoolVar(&c.JSON, "json", c.JSON, "print results as JSON (codes and numbers, no translation)")
	fs.StringVar(&c.Lang, "lang", c.Lang, "language of messages: en or es (default from LC_ALL, LC_MESSAGES, LANG)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "time limit of each call")
}

// t translates a ctl message.
func (c *ctlConfig) t(key string, kv ...string) string { return i18n.T(c.lang, key, kv...) }

// ctlCommand is one ctl command: its name path, its argument synopsis,
// and what it does with its flag set and positional arguments.
type ctlCommand struct {
	path  string // "drones ls"
	args  string // "DRONE LAT LON"
	help  string
	flags func(fs *flag.FlagSet) // its own flags (optional)
	run   func(ctx context.Context, c *ctlConfig, cl *proto.Client, args []string) error
	// nargs is the number of positional arguments (-1: any).
	nargs int
	// local commands need no server.
	local bool
}

func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCtlEnv(ctx, args, stdout, stderr, os.Getenv)
}

// runCtlEnv is runCtl with the environment as a function, for tests.
func runCtlEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := defaultCtlConfig()
	cfg.stdout, cfg.stderr, cfg.getenv = stdout, stderr, getenv
	cfg.lang = i18n.FromEnv(getenv)
	// Flags of every command may come before the command; the command is
	// the longest run of words (up to two) that names one; its flags and
	// arguments follow in any order.
	common := flag.NewFlagSet("ctl", flag.ContinueOnError)
	var scratch ctlConfig
	scratch.register(common)
	var pre []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		pre = append(pre, args[0])
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		args = args[1:]
		if f := common.Lookup(name); f != nil && !hasValue && len(args) > 0 {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
				pre, args = append(pre, args[0]), args[1:]
			}
		}
	}
	words := 0
	for words < len(args) && !strings.HasPrefix(args[words], "-") {
		words++
	}
	var cmd *ctlCommand
	all := ctlCommands()
	for n := min(words, 2); n >= 1 && cmd == nil; n-- {
		path := strings.Join(args[:n], " ")
		for i := range all {
			if all[i].path == path {
				cmd, args = &all[i], append(pre, args[n:]...)
				break
			}
		}
	}
	if cmd == nil {
		// Parse the flags for --lang, then print the usage.
		fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.register(fs)
		_ = fs.Parse(pre)
		if l, ok := i18n.Parse(cfg.Lang); ok {
			cfg.lang = l
		}
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			ctlUsage(stderr, &cfg)
			return flag.ErrHelp
		}
		if words > 0 {
			fmt.Fprintln(stderr, cfg.t("ctl.unknown_command", "command", strconv.Quote(strings.Join(args[:min(words, 2)], " "))))
		}
		ctlUsage(stderr, &cfg)
		return errUsage
	}
	fs := flag.NewFlagSet("ctl "+cmd.path, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\n%s\n\n%s\n", cfg.t("ctl.usage.command", "command", strings.TrimSpace(cmd.path+" "+cmd.args)), cfg.helpText(*cmd), cfg.t("ctl.usage.flags"))
		cfg.localizeFlags(fs)
		printFlags(fs.Output(), fs, cfg.lang, nil)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if cfg.Lang != "" {
		l, ok := i18n.Parse(cfg.Lang)
		if !ok {
			fmt.Fprintf(stderr, "--lang %q: want en or es\n", cfg.Lang)
			return errUsage
		}
		cfg.lang = l
	}
	if cmd.nargs >= 0 && len(pos) != cmd.nargs {
		if cmd.nargs == 0 {
			fmt.Fprintln(stderr, cfg.t("ctl.no_args", "command", cmd.path))
		} else {
			fmt.Fprintln(stderr, cfg.t("ctl.need_args", "command", cmd.path, "args", cmd.args))
		}
		fs.Usage()
		return errUsage
	}
	if cfg.Token == "" {
		cfg.Token = getenv("CENTINELA_TOKEN")
	}
	cfg.Token = strings.TrimSpace(cfg.Token)
	for _, r := range cfg.Token {
		if r < 0x21 || r > 0x7e {
			return cfg.usage("--token / CENTINELA_TOKEN: a token is one word of printable ASCII")
		}
	}
	var cl *proto.Client
	if !cmd.local {
		cl, err = cfg.dial()
		if err != nil {
			return err
		}
		defer cl.Close()
	}
	if err := cmd.run(ctx, &cfg, cl, pos); err != nil {
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cfg.errorLine(err)
	}
	return nil
}

// dial connects to the server: TLS when a CA or fingerprint is given or the
// server is not on loopback, plaintext on loopback otherwise.
func (c *ctlConfig) dial() (*proto.Client, error) {
	plain := c.Plaintext
	if !plain && c.TLSCA == "" && c.TLSFingerprint == "" {
		host, _, err := net.SplitHostPort(c.Server)
		if err != nil {
			return nil, fmt.Errorf("--server %q: want HOST:PORT", c.Server)
		}
		ip := net.ParseIP(host)
		plain = host == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return proto.Dial(proto.DialOptions{Addr: c.Server, Token: c.Token, CAFile: c.TLSCA, Fingerprint: c.TLSFingerprint, Plaintext: plain})
}

// ctlError is a failed call, already rendered as one line in the user's
// language.
type ctlError struct {
	line string
	err  error
}

func (e *ctlError) Error() string { return e.line }
func (e *ctlError) Unwrap() error { return e.err }

// errorLine renders a call's error as one line: the code in the user's
// language, the server's message and the domain reason.
func (c *ctlConfig) errorLine(err error) error {
	err = proto.ErrorFromStatus(err)
	var fe *fleet.Error
	if !errors.As(err, &fe) {
		return err
	}
	code := i18n.Code(c.lang, string(fe.Code))
	line := c.t("ctl.error", "code", code, "message", fe.Message)
	if fe.Reason != "" {
		line = c.t("ctl.error.reason", "code", code, "message", fe.Message, "reason", fe.Reason)
	}
	if ex := i18n.Explain(c.lang, fe.Message); ex != "" {
		line += " — " + ex
	}
	return &ctlError{line: line, err: fe}
}

// call returns a context bounded by the call timeout.
func (c *ctlConfig) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.Timeout)
}

// printJSON writes v as indented JSON.
func (c *ctlConfig) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// compactJSON writes v as one line of JSON (streams: one object per line).
func (c *ctlConfig) compactJSON(v any) error {
	return json.NewEncoder(c.stdout).Encode(v)
}

// parseInterleaved parses flags wherever they are among the positional
// arguments (flag stops at the first positional), keeping negative numbers
// ("-117.05") as positionals. "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		if _, err := strconv.ParseFloat(a, 64); err == nil {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // fs.Parse reports it
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return pos, nil
}

func ctlUsage(w io.Writer, c *ctlConfig) {
	fmt.Fprintln(w, c.t("ctl.usage"))
	fmt.Fprintln(w)
	for _, cmd := range ctlCommands() {
		fmt.Fprintf(w, "  %-34s %s\n", cmd.path+" "+cmd.args, c.helpText(cmd))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, c.t("ctl.usage.common"))
}

// ctlCommands lists every ctl command.
func ctlCommands() []ctlCommand {
	var out []ctlCommand
	out = append(out, ctlDroneCommands()...)
	out = append(out, ctlControlCommands()...)
	out = append(out, ctlMissionCommands()...)
	out = append(out, ctlParamCommands()...)
	out = append(out, ctlZoneCommands()...)
	out = append(out, ctlAdminCommands()...)
	out = append(out, ctlPatrolCommands()...)
	out = append(out, ctlAlertCommands()...)
	out = append(out, ctlKeyCommands()...)
	return out
}

// Formatting helpers shared by the ctl commands.

func fnum(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

func parseNum(c *ctlConfig, what, s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// NaN and Inf parse; they go to the server, which names the field.
		return 0, c.usage(c.t("ctl.bad_number", "what", what, "value", strconv.Quote(s)))
	}
	return f, nil
}

// usage prints a usage problem and returns errUsage (exit status 2).
func (c *ctlConfig) usage(msg string) error {
	fmt.Fprintln(c.stderr, msg)
	return errUsage
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
