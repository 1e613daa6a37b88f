//! The AutoMTLS pieces that `tests/tls_peer.rs` drives against Go's crypto/tls, exposed hidden as
//! `go_plugin::__tls_testing`. Not a public API: it changes without notice.
//!
//! A thin wrapper, so the crate-private types stay private: an identity, its PEM, and one
//! handshake in either role over a Unix socket, pinned to a peer given as PEM.

use tokio::net::UnixStream;
use tokio_rustls::TlsStream;

use super::{Identity, parse_certificates_pem, pinned};
use crate::error::Error;

/// One side's freshly generated AutoMTLS identity.
#[derive(Debug)]
pub struct TestIdentity(Identity);

impl TestIdentity {
    /// A certificate in go-plugin's template, as a host or plugin makes it.
    pub fn generate() -> Result<TestIdentity, Error> {
        Ok(TestIdentity(Identity::generate()?))
    }

    /// The certificate PEM, as it goes into `PLUGIN_CLIENT_CERT`.
    pub fn certificate_pem(&self) -> &str {
        self.0.certificate_pem()
    }

    /// Runs the server side of a handshake on `stream`, accepting only `peer_pem`'s certificate.
    pub async fn accept(&self, peer_pem: &str, stream: UnixStream) -> Result<TestSession, Error> {
        let tls = pinned(&self.0, parse_certificates_pem(peer_pem)?)?;
        let stream = tls
            .accept(stream)
            .await
            .map_err(|err| Error::io("AutoMTLS handshake (server side)", err))?;
        Ok(TestSession(TlsStream::Server(stream)))
    }

    /// Runs the client side of a handshake on `stream`, accepting only `peer_pem`'s certificate.
    pub async fn connect(&self, peer_pem: &str, stream: UnixStream) -> Result<TestSession, Error> {
        let tls = pinned(&self.0, parse_certificates_pem(peer_pem)?)?;
        let stream = tls
            .connect(stream)
            .await
            .map_err(|err| Error::io("AutoMTLS handshake (client side)", err))?;
        Ok(TestSession(TlsStream::Client(stream)))
    }
}

/// Dials the plugin at `stream` as a host would, trusting the certificate in its handshake
/// field 6 (`certificate_field`) and presenting `identity`'s certificate, or none at all.
///
/// In TLS 1.3 the server checks the client's certificate after the client has finished its
/// handshake: a refused client finds out on its first read.
pub async fn connect_to_plugin(
    identity: Option<&TestIdentity>,
    certificate_field: &str,
    stream: UnixStream,
) -> Result<TestSession, Error> {
    let certificate = crate::protocol::handshake::decode_certificate(certificate_field)?;
    let peer = rustls::pki_types::CertificateDer::from(certificate);
    let config = match identity {
        Some(identity) => pinned(&identity.0, [peer])?.client,
        None => super::anonymous_client(peer)?,
    };
    let name = rustls::pki_types::ServerName::try_from("localhost")
        .map_err(|err| Error::io("server name", std::io::Error::other(err)))?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|err| Error::io("AutoMTLS handshake (client side)", err))?;
    Ok(TestSession(TlsStream::Client(stream)))
}

/// A connection after a completed handshake.
#[derive(Debug)]
pub struct TestSession(TlsStream<UnixStream>);

impl TestSession {
    /// The negotiated version as rustls names it: `TLSv1_2` or `TLSv1_3`.
    pub fn protocol_version(&self) -> String {
        let version = self.0.get_ref().1.protocol_version();
        version.map_or_else(String::new, |version| format!("{version:?}"))
    }

    /// The negotiated application protocol.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.0.get_ref().1.alpn_protocol()
    }

    /// The encrypted stream, to read and write.
    pub fn stream(&mut self) -> &mut TlsStream<UnixStream> {
        &mut self.0
    }
}
