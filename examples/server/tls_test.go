package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readCert reads the first certificate of a PEM file.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(raw)
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

// handshake makes a TLS connection to addr that trusts only root and
// checks the name serverName, and returns the certificate it was shown.
func handshake(t *testing.T, addr, serverName string, root *x509.Certificate) (*x509.Certificate, error) {
	t.Helper()
	pool := x509.NewCertPool()
	if root != nil {
		pool.AddCert(root)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: serverName})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// httpsGet fetches url with a client that trusts only root.
func httpsGet(t *testing.T, url string, root *x509.Certificate) (int, string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(root)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := client.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

// TestSelfSignedTLS: -tls-self-signed makes an ECDSA P-256 certificate for
// localhost, 127.0.0.1 and ::1 on the first start, keeps it in the data
// folder for the next, and serves both APIs over TLS with it; a client
// that trusts it completes the handshake for each of those names, one that
// does not refuses it.
func TestSelfSignedTLS(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "-tls-self-signed", "-admin-password", "pw")
	s.drain()
	require.True(t, strings.HasPrefix(s.url, "https://"), s.printed())
	certPath := filepath.Join(data, "tls-cert.pem")
	assert.Contains(t, s.printed(), "TLS certificate "+certPath+" (self-signed, made now")
	cert := readCert(t, certPath)
	key, ok := cert.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "an ECDSA key")
	assert.Equal(t, elliptic.P256(), key.Curve)
	assert.ElementsMatch(t, []string{"localhost"}, cert.DNSNames)
	var ips []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	assert.ElementsMatch(t, []string{"127.0.0.1", "::1"}, ips)
	assert.Contains(t, cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	info, err := os.Stat(filepath.Join(data, "tls-key.pem"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the key is private")

	for _, name := range []string{"127.0.0.1", "localhost", "::1"} {
		shown, err := handshake(t, s.addr, name, cert)
		require.NoError(t, err, name)
		assert.Equal(t, cert.Raw, shown.Raw)
	}
	_, err = handshake(t, s.addr, "localhost", nil)
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown, "a client that does not trust it refuses it")
	_, err = handshake(t, s.addr, "example.com", cert)
	assert.ErrorContains(t, err, "example.com", "nor is it for another name")

	status, body := httpsGet(t, s.url+"/healthz", cert)
	assert.Equal(t, 200, status)
	assert.Equal(t, "ok\n", body)
	status, body = httpsGet(t, s.url+"/api/v1/login?username=admin&password="+md5hex("pw"), cert)
	assert.Equal(t, 200, status)
	assert.Contains(t, body, `"token"`)
	res, err := http.Get("http://" + s.addr + "/healthz")
	if err == nil {
		res.Body.Close()
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "plain HTTP is not served")
	}
	s.stop(t)

	// The next start keeps it.
	s = startServer(t, data, "-tls-self-signed")
	s.drain()
	assert.Contains(t, s.printed(), "kept since")
	shown, err := handshake(t, s.addr, "localhost", cert)
	require.NoError(t, err)
	assert.Equal(t, cert.Raw, shown.Raw, "the same certificate")
	s.stop(t)

	// A start on another listen host makes one that names it too.
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip("127.0.0.2 is not a loopback address here")
	}
	probe.Close()
	s = startServer(t, data, "-tls-self-signed", "-addr", "127.0.0.2:0")
	s.drain()
	assert.Contains(t, s.printed(), "made now: the one kept did not name")
	renewed := readCert(t, certPath)
	for _, name := range []string{"127.0.0.2", "127.0.0.1", "localhost", "::1"} {
		assert.NoError(t, renewed.VerifyHostname(name))
	}
	_, err = handshake(t, s.addr, "127.0.0.2", renewed)
	assert.NoError(t, err)
}

// TestGivenCertificate: -tls-cert and -tls-key serve a certificate made
// elsewhere.
func TestGivenCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, _, err := keptSelfSigned(dir, []string{"localhost", "127.0.0.1"}, time.Now())
	require.NoError(t, err)
	certPath, keyPath := filepath.Join(dir, "tls-cert.pem"), filepath.Join(dir, "tls-key.pem")
	s := launch(t, "", "-memory", "-addr", "127.0.0.1:0", "-admin-password", "pw", "-tls-cert", certPath, "-tls-key", keyPath)
	s.drain()
	assert.Contains(t, s.printed(), "TLS certificate "+certPath)
	shown, err := handshake(t, s.addr, "127.0.0.1", cert.Leaf)
	require.NoError(t, err)
	assert.Equal(t, cert.Leaf.Raw, shown.Raw)
	status, _ := httpsGet(t, s.url+"/readyz", cert.Leaf)
	assert.Equal(t, 200, status)
}

func TestCertHosts(t *testing.T) {
	base := []string{"localhost", "127.0.0.1", "::1"}
	for _, tc := range []struct {
		addr string
		want []string
	}{
		{"127.0.0.1:8080", base},
		{"localhost:8080", base},
		{"[::1]:8080", base},
		{":8080", base},
		{"0.0.0.0:8080", base},
		{"[::]:8080", base},
		{"192.0.2.7:443", append(base, "192.0.2.7")},
		{"[2001:DB8::1]:443", append(base, "2001:db8::1")},
		{"Panel.Example:443", append(base, "panel.example")},
	} {
		assert.Equal(t, tc.want, certHosts(tc.addr), tc.addr)
	}
}

// TestSelfSignedRenewal: a kept certificate that has expired is replaced;
// one that is damaged is an error that says what to delete.
func TestSelfSignedRenewal(t *testing.T) {
	dir := t.TempDir()
	hosts := certHosts("127.0.0.1:0")
	old, how, err := keptSelfSigned(dir, hosts, time.Now().Add(-selfSignedLife))
	require.NoError(t, err)
	assert.Equal(t, "made now", how)
	renewed, how, err := keptSelfSigned(dir, hosts, time.Now())
	require.NoError(t, err)
	assert.Contains(t, how, "expired")
	assert.NotEqual(t, old.Leaf.Raw, renewed.Leaf.Raw)
	kept, how, err := keptSelfSigned(dir, hosts, time.Now())
	require.NoError(t, err)
	assert.Contains(t, how, "kept since")
	assert.Equal(t, renewed.Leaf.Raw, kept.Leaf.Raw)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tls-key.pem"), []byte("damaged"), 0o600))
	_, _, err = keptSelfSigned(dir, hosts, time.Now())
	assert.ErrorContains(t, err, "to make a new one")
}
