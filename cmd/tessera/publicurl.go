package main

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/tessera-media/tessera/control"
)

// publicURLs decides the base URL (scheme://host) of the absolute URLs
// the server answers a request with: --public-url if set; else, for a
// request whose connection comes from a --trusted-proxy, the scheme and
// host the proxy's client used, as the proxy reports them (forwarded);
// else the listener's own (http or https://<bound address>). Forwarded
// headers from any other peer are ignored.
type publicURLs struct {
	fixed   string         // --public-url
	base    string         // scheme://<bound address>
	trusted []netip.Prefix // --trusted-proxy
}

// of is the base URL for r.
func (p publicURLs) of(r *http.Request) string {
	if p.fixed != "" {
		return p.fixed
	}
	if !p.fromProxy(r) {
		return p.base
	}
	proto, host := forwarded(r.Header)
	if proto == "" {
		proto = "http"
		if r.TLS != nil {
			proto = "https"
		}
	}
	if host == "" {
		host = r.Host
	}
	if !validHost(host) {
		return p.base
	}
	return proto + "://" + host
}

// fromProxy reports whether r's connection comes from a trusted proxy.
func (p publicURLs) fromProxy(r *http.Request) bool {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := peer.Addr().Unmap().WithZone("")
	for _, t := range p.trusted {
		if t.Contains(addr) {
			return true
		}
	}
	return false
}

// api serves h (the API) with the WHIP endpoint under each request's base
// URL in the request's context (control.WithWHIPURL), when that can differ
// from the default.
func (p publicURLs) api(h http.Handler) http.Handler {
	if p.fixed != "" || len(p.trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(control.WithWHIPURL(r.Context(), p.of(r)+"/whip")))
	})
}

// forwarded is the scheme and host a proxy reports its client used: from
// the RFC 7239 Forwarded header, else X-Forwarded-Proto and
// X-Forwarded-Host; of several elements or values, the last one (the one
// the proxy closest to the server added). A value that is not http or
// https, or not a plain host[:port], counts as absent.
func forwarded(h http.Header) (proto, host string) {
	if elems := splitUnquoted(strings.Join(h.Values("Forwarded"), ","), ','); len(elems) > 0 {
		for _, pair := range splitUnquoted(elems[len(elems)-1], ';') {
			k, v, _ := strings.Cut(pair, "=")
			v = unquote(strings.TrimSpace(v))
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "proto":
				proto = v
			case "host":
				host = v
			}
		}
	}
	if proto == "" {
		proto = lastValue(h, "X-Forwarded-Proto")
	}
	if host == "" {
		host = lastValue(h, "X-Forwarded-Host")
	}
	if proto = strings.ToLower(proto); proto != "http" && proto != "https" {
		proto = ""
	}
	if !validHost(host) {
		host = ""
	}
	return proto, host
}

// lastValue is the last of a header's comma-separated values.
func lastValue(h http.Header, key string) string {
	vs := h.Values(key)
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	return strings.TrimSpace(v[strings.LastIndexByte(v, ',')+1:])
}

// splitUnquoted splits s at each sep outside double quotes, dropping empty
// parts.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	quoted, escaped, start := false, false, 0
	for i := 0; i <= len(s); i++ {
		switch {
		case i == len(s) || (s[i] == sep && !quoted):
			if p := strings.TrimSpace(s[start:i]); p != "" {
				parts = append(parts, p)
			}
			start = i + 1
		case escaped:
			escaped = false
		case s[i] == '\\' && quoted:
			escaped = true
		case s[i] == '"':
			quoted = !quoted
		}
	}
	return parts
}

// unquote is an RFC 7230 quoted-string's content, or s when it is a token.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '\\' && i+1 < len(s)-1 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// validHost reports whether s is a host name or IP address (IPv6 in
// brackets) with an optional port, and nothing else that could change a
// URL's meaning.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
			return false
		}
	}
	return true
}
