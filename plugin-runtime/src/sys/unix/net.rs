//! What an operating system's error from `accept` means for a server's accept loop.

pub(crate) use crate::sys::AcceptError;

pub(crate) fn accept_error(err: &std::io::Error) -> AcceptError {
    match err.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
            AcceptError::OutOfResources
        }
        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM) => AcceptError::Passing,
        _ => AcceptError::Fatal,
    }
}

/// The longest path a Unix socket can be bound at: `sun_path` less its NUL (103 bytes on macOS
/// and the BSDs, 107 on Linux).
pub(crate) fn socket_path_max() -> usize {
    // SAFETY: all-zero is a valid sockaddr_un.
    let address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    address.sun_path.len() - 1
}
