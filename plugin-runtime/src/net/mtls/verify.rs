//! The pinned verifier: the peer must present exactly a pinned certificate, within its validity
//! period; the handshake signatures are checked by rustls's own functions.
//!
//! One type serves both roles, as go-plugin's one `tls.Config` does: the server side asks for a
//! client certificate and requires it, the client side checks the server's.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DistinguishedName, OtherError, SignatureScheme};

use super::TlsError;
use super::der::{self, Validity};

/// Accepts a peer only if its end-entity certificate equals one of the pinned ones.
pub(super) struct PinnedPeer {
    pinned: Vec<(CertificateDer<'static>, Validity)>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// The error a refused peer gets: its certificate is well-formed but not the one this side was
/// given (`PLUGIN_CLIENT_CERT`, or handshake field 6). rustls shows it by its `Debug`, so the
/// name says it.
#[derive(Debug)]
struct NotThePinnedCertificate;

impl fmt::Display for NotThePinnedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the peer's certificate is not the one AutoMTLS pinned for this connection")
    }
}

impl std::error::Error for NotThePinnedCertificate {}

impl PinnedPeer {
    /// Pins `peers`, which must be X.509 certificates, at least one.
    pub(super) fn new(
        peers: impl IntoIterator<Item = CertificateDer<'static>>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Result<PinnedPeer, TlsError> {
        let pinned = peers
            .into_iter()
            .map(|cert| {
                let validity = der::validity(&cert)?;
                Ok((cert, validity))
            })
            .collect::<Result<Vec<_>, TlsError>>()?;
        if pinned.is_empty() {
            return Err(TlsError::NoPeerCertificate);
        }
        Ok(PinnedPeer { pinned, algorithms })
    }

    fn check(&self, end_entity: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
        // Only the end-entity certificate counts: go-plugin peers send no intermediates, and a
        // pinned certificate needs none.
        let validity = self
            .pinned
            .iter()
            .find(|(cert, _)| cert.as_ref() == end_entity.as_ref())
            .map(|(_, validity)| *validity)
            .ok_or_else(|| {
                CertificateError::Other(OtherError(Arc::new(NotThePinnedCertificate)))
            })?;

        let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now_secs < validity.not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before: unix_time(validity.not_before),
            }
            .into());
        }
        if now_secs > validity.not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after: unix_time(validity.not_after),
            }
            .into());
        }
        Ok(())
    }
}

/// A certificate time for rustls's error context (which cannot hold times before 1970).
fn unix_time(secs: i64) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

impl fmt::Debug for PinnedPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedPeer")
            .field("pinned", &self.pinned.len())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for PinnedPeer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        // The pin is stronger than a name check; every go-plugin certificate names `localhost`.
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for PinnedPeer {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// No CA names in the certificate request: a Go client then sends its certificate without
    /// matching its issuer against names (`CertificateRequestInfo.SupportsCertificate`), and
    /// sends none when that match fails.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity, now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
