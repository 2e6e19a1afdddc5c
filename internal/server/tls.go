package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// certFiles serves the certificate of a PEM certificate file and key file,
// and loads them again on the first handshake after either changed (a
// renewal: certbot and most tools write new files and rename them into
// place), so a renewed certificate needs no restart. While the new pair does
// not load, say between the writes of the two files, the last good pair is
// served.
type certFiles struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu    sync.Mutex
	tried [2]os.FileInfo   // the files as they were when last loaded, or tried
	pair  *tls.Certificate // the last pair that loaded
}

// loadCertFiles loads the pair once, so that a bad pair fails at start.
func loadCertFiles(certFile, keyFile string, logger *slog.Logger) (*certFiles, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls: give both a certificate and a key file")
	}
	c := &certFiles{certFile: certFile, keyFile: keyFile, logger: logger}
	if err := c.load(); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return c, nil
}

// load reads both files and, if they make a pair, serves it.
func (c *certFiles) load() error {
	for i, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			c.tried[i] = nil
			return err
		}
		c.tried[i] = fi
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.pair = &pair
	return nil
}

// changed reports whether either file differs from when it was last tried.
func (c *certFiles) changed() bool {
	for i, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		old := c.tried[i]
		if err != nil || old == nil {
			if err == nil || old != nil {
				return true
			}
			continue // still missing: nothing new to try
		}
		if !os.SameFile(fi, old) || !fi.ModTime().Equal(old.ModTime()) || fi.Size() != old.Size() {
			return true
		}
	}
	return false
}

// getCertificate is tls.Config.GetCertificate: two stats per handshake, a
// reload when a file changed. A pair that does not load is logged once and
// tried again only when a file changes again.
func (c *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed() {
		if err := c.load(); err != nil {
			c.logger.Warn("server: TLS certificate not reloaded; serving the previous one", "cert", c.certFile, "key", c.keyFile, "err", err)
		} else {
			c.logger.Info("server: TLS certificate reloaded", "cert", c.certFile, "not_after", c.pair.Leaf.NotAfter)
		}
	}
	return c.pair, nil
}

// tlsConfig is the public listener's TLS configuration.
func (c *certFiles) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.getCertificate}
}
