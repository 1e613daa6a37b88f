//! What a Winsock error from `accept` means for a server's accept loop.

use windows_sys::Win32::Networking::WinSock::{
    WSAECONNABORTED, WSAECONNRESET, WSAEINTR, WSAEMFILE, WSAENOBUFS,
};

pub(crate) use crate::sys::AcceptError;

pub(crate) fn accept_error(err: &std::io::Error) -> AcceptError {
    match err.raw_os_error() {
        Some(WSAEMFILE | WSAENOBUFS) => AcceptError::OutOfResources,
        Some(WSAECONNABORTED | WSAECONNRESET | WSAEINTR) => AcceptError::Passing,
        _ => AcceptError::Fatal,
    }
}
