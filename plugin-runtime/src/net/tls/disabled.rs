//! Plain connections only: the crate built without its `tls` feature.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::Error;

/// TLS set up by the application. This build of the crate has no TLS (its `tls` feature is
/// off), so there is no way to make one.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    _private: (),
}

impl TlsConfig {
    pub(crate) fn into_tls(self) -> Tls {
        Tls {}
    }
}

/// A side's TLS: none. (Braced, as the enabled build's is, so that the code both builds share
/// makes it with `Tls::default()` without a lint about unit structs.)
#[derive(Clone, Debug, Default)]
pub(crate) struct Tls {}

impl Tls {
    pub(crate) fn serves(&self) -> bool {
        false
    }

    pub(crate) async fn accept<S>(&self, stream: S) -> std::io::Result<crate::net::io::BoxedIo>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        Ok(Box::pin(stream))
    }

    pub(crate) async fn connect<S>(&self, stream: S) -> std::io::Result<crate::net::io::BoxedIo>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        Ok(Box::pin(stream))
    }
}

/// A host's AutoMTLS identity, which this build cannot make.
pub(crate) struct HostIdentity(());

impl HostIdentity {
    pub(crate) fn generate() -> Result<Self, Error> {
        Err(Error::TlsUnavailable)
    }

    pub(crate) fn certificate_pem(&self) -> &str {
        ""
    }
}

/// Plain connections, unless the plugin sent a certificate: it will only speak TLS.
pub(crate) fn host_tls(
    identity: Option<HostIdentity>,
    tls: Option<TlsConfig>,
    plugin_cert: Option<&[u8]>,
) -> Result<Tls, Error> {
    match (identity, tls, plugin_cert) {
        (Some(_), _, _) | (None, Some(_), _) => Err(Error::TlsUnavailable),
        (None, None, Some(_)) => Err(Error::UnexpectedPluginCertificate),
        (None, None, None) => Ok(Tls {}),
    }
}

/// The host asked for AutoMTLS: serve without it, as plugins that do not implement it do, and
/// say why. The host then reports that the plugin does not support AutoMTLS.
pub(crate) fn plugin_auto_mtls(_pem: &str) -> Result<(Tls, Option<Vec<u8>>), Error> {
    tracing::warn!(
        "the host asked for AutoMTLS (PLUGIN_CLIENT_CERT), but this plugin was built without \
         go-plugin's `tls` feature: serving without TLS"
    );
    Ok((Tls {}, None))
}
