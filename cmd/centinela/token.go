package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/centinela-gcs/centinela/fleet/app"
	"github.com/centinela-gcs/centinela/fleet/store"
	"github.com/centinela-gcs/centinela/geofence"
)

// tokenConfig is the configuration of "centinela token create".
type tokenConfig struct {
	// DB is the server's bbolt file.
	DB string
	// Role, Agency and Name describe the token.
	Role, Agency, Name string
}

// openTokenStore opens the server's store file (serve --db). It fails
// while serve holds the file (bbolt's lock), after the store's timeout.
func openTokenStore(path string) (app.Store, io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return db, db, nil
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg tokenConfig
	cl := newCmdLine("token create", args, stderr)
	fs := cl.fs
	if path, err := defaultDBPath(); err == nil {
		cfg.DB = path
	}
	fs.StringVar(&cfg.DB, "db", cfg.DB, "the server's store `file` (serve --db)")
	fs.StringVar(&cfg.Role, "role", "", "supervisor, operator or admin")
	fs.StringVar(&cfg.Agency, "agency", "", "the holder's agency (required for operators)")
	fs.StringVar(&cfg.Name, "name", "", "label shown in the audit log")
	cl.usage("--db PATH --role ROLE [--agency ID] [--name LABEL]", "Makes an API token in the server's store file, usable before the server first\n"+
		"starts (the server must not be running: it holds the file). Prints the bearer\n"+
		"token once on standard output; only its hash is stored.")
	if len(args) == 0 || args[0] != "create" {
		cl.printUsage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	if _, err := cl.parse(args[1:], nil, nil); err != nil {
		return err
	}
	if cfg.DB == "" || cfg.Role == "" {
		fmt.Fprintln(stderr, cl.t("token.need_db_role"))
		return errUsage
	}
	if !app.Role(cfg.Role).Valid() {
		fmt.Fprintln(stderr, cl.t("token.bad_role", "role", strconv.Quote(cfg.Role)))
		return errUsage
	}
	st, closer, err := openTokenStore(cfg.DB)
	if err != nil {
		return err
	}
	defer closer.Close()
	if cfg.Agency != "" {
		known := slices.ContainsFunc(builtinAgencies(), func(a geofence.Agency) bool { return a.ID == cfg.Agency })
		if stored, err := st.Agencies(); err == nil && !known {
			known = slices.ContainsFunc(stored, func(a geofence.Agency) bool { return a.ID == cfg.Agency })
		}
		if !known {
			return msgErr("token.no_agency", "agency", strconv.Quote(cfg.Agency), "builtin", agencyUS+", "+agencyMX+", "+agencyJoint)
		}
	}
	secret, tok, err := tokenCreate(st, time.Now(), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, cl.t("token.stored", "id", tok.ID, "role", string(tok.Role), "agency", strconv.Quote(tok.Agency), "label", strconv.Quote(tok.Label), "db", cfg.DB))
	fmt.Fprintln(stdout, secret)
	return nil
}

// tokenCreate makes the token in st (as the local administrator).
func tokenCreate(st app.Store, now time.Time, cfg tokenConfig) (string, app.Token, error) {
	return app.NewToken(st, now, app.Role(cfg.Role), cfg.Agency, cfg.Name, "centinela token create")
}
