//! The Unix family. What every Unix shares lives in the modules named after what they do; what
//! differs between kernels is in one file per kernel, re-exported through them:
//!
//! | | Linux (`linux.rs`) | macOS, FreeBSD, other BSDs (`kqueue.rs`) | any other Unix (`generic.rs`) |
//! |---|---|---|---|
//! | a handle on a process | pidfd | a kqueue watching the pid (`EVFILT_PROC`) | none: the pid alone |
//! | the host seen from a plugin | pidfd and `POLLERR` on the handshake pipe | kqueue: the parent's exit and `EV_EOF` on the pipe | `getppid` now and then, `POLLHUP` |
//! | a process's children | `/proc` | `proc_listchildpids` (macOS), `kern.proc` (FreeBSD) | none |
//! | who holds a pipe | `/proc/*/fdinfo` | not done | none |

pub(crate) mod net;
pub(crate) mod parent;
pub(crate) mod process;
pub(crate) mod signals;
pub(crate) mod stdio;
pub(crate) mod tree;
pub(crate) mod users;

// Each kernel's file is the module `kernel`: Linux's, the kqueue of macOS and the BSDs, or the
// generic one.
#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod kernel;
#[cfg(any(
    target_os = "macos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
#[path = "kqueue.rs"]
mod kernel;
#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
#[path = "generic.rs"]
mod kernel;

/// The environment variable that forces the generic Unix path: no process handles (signals by
/// pid, as go-plugin sends them), no descendants found, the parent checked now and then. For
/// tests: it runs, on Linux, the code macOS and the BSDs fall back on. A plugin inherits it from
/// its host.
pub(crate) const GENERIC_UNIX_ENV: &str = "GO_PLUGIN_GENERIC_UNIX";

/// Whether [`GENERIC_UNIX_ENV`] is set to `1` (read once).
pub(crate) fn generic_forced() -> bool {
    static FORCED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FORCED.get_or_init(|| std::env::var_os(GENERIC_UNIX_ENV).is_some_and(|value| value == "1"))
}
