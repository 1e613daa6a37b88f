//! A plugin's tree of processes: a Job Object that holds the plugin and, since a job's processes
//! start their children in it, everything the plugin starts. Terminating the job takes them all;
//! `KILL_ON_JOB_CLOSE` takes them all when the host's handle closes, as it does when the host
//! dies however it dies. No pipe holders are looked for: the job already holds every process that
//! could have inherited the plugin's pipes.

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::sync::Arc;

use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject, TerminateJobObject,
};

use super::check;
use super::process::ProcessHandle;

/// What a pipe is to this OS: a handle.
pub(crate) use std::os::windows::io::AsHandle as AsPipe;

/// The exit code of the processes a job's termination ends.
const KILLED: u32 = 1;

/// A Job Object with `KILL_ON_JOB_CLOSE`.
#[derive(Debug)]
struct Job(OwnedHandle);

impl Job {
    fn new() -> std::io::Result<Job> {
        // SAFETY: default security, no name; a null handle means failure.
        let raw = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if raw.is_null() {
            return Err(super::last_error());
        }
        // SAFETY: CreateJobObjectW just returned this handle to us alone.
        let job = Job(unsafe { OwnedHandle::from_raw_handle(raw) });
        // SAFETY: all-zero is a valid JOBOBJECT_EXTENDED_LIMIT_INFORMATION (no limits).
        let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        // SAFETY: a valid job handle and a structure of the size given.
        check(unsafe {
            SetInformationJobObject(
                job.0.as_raw_handle(),
                JobObjectExtendedLimitInformation,
                (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            )
        })?;
        Ok(job)
    }

    fn terminate(&self) {
        // SAFETY: a valid job handle.
        unsafe { TerminateJobObject(self.0.as_raw_handle(), KILLED) };
    }
}

/// A plugin's tree of processes, held in a job.
#[derive(Debug)]
pub(crate) struct Tree(Arc<Job>);

impl Tree {
    /// Puts `root`, a process this host just started, in a job of its own; `None` when the
    /// system refuses (a host in a job that forbids nesting, before Windows 8), and then only
    /// the plugin itself is killed.
    ///
    /// A process the plugin started before this call is not in the job: plugins start theirs
    /// while serving, well after.
    pub(crate) fn adopt(root: &ProcessHandle) -> Option<Tree> {
        let job = Job::new().ok()?;
        // SAFETY: valid job and process handles (PROCESS_SET_QUOTA, PROCESS_TERMINATE).
        check(unsafe { AssignProcessToJobObject(job.0.as_raw_handle(), root.raw()) }).ok()?;
        Some(Tree(Arc::new(job)))
    }

    /// The plugin's descendants: the job itself, which keeps them even after the plugin exits.
    pub(crate) fn snapshot(&self, _root: &ProcessHandle) -> Descendants {
        Descendants(Arc::clone(&self.0))
    }

    /// Terminates every process in the job, the plugin included.
    pub(crate) fn kill(&self, _root: &ProcessHandle) {
        self.0.terminate();
    }
}

/// What remains in a plugin's job.
#[derive(Debug)]
pub(crate) struct Descendants(Arc<Job>);

impl Descendants {
    /// Terminates every process still in the job.
    pub(crate) fn kill(&self) {
        self.0.terminate();
    }
}

/// Not needed here (see the module's notes): never held.
#[derive(Debug)]
pub(crate) struct HeldPipe {
    pub(crate) inode: u64,
}

impl HeldPipe {
    pub(crate) fn hold(_pipe: &impl AsPipe) -> Option<HeldPipe> {
        None
    }
}

/// Not looked for (see the module's notes).
pub(crate) fn pipe_holders(_inodes: &[u64]) -> Vec<u32> {
    Vec::new()
}
