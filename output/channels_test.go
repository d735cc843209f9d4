package output

import (
	"errors"
	"strings"
	"testing"
)

func TestChannels(t *testing.T) {
	c := Channels{}
	const arn = "arn:aws:ivs:us-west-2:123456789012:channel/AbCdEf123456"
	if err := c.Set(arn + "=rtmps://live.example.com:443/app/sk_us-west-2_secretkey"); err != nil {
		t.Fatal(err)
	}
	if u, err := c.Resolve(arn); err != nil || !strings.HasSuffix(u, "/app/sk_us-west-2_secretkey") {
		t.Fatalf("Resolve = %q, %v", u, err)
	}
	if _, err := c.Resolve("arn:aws:ivs:us-west-2:123456789012:channel/other"); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("unknown channel: %v", err)
	}
	for _, bad := range []string{
		"no-equals",
		"arn:aws:ivs:us-west-2:123456789012:stage/abc=rtmp://h/app/key",
		arn + "=http://h/app/key",
		arn + "=rtmp:///app/key",
		arn + "=rtmp://h/onlyapp",
		arn + "=https://h/app/supersecret",
	} {
		err := c.Set(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "supersecret") || strings.Contains(err.Error(), "/key") {
			t.Errorf("error reveals the stream key: %v", err)
		}
	}
}
