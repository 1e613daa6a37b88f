// Command tlspeer is one end of a TLS connection over a Unix socket, with Go's
// crypto/tls configured the way go-plugin configures AutoMTLS (client.go and
// server.go, v1.4.4 to v1.8): its own certificate, RequireAndVerifyClientCert,
// TLS 1.2 at least, ServerName "localhost", and RootCAs = ClientCAs = a pool
// holding only the peer's certificate; plus ALPN "h2" as grpc-go's
// credentials.NewTLS adds it, and grpc-go's (1.67+) refusal of a handshake
// that did not select h2.
//
// Usage:
//
//	tlspeer -role server|client -socket PATH -cert FILE -key FILE -peer FILE [-tls12]
//
// As server it listens on PATH, prints "ready" on stdout, and serves one
// connection: it sends "hello from go" and reads one line back. As client it
// connects to PATH, reads a line and answers "go echo: <line>". The server
// speaks first so that a client refused after its TLS 1.3 handshake learns of
// it on its first read. Either way it then prints
// "ok version=<TLS version> alpn=<protocol> reply=<the line it read>" and exits
// 0. Any failure is printed on stderr as "tlspeer: <step>: <error>" with exit
// status 1. -tls12 caps the version at TLS 1.2.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	role := flag.String("role", "", "server or client")
	socket := flag.String("socket", "", "Unix socket path")
	certPath := flag.String("cert", "", "own certificate PEM")
	keyPath := flag.String("key", "", "own private key PEM")
	peerPath := flag.String("peer", "", "the peer's certificate PEM (the only one trusted)")
	tls12 := flag.Bool("tls12", false, "cap the TLS version at 1.2")
	flag.Parse()

	cfg, err := config(*certPath, *keyPath, *peerPath)
	if err != nil {
		fail("config", err)
	}
	if *tls12 {
		cfg.MaxVersion = tls.VersionTLS12
	}

	switch *role {
	case "server":
		serve(*socket, cfg)
	case "client":
		dial(*socket, cfg)
	default:
		fail("flags", fmt.Errorf("-role must be server or client, not %q", *role))
	}
}

func config(certPath, keyPath, peerPath string) (*tls.Config, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	peerPEM, err := os.ReadFile(peerPath)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(peerPEM) {
		return nil, errors.New("no certificate in " + peerPath)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
		ServerName:   "localhost",
		NextProtos:   []string{"h2"},
	}, nil
}

func serve(socket string, cfg *tls.Config) {
	ln, err := net.Listen("unix", socket)
	if err != nil {
		fail("listen", err)
	}
	fmt.Println("ready")
	raw, err := ln.Accept()
	if err != nil {
		fail("accept", err)
	}
	conn := tls.Server(raw, cfg)
	handshake(conn)
	if _, err := fmt.Fprintln(conn, "hello from go"); err != nil {
		fail("write", err)
	}
	report(conn, readLine(conn))
	conn.Close()
}

func dial(socket string, cfg *tls.Config) {
	raw, err := net.Dial("unix", socket)
	if err != nil {
		fail("dial", err)
	}
	conn := tls.Client(raw, cfg)
	handshake(conn)
	line := readLine(conn)
	if _, err := fmt.Fprintf(conn, "go echo: %s\n", line); err != nil {
		fail("write", err)
	}
	report(conn, line)
	conn.Close()
}

func handshake(conn *tls.Conn) {
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := conn.Handshake(); err != nil {
		fail("handshake", err)
	}
	if conn.ConnectionState().NegotiatedProtocol != "h2" {
		// grpc-go's words for the same refusal.
		fail("handshake", errors.New("credentials: cannot check peer: missing selected ALPN property"))
	}
}

func readLine(conn *tls.Conn) string {
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		fail("read", err)
	}
	return strings.TrimSuffix(line, "\n")
}

func report(conn *tls.Conn, line string) {
	state := conn.ConnectionState()
	fmt.Printf("ok version=%s alpn=%s reply=%s\n",
		strings.ReplaceAll(tls.VersionName(state.Version), " ", ""), state.NegotiatedProtocol, line)
}

func fail(step string, err error) {
	fmt.Fprintf(os.Stderr, "tlspeer: %s: %v\n", step, err)
	os.Exit(1)
}
