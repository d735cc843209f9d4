package publisher

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"time"

	"github.com/tessera-media/tessera/media"
)

// Config describes one synthetic participant. The zero value of every
// field but WHIP is usable.
type Config struct {
	// WHIP is the endpoint URL the offer is POSTed to (http or https).
	WHIP string
	// Token is sent as "Authorization: Bearer <Token>"; empty sends no
	// Authorization header.
	Token string
	// UserAgent, when set, is the offer's User-Agent header (the server
	// reads the participant's browser and OS from it); default Go's.
	UserAgent string
	// Name is drawn large on the picture and names the media stream.
	Name string
	// Codec is the video codec: "h264" (constrained baseline,
	// profile-level-id 42e01f, packetization-mode 1; the default) or "vp8".
	Codec string
	// Width and Height are the picture size, even; default 320×180.
	Width, Height int
	// FPS is the frame rate, 1–60; default 30.
	FPS float64
	// Bitrate is the video bitrate in bits per second; default 500,000.
	Bitrate int
	// KeyframeInterval is the distance between periodic keyframes;
	// 0 takes internal/av's default (2 s). PLI and FIR force one in between.
	KeyframeInterval time.Duration
	// Color, when set, makes the picture one solid colour and nothing else:
	// no background, box, name or stamp.
	Color *media.YUV
	// ToneHz is the frequency of the sine tone sent as audio (Opus, 48 kHz
	// stereo); 0 sends silence. DefaultToneHz is a good choice.
	ToneHz float64
	// Beeps sounds the tone only for the first BeepLength of every second
	// of the publisher's timeline (from StartedAt): sync marks, captured
	// at the same instants as the frames captured then.
	Beeps bool
	// NoAudio and NoVideo leave out that track (not both).
	NoAudio, NoVideo bool
	// Loss is the fraction (0–1) of outgoing RTP packets, audio and video,
	// retransmissions included, that the loss injector drops between the
	// publisher and the network. LossSeed seeds its random choice (0 is a
	// fixed default seed, so runs are reproducible).
	Loss     float64
	LossSeed uint64
	// Timeout bounds each step of Start (ICE gathering, the WHIP POST, the
	// wait for the connection) and the DELETE in Close; default 10 s. The
	// context passed to Start and Close bounds them too.
	Timeout time.Duration
	// Logger receives the publisher's logs; default slog.Default().
	Logger *slog.Logger
	// Clip, when set, makes the publisher replay it instead of drawing and
	// encoding live (see Clip): the video and the audio are the clip's
	// packets, looped, so publishing costs next to no CPU. Codec, Width,
	// Height and FPS must be left zero or match the clip; Bitrate,
	// KeyframeInterval, Color and ToneHz are the clip's and must be left
	// zero. One clip may feed any number of publishers.
	Clip *Clip
}

// DefaultToneHz is the tone the demo and tests use: concert A.
const DefaultToneHz = 440

// withDefaults fills in the defaults and validates c.
func (c Config) withDefaults() (Config, error) {
	if c.Clip != nil {
		if err := c.fromClip(); err != nil {
			return c, err
		}
	}
	c, err := c.withMediaDefaults()
	if err != nil {
		return c, err
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	u, err := url.Parse(c.WHIP)
	switch {
	case c.WHIP == "":
		return c, errors.New("no WHIP endpoint")
	case err != nil:
		return c, fmt.Errorf("WHIP endpoint: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return c, fmt.Errorf("WHIP endpoint %q: want an http or https URL", c.WHIP)
	case c.NoAudio && c.NoVideo:
		return c, errors.New("nothing to publish: NoAudio and NoVideo both set")
	case math.IsNaN(c.Loss) || c.Loss < 0 || c.Loss > 1:
		return c, fmt.Errorf("loss %v: want 0–1", c.Loss)
	case c.Timeout < 0:
		return c, fmt.Errorf("timeout %v: negative", c.Timeout)
	}
	return c, nil
}

// fromClip takes the media settings from c.Clip, refusing settings that
// contradict it.
func (c *Config) fromClip() error {
	k := c.Clip
	switch {
	case c.Codec != "" && c.Codec != k.codec:
		return fmt.Errorf("codec %q: the clip is %s", c.Codec, k.codec)
	case (c.Width != 0 || c.Height != 0) && (c.Width != k.width || c.Height != k.height):
		return fmt.Errorf("size %dx%d: the clip is %dx%d", c.Width, c.Height, k.width, k.height)
	case c.FPS != 0 && c.FPS != k.fps:
		return fmt.Errorf("frame rate %v: the clip is %v fps", c.FPS, k.fps)
	case c.Bitrate != 0 || c.KeyframeInterval != 0 || c.Color != nil || c.ToneHz != 0 || c.Beeps:
		return errors.New("bitrate, keyframe interval, colour and tone (and beeps) are the clip's: leave them zero")
	}
	c.Codec, c.Width, c.Height, c.FPS, c.Bitrate, c.ToneHz = k.codec, k.width, k.height, k.fps, k.bitrate, k.toneHz
	return nil
}

// withMediaDefaults fills in the defaults of the picture and sound
// settings and validates them.
func (c Config) withMediaDefaults() (Config, error) {
	if c.Codec == "" {
		c.Codec = "h264"
	}
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = 320, 180
	}
	if c.FPS == 0 {
		c.FPS = 30
	}
	if c.Bitrate == 0 {
		c.Bitrate = 500_000
	}
	switch {
	case c.Codec != "h264" && c.Codec != "vp8":
		return c, fmt.Errorf("codec %q: want h264 or vp8", c.Codec)
	case c.Width < 16 || c.Height < 16 || c.Width > 4096 || c.Height > 4096 || c.Width%2 != 0 || c.Height%2 != 0:
		return c, fmt.Errorf("size %dx%d: want even, 16–4096", c.Width, c.Height)
	case math.IsNaN(c.FPS) || c.FPS < 1 || c.FPS > 60:
		return c, fmt.Errorf("frame rate %v: want 1–60", c.FPS)
	case c.Bitrate < 10_000:
		return c, fmt.Errorf("bitrate %d: want at least 10,000", c.Bitrate)
	case c.KeyframeInterval < 0:
		return c, fmt.Errorf("keyframe interval %v: negative", c.KeyframeInterval)
	case math.IsNaN(c.ToneHz) || c.ToneHz < 0 || c.ToneHz >= media.SampleRate/2:
		return c, fmt.Errorf("tone %v Hz: want 0 (silence) or below 24 kHz", c.ToneHz)
	case c.Beeps && c.ToneHz == 0:
		return c, errors.New("beeps: set a tone (ToneHz) to beep with")
	}
	return c, nil
}

// avCodec is internal/av's name for the configured video codec.
func (c Config) avCodec() string {
	if c.Codec == "vp8" {
		return "vp8"
	}
	return "h264-baseline"
}

// WHIPError is what Start returns when the WHIP endpoint answers the POST
// with anything but 201 Created, and Close or ExchangeToken when the
// session answers with an unexpected status.
type WHIPError struct {
	// Status is the HTTP status code, e.g. 401, 403, 400, 406, 503.
	Status int
	// Reason is the first line of the response body, trimmed (at most 200
	// bytes); empty if there was none.
	Reason string
}

func (e *WHIPError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("publisher: WHIP endpoint answered %d", e.Status)
	}
	return fmt.Sprintf("publisher: WHIP endpoint answered %d: %s", e.Status, e.Reason)
}

// Errors that Err reports once Done is closed.
var (
	// ErrClosed: Close was called.
	ErrClosed = errors.New("publisher: closed")
	// ErrDisconnected: the connection failed or the server closed it.
	ErrDisconnected = errors.New("publisher: disconnected")
)
