package main

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/selfsigned"
)

// httpsConfig is the TLS configuration of the HTTP listener (TLS 1.2 and
// up; HTTP/2 where the client offers it), or nil without --tls-cert and
// --tls-self-signed. Its certificate is the --tls-cert and --tls-key pair,
// or a self-signed one kept in <data>/tls for the listen host and
// localhost, and follows the files as they change (certificateFiles).
func httpsConfig(s *settings, log *slog.Logger, reg prometheus.Registerer) (*tls.Config, error) {
	certFile, keyFile := s.TLSCert, s.TLSKey
	if s.TLSSelfSigned {
		dir := filepath.Join(s.Data, "tls")
		c, file, err := selfsigned.Load(dir, selfSignedHosts(s.Listen)...)
		if err != nil {
			return nil, fmt.Errorf("HTTPS certificate: %w", err)
		}
		certFile, keyFile = file, filepath.Join(dir, "key.pem")
		log.Info("HTTPS uses a self-signed certificate: clients must trust it (--tls-cert and --tls-key set your own)",
			"cert", certFile, "sha256", fingerprint(c.Certificate[0]))
	}
	if certFile == "" {
		return nil, nil
	}
	cf, err := newCertificateFiles(certFile, keyFile, log, reg)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cf.get}, nil
}

// certificateFiles is a certificate and key pair read from two PEM files
// and read again, for the next handshakes, when either file changes (a
// certificate renewal: new contents, or a symbolic link pointing at new
// files). Each handshake stats both files; a pair that does not load is
// logged and counted, and the last good one kept until the files change
// again.
type certificateFiles struct {
	certFile, keyFile string
	log               *slog.Logger
	reloads           *prometheus.CounterVec
	notAfter          prometheus.Gauge

	mu                sync.Mutex
	cert              *tls.Certificate
	certStat, keyStat os.FileInfo // of the files last read, good or not
}

// newCertificateFiles loads the pair; it fails if the pair does not load.
func newCertificateFiles(certFile, keyFile string, log *slog.Logger, reg prometheus.Registerer) (*certificateFiles, error) {
	cf := &certificateFiles{certFile: certFile, keyFile: keyFile, log: log,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tessera_tls_certificate_reloads_total",
			Help: "HTTPS certificate files read again after they changed on disk, by result (ok: in use; error: refused, the previous pair kept)."}, []string{"result"}),
		notAfter: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tessera_tls_certificate_not_after_timestamp_seconds",
			Help: "When the HTTPS certificate in use expires (Unix time)."}),
	}
	cf.reloads.WithLabelValues("ok")
	cf.reloads.WithLabelValues("error")
	certStat, keyStat := cf.stat()
	if err := cf.load(certStat, keyStat); err != nil {
		return nil, err
	}
	if err := reg.Register(cf.reloads); err != nil {
		return nil, err
	}
	return cf, reg.Register(cf.notAfter)
}

// get is tls.Config.GetCertificate.
func (cf *certificateFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	certStat, keyStat := cf.stat()
	if changed(cf.certStat, certStat) || changed(cf.keyStat, keyStat) {
		if err := cf.load(certStat, keyStat); err != nil {
			cf.reloads.WithLabelValues("error").Inc()
			cf.log.Error("HTTPS certificate files changed but do not load: the previous certificate stays in use", "err", err)
		} else {
			cf.reloads.WithLabelValues("ok").Inc()
			cf.log.Info("HTTPS certificate reloaded", "cert", cf.certFile, "not_after", cf.cert.Leaf.NotAfter, "sha256", fingerprint(cf.cert.Leaf.Raw))
		}
	}
	return cf.cert, nil
}

// stat returns the files' information (nil for a file that cannot be
// read: a change, too).
func (cf *certificateFiles) stat() (cert, key os.FileInfo) {
	cert, _ = os.Stat(cf.certFile)
	key, _ = os.Stat(cf.keyFile)
	return cert, key
}

// load reads the pair; the files' information is recorded either way, so a
// broken pair is read (and reported) once, not on every handshake.
func (cf *certificateFiles) load(certStat, keyStat os.FileInfo) error {
	cf.certStat, cf.keyStat = certStat, keyStat
	c, err := tls.LoadX509KeyPair(cf.certFile, cf.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cf.cert = &c
	cf.notAfter.Set(float64(c.Leaf.NotAfter.Unix()))
	return nil
}

// changed reports whether a file is not the one last read, by identity,
// size and modification time.
func changed(was, now os.FileInfo) bool {
	if was == nil || now == nil {
		return was != now
	}
	return !os.SameFile(was, now) || was.Size() != now.Size() || !was.ModTime().Equal(now.ModTime())
}

// fingerprint is a certificate's SHA-256 fingerprint as openssl x509
// -fingerprint -sha256 prints it.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":")
}
