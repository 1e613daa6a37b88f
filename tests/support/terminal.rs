//! A pseudo-terminal for running a host as a user does at a terminal: the host is the session
//! leader with the terminal as its controlling terminal, in the foreground process group, so
//! what a test types reaches whoever reads stdin there, and Ctrl-C sends SIGINT to that group.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A command running on a pseudo-terminal, with what it has printed so far.
#[derive(Debug)]
pub struct Terminal {
    child: Child,
    master: std::fs::File,
    output: Arc<(Mutex<Vec<u8>>, Condvar)>,
}

impl Terminal {
    /// Starts `command` with the terminal as its stdin, stdout and stderr and as its controlling
    /// terminal.
    pub fn spawn(mut command: Command) -> std::io::Result<Terminal> {
        let mut master = -1;
        let mut slave = -1;
        // SAFETY: openpty writes two descriptors; the name, termios and winsize may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: openpty succeeded; both descriptors are new and ours.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let master = std::fs::File::from(master);
        command
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        drop(command);

        let output = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let mut reader = master.try_clone()?;
        let shared = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once every process has closed the terminal.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let (text, changed) = &*shared;
                if let Ok(mut text) = text.lock() {
                    text.extend_from_slice(&buf[..n]);
                }
                changed.notify_all();
            }
        });
        Ok(Terminal {
            child,
            master,
            output,
        })
    }

    /// Types `text` at the terminal (`"\x03"` is Ctrl-C).
    pub fn type_text(&mut self, text: &str) -> std::io::Result<()> {
        self.master.write_all(text.as_bytes())?;
        self.master.flush()
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        let (text, _) = &*self.output;
        text.lock()
            .map(|text| String::from_utf8_lossy(&text).into_owned())
            .unwrap_or_default()
    }

    /// Waits until the output contains `wanted`; panics with the output after `limit`.
    pub fn expect(&self, wanted: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let (text, changed) = &*self.output;
        let mut guard = text.lock().expect("terminal output lock");
        loop {
            let output = String::from_utf8_lossy(&guard).into_owned();
            if output.contains(wanted) {
                return output;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited {limit:?} for {wanted:?} on the terminal; it shows:\n{output}"
            );
            guard = changed
                .wait_timeout(guard, left)
                .expect("terminal output lock")
                .0;
        }
    }

    /// Waits up to `limit` for the command to exit; kills it (and says so) if it does not.
    pub fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the command on the terminal did not exit within {limit:?}; it shows:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The process id of the command.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
