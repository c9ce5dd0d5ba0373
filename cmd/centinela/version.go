package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Version is the release version, set at build time with
// -ldflags "-X main.Version=v1.2.3"; otherwise the module version.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	cl := newCmdLine("version", args, stderr)
	cl.usage("", "Prints the version of centinela and of Go it was built with.")
	if _, err := cl.parse(args, nil, nil); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "centinela %s (%s %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
