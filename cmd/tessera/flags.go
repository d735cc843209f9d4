package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// durationFlag is a duration flag whose refusal says what a duration
// looks like: the flag package's own says only "parse error", which
// does not tell the user of --idle-timeout 5 that a unit is missing.
type durationFlag time.Duration

func (d *durationFlag) String() string   { return time.Duration(*d).String() }
func (d *durationFlag) Get() any         { return time.Duration(*d) }
func (d *durationFlag) typeName() string { return "duration" }

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration with its unit, like 90s, 500ms, 2m or 1h30m")
	}
	*d = durationFlag(v)
	return nil
}

// levelFlag is --log-level: one of slog's level names, checked when set
// (from the command line, the environment or the config file alike).
type levelFlag struct{ p *string }

func (l levelFlag) String() string {
	if l.p == nil {
		return ""
	}
	return *l.p
}

func (l levelFlag) typeName() string { return "level" }

func (l levelFlag) Set(s string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s)); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	*l.p = s
	return nil
}

// durationVar defines a duration flag on fs, as fs.DurationVar does.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationFlag)(p), name, usage)
}

// printDefaults writes fs's flags with their help, as the flag package
// does, our own flag types named as such (duration, level) rather than
// "value".
func printDefaults(fs *flag.FlagSet) {
	var b bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	text := b.String()
	fs.VisitAll(func(f *flag.Flag) {
		if t, ok := f.Value.(interface{ typeName() string }); ok {
			text = strings.Replace(text, "  -"+f.Name+" value\n", "  -"+f.Name+" "+t.typeName()+"\n", 1)
		}
	})
	_, _ = io.WriteString(out, text)
}

// newFlagSet is a command's flag set: errors are returned, not printed
// (parseFlags words them), and its usage lists the flags with
// printDefaults.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s [flags]\n", name)
		printDefaults(fs)
	}
	return fs
}

// parseFlags parses args into fs. -h prints fs.Usage and returns
// flag.ErrHelp. A flag that does not exist, a value that does not parse
// and an argument that is not a flag — which would otherwise end the flags
// and drop every one after it — are errors that name it and point to -h;
// the flag package would print every flag's help after them, burying the
// one line that matters.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: every argument is a flag, -name value or -name=value", fs.Arg(0))
		if i := len(args) - fs.NArg(); i > 0 && (fs.Arg(0) == "true" || fs.Arg(0) == "false") {
			// --sched-keeper false: a true/false flag takes no separate value.
			name := strings.TrimLeft(args[i-1], "-")
			if f := fs.Lookup(name); f != nil {
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
					err = fmt.Errorf("unexpected argument %q: a true/false flag takes its value after =, as in -%s=%s", fs.Arg(0), name, fs.Arg(0))
				}
			}
		}
	}
	if err != nil {
		return usageError{fmt.Errorf("%w (%s -h lists the flags)", err, fs.Name())}
	}
	return nil
}

// usageError is a command line that cannot run as given.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitStatus is the exit status of a command that failed with err: 2 for
// a command line that cannot run as given, else 1.
func exitStatus(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}
