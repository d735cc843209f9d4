package control

import (
	"reflect"
	"testing"
)

func TestClientFromUserAgent(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want Participant
	}{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
			Participant{BrowserName: "Chrome", BrowserVersion: "120.0.0.0", OSName: "Linux"}},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			Participant{BrowserName: "Edge", BrowserVersion: "120.0.2210.91", OSName: "Windows", OSVersion: "10.0"}},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
			Participant{BrowserName: "Firefox", BrowserVersion: "121.0", OSName: "Linux"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
			Participant{BrowserName: "Safari", BrowserVersion: "17.1.2", OSName: "iOS", OSVersion: "17.1.2"}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
			Participant{BrowserName: "Chrome", BrowserVersion: "120.0.6099.144", OSName: "Android", OSVersion: "14"}},
		{"GStreamer souphttpsrc 1.22.0 libsoup/3.2.2", Participant{SDKVersion: "GStreamer"}},
		{"libdatachannel/0.20.1", Participant{SDKVersion: "libdatachannel 0.20.1"}},
		{"", Participant{}},
	} {
		var got Participant
		got.setClient(tc.ua)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.ua, got, tc.want)
		}
	}
}
