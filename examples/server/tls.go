package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files of the -tls-self-signed certificate in the data folder.
const (
	selfSignedCert = "tls-cert.pem"
	selfSignedKey  = "tls-key.pem"
)

// selfSignedLife is how long a made certificate is valid: 825 days, the
// longest that Apple's clients accept for a TLS server certificate.
const selfSignedLife = 825 * 24 * time.Hour

// setupTLS returns the TLS configuration that the flags ask for, or nil for
// plain HTTP, and a sentence that says which certificate it serves.
// dataDir is where -tls-self-signed keeps its certificate; "" keeps it
// nowhere (-memory).
func setupTLS(c config, dataDir string, now time.Time) (*tls.Config, string, error) {
	var (
		cert tls.Certificate
		note string
		err  error
	)
	switch {
	case c.tlsCert != "":
		cert, err = tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, "", fmt.Errorf("-tls-cert, -tls-key: %w", err)
		}
		path, _ := filepath.Abs(c.tlsCert)
		note = "TLS certificate " + path
	case c.tlsSelfSigned:
		hosts := certHosts(c.addr)
		if dataDir == "" {
			if cert, err = makeSelfSigned(hosts, now); err != nil {
				return nil, "", err
			}
			note = "TLS with a self-signed certificate made for this run only (-memory keeps nothing)"
		} else {
			var how string
			if cert, how, err = keptSelfSigned(dataDir, hosts, now); err != nil {
				return nil, "", fmt.Errorf("-tls-self-signed: %w", err)
			}
			path := filepath.Join(dataDir, selfSignedCert)
			note = fmt.Sprintf("TLS certificate %s (self-signed, %s; clients trust it with, for example, curl --cacert %s)", path, how, path)
		}
	default:
		return nil, "", nil
	}
	sum := sha256.Sum256(cert.Certificate[0])
	note += ", SHA-256 fingerprint " + fingerprint(sum[:])
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, note, nil
}

// certHosts are the names a self-signed certificate is for: localhost,
// 127.0.0.1, ::1 and the host of addr unless it is a wildcard.
func certHosts(addr string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return hosts
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsUnspecified() {
			return hosts
		}
		host = ip.String()
	}
	if !slices.Contains(hosts, strings.ToLower(host)) {
		hosts = append(hosts, strings.ToLower(host))
	}
	return hosts
}

// keptSelfSigned loads the certificate kept in dir, or makes and keeps a
// new one when there is none, it has expired (or does within a day), or it
// does not name every host; the new one names the old one's hosts too.
// how says which.
func keptSelfSigned(dir string, hosts []string, now time.Time) (tls.Certificate, string, error) {
	certPath, keyPath := filepath.Join(dir, selfSignedCert), filepath.Join(dir, selfSignedKey)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	how := "made now"
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return cert, "", fmt.Errorf("%s: %w (delete %s and %s to make a new one)", certPath, err, certPath, keyPath)
	case now.Add(24 * time.Hour).After(cert.Leaf.NotAfter):
		how = "made now: the one kept had expired"
	default:
		missing := false
		for _, h := range hosts {
			missing = missing || cert.Leaf.VerifyHostname(h) != nil
		}
		if !missing {
			return cert, "kept since " + cert.Leaf.NotBefore.Add(time.Hour).UTC().Format(time.DateOnly), nil
		}
		how = "made now: the one kept did not name " + strings.Join(hosts, ", ")
		hosts = append(hosts, cert.Leaf.DNSNames...)
		for _, ip := range cert.Leaf.IPAddresses {
			hosts = append(hosts, ip.String())
		}
		slices.Sort(hosts)
		hosts = slices.Compact(hosts)
	}
	if cert, err = makeSelfSigned(hosts, now); err != nil {
		return cert, "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cert, "", err
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return cert, "", err
	}
	// The key first: a certificate without its key is never left behind.
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		return cert, "", err
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		return cert, "", err
	}
	return cert, how, nil
}

// makeSelfSigned makes an ECDSA P-256 certificate for hosts (names and IP
// addresses), valid from an hour ago for selfSignedLife.
func makeSelfSigned(hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Lintel example server (self-signed)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLife),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// writeFileAtomic writes a file whole or not at all.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // once renamed, there is nothing to remove
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// fingerprint is a digest as colon-separated upper-case hex pairs.
func fingerprint(sum []byte) string {
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = strings.ToUpper(hex.EncodeToString([]byte{b}))
	}
	return strings.Join(pairs, ":")
}
