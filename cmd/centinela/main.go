// Command centinela is the Centinela ground-control server for fleets of
// patrol drones, its SITL simulator and their tools, as subcommands:
//
//	centinela serve   run the server (MAVLink links to the fleet)
//	centinela sim     run simulated drones that speak MAVLink
//	centinela demo    run the server with six simulated drones flying
//	centinela ctl     control the fleet through the gRPC API
//	centinela token   make an API token in the server's file
//	centinela bench   measure the server's ingest against simulated drones
//	centinela version print the version
//
// Run "centinela COMMAND --help" for each command's flags. The server that
// serve, demo and bench run is package
// github.com/centinela-gcs/centinela/cmd/centinela/server, usable as a
// library; this package only parses flags into its Config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/centinela-gcs/centinela/fleet/i18n"
)

// command is one subcommand: it parses its own flags and runs.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the ground-control server", runServe},
		{"sim", "run simulated drones that speak MAVLink", runSim},
		{"demo", "run the server with six simulated drones flying loops", runDemo},
		{"ctl", "control the fleet through the server's gRPC API", runCtl},
		{"token", "make an API token in the server's file (before it starts)", runToken},
		{"plan", "plan a patrol offline and print its route and checks", runPlan},
		{"bench", "measure ingest: the server against N simulated drones", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// "centinela --lang es" asks for the list of commands in Spanish.
	lang := langOf(args, os.Getenv)
	if len(args) > 0 && (args[0] == "-lang" || args[0] == "--lang") {
		args = args[min(2, len(args)):]
	} else if len(args) > 0 && (strings.HasPrefix(args[0], "-lang=") || strings.HasPrefix(args[0], "--lang=")) {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, lang)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		if l, ok := langFlag(args[1:]); ok {
			lang = l
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintln(stderr, i18n.T(lang, "cli.error", "command", c.name, "error", localizeError(err, lang)))
			return 1
		}
	}
	fmt.Fprintln(stderr, i18n.T(lang, "cli.unknown_command", "command", strconv.Quote(args[0])))
	fmt.Fprintln(stderr)
	usage(stderr, lang)
	return 2
}

// errUsage is returned when the command line is wrong; the flag set has
// already printed what is wrong.
var errUsage = errors.New("usage")

// usage writes the list of commands in lang.
func usage(w io.Writer, lang i18n.Lang) {
	fmt.Fprintln(w, i18n.T(lang, "cli.title"))
	fmt.Fprintf(w, "\n%s\n\n%s\n", i18n.T(lang, "cli.main_usage"), i18n.T(lang, "cli.commands"))
	for _, c := range commands() {
		summary := c.summary
		if s, ok := summariesES[c.name]; ok && lang == i18n.Es {
			summary = s
		}
		fmt.Fprintf(w, "  %-8s %s\n", c.name, summary)
	}
	fmt.Fprintf(w, "\n%s\n", i18n.T(lang, "cli.main_more"))
}
