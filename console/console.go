package console

import (
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tessera-media/tessera/control"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/hlsjs"
	"github.com/tessera-media/tessera/output"
)

//go:embed assets
var assets embed.FS

// Credentials are an API access key.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// Config configures the console.
type Config struct {
	// API runs the operations and checks the credentials. Required.
	API *control.Server
	// Ingest gives the publishers' counters (GET /console/stats); nil
	// answers an empty list.
	Ingest *ingest.Server
	// Development, when set, are the development credentials the server
	// runs with: the sign-in page shows them.
	Development *Credentials
	// Recordings reads the storage back for the recordings page; nil
	// answers that the server cannot.
	Recordings output.Lister
	// Channels are the channel ARNs compositions may push to.
	Channels []string
	// SecureCookies marks the session cookie Secure on every response, not
	// only on those over TLS: set it when clients reach the server by
	// https:// through a proxy that terminates TLS.
	SecureCookies bool
	// SessionTTL is how long a session lasts from sign-in; default 12 h.
	SessionTTL time.Duration
	// MaxSessions bounds the open sessions; default 1000.
	MaxSessions int
	// SignInAttempts is how many sign-ins a client address may try per
	// minute; default 10.
	SignInAttempts int
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Console serves the web console; see the package documentation.
type Console struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessions
	limiter  *limiter
	mux      *http.ServeMux
	scan     int // objects one recordings listing reads, recordingScan
}

const (
	cookieName = "tessera_console"
	csrfHeader = "X-CSRF-Token"
	// maxBody bounds a request body (the API's own bound).
	maxBody = 1 << 20
)

// Routes are the patterns of a server's mux that go to the console: its
// page, the icon at the path browsers ask for, and everything under
// /console/.
var Routes = []string{"GET /{$}", "GET /favicon.ico", "/console/"}

// New makes the console of cfg.API.
func New(cfg Config) *Console {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 1000
	}
	if cfg.SignInAttempts <= 0 {
		cfg.SignInAttempts = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Console{
		cfg: cfg, log: cfg.Logger.With("component", "console"),
		sessions: &sessions{m: map[string]*session{}, ttl: cfg.SessionTTL, max: cfg.MaxSessions, now: time.Now},
		limiter: &limiter{attempts: cfg.SignInAttempts, window: time.Minute, maxClients: 10000, now: time.Now,
			clients: map[string]*attempts{}},
		mux: http.NewServeMux(), scan: recordingScan,
	}
	static, _ := fs.Sub(assets, "assets")
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "index.html")
	})
	c.mux.Handle("GET /console/assets/", http.StripPrefix("/console/assets/", http.FileServerFS(static)))
	// The icon at the path browsers ask for without a page's <link>.
	c.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeFileFS(w, r, static, "icon.svg")
	})
	c.mux.HandleFunc("GET /console/signin", c.signInInfo)
	c.mux.HandleFunc("POST /console/signin", c.signIn)
	c.mux.Handle("GET /console/session", c.authorized(c.sessionInfo))
	c.mux.Handle("POST /console/signout", c.authorized(c.signOut))
	c.mux.Handle("POST /console/api/{operation}", c.authorized(c.invoke))
	c.mux.Handle("GET /console/stats", c.authorized(c.stats))
	c.mux.Handle("GET /console/recordings", c.authorized(c.recordings))
	c.mux.Handle("GET /console/recordings/media/{storage}/{key...}", c.authorized(c.media))
	c.mux.HandleFunc("GET /console/assets/hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(hlsjs.Script)
	})
	c.mux.HandleFunc("GET /console/assets/hls.js-LICENSE.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(hlsjs.License)
	})
	c.mux.Handle("/console/", c.authorized(func(w http.ResponseWriter, r *http.Request, _ *session) {
		writeError(w, http.StatusNotFound, "no such console endpoint")
	}))
	return c
}

// ServeHTTP serves GET / and everything under /console/.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src *; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'")
	c.mux.ServeHTTP(w, r)
}

// authorized wraps a handler that needs a session: without one it answers
// 401; a POST without the session's CSRF token is 403.
func (c *Console) authorized(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie(cookieName); err == nil {
			s = c.sessions.get(ck.Value)
		}
		if s == nil {
			writeError(w, http.StatusUnauthorized, "sign in first")
			return
		}
		if r.Method != http.MethodGet && !s.validCSRF(r.Header.Get(csrfHeader)) {
			writeError(w, http.StatusForbidden, "missing or wrong "+csrfHeader+" header")
			return
		}
		h(w, r, s)
	})
}

// signInInfo answers whether the development credentials are in use.
func (c *Console) signInInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"development": c.cfg.Development})
}

// signIn checks the credentials and opens a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	if ok, wait := c.limiter.allow(addr); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		writeError(w, http.StatusTooManyRequests, "too many sign-in attempts: try again later")
		return
	}
	// JSON only: a cross-site form cannot send it, and a cross-site
	// fetch of it needs a CORS preflight, which the console never allows.
	var in Credentials
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil || mt != "application/json" {
		writeError(w, http.StatusBadRequest, "send {\"accessKeyId\", \"secretAccessKey\"} as application/json")
		return
	}
	if !c.cfg.API.CheckCredentials(in.AccessKeyID, in.SecretAccessKey) {
		c.log.Info("console sign-in refused", "access_key", in.AccessKeyID, "remote", addr)
		writeError(w, http.StatusUnauthorized, "wrong access key id or secret access key")
		return
	}
	id, s := c.sessions.open(in.AccessKeyID)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: c.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.cfg.SessionTTL.Seconds())})
	c.log.Info("console signed in", "access_key", in.AccessKeyID, "remote", addr)
	writeJSON(w, http.StatusOK, c.info(s))
}

// secure reports whether the session cookie is Secure for r.
func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.cfg.SecureCookies }

// info is what the page learns of its session.
func (c *Console) info(s *session) map[string]any {
	ch := slices.Clone(c.cfg.Channels)
	slices.Sort(ch)
	return map[string]any{"accessKeyId": s.accessKey, "csrfToken": s.csrf, "channels": ch}
}

func (c *Console) sessionInfo(w http.ResponseWriter, r *http.Request, s *session) {
	writeJSON(w, http.StatusOK, c.info(s))
}

// signOut ends the session and clears its cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, _ *session) {
	if ck, err := r.Cookie(cookieName); err == nil {
		c.sessions.close(ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: c.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	writeJSON(w, http.StatusOK, map[string]any{})
}

// invoke runs an API operation as the session's access key.
func (c *Console) invoke(w http.ResponseWriter, r *http.Request, s *session) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	c.cfg.API.Invoke(r.Context(), w, s.accessKey, r.PathValue("operation"), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers the console's own refusals, shaped like the API's
// errors ({"message"}).
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"message": message})
}
