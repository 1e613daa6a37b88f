//! AutoMTLS against Go's own crypto/tls: our pinned rustls configurations on one end of a Unix
//! socket, and on the other `tests/interop/goprogs/cmd/tlspeer`, a Go program configured as
//! go-plugin configures AutoMTLS (RequireAndVerifyClientCert, TLS 1.2 at least, ServerName
//! `localhost`, RootCAs = ClientCAs = the peer's certificate, ALPN `h2` as grpc-go adds it and
//! requires it). Both roles, TLS 1.3 and TLS 1.2 (Go capped at 1.2), and each side refusing a
//! stranger.
//!
//! The Rust side is a freshly generated identity (as a host or plugin makes one); the Go side's
//! identity comes from `cmd/gencert`, go-plugin's template in Go's crypto/x509.
//!
//! Needs Go: the tests build both programs once with `go build -mod=readonly` from
//! `tests/interop/goprogs` (stdlib only; about a second with a warm Go cache). Without `go` they
//! fail saying to install it; they never skip.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use go_plugin::__tls_testing::{TestIdentity, TestSession};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

/// Bound on each run, so a handshake that hangs fails the test instead.
const LIMIT: Duration = Duration::from_secs(20);

/// The built Go programs.
struct GoPrograms {
    gencert: PathBuf,
    tlspeer: PathBuf,
}

fn go_programs() -> &'static GoPrograms {
    static BUILT: OnceLock<GoPrograms> = OnceLock::new();
    BUILT.get_or_init(|| {
        let goprogs = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/goprogs");
        let bin = tests::target_dir().join("tls-peer-bin");
        let built = std::process::Command::new("go")
            .args(["build", "-o"])
            .arg(format!("{}/", bin.display()))
            .args(["./cmd/gencert", "./cmd/tlspeer"])
            .current_dir(&goprogs)
            // A go.mod or go.sum that does not cover the build is an error, not a download.
            .env("GOFLAGS", "-mod=readonly -buildvcs=false")
            .output();
        let output = match built {
            Ok(output) => output,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!(
                "the tls_peer tests need the Go toolchain, which is missing: install Go 1.24 or \
                 newer (https://go.dev/dl) and rerun"
            ),
            Err(err) => panic!("could not run `go build`: {err}"),
        };
        assert!(
            output.status.success(),
            "go build ./cmd/gencert ./cmd/tlspeer in {} failed ({}):\n{}",
            goprogs.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        GoPrograms {
            gencert: bin.join("gencert"),
            tlspeer: bin.join("tlspeer"),
        }
    })
}

/// A Go-made identity: certificate and key PEM files, by `gencert`.
struct GoIdentity {
    cert: PathBuf,
    key: PathBuf,
}

impl GoIdentity {
    fn generate(dir: &Path, name: &str) -> GoIdentity {
        let (cert, key) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.key")),
        );
        let status = std::process::Command::new(&go_programs().gencert)
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .status()
            .expect("run gencert");
        assert!(status.success(), "gencert failed: {status}");
        GoIdentity { cert, key }
    }

    fn certificate_pem(&self) -> String {
        std::fs::read_to_string(&self.cert).expect("read the Go certificate")
    }
}

/// Which TLS role the Go program plays.
#[derive(Clone, Copy, Debug)]
enum GoRole {
    Server,
    Client,
}

/// One connection between a Go peer and a Rust peer.
struct Case<'a> {
    go_role: GoRole,
    go: &'a GoIdentity,
    /// The certificate the Go side trusts (PEM).
    go_trusts: &'a str,
    rust: &'a TestIdentity,
    /// The certificate the Rust side trusts (PEM).
    rust_trusts: &'a str,
    tls12: bool,
}

/// What the Go program did.
#[derive(Debug)]
struct GoOutcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// What the Rust side saw: the negotiated version and ALPN and the line it received, or why it
/// failed.
#[derive(Debug, PartialEq)]
struct RustSaw {
    version: String,
    alpn: Option<Vec<u8>>,
    line: String,
}

async fn run(case: Case<'_>, dir: &Path) -> (GoOutcome, Result<RustSaw, String>) {
    let go_trusts = dir.join(format!("go-trusts-{:?}-{}.pem", case.go_role, case.tls12));
    std::fs::write(&go_trusts, case.go_trusts).expect("write the Go peer's trusted PEM");
    let socket = dir.join(format!("{:?}-{}.sock", case.go_role, case.tls12));
    let mut command = Command::new(&go_programs().tlspeer);
    command
        .arg("-role")
        .arg(match case.go_role {
            GoRole::Server => "server",
            GoRole::Client => "client",
        })
        .arg("-socket")
        .arg(&socket)
        .arg("-cert")
        .arg(&case.go.cert)
        .arg("-key")
        .arg(&case.go.key)
        .arg("-peer")
        .arg(&go_trusts)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if case.tls12 {
        command.arg("-tls12");
    }

    timeout(LIMIT, async {
        match case.go_role {
            GoRole::Server => {
                let mut child = command.spawn().expect("start tlspeer");
                let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
                let mut ready = String::new();
                stdout
                    .read_line(&mut ready)
                    .await
                    .expect("read tlspeer's stdout");
                if ready != "ready\n" {
                    let out = finish(child, stdout).await;
                    panic!("tlspeer did not start: {ready:?} {out:?}");
                }
                let stream = UnixStream::connect(&socket)
                    .await
                    .expect("connect to tlspeer");
                let saw = rust_client(case.rust, case.rust_trusts, stream).await;
                (finish(child, stdout).await, saw)
            }
            GoRole::Client => {
                let listener = UnixListener::bind(&socket).expect("bind the Rust side's socket");
                let mut child = command.spawn().expect("start tlspeer");
                let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
                let stream = tokio::select! {
                    accepted = listener.accept() => accepted.expect("accept tlspeer").0,
                    _ = child.wait() => {
                        let out = finish(child, stdout).await;
                        panic!("tlspeer exited without connecting: {out:?}");
                    }
                };
                let saw = rust_server(case.rust, case.rust_trusts, stream).await;
                (finish(child, stdout).await, saw)
            }
        }
    })
    .await
    .expect("the Go and Rust peers finish within the limit")
}

/// Waits for the Go program and collects what it printed (`stdout`: what is left of it).
async fn finish(mut child: Child, mut stdout: BufReader<ChildStdout>) -> GoOutcome {
    let mut out = String::new();
    stdout
        .read_to_string(&mut out)
        .await
        .expect("read tlspeer's stdout");
    let mut err = String::new();
    let mut stderr = child.stderr.take().expect("piped stderr");
    stderr
        .read_to_string(&mut err)
        .await
        .expect("read tlspeer's stderr");
    let status = child.wait().await.expect("wait for tlspeer");
    GoOutcome {
        status,
        stdout: out,
        stderr: err,
    }
}

/// Connects, reads the server's line, answers `rust echo: <line>`.
async fn rust_client(
    rust: &TestIdentity,
    trusts: &str,
    stream: UnixStream,
) -> Result<RustSaw, String> {
    let mut session = rust
        .connect(trusts, stream)
        .await
        .map_err(|e| e.to_string())?;
    let (version, alpn) = negotiated(&session);
    let stream = session.stream();
    let line = read_line(stream).await?;
    let reply = format!("rust echo: {line}\n");
    stream
        .write_all(reply.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    Ok(RustSaw {
        version,
        alpn,
        line,
    })
}

/// Accepts, sends `hello from rust` (the server speaks first), reads the reply.
async fn rust_server(
    rust: &TestIdentity,
    trusts: &str,
    stream: UnixStream,
) -> Result<RustSaw, String> {
    let mut session = rust
        .accept(trusts, stream)
        .await
        .map_err(|e| e.to_string())?;
    let (version, alpn) = negotiated(&session);
    let stream = session.stream();
    stream
        .write_all(b"hello from rust\n")
        .await
        .map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    let line = read_line(stream).await?;
    Ok(RustSaw {
        version,
        alpn,
        line,
    })
}

fn negotiated(session: &TestSession) -> (String, Option<Vec<u8>>) {
    (
        session.protocol_version(),
        session.alpn().map(<[u8]>::to_vec),
    )
}

/// One line, read a byte at a time so nothing after it is consumed.
async fn read_line<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Result<String, String> {
    let mut line = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        match stream.read(&mut byte).await {
            Ok(0) => {
                return Err(format!(
                    "connection ended after {:?}",
                    String::from_utf8_lossy(&line)
                ));
            }
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(err) => return Err(err.to_string()),
        }
    }
    String::from_utf8(line).map_err(|e| e.to_string())
}

/// `TLS1.3` or `TLS1.2` as tlspeer prints it, `TLSv1_3` or `TLSv1_2` as rustls names it.
fn versions(tls12: bool) -> (&'static str, &'static str) {
    match tls12 {
        true => ("TLS1.2", "TLSv1_2"),
        false => ("TLS1.3", "TLSv1_3"),
    }
}

#[tokio::test]
async fn rust_client_and_go_server_handshake_with_tls13_and_tls12() {
    let dir = tempfile::tempdir().expect("temp dir");
    let go = GoIdentity::generate(dir.path(), "go");
    let rust = TestIdentity::generate().expect("generate");
    for tls12 in [false, true] {
        let case = Case {
            go_role: GoRole::Server,
            go: &go,
            go_trusts: rust.certificate_pem(),
            rust: &rust,
            rust_trusts: &go.certificate_pem(),
            tls12,
        };
        let (go_out, saw) = run(case, dir.path()).await;
        let (go_version, rust_version) = versions(tls12);
        assert!(go_out.status.success(), "{go_out:?}");
        assert_eq!(
            go_out.stdout,
            format!("ok version={go_version} alpn=h2 reply=rust echo: hello from go\n"),
            "{go_out:?}"
        );
        let expected = RustSaw {
            version: rust_version.into(),
            alpn: Some(b"h2".to_vec()),
            line: "hello from go".into(),
        };
        assert_eq!(saw, Ok(expected));
    }
}

#[tokio::test]
async fn rust_server_and_go_client_handshake_with_tls13_and_tls12() {
    let dir = tempfile::tempdir().expect("temp dir");
    let go = GoIdentity::generate(dir.path(), "go");
    let rust = TestIdentity::generate().expect("generate");
    for tls12 in [false, true] {
        let case = Case {
            go_role: GoRole::Client,
            go: &go,
            go_trusts: rust.certificate_pem(),
            rust: &rust,
            rust_trusts: &go.certificate_pem(),
            tls12,
        };
        let (go_out, saw) = run(case, dir.path()).await;
        let (go_version, rust_version) = versions(tls12);
        assert!(go_out.status.success(), "{go_out:?}");
        assert_eq!(
            go_out.stdout,
            format!("ok version={go_version} alpn=h2 reply=hello from rust\n"),
            "{go_out:?}"
        );
        let expected = RustSaw {
            version: rust_version.into(),
            alpn: Some(b"h2".to_vec()),
            line: "go echo: hello from rust".into(),
        };
        assert_eq!(saw, Ok(expected));
    }
}

/// Go's words when the certificate it was shown is not the one in its pool.
const GO_REFUSAL: &str =
    "tls: failed to verify certificate: x509: certificate signed by unknown authority";

#[tokio::test]
async fn go_refuses_a_rust_stranger_in_either_role() {
    let dir = tempfile::tempdir().expect("temp dir");
    let go = GoIdentity::generate(dir.path(), "go");
    let expected = TestIdentity::generate().expect("generate");
    let stranger = TestIdentity::generate().expect("generate");
    for go_role in [GoRole::Server, GoRole::Client] {
        for tls12 in [false, true] {
            let case = Case {
                go_role,
                go: &go,
                go_trusts: expected.certificate_pem(),
                rust: &stranger,
                rust_trusts: &go.certificate_pem(),
                tls12,
            };
            let (go_out, saw) = run(case, dir.path()).await;
            assert!(
                !go_out.status.success(),
                "{go_role:?} tls12={tls12}: {go_out:?}"
            );
            assert!(
                go_out
                    .stderr
                    .starts_with(&format!("tlspeer: handshake: {GO_REFUSAL}")),
                "{go_role:?} tls12={tls12}: {go_out:?}"
            );
            let err = saw.expect_err("the Rust stranger gets nothing through");
            // A Go server refuses with unknown_ca, a Go client with bad_certificate. A TLS 1.3
            // client finishes its handshake first and learns of the refusal on its first read.
            let expected = match (go_role, tls12) {
                (GoRole::Server, false) => "received fatal alert: UnknownCA",
                (GoRole::Server, true) => {
                    "AutoMTLS handshake (client side): received fatal alert: UnknownCA"
                }
                (GoRole::Client, _) => {
                    "AutoMTLS handshake (server side): received fatal alert: BadCertificate"
                }
            };
            assert_eq!(err, expected, "{go_role:?} tls12={tls12}");
        }
    }
}

#[tokio::test]
async fn rust_refuses_a_go_stranger_in_either_role() {
    let dir = tempfile::tempdir().expect("temp dir");
    let expected = GoIdentity::generate(dir.path(), "expected");
    let stranger = GoIdentity::generate(dir.path(), "stranger");
    let rust = TestIdentity::generate().expect("generate");
    for go_role in [GoRole::Server, GoRole::Client] {
        for tls12 in [false, true] {
            let case = Case {
                go_role,
                go: &stranger,
                go_trusts: rust.certificate_pem(),
                rust: &rust,
                rust_trusts: &expected.certificate_pem(),
                tls12,
            };
            let (go_out, saw) = run(case, dir.path()).await;
            let side = match go_role {
                GoRole::Server => "client",
                GoRole::Client => "server",
            };
            assert_eq!(
                saw,
                Err(format!(
                    "AutoMTLS handshake ({side} side): invalid peer certificate: \
                     Other(OtherError(NotThePinnedCertificate))"
                )),
                "{go_role:?} tls12={tls12}"
            );
            assert!(
                !go_out.status.success(),
                "{go_role:?} tls12={tls12}: {go_out:?}"
            );
            // A Go client refused after its TLS 1.3 handshake learns of it on its first read.
            let step = match (go_role, tls12) {
                (GoRole::Client, false) => "read",
                _ => "handshake",
            };
            assert_eq!(
                go_out.stderr,
                format!("tlspeer: {step}: remote error: tls: unknown certificate\n"),
                "{go_role:?} tls12={tls12}"
            );
        }
    }
}
