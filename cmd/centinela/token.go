package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/centinela-gcs/centinela/fleet/app"
)

// tokenConfig is the configuration of "centinela token create".
type tokenConfig struct {
	// DB is the server's bbolt file.
	DB string
	// Role, Agency and Name describe the token.
	Role, Agency, Name string
}

// openStore opens the server's durable store at path, returning it and
// what closes it. The bbolt store (package fleet/store) sets it when it is
// wired into serve; until then "token create" refuses, since a token made
// anywhere else would not reach the server.
var openStore = func(path string) (app.Store, io.Closer, error) {
	return nil, nil, errors.New("this build has no durable store yet (fleet/store): tokens can only be made with 'centinela ctl token create' against a running server")
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "Usage: centinela token create --db PATH --role ROLE [--agency ID] [--name LABEL]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	var cfg tokenConfig
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", "", "the server's store `file` (serve --db)")
	fs.StringVar(&cfg.Role, "role", "", "supervisor, operator or admin")
	fs.StringVar(&cfg.Agency, "agency", "", "the holder's agency (required for operators)")
	fs.StringVar(&cfg.Name, "name", "", "label shown in the audit log")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: centinela token create --db PATH --role ROLE [--agency ID] [--name LABEL]\n\n"+
			"Makes an API token in the server's store file, usable before the server first\n"+
			"starts (the server must not be running: it holds the file). Prints the bearer\n"+
			"token once on standard output; only its hash is stored.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if cfg.DB == "" || cfg.Role == "" {
		fmt.Fprintln(stderr, "token create: --db and --role are required")
		return errUsage
	}
	if !app.Role(cfg.Role).Valid() {
		fmt.Fprintf(stderr, "token create: --role %q: want supervisor, operator or admin\n", cfg.Role)
		return errUsage
	}
	st, closer, err := openStore(cfg.DB)
	if err != nil {
		return err
	}
	defer closer.Close()
	secret, tok, err := tokenCreate(st, time.Now(), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "token %s (%s, agency %q, %q) stored in %s\n", tok.ID, tok.Role, tok.Agency, tok.Label, cfg.DB)
	fmt.Fprintln(stdout, secret)
	return nil
}

// tokenCreate makes the token in st (as the local administrator).
func tokenCreate(st app.Store, now time.Time, cfg tokenConfig) (string, app.Token, error) {
	return app.NewToken(st, now, app.Role(cfg.Role), cfg.Agency, cfg.Name, "centinela token create")
}
