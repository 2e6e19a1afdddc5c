package app_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/qun-chat/qun/client"
	"github.com/qun-chat/qun/internal/app"
	"github.com/qun-chat/qun/internal/app/apptest"
)

// selfSignedCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns the file names and a pool that trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "qun test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(parsed)
	return certFile, keyFile, roots
}

// TestTLSGateway serves the public listener over TLS: the gateway URL it
// hands out is wss://, and a WebSocket client reaches the gateway there.
func TestTLSGateway(t *testing.T) {
	certFile, keyFile, roots := selfSignedCert(t, t.TempDir())
	cfg := apptest.Config(t, t.TempDir())
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	tm := apptest.Start(t, cfg)
	pub, _ := tm.Server.Addrs()
	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	var robot struct{ AppID, AppSecret string }
	apptest.Call(t, client.NewAdmin(tm.Admin, tm.Secret), "/admin/robot/create", map[string]any{"userId": "echo", "name": "echo"}, &robot)
	body, _ := json.Marshal(map[string]string{"appId": robot.AppID, "clientSecret": robot.AppSecret})
	resp, err := httpc.Post("https://"+pub+"/app/getAppAccessToken", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var token struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&token)
	resp.Body.Close()
	if err != nil || token.AccessToken == "" {
		t.Fatalf("token over TLS: HTTP %d, %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest("GET", "https://"+pub+"/gateway", nil)
	req.Header.Set("Authorization", "QQBot "+token.AccessToken)
	resp, err = httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var gw struct{ URL string }
	err = json.NewDecoder(resp.Body).Decode(&gw)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := "wss://" + pub + "/websocket"; gw.URL != want {
		t.Fatalf("gateway URL %q, want %q", gw.URL, want)
	}
	conn, _, err := websocket.Dial(t.Context(), gw.URL, &websocket.DialOptions{HTTPClient: httpc})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	_, hello, err := conn.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(hello), `{"op":10,`) {
		t.Fatalf("first frame %s, want Hello (op 10)", hello)
	}
}

func TestTLSFlags(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, tc := range []struct {
		name      string
		args      []string
		env       map[string]string
		cert, key string
		err       string
	}{
		{"none", nil, nil, "", "", ""},
		{"flags", []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, "c.pem", "k.pem", ""},
		{"env", nil, map[string]string{"QUN_TLS_CERT": "c.pem", "QUN_TLS_KEY": "k.pem"}, "c.pem", "k.pem", ""},
		{"cert only", []string{"--tls-cert", "c.pem"}, nil, "", "", "tls-cert and tls-key go together"},
		{"key only", nil, map[string]string{"QUN_TLS_KEY": "k.pem"}, "", "", "tls-cert and tls-key go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := app.ParseConfig(tc.args, env(tc.env), os.Stderr)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || cfg.TLSCert != tc.cert || cfg.TLSKey != tc.key {
				t.Fatalf("cert %q key %q err %v; want %q %q", cfg.TLSCert, cfg.TLSKey, err, tc.cert, tc.key)
			}
		})
	}
}
