//! TLS on rustls (the `tls` feature).

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::Error;
use crate::net::mtls::{Identity, PinnedTls, TlsError};
use rustls::pki_types::CertificateDer;

/// What grpc-go requires a TLS connection to negotiate.
const ALPN_H2: &[u8] = b"h2";

/// TLS set up by the application instead of AutoMTLS: rustls configurations for the roles a
/// side plays (go-plugin's `TLSConfig` on a host, `TLSProvider` on a plugin).
///
/// A host needs [`client`](Self::client) to dial its plugin; a plugin needs
/// [`server`](Self::server) to serve. The other role is for brokered connections, where the host
/// serves and the plugin dials. ALPN `h2` is added to a configuration that offers no protocol.
/// Build the configurations on the same [`rustls`] this crate re-exports, with any crypto
/// provider.
///
/// ```no_run
/// use std::sync::Arc;
/// use go_plugin::{TlsConfig, rustls};
///
/// # fn server_config() -> rustls::ServerConfig { unimplemented!() }
/// // In the plugin: the server configuration, with the certificate the host trusts.
/// let tls = TlsConfig::server(Arc::new(server_config()));
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    server: Option<Arc<ServerConfig>>,
    client: Option<Arc<ClientConfig>>,
    server_name: ServerName<'static>,
}

impl TlsConfig {
    /// A configuration for dialing: what a host connects to its plugin with.
    pub fn client(config: Arc<ClientConfig>) -> Self {
        TlsConfig {
            server: None,
            client: Some(with_h2_client(config)),
            server_name: localhost(),
        }
    }

    /// A configuration for serving: what a plugin serves its host with.
    pub fn server(config: Arc<ServerConfig>) -> Self {
        TlsConfig {
            server: Some(with_h2_server(config)),
            client: None,
            server_name: localhost(),
        }
    }

    /// Adds the dialing role (a plugin dials its host's brokered services).
    #[must_use]
    pub fn with_client(mut self, config: Arc<ClientConfig>) -> Self {
        self.client = Some(with_h2_client(config));
        self
    }

    /// Adds the serving role (a host serves brokered services to its plugin).
    #[must_use]
    pub fn with_server(mut self, config: Arc<ServerConfig>) -> Self {
        self.server = Some(with_h2_server(config));
        self
    }

    /// The name the dialing side expects in the server's certificate (default `localhost`,
    /// what go-plugin's configurations use).
    pub fn server_name(mut self, name: &str) -> Result<Self, Error> {
        self.server_name = ServerName::try_from(name.to_owned()).map_err(|err| {
            Error::Tls(crate::net::mtls::TlsError::Config(rustls::Error::General(
                format!("{name:?} is not a server name: {err}"),
            )))
        })?;
        Ok(self)
    }

    /// Both roles of an AutoMTLS configuration.
    #[cfg(feature = "unstable-inspect")]
    pub(crate) fn from_pinned(pinned: PinnedTls) -> Self {
        TlsConfig {
            server: Some(pinned.server),
            client: Some(pinned.client),
            server_name: pinned.server_name,
        }
    }

    pub(crate) fn into_tls(self) -> Tls {
        Tls {
            server: self.server,
            client: self.client.map(|config| (config, self.server_name)),
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("server", &self.server.is_some())
            .field("client", &self.client.is_some())
            .field("server_name", &self.server_name)
            .finish()
    }
}

fn localhost() -> ServerName<'static> {
    // A literal that is a DNS name: this cannot fail.
    ServerName::try_from("localhost").expect("localhost is a DNS name")
}

fn with_h2_client(config: Arc<ClientConfig>) -> Arc<ClientConfig> {
    if !config.alpn_protocols.is_empty() {
        return config;
    }
    let mut config = (*config).clone();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Arc::new(config)
}

fn with_h2_server(config: Arc<ServerConfig>) -> Arc<ServerConfig> {
    if !config.alpn_protocols.is_empty() {
        return config;
    }
    let mut config = (*config).clone();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Arc::new(config)
}

/// One side's TLS, per role: what the transport wraps connections in.
#[derive(Clone, Default)]
pub(crate) struct Tls {
    server: Option<Arc<ServerConfig>>,
    client: Option<(Arc<ClientConfig>, ServerName<'static>)>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("server", &self.server.is_some())
            .field("client", &self.client.is_some())
            .finish()
    }
}

impl From<PinnedTls> for Tls {
    fn from(pinned: PinnedTls) -> Self {
        Tls {
            server: Some(pinned.server),
            client: Some((pinned.client, pinned.server_name)),
        }
    }
}

impl Tls {
    /// Whether connections this side accepts are TLS.
    pub(crate) fn serves(&self) -> bool {
        self.server.is_some()
    }

    /// The server side of a handshake, or the stream as it is without a server configuration.
    pub(crate) async fn accept<S>(&self, stream: S) -> std::io::Result<crate::net::io::BoxedIo>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        match &self.server {
            Some(config) => Ok(Box::pin(
                tokio_rustls::TlsAcceptor::from(Arc::clone(config))
                    .accept(stream)
                    .await?,
            )),
            None => Ok(Box::pin(stream)),
        }
    }

    /// The client side of a handshake, or the stream as it is without a client configuration.
    pub(crate) async fn connect<S>(&self, stream: S) -> std::io::Result<crate::net::io::BoxedIo>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        match &self.client {
            Some((config, name)) => Ok(Box::pin(
                tokio_rustls::TlsConnector::from(Arc::clone(config))
                    .connect(name.clone(), stream)
                    .await?,
            )),
            None => Ok(Box::pin(stream)),
        }
    }
}

/// The host's AutoMTLS identity, made before the plugin starts: its certificate goes to the plugin
/// in `PLUGIN_CLIENT_CERT`.
pub(crate) struct HostIdentity(Identity);

impl HostIdentity {
    pub(crate) fn generate() -> Result<Self, Error> {
        tracing::debug!("configuring client automatic mTLS");
        Ok(HostIdentity(Identity::generate()?))
    }

    pub(crate) fn certificate_pem(&self) -> &str {
        self.0.certificate_pem()
    }
}

/// The TLS a host dials its plugin with, from its AutoMTLS identity or its own configuration
/// and the certificate in the plugin's handshake.
pub(crate) fn host_tls(
    identity: Option<HostIdentity>,
    tls: Option<TlsConfig>,
    plugin_cert: Option<&[u8]>,
) -> Result<Tls, Error> {
    match (identity, tls, plugin_cert) {
        (Some(identity), _, Some(certificate)) => Ok(Tls::from(
            crate::net::mtls::pinned(&identity.0, [CertificateDer::from(certificate.to_vec())])
                .map_err(server_cert_error)?,
        )),
        (Some(_), _, None) => Err(Error::NoPluginCertificate),
        (None, Some(tls), _) => Ok(tls.into_tls()),
        (None, None, Some(_)) => Err(Error::UnexpectedPluginCertificate),
        (None, None, None) => Ok(Tls::default()),
    }
}

/// A handshake certificate that is base64 but not X.509 fails in go-plugin's words, which say
/// where the bad certificate came from.
fn server_cert_error(err: TlsError) -> Error {
    match err {
        TlsError::NotACertificate(_) => {
            Error::Handshake(format!("error parsing server cert: {err}"))
        }
        other => other.into(),
    }
}

/// AutoMTLS for the host certificate in `PLUGIN_CLIENT_CERT`: the plugin's own certificate, for
/// the handshake, and TLS that trusts only the host's.
pub(crate) fn plugin_auto_mtls(pem: &str) -> Result<(Tls, Option<Vec<u8>>), Error> {
    tracing::debug!("configuring server automatic mTLS");
    let host = crate::net::mtls::parse_certificates_pem(pem).inspect_err(|err| {
        tracing::error!(error = %err, "client cert provided but failed to parse");
    })?;
    let identity = Identity::generate()?;
    let tls = Tls::from(crate::net::mtls::pinned(&identity, host)?);
    Ok((tls, Some(identity.certificate_der().to_vec())))
}
