//! A connection of any kind, as every layer above passes it around: a socket, a TLS session on
//! one, or a stream of a multiplexed session.

use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

/// Anything a connection runs over: a socket, or a TLS session on one.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A connection of any kind.
pub(crate) type BoxedIo = Pin<Box<dyn Io>>;
