//! go-plugin's formats, pure: the handshake line and version negotiation (with Go's texts), the
//! reattach JSON, and hclog lines. No sockets and no processes: what these modules need of the
//! operating system (an executable's owner for a diagnostic, a duplicate of stderr) comes from
//! `sys`.

pub(crate) mod handshake;
pub(crate) mod hclog;
pub(crate) mod reattach;
