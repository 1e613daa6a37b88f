// Command gencert prints a certificate and its private key as PEM, made with
// Go's crypto the way go-plugin's AutoMTLS makes its one-time certificates
// (mtls.go generateCert, v1.4 to v1.8): ECDSA P-521, a random 128-bit serial,
// self-signed CN=localhost O=HashiCorp, SAN DNS localhost, a CA certificate
// (IsCA, basic constraints) with key usage DigitalSignature, KeyEncipherment,
// KeyAgreement and CertSign, extended key usage client and server auth, valid
// from 30 seconds ago for 262980 hours.
//
// Usage: gencert [-cert FILE -key FILE]. Without flags both PEM blocks go to
// stdout, certificate first; with them each goes to its file.
//
// The Rust tests use it for a fixture (plugin-runtime/src/mtls/testdata) and,
// at run time, to give the tlspeer program a Go-made identity.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"time"
)

func main() {
	certPath := flag.String("cert", "", "write the certificate PEM here (default: stdout)")
	keyPath := flag.String("key", "", "write the private key PEM here (default: stdout)")
	flag.Parse()
	if (*certPath == "") != (*keyPath == "") {
		fail(fmt.Errorf("give both -cert and -key, or neither"))
	}

	certPEM, keyPEM, err := generate()
	if err != nil {
		fail(err)
	}
	if *certPath == "" {
		os.Stdout.Write(certPEM)
		os.Stdout.Write(keyPEM)
		return
	}
	if err := os.WriteFile(*certPath, certPEM, 0o600); err != nil {
		fail(err)
	}
	if err := os.WriteFile(*keyPath, keyPEM, 0o600); err != nil {
		fail(err)
	}
}

func generate() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	name := pkix.Name{CommonName: "localhost", Organization: []string{"HashiCorp"}}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		DNSNames:              []string{"localhost"},
		NotBefore:             now.Add(-30 * time.Second),
		NotAfter:              now.Add(262980 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment |
			x509.KeyUsageKeyAgreement | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	var c, k bytes.Buffer
	if err := pem.Encode(&c, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
		return nil, nil, err
	}
	if err := pem.Encode(&k, &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}); err != nil {
		return nil, nil, err
	}
	return c.Bytes(), k.Bytes(), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencert:", err)
	os.Exit(1)
}
