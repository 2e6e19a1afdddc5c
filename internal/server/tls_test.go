package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, in PEM.
type testCert struct {
	cert, key []byte
	x509      *x509.Certificate
}

func newTestCert(t *testing.T, serial int64) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "qun test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		x509: parsed,
	}
}

// writeAtomically replaces name with content the way certbot and most
// tools do: a new file renamed into place.
func writeAtomically(t *testing.T, name string, content []byte) {
	t.Helper()
	tmp := name + ".new"
	if err := os.WriteFile(tmp, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

// servedSerial makes a new TLS connection to addr, trusting roots, and
// returns the serial of the certificate the server presented.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz over TLS: %d", resp.StatusCode)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
}

func TestPublicTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, second := newTestCert(t, 1), newTestCert(t, 2)
	writeAtomically(t, certFile, first.cert)
	writeAtomically(t, keyFile, first.key)
	roots := x509.NewCertPool()
	roots.AddCert(first.x509)
	roots.AddCert(second.x509)

	var log bytes.Buffer
	s := &Server{PublicAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	stop := start(t, s)
	defer stop()
	pub, adm := s.Addrs()

	if serial := servedSerial(t, pub, roots); serial != 1 {
		t.Fatalf("served certificate %d, want 1", serial)
	}
	// The admin listener stays plain HTTP; plain HTTP to the public one is refused.
	if code, _ := get(t, "http://"+adm+"/healthz"); code != http.StatusOK {
		t.Errorf("admin /healthz over HTTP: %d", code)
	}
	if code, _ := get(t, "http://"+pub+"/healthz"); code != http.StatusBadRequest {
		t.Errorf("public /healthz over plain HTTP: %d, want 400", code)
	}

	// A renewal is picked up by the next connection, without a restart.
	writeAtomically(t, certFile, second.cert)
	writeAtomically(t, keyFile, second.key)
	if serial := servedSerial(t, pub, roots); serial != 2 {
		t.Fatalf("after the renewal: served certificate %d, want 2", serial)
	}
	// A pair that does not load (here a key of another certificate, as
	// between writing the two files) keeps the last good one, said once in the log.
	writeAtomically(t, keyFile, first.key)
	for range 2 {
		if serial := servedSerial(t, pub, roots); serial != 2 {
			t.Fatalf("after a mismatched key: served certificate %d, want 2 (the last good one)", serial)
		}
	}
	if n := strings.Count(log.String(), "TLS certificate not reloaded"); n != 1 {
		t.Errorf("%d warnings about the mismatched pair, want 1:\n%s", n, log.String())
	}
	writeAtomically(t, certFile, first.cert)
	if serial := servedSerial(t, pub, roots); serial != 1 {
		t.Fatalf("after the pair matched again: served certificate %d, want 1", serial)
	}
}

func TestPublicTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	c := newTestCert(t, 1)
	other := newTestCert(t, 2)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key, otherKey := write("cert.pem", c.cert), write("key.pem", c.key), write("other.pem", other.key)
	for _, tc := range []struct{ name, cert, key, err string }{
		{"no key", cert, "", "give both"},
		{"no cert", "", key, "give both"},
		{"missing file", filepath.Join(dir, "nope.pem"), key, "nope.pem"},
		{"key of another certificate", cert, otherKey, "private key does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{PublicAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", TLSCert: tc.cert, TLSKey: tc.key}
			err := s.Open()
			if err == nil {
				t.Fatal("Open: no error")
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Open: %v, want %q", err, tc.err)
			}
		})
	}
}
