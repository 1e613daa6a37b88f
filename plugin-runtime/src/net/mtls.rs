//! AutoMTLS, go-plugin's mutual TLS between a host and the plugin it started.
//!
//! Each side makes a one-time certificate ([`Identity::generate`]) and hands it to the other:
//! the host puts its PEM in `PLUGIN_CLIENT_CERT`, the plugin answers with the base64 of its DER in
//! handshake field 6. From then on each side trusts exactly the other's certificate, byte for
//! byte ([`pinned`]), in both TLS roles: the host's configuration also serves the host-side
//! brokered servers, and the plugin's dials them.
//!
//! go-plugin's certificates are ECDSA P-521 self-signed CA certificates used as end entities. A
//! stock webpki verifier refuses those (`CaUsedAsEndEntity`) and *ring* cannot verify P-521, so
//! the configurations here use the aws-lc-rs provider explicitly (never a process-wide default,
//! which a user's program may have set to something else) and verifiers of our own
//! ([`verify`]) that compare the presented certificate with the pinned one, check its validity
//! period, and leave the handshake signatures to rustls's own checks.

mod der;
// Over Unix sockets, as the tests that use it run on Linux.
#[cfg(all(feature = "unstable-inspect", unix))]
pub mod testing;
#[cfg(test)]
mod tests;
mod verify;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};

pub(crate) use crate::error::TlsError;
use verify::PinnedPeer;

/// The host name go-plugin's configurations name the peer by (`ServerName: "localhost"`), and the
/// only name in the certificates' subject alternative names.
const SERVER_NAME: &str = "localhost";

/// The one application protocol: grpc-go (1.67 and later) drops a TLS connection that did not
/// negotiate `h2`.
const ALPN_H2: &[u8] = b"h2";

/// go-plugin's certificate lifetime: `262980 * time.Hour`, about 30 years.
const VALID_FOR: Duration = Duration::from_secs(262_980 * 3600);

/// How far back go-plugin dates `NotBefore`, so that a peer whose clock is a little behind still
/// accepts the certificate.
const BACKDATE: Duration = Duration::from_secs(30);

/// One side's AutoMTLS identity: a fresh certificate in go-plugin's template and its key, ready
/// for rustls.
#[derive(Clone)]
pub(crate) struct Identity {
    pem: String,
    key: Arc<CertifiedKey>,
}

impl Identity {
    /// Makes a certificate the way go-plugin's `generateCert` does: ECDSA P-521 signed with
    /// SHA-512, a random 128-bit serial, self-signed `O=HashiCorp, CN=localhost` with SAN DNS
    /// `localhost`, a CA certificate with key usage DigitalSignature, KeyEncipherment,
    /// KeyAgreement and CertSign and extended key usage client and server auth, valid from 30 s
    /// ago for 262980 hours.
    pub(crate) fn generate() -> Result<Identity, TlsError> {
        let now = SystemTime::now();
        Identity::generate_valid(now - BACKDATE, now + VALID_FOR)
    }

    /// [`Identity::generate`] with another validity window (tests make expired ones).
    fn generate_valid(not_before: SystemTime, not_after: SystemTime) -> Result<Identity, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
            ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
            SerialNumber,
        };

        let provider = provider();
        let mut serial = [0u8; 16];
        provider
            .secure_random
            .fill(&mut serial)
            .map_err(|_| TlsError::Random)?;

        let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned()])?;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        // Go writes O before CN and, both being printable, as PrintableString: the same bytes.
        let mut name = DistinguishedName::new();
        name.push(
            DnType::OrganizationName,
            DnValue::PrintableString(printable("HashiCorp")?),
        );
        name.push(
            DnType::CommonName,
            DnValue::PrintableString(printable(SERVER_NAME)?),
        );
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        params.not_before = offset_date_time(not_before)?;
        params.not_after = offset_date_time(not_after)?;

        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512)?;
        let cert = params.self_signed(&key_pair)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        Identity::from_parts(cert.pem(), cert.der().clone(), key)
    }

    /// An identity from a certificate and key made elsewhere (the Go-made test fixture).
    #[cfg(test)]
    fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Identity, TlsError> {
        let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(TlsError::Pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(TlsError::Pem)?;
        Identity::from_parts(cert_pem.to_owned(), cert, key)
    }

    fn from_parts(
        pem: String,
        cert: CertificateDer<'static>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Identity, TlsError> {
        let key = CertifiedKey::from_der(vec![cert], key, &provider())?;
        Ok(Identity {
            pem,
            key: Arc::new(key),
        })
    }

    /// The certificate's DER, whose unpadded base64 is handshake field 6.
    pub(crate) fn certificate_der(&self) -> &[u8] {
        // `from_parts` always gives the chain exactly one certificate.
        self.key.cert.first().map_or(&[], |cert| cert.as_ref())
    }

    /// The certificate as the PEM text go-plugin puts in `PLUGIN_CLIENT_CERT`: one
    /// `CERTIFICATE` block, 64 columns, ending in a newline.
    pub(crate) fn certificate_pem(&self) -> &str {
        &self.pem
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("Identity")
            .field("certificate_der_len", &self.certificate_der().len())
            .finish_non_exhaustive()
    }
}

/// Reads the certificates in `PLUGIN_CLIENT_CERT` (PEM).
///
/// go-plugin's plugin adds every `CERTIFICATE` block that parses to its trust pool
/// (`x509.CertPool.AppendCertsFromPEM`) and trusts each; so does this, returning them all for
/// [`pinned`]. Blocks of other types (a private key, say) are skipped, as Go skips them. Where
/// go-plugin only logs `client cert provided but failed to parse` and serves on, so that every
/// connection later fails, this returns an error — text with no certificate, malformed PEM, or a
/// certificate block that is not X.509 — so the plugin can stop and say why at once.
pub(crate) fn parse_certificates_pem(text: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(text.as_bytes()) {
        let cert = cert.map_err(TlsError::Pem)?;
        der::validity(&cert).map_err(TlsError::PemNotACertificate)?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

/// A side's AutoMTLS configurations, one per TLS role, both presenting its identity and trusting
/// only the pinned peer certificates.
#[derive(Clone)]
pub(crate) struct PinnedTls {
    /// Requires a client certificate, which must be one of the pinned ones; ALPN `h2` only.
    pub(crate) server: Arc<ServerConfig>,
    /// Names the server `localhost`, requires its certificate to be one of the pinned ones, and
    /// presents our identity when asked; ALPN `h2` only.
    pub(crate) client: Arc<ClientConfig>,
    /// `localhost`, what [`PinnedTls::connect`] names the server.
    pub(crate) server_name: ServerName<'static>,
}

impl PinnedTls {
    /// Runs the server side of a handshake on `stream`.
    #[cfg(any(test, all(feature = "unstable-inspect", unix)))]
    pub(crate) async fn accept<S>(
        &self,
        stream: S,
    ) -> std::io::Result<tokio_rustls::server::TlsStream<S>>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.server))
            .accept(stream)
            .await
    }

    /// Runs the client side of a handshake on `stream`, naming the server `localhost`.
    #[cfg(any(test, all(feature = "unstable-inspect", unix)))]
    pub(crate) async fn connect<S>(
        &self,
        stream: S,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<S>>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        tokio_rustls::TlsConnector::from(Arc::clone(&self.client))
            .connect(self.server_name.clone(), stream)
            .await
    }
}

impl fmt::Debug for PinnedTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedTls").finish_non_exhaustive()
    }
}

/// Both configurations for `identity`, accepting only a peer presenting one of `peers` (the
/// certificate from handshake field 6 on the host, those in `PLUGIN_CLIENT_CERT` on the plugin).
/// TLS 1.2 and 1.3, as go-plugin's `MinVersion: tls.VersionTLS12`.
pub(crate) fn pinned(
    identity: &Identity,
    peers: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<PinnedTls, TlsError> {
    pinned_with_versions(identity, peers, rustls::ALL_VERSIONS)
}

fn pinned_with_versions(
    identity: &Identity,
    peers: impl IntoIterator<Item = CertificateDer<'static>>,
    versions: &[&'static SupportedProtocolVersion],
) -> Result<PinnedTls, TlsError> {
    let provider = provider();
    let verifier = Arc::new(PinnedPeer::new(
        peers,
        provider.signature_verification_algorithms,
    )?);
    let resolver = Arc::new(SingleCertAndKey::from(Arc::clone(&identity.key)));

    let mut server = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)?
        .with_client_cert_verifier(verifier.clone())
        .with_cert_resolver(resolver.clone());
    server.alpn_protocols = vec![ALPN_H2.to_vec()];

    let mut client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(resolver);
    client.alpn_protocols = vec![ALPN_H2.to_vec()];

    // A literal that is a DNS name; the error path only keeps a panic out of the code.
    let server_name = ServerName::try_from(SERVER_NAME)
        .map_err(|err| rustls::Error::General(format!("{SERVER_NAME:?}: {err}")))?;
    Ok(PinnedTls {
        server: Arc::new(server),
        client: Arc::new(client),
        server_name,
    })
}

/// A client that trusts only `peer` and has no certificate of its own: what a stranger without
/// AutoMTLS dials with, for tests of the refusal.
#[cfg(all(feature = "unstable-inspect", unix))]
pub(crate) fn anonymous_client(
    peer: CertificateDer<'static>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider();
    let verifier = Arc::new(PinnedPeer::new(
        [peer],
        provider.signature_verification_algorithms,
    )?);
    let mut client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    client.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(client))
}

/// aws-lc-rs, the provider that verifies P-521. Built once: every configuration shares it.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider())))
}

fn printable(text: &str) -> Result<rcgen::string::PrintableString, TlsError> {
    Ok(rcgen::string::PrintableString::try_from(text)?)
}

/// `time` as rcgen wants it (whole seconds, which is all X.509 keeps).
fn offset_date_time(time: SystemTime) -> Result<time::OffsetDateTime, TlsError> {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| TlsError::Generate(rcgen::Error::Time))
}
