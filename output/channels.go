package output

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/tessera-media/tessera/internal/av"
)

// channelARN is the form of an IVS channel ARN.
var channelARN = regexp.MustCompile(`^arn:aws:ivs:[a-z0-9-]+:[0-9]{12}:channel/[a-zA-Z0-9]+$`)

// ErrUnknownChannel means a channel ARN has no configured push target.
var ErrUnknownChannel = errors.New("no push target is configured for this channel")

// Channels maps channel ARNs to their RTMP(S) push targets
// (rtmp[s]://host[:port]/app/streamkey), as the server's configuration
// registers them.
type Channels map[string]string

// Set adds a target from its configuration form "ARN=URL" (the value of a
// --channel flag). It checks the ARN and that the URL is rtmp:// or
// rtmps:// with a host, an application and a stream key.
func (c Channels) Set(spec string) error {
	arn, target, ok := strings.Cut(spec, "=")
	if !ok {
		return fmt.Errorf("channel %q: want ARN=rtmp[s]://host/app/streamkey", spec)
	}
	if !channelARN.MatchString(arn) {
		return fmt.Errorf("channel %q: not a channel ARN (arn:aws:ivs:<region>:<account>:channel/<id>)", arn)
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("channel %s: bad URL %s", arn, av.RedactURL(target))
	}
	if u.Scheme != "rtmp" && u.Scheme != "rtmps" {
		return fmt.Errorf("channel %s: the push target's scheme is %q, want rtmp or rtmps", arn, u.Scheme)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if u.Host == "" || len(parts) < 2 || parts[0] == "" || parts[len(parts)-1] == "" {
		return fmt.Errorf("channel %s: %s is not rtmp[s]://host/app/streamkey", arn, av.RedactURL(target))
	}
	c[arn] = target
	return nil
}

// Resolve returns the push target of a channel ARN.
func (c Channels) Resolve(arn string) (string, error) {
	if t, ok := c[arn]; ok {
		return t, nil
	}
	return "", fmt.Errorf("%s: %w", arn, ErrUnknownChannel)
}
