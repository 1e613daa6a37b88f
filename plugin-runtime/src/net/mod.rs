//! Bytes between two processes: listeners (Unix sockets, TCP, their directories), the
//! connection builder (HTTP/2 windows, message limits), the host's HTTP/2 client ([`channel`]),
//! TLS and AutoMTLS, yamux multiplexing, and the `:authority` rewriter. Knows nothing of brokers
//! or interfaces: the layer above says what each accepted connection's calls find in their
//! requests ([`transport::ConnectInfo`]).

pub(crate) mod channel;
pub(crate) mod io;
pub(crate) mod listener;
#[cfg(feature = "tls")]
pub(crate) mod mtls;
pub(crate) mod mux;
pub(crate) mod tls;
#[cfg(feature = "opentelemetry")]
pub(crate) mod trace_context;
pub(crate) mod transport;

/// The largest message either side accepts or sends: go-plugin's hosts use `math.MaxInt32`.
pub const MAX_MESSAGE_SIZE: usize = i32::MAX as usize;

/// HTTP/2 flow-control windows. The defaults (64 KiB) make a 1 MiB message wait for many
/// window updates; these let a large message flow in one go.
pub(crate) const STREAM_WINDOW: u32 = 8 << 20;
pub(crate) const CONNECTION_WINDOW: u32 = 16 << 20;
