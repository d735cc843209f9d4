package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A mistyped command starts nothing; flags alone are serve's.
func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		cmd  string
		rest []string
	}{
		{nil, "serve", nil},
		{[]string{"serve", "--listen", ":1"}, "serve", []string{"--listen", ":1"}},
		{[]string{"--listen", ":1"}, "serve", []string{"--listen", ":1"}},
		{[]string{"demo", "--duration", "5s"}, "demo", []string{"--duration", "5s"}},
		{[]string{"api-model"}, "api-model", []string{}},
		{[]string{"--version"}, "version", []string{}},
		{[]string{"version"}, "version", []string{}},
		{[]string{"-h"}, "help", []string{}},
		{[]string{"help"}, "help", []string{}},
	} {
		cmd, rest, err := command(tc.args)
		if err != nil || cmd != tc.cmd || !slices.Equal(rest, tc.rest) {
			t.Errorf("command(%q) = %q, %q, %v; want %q, %q", tc.args, cmd, rest, err, tc.cmd, tc.rest)
		}
	}
	for _, args := range [][]string{{"serv", "--listen", ":1"}, {"demoo"}, {"foo"}} {
		if cmd, _, err := command(args); err == nil || !strings.Contains(err.Error(), `unknown command "`+args[0]+`"`) {
			t.Errorf("command(%q) = %q, %v; want unknown command", args, cmd, err)
		}
	}
}

// A duration without its unit, an argument that is not a flag (which
// would drop every flag after it) and an unknown log level are refused
// with what is wrong, from the command line, the environment and the
// config file alike.
func TestCommandLineRefusals(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tessera.json")
	if err := os.WriteFile(cfg, []byte(`{"idle-timeout": 5}`), 0o600); err != nil {
		t.Fatal(err)
	}
	const unit = "want a duration with its unit"
	for _, tc := range []struct {
		args  []string
		env   map[string]string
		wants []string
	}{
		{[]string{"--idle-timeout", "5"}, nil, []string{"-idle-timeout", unit, "tessera serve -h"}},
		{nil, map[string]string{"TESSERA_IDLE_TIMEOUT": "5"}, []string{"TESSERA_IDLE_TIMEOUT", unit}},
		{[]string{"--config", cfg}, nil, []string{"idle-timeout", unit}},
		{[]string{"--data", "/tmp/d1", "extra", "--listen", "127.0.0.1:8097"}, nil, []string{`unexpected argument "extra"`}},
		{[]string{"--log-level", "verbose"}, nil, []string{`invalid value "verbose" for flag -log-level`, "debug, info, warn or error"}},
		{nil, map[string]string{"TESSERA_LOG_LEVEL": "verbose"}, []string{"TESSERA_LOG_LEVEL", "debug, info, warn or error"}},
		{[]string{"--sched-keeper", "false", "--listen", "127.0.0.1:1"}, nil, []string{`a true/false flag takes its value after =, as in -sched-keeper=false`}},
		{[]string{"--no-such-flag"}, nil, []string{"-no-such-flag", "tessera serve -h"}},
	} {
		_, _, err := parseSettings(tc.args, envOf(tc.env))
		if err == nil {
			t.Errorf("parseSettings(%q, %v) succeeded", tc.args, tc.env)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseSettings(%q, %v): %v; want it to say %q", tc.args, tc.env, err, w)
			}
		}
	}
	// tessera demo's flags the same; a usage error is exit status 2.
	for _, args := range [][]string{{"--duration", "5"}, {"now"}} {
		if err := demo(args); err == nil || exitStatus(err) != 2 || !strings.Contains(err.Error(), "tessera demo -h") {
			t.Errorf("demo(%q): %v (exit status %d)", args, err, exitStatus(err))
		}
	}
	for _, v := range []string{"90s", "1h30m", "500ms"} {
		s, _, err := parseSettings([]string{"--idle-timeout", v}, envOf(nil))
		if want, _ := time.ParseDuration(v); err != nil || s.IdleTimeout != want {
			t.Errorf("--idle-timeout %s: %v, %v", v, s, err)
		}
	}
}

// -h lists every flag with its help, durations named as such.
func TestUsage(t *testing.T) {
	_, fs, err := parseSettings([]string{"-h"}, envOf(nil))
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	var b bytes.Buffer
	fs.SetOutput(&b)
	fs.Usage()
	out := b.String()
	for _, want := range []string{"usage: tessera serve [flags]\n", "  -idle-timeout duration\n", "(default 1m0s)", "  -log-level level\n", "(default info)", "  -listen string\n", "  -udp-port int\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks %q:\n%s", want, out)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(out, "  -"+f.Name+" ") && !strings.Contains(out, "  -"+f.Name+"\n") {
			t.Errorf("usage lacks -%s", f.Name)
		}
	})
}
