use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::version::{TLS12, TLS13};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P521, OID_SIG_ECDSA_WITH_SHA512,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::*;

/// A certificate and key made by Go's crypto/x509 with go-plugin's template
/// (`tests/interop/goprogs/cmd/gencert`), valid until 2056.
const GO_CERT: &str = include_str!("testdata/go-cert.pem");
const GO_KEY: &str = include_str!("testdata/go-key.pem");

fn go_identity() -> Identity {
    Identity::from_pem(GO_CERT, GO_KEY).expect("the Go-made fixture loads")
}

fn der_of(identity: &Identity) -> CertificateDer<'static> {
    CertificateDer::from(identity.certificate_der().to_vec())
}

fn x509(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = X509Certificate::from_der(der).expect("an X.509 certificate");
    assert!(rest.is_empty());
    cert
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[test]
fn generated_certificate_has_go_plugins_template() {
    let before = unix_now();
    let identity = Identity::generate().expect("generate");
    let after = unix_now();
    let ours = x509(identity.certificate_der());
    let go_der = CertificateDer::from_pem_slice(GO_CERT.as_bytes()).expect("fixture PEM");
    let go = x509(&go_der);

    assert_eq!(ours.version().0, 2, "X.509 v3");
    let spki = &ours.tbs_certificate.subject_pki;
    assert_eq!(spki.algorithm.algorithm, OID_KEY_TYPE_EC_PUBLIC_KEY);
    let curve = spki.algorithm.parameters.as_ref().expect("curve parameter");
    assert_eq!(curve.as_oid().expect("named curve"), OID_NIST_EC_P521);
    assert_eq!(
        ours.signature_algorithm.algorithm,
        OID_SIG_ECDSA_WITH_SHA512
    );
    assert_eq!(
        ours.tbs_certificate.signature.algorithm,
        OID_SIG_ECDSA_WITH_SHA512
    );

    // Go writes O before CN, both PrintableString: the raw names match Go's byte for byte.
    assert_eq!(ours.subject().to_string(), "O=HashiCorp, CN=localhost");
    assert_eq!(ours.subject().as_raw(), go.subject().as_raw());
    assert_eq!(
        ours.issuer().as_raw(),
        ours.subject().as_raw(),
        "self-signed"
    );

    // A random serial below 2^128, as Go's `rand.Int(rand.Reader, 1<<128)`.
    let serial = ours.tbs_certificate.serial.to_bytes_be();
    assert!(serial.len() <= 16, "serial {serial:02x?}");
    let other = Identity::generate().expect("generate");
    assert_ne!(
        x509(other.certificate_der()).tbs_certificate.serial,
        ours.tbs_certificate.serial
    );

    let constraints = ours.basic_constraints().expect("parse").expect("present");
    assert!(constraints.critical);
    assert!(constraints.value.ca);
    assert_eq!(constraints.value.path_len_constraint, None);

    let usage = ours.key_usage().expect("parse").expect("present");
    assert!(usage.critical);
    let go_usage = go.key_usage().expect("parse").expect("present");
    assert_eq!(usage.value.flags, go_usage.value.flags);
    let u = usage.value;
    assert!(
        u.digital_signature() && u.key_encipherment() && u.key_agreement() && u.key_cert_sign()
    );
    assert!(!u.non_repudiation() && !u.data_encipherment() && !u.crl_sign());

    let eku = ours.extended_key_usage().expect("parse").expect("present");
    assert!(!eku.critical);
    assert!(eku.value.client_auth && eku.value.server_auth);
    assert!(!eku.value.any && !eku.value.code_signing && eku.value.other.is_empty());

    let san = ours
        .subject_alternative_name()
        .expect("parse")
        .expect("present");
    assert!(!san.critical);
    assert_eq!(san.value.general_names, [GeneralName::DNSName("localhost")]);

    // The same extensions as Go's (the order differs, which nothing depends on).
    let oids = |cert: &X509Certificate<'_>| {
        let mut oids: Vec<String> = cert
            .extensions()
            .iter()
            .map(|e| e.oid.to_id_string())
            .collect();
        oids.sort();
        oids
    };
    assert_eq!(oids(&ours), oids(&go));
    assert!(ours.extensions().iter().all(|e| !matches!(
        e.parsed_extension(),
        ParsedExtension::UnsupportedExtension { .. }
    )));

    let not_before = ours.validity().not_before.timestamp();
    let not_after = ours.validity().not_after.timestamp();
    assert!(
        (before - 30..=after - 30).contains(&not_before),
        "{not_before} vs now {before}"
    );
    assert_eq!(not_after - not_before, 262_980 * 3600 + 30);
    let go_span = go.validity().not_after.timestamp() - go.validity().not_before.timestamp();
    assert!((262_980 * 3600 + 30..=262_980 * 3600 + 31).contains(&go_span));
}

/// The body of one PEM `CERTIFICATE` block as Go's `pem.Encode` writes it: LF line ends, 64
/// columns, a final newline.
fn go_pem_lines(pem: &str) -> Vec<&str> {
    let body = pem
        .strip_prefix("-----BEGIN CERTIFICATE-----\n")
        .and_then(|rest| rest.strip_suffix("\n-----END CERTIFICATE-----\n"))
        .unwrap_or_else(|| panic!("not one CERTIFICATE block with LF line ends: {pem:?}"));
    let lines: Vec<&str> = body.split('\n').collect();
    let (last, full) = lines.split_last().expect("lines");
    assert!(full.iter().all(|line| line.len() == 64), "{lines:?}");
    assert!((1..=64).contains(&last.len()), "{lines:?}");
    lines
}

#[test]
fn certificate_pem_is_what_go_writes() {
    go_pem_lines(GO_CERT);
    let identity = Identity::generate().expect("generate");
    let pem = identity.certificate_pem();
    go_pem_lines(pem);
    let parsed = parse_certificates_pem(pem).expect("parse back");
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].as_ref(), identity.certificate_der());
}

#[test]
fn certificate_pem_is_read_the_way_go_reads_plugin_client_cert() {
    // A private-key block is skipped, as AppendCertsFromPEM skips it.
    let certs = parse_certificates_pem(&format!("{GO_KEY}{GO_CERT}")).expect("cert after key");
    assert_eq!(certs.len(), 1);
    assert_eq!(
        certs[0],
        CertificateDer::from_pem_slice(GO_CERT.as_bytes()).expect("fixture")
    );

    // Several certificates: all trusted.
    let ours = Identity::generate().expect("generate");
    let both = format!("{GO_CERT}{}", ours.certificate_pem());
    let certs = parse_certificates_pem(&both).expect("two certificates");
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[1].as_ref(), ours.certificate_der());

    // Text around the blocks is ignored, as Go ignores it.
    let noisy = format!("junk before\n{GO_CERT}junk after\n");
    assert_eq!(parse_certificates_pem(&noisy).expect("noisy").len(), 1);

    for nothing in ["", "hello", "\n\n", GO_KEY] {
        let err = parse_certificates_pem(nothing).expect_err(nothing);
        assert!(
            matches!(err, TlsError::NoCertificate),
            "{nothing:?}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "PLUGIN_CLIENT_CERT holds no CERTIFICATE block"
        );
    }

    let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let err = parse_certificates_pem(bad_base64).expect_err("bad base64");
    assert!(matches!(err, TlsError::Pem(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("PLUGIN_CLIENT_CERT is not well-formed PEM: "),
        "{err}"
    );

    let unterminated = GO_CERT.replace("-----END CERTIFICATE-----\n", "");
    let err = parse_certificates_pem(&unterminated).expect_err("no END line");
    assert!(matches!(err, TlsError::Pem(_)), "{err:?}");

    // "hello world" in base64: a CERTIFICATE block that is not a certificate.
    let not_x509 = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let err = parse_certificates_pem(not_x509).expect_err("not X.509");
    assert!(matches!(err, TlsError::PemNotACertificate(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "PLUGIN_CLIENT_CERT holds a CERTIFICATE block that is not X.509: not a DER SEQUENCE"
    );
}

#[test]
fn validity_is_read_from_both_time_encodings() {
    // The fixture's notBefore is a UTCTime and its notAfter (2056) a GeneralizedTime.
    let der = CertificateDer::from_pem_slice(GO_CERT.as_bytes()).expect("fixture");
    let go = x509(&der);
    let validity = der::validity(&der).expect("validity");
    assert_eq!(validity.not_before, go.validity().not_before.timestamp());
    assert_eq!(validity.not_after, go.validity().not_after.timestamp());

    let identity = Identity::generate().expect("generate");
    let ours = x509(identity.certificate_der());
    let validity = der::validity(identity.certificate_der()).expect("validity");
    assert_eq!(validity.not_before, ours.validity().not_before.timestamp());
    assert_eq!(validity.not_after, ours.validity().not_after.timestamp());
}

#[test]
fn pinning_nothing_or_garbage_is_refused() {
    let identity = Identity::generate().expect("generate");
    let err = pinned(&identity, []).expect_err("no peer");
    assert!(matches!(err, TlsError::NoPeerCertificate), "{err:?}");
    assert_eq!(err.to_string(), "no peer certificate to pin");
    let err = pinned(&identity, [CertificateDer::from(b"garbage".to_vec())]).expect_err("garbage");
    assert!(matches!(err, TlsError::NotACertificate(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "not an X.509 certificate: not a DER SEQUENCE"
    );
}

/// What one side of a finished handshake saw: the version and ALPN, then the line the other
/// side sent.
#[derive(Debug)]
struct Seen {
    version: Option<rustls::ProtocolVersion>,
    alpn: Option<Vec<u8>>,
    line: String,
}

/// Connects `client` to `server` over a real Unix socket pair, and sends one line each way
/// (server first, so that a TLS 1.3 client refused after its handshake learns of it on its first
/// read, not on a write that may meet a closed socket). Each side reports what it saw or the
/// error it failed with, as text.
async fn exchange(
    server: &PinnedTls,
    client: &PinnedTls,
) -> (Result<Seen, String>, Result<Seen, String>) {
    let (server_io, client_io) = UnixStream::pair().expect("socket pair");
    let served = async {
        let stream = server.accept(server_io).await.map_err(|e| e.to_string())?;
        let state = stream.get_ref().1;
        let (version, alpn) = (
            state.protocol_version(),
            state.alpn_protocol().map(<[u8]>::to_vec),
        );
        let line = talk(stream, "from server", true).await?;
        Ok(Seen {
            version,
            alpn,
            line,
        })
    };
    let connected = async {
        let stream = client.connect(client_io).await.map_err(|e| e.to_string())?;
        let state = stream.get_ref().1;
        let (version, alpn) = (
            state.protocol_version(),
            state.alpn_protocol().map(<[u8]>::to_vec),
        );
        let line = talk(stream, "from client", false).await?;
        Ok(Seen {
            version,
            alpn,
            line,
        })
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(served, connected)
    })
    .await
    .expect("the handshake finishes or fails within 10 s")
}

async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    line: &str,
    first: bool,
) -> Result<String, String> {
    let mut stream = BufReader::new(stream);
    let mut got = String::new();
    if !first {
        stream
            .read_line(&mut got)
            .await
            .map_err(|e| e.to_string())?;
    }
    stream
        .write_all(format!("{line}\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    if first {
        stream
            .read_line(&mut got)
            .await
            .map_err(|e| e.to_string())?;
    }
    match got.strip_suffix('\n') {
        Some(line) => Ok(line.to_owned()),
        None => Err(format!("connection ended before a full line: {got:?}")),
    }
}

fn pair(
    a: &Identity,
    b: &Identity,
    versions: &[&'static SupportedProtocolVersion],
) -> (PinnedTls, PinnedTls) {
    (
        pinned_with_versions(a, [der_of(b)], versions).expect("pin b"),
        pinned_with_versions(b, [der_of(a)], versions).expect("pin a"),
    )
}

fn assert_session(seen: Result<Seen, String>, version: rustls::ProtocolVersion, line: &str) {
    let seen = seen.expect("handshake and exchange succeed");
    assert_eq!(seen.version, Some(version));
    assert_eq!(seen.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(seen.line, line);
}

#[tokio::test]
async fn rust_identities_handshake_with_tls13_and_tls12() {
    let host = Identity::generate().expect("generate");
    let plugin = Identity::generate().expect("generate");
    let (host_tls, plugin_tls) = pair(&host, &plugin, rustls::ALL_VERSIONS);

    // Both roles of both configurations, as go-plugin uses them (broker servers on the host).
    for (server, client) in [(&plugin_tls, &host_tls), (&host_tls, &plugin_tls)] {
        let (served, connected) = exchange(server, client).await;
        assert_session(served, rustls::ProtocolVersion::TLSv1_3, "from client");
        assert_session(connected, rustls::ProtocolVersion::TLSv1_3, "from server");
    }

    // TLS 1.2 forced on either side; the other side is the real, both-version configuration.
    let (host12, plugin12) = pair(&host, &plugin, &[&TLS12]);
    for (server, client) in [(&plugin_tls, &host12), (&plugin12, &host_tls)] {
        let (served, connected) = exchange(server, client).await;
        assert_session(served, rustls::ProtocolVersion::TLSv1_2, "from client");
        assert_session(connected, rustls::ProtocolVersion::TLSv1_2, "from server");
    }
}

#[tokio::test]
async fn go_made_identity_handshakes_on_either_side_with_tls12_and_tls13() {
    let go = go_identity();
    let rust = Identity::generate().expect("generate");
    for (versions, expected) in [
        (&[&TLS13][..], rustls::ProtocolVersion::TLSv1_3),
        (&[&TLS12][..], rustls::ProtocolVersion::TLSv1_2),
    ] {
        let (go_tls, rust_tls) = pair(&go, &rust, versions);
        for (server, client) in [(&go_tls, &rust_tls), (&rust_tls, &go_tls)] {
            let (served, connected) = exchange(server, client).await;
            assert_session(served, expected, "from client");
            assert_session(connected, expected, "from server");
        }
    }
}

/// A client that presents no certificate but otherwise trusts `server` as the real one would.
fn client_without_certificate(
    server: &Identity,
    versions: &[&'static SupportedProtocolVersion],
) -> PinnedTls {
    let real = pinned_with_versions(server, [der_of(server)], versions).expect("pin");
    let verifier = Arc::new(
        PinnedPeer::new(
            [der_of(server)],
            provider().signature_verification_algorithms,
        )
        .expect("pin"),
    );
    let mut client = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    client.alpn_protocols = vec![ALPN_H2.to_vec()];
    PinnedTls {
        client: Arc::new(client),
        ..real
    }
}

const BOTH: [&[&SupportedProtocolVersion]; 2] = [&[&TLS13], &[&TLS12]];

#[tokio::test]
async fn server_refuses_a_client_without_certificate() {
    let (host, plugin) = (
        Identity::generate().expect("host"),
        Identity::generate().expect("plugin"),
    );
    for versions in BOTH {
        let (_, plugin_tls) = pair(&host, &plugin, versions);
        let stranger = client_without_certificate(&plugin, versions);
        let (served, connected) = exchange(&plugin_tls, &stranger).await;
        let err = served.expect_err("the server refuses");
        assert_eq!(err, "peer sent no certificates", "{versions:?}");
        // A TLS 1.3 client finishes first and learns of the refusal on its first read.
        assert_eq!(
            connected.expect_err("the client fails"),
            "received fatal alert: CertificateRequired"
        );
    }
}

#[tokio::test]
async fn server_refuses_a_client_with_another_certificate() {
    let (host, plugin) = (
        Identity::generate().expect("host"),
        Identity::generate().expect("plugin"),
    );
    let stranger = Identity::generate().expect("stranger");
    for versions in BOTH {
        let (_, plugin_tls) = pair(&host, &plugin, versions);
        let (stranger_tls, _) = pair(&stranger, &plugin, versions);
        let (served, connected) = exchange(&plugin_tls, &stranger_tls).await;
        let err = served.expect_err("the server refuses");
        assert_eq!(
            err,
            "invalid peer certificate: Other(OtherError(NotThePinnedCertificate))"
        );
        assert_eq!(
            connected.expect_err("the client fails"),
            "received fatal alert: CertificateUnknown"
        );
    }
}

#[tokio::test]
async fn client_refuses_a_server_with_another_certificate() {
    let (host, plugin) = (
        Identity::generate().expect("host"),
        Identity::generate().expect("plugin"),
    );
    let impostor = Identity::generate().expect("impostor");
    for versions in BOTH {
        let (host_tls, _) = pair(&host, &plugin, versions);
        let (_, impostor_tls) = pair(&host, &impostor, versions);
        let (served, connected) = exchange(&impostor_tls, &host_tls).await;
        let err = connected.expect_err("the client refuses");
        assert_eq!(
            err,
            "invalid peer certificate: Other(OtherError(NotThePinnedCertificate))"
        );
        assert_eq!(
            served.expect_err("the server fails"),
            "received fatal alert: CertificateUnknown"
        );
    }
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_refused_in_either_role() {
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    let good = Identity::generate().expect("good");
    let expired = Identity::generate_valid(now - 2 * day, now - day).expect("expired");
    let future = Identity::generate_valid(now + day, now + 2 * day).expect("future");
    for (bad, refusal) in [
        (&expired, "certificate expired"),
        (&future, "certificate not valid yet"),
    ] {
        for versions in BOTH {
            let (good_tls, bad_tls) = pair(&good, bad, versions);
            let (_, connected) = exchange(&bad_tls, &good_tls).await;
            let err = connected.expect_err("the client refuses the server's certificate");
            assert!(
                err.starts_with(&format!("invalid peer certificate: {refusal}")),
                "{err}"
            );
            let (served, _) = exchange(&good_tls, &bad_tls).await;
            let err = served.expect_err("the server refuses the client's certificate");
            assert!(
                err.starts_with(&format!("invalid peer certificate: {refusal}")),
                "{err}"
            );
        }
    }
}

#[test]
fn identity_debug_shows_no_key() {
    let identity = go_identity();
    let debug = format!("{identity:?}");
    assert!(
        debug.starts_with("Identity { certificate_der_len: "),
        "{debug}"
    );
    assert!(!debug.contains("key"), "{debug}");
}

#[test]
fn errors_say_what_happened() {
    assert_eq!(
        TlsError::Random.to_string(),
        "failed to generate the AutoMTLS certificate: the system random number generator failed"
    );
    let err = crate::error::Error::from(TlsError::NoCertificate);
    assert_eq!(
        err.to_string(),
        "PLUGIN_CLIENT_CERT holds no CERTIFICATE block"
    );
}
