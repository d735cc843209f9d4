package control

import "strings"

// The publisher's client, as Participant shows it (browserName,
// browserVersion, osName, osVersion, sdkVersion), read simply from the
// User-Agent header of its WHIP offer: a browser's name and version from
// its product token (Edge, Opera, Firefox, Chrome, Safari, in that order of
// precedence), the operating system from the first comment; any other
// client (a WHIP library, an encoder) is its first product token, "name
// version", as sdkVersion. Values keep only the characters the model
// allows and at most 128 of them; what cannot be read is left out.

// setClient fills p's client fields from a User-Agent header.
func (p *Participant) setClient(ua string) {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return
	}
	if !strings.HasPrefix(ua, "Mozilla/") {
		product, _, _ := strings.Cut(ua, " ")
		p.SDKVersion = clientAttribute(strings.ReplaceAll(product, "/", " "))
		return
	}
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"}, {"Version/", "Safari"},
	} {
		if v, ok := productVersion(ua, b.token); ok {
			p.BrowserName, p.BrowserVersion = b.name, clientAttribute(v)
			break
		}
	}
	if i, j := strings.IndexByte(ua, '('), strings.IndexByte(ua, ')'); i >= 0 && j > i {
		p.OSName, p.OSVersion = operatingSystem(ua[i+1 : j])
	}
}

// productVersion returns the version after token ("Chrome/" → "120.0.1").
func productVersion(ua, token string) (string, bool) {
	i := strings.Index(ua, token)
	if i < 0 {
		return "", false
	}
	v, _, _ := strings.Cut(ua[i+len(token):], " ")
	return v, true
}

// operatingSystem reads a browser's first User-Agent comment.
func operatingSystem(comment string) (name, version string) {
	for _, os := range []struct{ token, name string }{
		{"Windows NT ", "Windows"}, {"iPhone OS ", "iOS"}, {"CPU OS ", "iOS"}, {"Mac OS X ", "macOS"},
		{"Android ", "Android"},
	} {
		if i := strings.Index(comment, os.token); i >= 0 {
			v, _, _ := strings.Cut(comment[i+len(os.token):], ";")
			v, _, _ = strings.Cut(v, " ")
			return os.name, clientAttribute(strings.ReplaceAll(v, "_", "."))
		}
	}
	switch {
	case strings.Contains(comment, "CrOS"):
		return "ChromeOS", ""
	case strings.Contains(comment, "Linux"):
		return "Linux", ""
	}
	return "", ""
}

// clientAttribute keeps the characters a ParticipantClientAttribute allows
// ([a-zA-Z0-9-_.,:;\s]), at most 128.
func clientAttribute(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:; ", r) {
			return r
		}
		return -1
	}, s)
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.TrimSpace(s)
}
