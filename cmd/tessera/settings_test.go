package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/control"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Flags beat TESSERA_* variables, which beat the config file; defaults
// fill the rest.
func TestSettingsPrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tessera.json")
	if err := os.WriteFile(cfg, []byte(`{"region": "eu-west-1", "account-id": "111111111111", "idle-timeout": "30s",
		"channel": ["arn:aws:ivs:us-east-1:123456789012:channel/AbCdEf123456=rtmp://127.0.0.1/live/key"], "udp-port": 5000}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, err := parseSettings([]string{"--config", cfg, "--region", "us-west-2"},
		envOf(map[string]string{"TESSERA_ACCOUNT_ID": "222222222222", "TESSERA_S3_ACCESS_KEY_ID": "s3key"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Region != "us-west-2" || s.AccountID != "222222222222" || s.IdleTimeout != 30*time.Second || s.UDPPort != 5000 ||
		len(s.Channels) != 1 || s.S3AccessKeyID != "s3key" || s.Listen != "127.0.0.1:8080" ||
		s.AccessKeyID != DevAccessKeyID {
		t.Errorf("settings %+v", s)
	}
}

func TestSettingsRefusals(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:8080"}, nil, "development credentials"},
		{[]string{"--listen", ":8080"}, nil, "development credentials"},
		{[]string{"--channel", "arn:aws:ivs:us-east-1:123456789012:channel/x=http://host/app/key"}, nil, "rtmp"},
		{[]string{"--listen", "nonsense"}, nil, "--listen"},
		{nil, map[string]string{"TESSERA_ACCESS_KEY_ID": "AKIAONLYKEY"}, "both"},
		{nil, map[string]string{"TESSERA_IDLE_TIMEOUT": "soon"}, "TESSERA_IDLE_TIMEOUT"},
		{[]string{"--udp-port", "70000"}, nil, "udp-port"},
		{[]string{"--store", "mysql://db/tessera"}, nil, "--store: want a postgres://"},
		{[]string{"--capacity-cores", "-1"}, nil, "--capacity-cores -1"},
		{nil, map[string]string{"TESSERA_STORE": "data/other.db"}, "--store: want a postgres://"},
		{[]string{"--stage-session-end", "0s"}, nil, "--stage-session-end"},
		{[]string{"--encoder-preset", "warp"}, nil, "--encoder-preset: preset \"warp\": must be one of ultrafast"},
		{[]string{"--tls-cert", "cert.pem"}, nil, "set both --tls-cert and --tls-key"},
		{nil, map[string]string{"TESSERA_TLS_KEY": "key.pem"}, "set both --tls-cert and --tls-key"},
		{[]string{"--tls-cert", "cert.pem", "--tls-key", "key.pem", "--tls-self-signed"}, nil, "--tls-self-signed and --tls-cert"},
		{[]string{"--trusted-proxy", "10.0.0.0/8,proxy.example"}, nil, `--trusted-proxy "proxy.example"`},
		{nil, map[string]string{"TESSERA_TRUSTED_PROXY": "10.0.0.1/33"}, `--trusted-proxy "10.0.0.1/33"`},
	} {
		_, _, err := parseSettings(tc.args, envOf(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error about %q", tc.args, tc.env, err, tc.want)
		}
	}
	// Real credentials may listen anywhere.
	if _, _, err := parseSettings([]string{"--listen", "0.0.0.0:8080"},
		envOf(map[string]string{"TESSERA_ACCESS_KEY_ID": "AKIAREAL", "TESSERA_SECRET_ACCESS_KEY": "secret"})); err != nil {
		t.Error(err)
	}
}

// HTTPS and the trusted proxies come from flags, TESSERA_* and the config
// file; a trusted proxy is an address or a CIDR.
func TestSettingsHTTPS(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tessera.json")
	if err := os.WriteFile(cfg, []byte(`{"tls-key": "/etc/tessera/key.pem", "trusted-proxy": ["192.0.2.10", "2001:db8::/32"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _, err := parseSettings([]string{"--config", cfg}, envOf(map[string]string{"TESSERA_TLS_CERT": "/etc/tessera/cert.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.TLSCert != "/etc/tessera/cert.pem" || s.TLSKey != "/etc/tessera/key.pem" || !s.https() ||
		fmt.Sprint(s.trustedProxies) != "[192.0.2.10/32 2001:db8::/32]" {
		t.Errorf("settings %+v", s)
	}
	if s, _, err = parseSettings(nil, envOf(map[string]string{"TESSERA_TLS_SELF_SIGNED": "true", "TESSERA_TRUSTED_PROXY": "10.1.2.3/8, ::1"})); err != nil ||
		!s.https() || fmt.Sprint(s.trustedProxies) != "[10.0.0.0/8 ::1/128]" {
		t.Errorf("TESSERA_TLS_SELF_SIGNED, TESSERA_TRUSTED_PROXY: %v, %+v", err, s)
	}
	if s, _, err = parseSettings(nil, envOf(nil)); err != nil || s.https() || s.trustedProxies != nil {
		t.Errorf("defaults: %v, %+v", err, s)
	}
}

// The WHIP session caps come from flags, TESSERA_* and the config file
// like every setting; negative caps are refused.
func TestSettingsWHIPCaps(t *testing.T) {
	s, _, err := parseSettings([]string{"--whip-max-sessions", "100"},
		envOf(map[string]string{"TESSERA_WHIP_MAX_HALF_OPEN": "8", "TESSERA_WHIP_CONNECT_TIMEOUT": "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.WHIPMaxSessions != 100 || s.WHIPMaxHalfOpen != 8 || s.WHIPConnectTimeout != 5*time.Second {
		t.Errorf("settings %+v", s)
	}
	if s, _, err = parseSettings(nil, envOf(nil)); err != nil || s.WHIPMaxSessions != 0 || s.WHIPMaxHalfOpen != 0 || s.WHIPConnectTimeout != 15*time.Second {
		t.Errorf("defaults: %v %+v", err, s)
	}
	for _, args := range [][]string{{"--whip-max-sessions", "-1"}, {"--whip-max-half-open", "-2"}, {"--whip-connect-timeout", "0s"}} {
		if _, _, err := parseSettings(args, envOf(nil)); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: %v, want an error naming it", args, err)
		}
	}
}

// The reconnect window: 10 s by default, set by flag, TESSERA_RECONNECT_WINDOW
// or the config file; 0 turns it off (a negative window for ingest);
// negative values are refused.
func TestSettingsReconnectWindow(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tessera.json")
	if err := os.WriteFile(cfg, []byte(`{"reconnect-window": "3s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		env        map[string]string
		want, into time.Duration
	}{
		{nil, nil, 10 * time.Second, 10 * time.Second},
		{[]string{"--reconnect-window", "30s"}, nil, 30 * time.Second, 30 * time.Second},
		{nil, map[string]string{"TESSERA_RECONNECT_WINDOW": "0"}, 0, -1},
		{[]string{"--config", cfg}, nil, 3 * time.Second, 3 * time.Second},
	} {
		s, _, err := parseSettings(tc.args, envOf(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		if s.ReconnectWindow != tc.want || s.ingestReconnectWindow() != tc.into {
			t.Errorf("%v %v: window %v (ingest %v), want %v (%v)", tc.args, tc.env, s.ReconnectWindow, s.ingestReconnectWindow(), tc.want, tc.into)
		}
	}
	if _, _, err := parseSettings([]string{"--reconnect-window", "-1s"}, envOf(nil)); err == nil || !strings.Contains(err.Error(), "--reconnect-window") {
		t.Errorf("a negative window: %v", err)
	}
}

// The stage session end defaults to control's; the webhook secret comes
// from the environment like any setting.
func TestSettingsSessionsAndEvents(t *testing.T) {
	s, _, err := parseSettings(nil, envOf(map[string]string{"TESSERA_WEBHOOK_SECRET": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.SessionEnd != control.DefaultSessionEnd || s.WebhookSecret != "s3cret" {
		t.Errorf("stage session end %v, webhook secret %q", s.SessionEnd, s.WebhookSecret)
	}
}
