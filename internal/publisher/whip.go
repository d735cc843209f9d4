package publisher

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits on what the WHIP endpoint may send back.
const (
	maxAnswer = 1 << 20 // bytes of SDP answer
	maxReason = 200     // bytes of a 4xx reason kept
)

// whipClient speaks the requests of RFC 9725 a publisher needs, and
// Tessera's token exchange.
type whipClient struct {
	endpoint  string
	token     string
	userAgent string // of the offer; "" for Go's default
	http      *http.Client
}

// newWHIPClient returns a client whose every request is bounded by
// timeout. It has its own transport without keep-alives, so that no idle
// connection (and no goroutine) outlives a request, and without proxies:
// the endpoint is reached directly.
func newWHIPClient(endpoint, token, userAgent string, timeout time.Duration) *whipClient {
	return &whipClient{
		endpoint:  endpoint,
		token:     token,
		userAgent: userAgent,
		http: &http.Client{
			Timeout: timeout,
			// A redirected offer (RFC 9725 §4.5: to the server that serves
			// the stage) keeps its token, also on another host, where
			// net/http would drop it.
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("stopped after 5 redirects")
				}
				if a := via[0].Header.Get("Authorization"); a != "" {
					req.Header.Set("Authorization", a)
				}
				return nil
			},
			Transport: &http.Transport{
				DisableKeepAlives:     true,
				ResponseHeaderTimeout: timeout,
				TLSHandshakeTimeout:   timeout,
			},
		},
	}
}

// offer POSTs the SDP offer and returns the answer and the session URL
// (Location resolved against the endpoint, or against the URL a redirect
// sent the offer to: RFC 9725 §4.5). A status other than 201 is a
// *WHIPError.
func (c *whipClient) offer(ctx context.Context, sdp string) (answer, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(sdp))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", "", &WHIPError{Status: resp.StatusCode, Reason: reason(resp.Body)}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
			return "", "", fmt.Errorf("answer has content type %q, want application/sdp", ct)
		}
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", "", errors.New("201 Created without a Location header")
	}
	base := resp.Request.URL // the endpoint, or where it redirected the offer
	ref, err := url.Parse(loc)
	if err != nil {
		return "", "", fmt.Errorf("location %q: %w", loc, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return "", "", fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxAnswer {
		return "", "", fmt.Errorf("answer longer than %d bytes", maxAnswer)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return "", "", errors.New("201 Created with an empty answer")
	}
	return string(body), base.ResolveReference(ref).String(), nil
}

// remove DELETEs the session. Any 2xx is success; 404 too (the session is
// gone already, e.g. the server ended it).
func (c *whipClient) remove(ctx context.Context, location string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotFound {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil
	}
	return &WHIPError{Status: resp.StatusCode, Reason: reason(resp.Body)}
}

// exchange POSTs a new token to the session's token-exchange URL
// (location + "/token"), authorized by the client's own token (the
// session's). Any 2xx is success.
func (c *whipClient) exchange(ctx context.Context, location, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, location+"/token", strings.NewReader(token))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/jwt")
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil
	}
	return &WHIPError{Status: resp.StatusCode, Reason: reason(resp.Body)}
}

func (c *whipClient) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// redactLocation is a session URL as logs and errors show it: the last
// path segment (the session id, which a server may treat as a secret) cut
// to its first 8 characters.
func redactLocation(location string) string {
	i := strings.LastIndexByte(location, '/') + 1
	if len(location)-i <= 8 {
		return location
	}
	return location[:i+8] + "…"
}

// reason returns the first non-empty line of body, trimmed to maxReason
// bytes.
func reason(body io.Reader) string {
	s := bufio.NewScanner(io.LimitReader(body, 4096))
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" {
			if len(line) > maxReason {
				line = strings.ToValidUTF8(line[:maxReason], "")
			}
			return line
		}
	}
	return ""
}
