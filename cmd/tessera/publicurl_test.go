package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
)

// forwarded reads RFC 7239 Forwarded (quoted strings, several elements:
// the last), else X-Forwarded-Proto and X-Forwarded-Host (several values:
// the last), and drops what is not http(s) or a plain host[:port].
func TestForwarded(t *testing.T) {
	for _, c := range []struct {
		header      http.Header
		proto, host string
	}{
		{http.Header{}, "", ""},
		{http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"video.example:8443"}}, "https", "video.example:8443"},
		{http.Header{"X-Forwarded-Proto": {"HTTPS"}}, "https", ""},
		{http.Header{"X-Forwarded-Proto": {"http, https"}, "X-Forwarded-Host": {"spoofed.example", "a.example, b.example"}}, "https", "b.example"},
		{http.Header{"Forwarded": {`for=192.0.2.60;proto=https;host=video.example`}}, "https", "video.example"},
		{http.Header{"Forwarded": {`For="[2001:db8::1]:4711";Proto=https;Host="[2001:db8::2]:8443"`}}, "https", "[2001:db8::2]:8443"},
		{http.Header{"Forwarded": {`host=spoofed.example;proto=http, for=192.0.2.1;host="video.example;x,y"`, "proto=https;host=video.example"}}, "https", "video.example"},
		{http.Header{"Forwarded": {`for=192.0.2.60;host="a.example\"b"`}}, "", ""},
		{http.Header{"Forwarded": {"for=192.0.2.60"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"video.example"}}, "https", "video.example"},
		{http.Header{"Forwarded": {"proto=http;host=a.example"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"b.example"}}, "http", "a.example"},
		{http.Header{"X-Forwarded-Proto": {"javascript"}, "X-Forwarded-Host": {"evil.example/path?"}}, "", ""},
		{http.Header{"X-Forwarded-Host": {"user@evil.example"}}, "", ""},
	} {
		if proto, host := forwarded(c.header); proto != c.proto || host != c.host {
			t.Errorf("%v: %q %q, want %q %q", c.header, proto, host, c.proto, c.host)
		}
	}
}

// From a --trusted-proxy peer, X-Forwarded-* and Forwarded decide the
// scheme and host of stages' endpoints.whip and tokens' whip_url (without
// them: the Host the client asked for); from any other peer they are
// ignored; --public-url wins over both. (127.0.0.2 is the proxy,
// 127.0.0.1 anyone else.)
func TestTrustedProxy(t *testing.T) {
	addr, _ := startServe(t, t.TempDir(), "--trusted-proxy", "127.0.0.2/32", "--trusted-proxy", "::1")
	xf := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"video.example:8443"}}
	for _, c := range []struct {
		name, from string
		header     http.Header
		want       string
	}{
		{"proxy, X-Forwarded-*", "127.0.0.2", xf, "https://video.example:8443/whip"},
		{"proxy, Forwarded", "127.0.0.2", http.Header{"Forwarded": {`for=192.0.2.7;proto=https;host="video.example"`}}, "https://video.example/whip"},
		{"proxy, no forwarded headers", "127.0.0.2", nil, "http://" + addr + "/whip"},
		{"proxy, a host that is not one", "127.0.0.2", http.Header{"X-Forwarded-Host": {"evil.example/x"}}, "http://" + addr + "/whip"},
		{"not a proxy", "127.0.0.1", xf, "http://" + addr + "/whip"},
	} {
		client := apiClient("http://"+addr, httpClient(t, nil, c.from, c.header))
		if got := whipURLs(t, client); got != c.want+" "+c.want+" "+c.want {
			t.Errorf("%s: CreateStage, GetStage, token whip_url: %s, want %s", c.name, got, c.want)
		}
	}

	fixed, _ := startServe(t, t.TempDir(), "--trusted-proxy", "127.0.0.2", "--public-url", "https://tessera.example/")
	if got, want := whipURLs(t, apiClient("http://"+fixed, httpClient(t, nil, "127.0.0.2", xf))), "https://tessera.example/whip"; got != want+" "+want+" "+want {
		t.Errorf("--public-url and a proxy's headers: %s, want %s", got, want)
	}
}

// whipURLs creates a stage with a participant token and returns its
// endpoints.whip, GetStage's, and the token's whip_url, space-separated.
func whipURLs(t *testing.T, client *ivsrealtime.Client) string {
	t.Helper()
	ctx := context.Background()
	st, err := client.CreateStage(ctx, &ivsrealtime.CreateStageInput{ParticipantTokenConfigurations: []types.ParticipantTokenConfiguration{{}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetStage(ctx, &ivsrealtime.GetStageInput{Arn: st.Stage.Arn})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(aws.ToString(st.ParticipantTokens[0].Token), ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", aws.ToString(st.ParticipantTokens[0].Token))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		WHIPURL string `json:"whip_url"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(st.Stage.Endpoints.Whip) + " " + aws.ToString(got.Stage.Endpoints.Whip) + " " + claims.WHIPURL
}
