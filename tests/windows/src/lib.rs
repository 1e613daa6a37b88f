//! What `win-host` and `win-plugin` share: the interface between them, the handshake, and a look
//! at whether a process is running. `tests/windows.rs` builds both for Windows and runs them
//! under Wine; they also build and run on Unix, where they serve as a check of themselves.
#![allow(
    unsafe_code,
    reason = "Whether a process runs is asked of the OS directly (OpenProcess, kill(pid, 0))."
)]

use go_plugin::{HandshakeConfig, PluginError, plugin_interface};

pub const HANDSHAKE: HandshakeConfig = HandshakeConfig {
    protocol_version: 1,
    magic_cookie_key: "WINDOWS_TESTS_PLUGIN",
    magic_cookie_value: "3b6e2d1f",
};

/// What the host asks of the plugin.
#[plugin_interface(package = "wintest", service = "Tester")]
pub trait Tester {
    /// `text`, back.
    async fn echo(&self, text: String) -> Result<String, PluginError>;
    /// Writes `text` to stdout and stderr (through `GRPCStdio`) and logs it at INFO (through the
    /// log channel).
    async fn say(&self, text: String) -> Result<(), PluginError>;
    /// Starts a child that starts a grandchild, both waiting for ever; their pids, child first.
    async fn spawn_tree(&self) -> Result<String, PluginError>;
}

/// Whether process `pid` is running.
#[cfg(windows)]
pub fn running(pid: u32) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, WAIT_TIMEOUT};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, PROCESS_SYNCHRONIZE, WaitForSingleObject,
    };
    // SAFETY: plain calls on a handle this function opens and closes.
    unsafe {
        let handle = OpenProcess(PROCESS_SYNCHRONIZE, 0, pid);
        if handle.is_null() {
            return false;
        }
        let running = WaitForSingleObject(handle, 0) == WAIT_TIMEOUT;
        CloseHandle(handle);
        running
    }
}

/// Whether process `pid` exists (a zombie counts).
#[cfg(unix)]
pub fn running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Ends process `pid` at once: `TerminateProcess`, or SIGKILL.
#[cfg(windows)]
pub fn terminate(pid: u32) -> bool {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_TERMINATE, TerminateProcess};
    // SAFETY: plain calls on a handle this function opens and closes.
    unsafe {
        let handle = OpenProcess(PROCESS_TERMINATE, 0, pid);
        if handle.is_null() {
            return false;
        }
        let done = TerminateProcess(handle, 1) != 0;
        CloseHandle(handle);
        done
    }
}

/// Ends process `pid` at once: `TerminateProcess`, or SIGKILL.
#[cfg(unix)]
pub fn terminate(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: plain signal delivery.
    unsafe { libc::kill(pid, libc::SIGKILL) == 0 }
}
