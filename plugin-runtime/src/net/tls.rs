//! TLS on the connections between host and plugin: the application's own configuration
//! ([`TlsConfig`], go-plugin's `TLSConfig` and `TLSProvider`) or AutoMTLS's pinned one.
//!
//! Either way a side ends up with a configuration per TLS role: the host dials the plugin as a
//! client and serves brokered services as a server; the plugin does the opposite. Both roles use
//! ALPN `h2`, which grpc-go (1.67 and later) requires.
//!
//! All of it is the `tls` feature (on by default). Without it the crate has no rustls, and so no
//! aws-lc to compile: connections are plain, [`TlsConfig`] cannot be made, and a plugin asked
//! for AutoMTLS serves without it, as go-plugin's plugins in other languages that do not
//! implement it do.

#[cfg(not(feature = "tls"))]
mod disabled;
#[cfg(feature = "tls")]
mod enabled;

#[cfg(not(feature = "tls"))]
pub use disabled::TlsConfig;
#[cfg(not(feature = "tls"))]
pub(crate) use disabled::{HostIdentity, Tls, host_tls, plugin_auto_mtls};
#[cfg(feature = "tls")]
pub use enabled::TlsConfig;
#[cfg(feature = "tls")]
pub(crate) use enabled::{HostIdentity, Tls, host_tls, plugin_auto_mtls};
