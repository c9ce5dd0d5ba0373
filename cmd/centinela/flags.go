package main

import (
	"flag"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// logOptions are the logging flags every long-running command takes.
type logOptions struct {
	Level  string
	Format string
}

func defaultLogOptions() logOptions { return logOptions{Level: "info", Format: "text"} }

// register adds --log-level and --log-format to fs.
func (o *logOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.Level, "log-level", o.Level, "log level: debug, info, warn or error")
	fs.StringVar(&o.Format, "log-format", o.Format, "log format: text or json")
}

// newLogger builds the one logger of a command from its flags.
func (o logOptions) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.Level)); err != nil {
		return nil, msgErr("flagerr.log_level", "value", strconv.Quote(o.Level))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch o.Format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, msgErr("flagerr.log_format", "value", strconv.Quote(o.Format))
}
