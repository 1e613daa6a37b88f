//! AutoMTLS and user-supplied TLS between our host and our plugin, through real processes and
//! sockets, including the refusals: strangers, missing certificates, a plugin that lies.

use std::sync::Arc;

use go_plugin::__tls_testing::{TestIdentity, connect_to_plugin};
use go_plugin::TlsConfig;
use tests::pki::{Pki, client_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// The HTTP/2 client preface.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[tokio::test]
async fn host_and_plugin_speak_automtls() {
    let client = Client::start(ClientConfig::new(HANDSHAKE, plugin("")).auto_mtls(true))
        .await
        .expect("start with AutoMTLS");
    client.ping().await.expect("ping over TLS");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    let pem = tester
        .env("PLUGIN_CLIENT_CERT".to_owned())
        .await
        .expect("env")
        .expect("the host passed its certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert!(pem.ends_with("-----END CERTIFICATE-----\n"), "{pem}");
    let big = vec![7u8; 8 << 20];
    assert!(tester.echo(big.clone()).await.expect("8 MiB over TLS") == big);
    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
}

/// Starts the plugin by hand as a host with `identity` would, and returns its socket and the
/// certificate field of its handshake.
fn plugin_expecting(identity: &TestIdentity) -> (std::process::Child, PathBuf, String) {
    let (line, child) = handshake_line("", &[("PLUGIN_CLIENT_CERT", identity.certificate_pem())]);
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "{line}");
    (child, PathBuf::from(fields[3]), fields[5].to_owned())
}

#[test]
fn the_handshake_carries_the_plugins_certificate_unpadded() {
    let host = TestIdentity::generate().expect("identity");
    let (mut child, _, certificate) = plugin_expecting(&host);
    assert!(
        certificate.len() > 50,
        "go-plugin ignores shorter fields: {certificate}"
    );
    assert!(
        !certificate.contains('='),
        "RawStdEncoding, no padding: {certificate}"
    );
    assert!(
        certificate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'),
        "{certificate}"
    );
    kill(&mut child);
}

/// Whether a TLS client with `identity` (or none) gets the plugin's HTTP/2 SETTINGS, which an
/// HTTP/2 server sends first. Reading first also gets a refusal's TLS alert, which a write could
/// miss (TLS 1.3 servers check the client's certificate after the client has finished).
async fn plugin_answers(
    identity: Option<&TestIdentity>,
    socket: &Path,
    certificate: &str,
) -> Result<(), String> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|err| err.to_string())?;
    let mut session = connect_to_plugin(identity, certificate, stream)
        .await
        .map_err(|err| err.to_string())?;
    let stream = session.stream();
    let mut frame = [0u8; 9];
    match tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut frame)).await {
        Ok(Ok(_)) if frame[3] == 0x4 => Ok(()),
        Ok(Ok(_)) => Err(format!("not a SETTINGS frame: {frame:?}")),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("no answer".to_owned()),
    }
}

#[tokio::test]
async fn the_plugin_serves_only_the_host_that_started_it() {
    let host = TestIdentity::generate().expect("identity");
    let stranger = TestIdentity::generate().expect("identity");
    let (mut child, socket, certificate) = plugin_expecting(&host);

    plugin_answers(Some(&host), &socket, &certificate)
        .await
        .expect("the host's own certificate is served");
    let err = plugin_answers(Some(&stranger), &socket, &certificate)
        .await
        .expect_err("another certificate is refused");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let err = plugin_answers(None, &socket, &certificate)
        .await
        .expect_err("no certificate is refused");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // Plain HTTP/2 is not served either.
    let mut plain = tokio::net::UnixStream::connect(&socket)
        .await
        .expect("connect");
    plain.write_all(H2_PREFACE).await.expect("write");
    let mut frame = [0u8; 9];
    let answer = tokio::time::timeout(Duration::from_secs(5), plain.read_exact(&mut frame)).await;
    assert!(
        !matches!(answer, Ok(Ok(_)) if frame[3] == 0x4),
        "plaintext served: {frame:?}"
    );
    kill(&mut child);
}

#[tokio::test]
async fn the_host_refuses_a_plugin_whose_certificate_differs_from_its_handshake() {
    // The plugin is real, but its handshake passes through sed, which swaps in another
    // certificate: the host must pin that one and refuse what the plugin presents.
    let other = TestIdentity::generate().expect("identity");
    let pem = other.certificate_pem();
    let field: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect::<String>()
        .trim_end_matches('=')
        .to_owned();
    let script = format!("'{TEST_PLUGIN}' | sed -u 's#|grpc|.*#|grpc|{field}#'");
    let client = Client::start(ClientConfig::new(HANDSHAKE, sh(&script)).auto_mtls(true))
        .await
        .expect("the handshake itself is fine");
    let err = client
        .ping()
        .await
        .expect_err("the TLS handshake must fail");
    assert!(err.to_string().contains("certificate"), "{err}");
    client.kill().await;
}

#[tokio::test]
async fn a_plugin_without_automtls_is_named_as_such() {
    let err = Client::start(
        ClientConfig::new(
            HANDSHAKE,
            sh("echo '1|1|unix|/tmp/plugin-none|grpc|'; sleep 5"),
        )
        .auto_mtls(true),
    )
    .await
    .expect_err("no certificate in the handshake");
    assert!(matches!(err, Error::NoPluginCertificate), "{err:?}");
    assert!(
        err.to_string().contains("does not support AutoMTLS"),
        "{err}"
    );

    let certificate = "A".repeat(60);
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh(&format!(
            "echo '1|1|unix|/tmp/plugin-none|grpc|{certificate}'; sleep 5"
        )),
    ))
    .await
    .expect_err("a certificate the host did not ask for");
    assert!(matches!(err, Error::UnexpectedPluginCertificate), "{err:?}");
}

#[tokio::test]
async fn a_handshake_certificate_that_is_not_x509_is_named_as_go_plugin_names_it() {
    // Valid base64 of bytes that are no DER certificate (found writing tests/hostile.rs).
    let certificate = "A".repeat(60);
    let err = Client::start(
        ClientConfig::new(
            HANDSHAKE,
            sh(&format!(
                "echo '1|1|unix|/tmp/plugin-none|grpc|{certificate}'; sleep 5"
            )),
        )
        .auto_mtls(true),
    )
    .await
    .expect_err("zeros are no certificate");
    assert_eq!(
        err.to_string(),
        "error parsing server cert: not an X.509 certificate: not a DER SEQUENCE"
    );
}

#[tokio::test]
async fn host_and_plugin_speak_their_own_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::generate(dir.path());
    let mut command = plugin("tls");
    command
        .env("TEST_TLS_CERT", &pki.server.0)
        .env("TEST_TLS_KEY", &pki.server.1)
        .env("TEST_TLS_CLIENT_CA", &pki.ca);
    let tls = client_config(&pki.ca, Some((&pki.client.0, &pki.client.1))).expect("client TLS");
    let client =
        Client::start(ClientConfig::new(HANDSHAKE, command).tls(TlsConfig::client(Arc::new(tls))))
            .await
            .expect("start with TLS");
    client
        .ping()
        .await
        .expect("ping over the application's TLS");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(
        tester
            .env("PLUGIN_CLIENT_CERT".to_owned())
            .await
            .expect("env"),
        None,
        "no AutoMTLS"
    );
    client.kill().await;

    // Without the client certificate the plugin refuses the connection.
    let mut command = plugin("tls");
    command
        .env("TEST_TLS_CERT", &pki.server.0)
        .env("TEST_TLS_KEY", &pki.server.1)
        .env("TEST_TLS_CLIENT_CA", &pki.ca);
    let anonymous = client_config(&pki.ca, None).expect("client TLS");
    let client = Client::start(
        ClientConfig::new(HANDSHAKE, command).tls(TlsConfig::client(Arc::new(anonymous))),
    )
    .await
    .expect("start");
    client.ping().await.expect_err("no client certificate");
    client.kill().await;
}
