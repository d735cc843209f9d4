package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/selfsigned"
)

// rtmpIngest is the RTMP and RTMPS listeners of tessera serve, and the
// stage endpoints (rtmp://…/app/, rtmps://…/app/) they make.
type rtmpIngest struct {
	plainURL, secureURL string
	listeners           []net.Listener
}

// listenRTMP opens --rtmp-listen and --rtmps-listen ("" leaves one off)
// and serves them with ing. The RTMPS certificate is --rtmps-cert and
// --rtmps-key, or else a self-signed one kept in <data>/rtmps for the
// listen host (and localhost).
func listenRTMP(s *settings, ing *ingest.Server, log *slog.Logger) (*rtmpIngest, error) {
	r := &rtmpIngest{}
	if s.RTMPListen != "" {
		ln, err := net.Listen("tcp", s.RTMPListen)
		if err != nil {
			return nil, fmt.Errorf("--rtmp-listen: %w", err)
		}
		r.listeners = append(r.listeners, ln)
		r.plainURL = publicRTMP(s.RTMPPublicURL, "rtmp", ln.Addr())
	}
	if s.RTMPSListen != "" {
		cert, certFile, err := rtmpsCertificate(s)
		if err != nil {
			r.close()
			return nil, err
		}
		ln, err := tls.Listen("tcp", s.RTMPSListen, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			r.close()
			return nil, fmt.Errorf("--rtmps-listen: %w", err)
		}
		r.listeners = append(r.listeners, ln)
		r.secureURL = publicRTMP(s.RTMPSPublicURL, "rtmps", ln.Addr())
		if s.RTMPSCert == "" {
			log.Info("RTMPS uses a self-signed certificate: publishers must trust it (--rtmps-cert and --rtmps-key set your own)", "cert", certFile)
		}
	}
	for i, ln := range r.listeners {
		secure := i == len(r.listeners)-1 && r.secureURL != ""
		go func() {
			if err := ing.ServeRTMP(ln, secure); err != nil {
				log.Error("RTMP listener failed", "addr", ln.Addr().String(), "err", err)
			}
		}()
	}
	return r, nil
}

// rtmpsCertificate loads --rtmps-cert/--rtmps-key, or the self-signed
// certificate of <data>/rtmps.
func rtmpsCertificate(s *settings) (tls.Certificate, string, error) {
	if s.RTMPSCert != "" {
		c, err := tls.LoadX509KeyPair(s.RTMPSCert, s.RTMPSKey)
		if err != nil {
			return c, "", fmt.Errorf("--rtmps-cert/--rtmps-key: %w", err)
		}
		return c, s.RTMPSCert, nil
	}
	c, file, err := selfsigned.Load(filepath.Join(s.Data, "rtmps"), selfSignedHosts(s.RTMPSListen)...)
	if err != nil {
		return c, "", fmt.Errorf("RTMPS certificate: %w", err)
	}
	return c, file, nil
}

// selfSignedHosts are the names a self-signed certificate for a listen
// address covers: its host (unless it listens everywhere) and localhost.
func selfSignedHosts(listen string) []string {
	host, _, _ := net.SplitHostPort(listen)
	hosts := []string{"localhost"}
	if host != "" && host != "localhost" && !net.ParseIP(host).IsUnspecified() {
		hosts = append([]string{host}, hosts...)
	}
	return hosts
}

// publicRTMP is a stage endpoint: the configured public URL, or
// scheme://<bound address>/app/.
func publicRTMP(configured, scheme string, addr net.Addr) string {
	if configured != "" {
		return configured
	}
	return scheme + "://" + addr.String() + "/app/"
}

func (r *rtmpIngest) close() {
	for _, ln := range r.listeners {
		ln.Close()
	}
}
